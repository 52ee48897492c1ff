-- 009_retention: what holdpoint-timeout needs to remove closed approvals and
-- finished jobs past HOLDPOINT_RETENTION_DAYS (docs/operations.md,
-- "Retention"), and the audit trail's promise kept by the database itself.

-- The sweep takes the oldest closed approvals first, and the oldest finished
-- jobs that belong to no approval (a job of an approval goes with it).
-- Partial, so they hold only what retention may ever touch. On a large
-- existing database, build them first with CREATE INDEX CONCURRENTLY under
-- the same names; these statements then find them and do nothing.
create index if not exists approvals_closed_idx on approvals (resolved_at)
    where status <> 'pending';
create index if not exists jobs_finished_idx on jobs (updated_at)
    where state <> 'queued' and approval_id is null;

-- An approval's history is removed only together with the approval (the
-- cascade of its delete runs this trigger one level deeper), never on its
-- own: nobody can trim an approval's trail and keep the approval.
create function approval_events_no_delete() returns trigger language plpgsql as $$
begin
    if pg_trigger_depth() < 2 then
        raise exception 'approval_events rows are removed only with their approval';
    end if;
    return old;
end $$;
create trigger approval_events_no_delete before delete on approval_events
    for each row execute function approval_events_no_delete();
