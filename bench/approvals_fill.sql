-- bench/approvals_fill.sql: :n approvals of one agent (:team, :agent) as a
-- team that has used Holdpoint for a while would have them, for
-- bench/create_rows.sh. Created over the 30 days before now, in order, with
-- time-ordered (v7-shaped) ids like the API's; 2 % still pending with their
-- deadline a day ahead, the rest closed: 60 % an option selected by a user,
-- 10 % a custom instruction, 20 % expired, 8 % cancelled. Each has its
-- "created" audit event and, when closed, the event of its close. The
-- secondary indexes of both tables are dropped for the load and built again
-- afterwards from their own definitions (one sort each instead of a million
-- inserts each); the tables end with the indexes they started with. Then
-- VACUUM ANALYZE, as autovacuum would have left the tables.
--
--   psql -v n=1000000 -v team=UUID -v agent=UUID -f bench/approvals_fill.sql
\set ON_ERROR_STOP on
set maintenance_work_mem = '256MB';
begin;
create temporary table fill_idx on commit drop as
select indexname, indexdef from pg_indexes i
where tablename in ('approvals', 'approval_events') and schemaname = current_schema()
  and not exists (select 1 from pg_constraint c where c.conname = i.indexname);
select format('drop index %I', indexname) from fill_idx \gexec
create temporary table fill on commit drop as
select i, ts,
       (lpad(to_hex((extract(epoch from ts) * 1000)::bigint), 12, '0') || '7'
        || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid as id,
       case when i % 50 = 0 then 'pending'
            when i % 10 < 6 then 'selected_option'
            when i % 10 = 6 then 'custom_instruction'
            when i % 10 < 9 then 'expired'
            else 'cancelled' end as status
from (select i, now() - interval '30 days' * (1 - i::float8 / :n) as ts, md5(i::text) as h
      from generate_series(1, :n) as i) g;
insert into approvals (id, team_id, agent_id, request_id, request_id_supplied, question,
    context_markdown, options, timeout_seconds, timeout_mode, expires_at, canonical_hash,
    status, selected_option_index, custom_instruction, resolved_by_user_id, resolved_at,
    result_delivery_status, created_at, updated_at)
select f.id, :'team', :'agent', 'fill-' || f.i, true, 'Deploy build ' || f.i || ' to production?',
    'Build #' || f.i || ' passed CI.',
    '[{"label":"Approve","value":"approve"},{"label":"Reject","value":"reject"}]', 3600,
    'expire_no_action',
    case when f.status = 'pending' then now() + interval '1 day' else f.ts + interval '1 hour' end,
    sha256(f.i::text::bytea), f.status,
    case when f.status = 'selected_option' then f.i % 2 end,
    case when f.status = 'custom_instruction' then 'Wait for the next window.' end,
    null,
    case when f.status <> 'pending' then f.ts + interval '5 minutes' end,
    case when f.status = 'pending' then 'pending' else 'delivered' end,
    f.ts, coalesce(case when f.status <> 'pending' then f.ts + interval '5 minutes' end, f.ts)
from fill f order by f.i;
insert into approval_events (approval_id, team_id, kind, actor_type, actor_id, data, created_at)
select f.id, :'team', 'created', 'agent', :'agent', '{}', f.ts from fill f order by f.i;
insert into approval_events (approval_id, team_id, kind, actor_type, actor_id, data, created_at)
select f.id, :'team', case f.status when 'expired' then 'expired' when 'cancelled' then 'cancelled'
    else 'resolved' end, case f.status when 'expired' then 'system' else 'user' end, null,
    jsonb_build_object('status', f.status), f.ts + interval '5 minutes'
from fill f where f.status <> 'pending' order by f.i;
select indexdef from fill_idx \gexec
commit;
vacuum analyze approvals;
vacuum analyze approval_events;
