-- 001_init: teams, users, agents, keys, approvals, the approval event log and
-- the outbox of jobs for the workers. Forward-only; applied by `holdpoint
-- migrate` under an advisory lock, each file in its own transaction.

create table teams (
    id              uuid primary key,
    name            text not null check (length(name) between 1 and 200),
    -- Monthly approval quota; null means unlimited.
    approval_quota  integer check (approval_quota is null or approval_quota >= 0),
    created_at      timestamptz not null default now()
);

create table users (
    id              uuid primary key,
    team_id         uuid not null references teams(id) on delete cascade,
    email           text not null,
    name            text not null,
    role            text not null check (role in ('owner', 'admin', 'reviewer')),
    password_hash   text,                     -- argon2id PHC string
    created_at      timestamptz not null default now()
);
create unique index users_email_key on users (lower(email));
create index users_team_idx on users (team_id);

-- Personal tokens for headless reviewers: only a public prefix and a hash.
create table user_tokens (
    id              uuid primary key,
    user_id         uuid not null references users(id) on delete cascade,
    team_id         uuid not null references teams(id) on delete cascade,
    prefix          text not null unique,
    token_hash      bytea not null,
    created_at      timestamptz not null default now(),
    revoked_at      timestamptz
);

create table agents (
    id                           uuid primary key,
    team_id                      uuid not null references teams(id) on delete cascade,
    name                         text not null check (length(name) between 1 and 200),
    default_timeout_seconds      integer not null default 3600
                                 check (default_timeout_seconds between 30 and 86400),
    default_timeout_mode         text not null default 'expire_no_action'
                                 check (default_timeout_mode in ('expire_no_action',
                                                                 'expire_with_predefined_instruction')),
    default_timeout_instruction  text,
    -- Merged into every callback, winning over caller headers (seed 003).
    callback_auth_header         text,
    callback_auth_value_sealed   text,        -- hp_secret_seal() of the value
    -- Standard Webhooks signing secret "whsec_...", sealed.
    webhook_secret_sealed        text not null,
    created_at                   timestamptz not null default now()
);
create index agents_team_idx on agents (team_id);

-- API keys: shown once; stored as a public prefix (for lookup) and SHA-256 of
-- the whole key. A key is team-scoped (agent_id null) or agent-scoped.
create table api_keys (
    id              uuid primary key,
    team_id         uuid not null references teams(id) on delete cascade,
    agent_id        uuid references agents(id) on delete cascade,
    prefix          text not null unique,
    key_hash        bytea not null,
    name            text,
    test_mode       boolean not null default false,
    created_at      timestamptz not null default now(),
    revoked_at      timestamptz,
    replaced_by     uuid references api_keys(id)
);
create index api_keys_team_idx on api_keys (team_id);

create table approvals (
    id                        uuid primary key,
    team_id                   uuid not null references teams(id) on delete cascade,
    agent_id                  uuid not null references agents(id) on delete cascade,
    request_id                text not null,        -- the caller's external id
    request_id_supplied       boolean not null,
    correlation_id            text,
    question                  text not null,
    context_markdown          text not null,
    notification_summary      text,
    options                   jsonb not null,       -- [{label, value, is_default_on_timeout}]
    timeout_seconds           integer not null,
    timeout_mode              text not null check (timeout_mode in ('expire_no_action',
                                                                  'expire_with_predefined_instruction')),
    predefined_instruction    text,
    expires_at                timestamptz not null,
    callback_url              text,
    callback_headers          jsonb,
    canonical_hash            bytea not null,       -- SHA-256 of the canonical payload
    allow_custom_instruction  boolean not null default true,
    response_format           text not null default 'raw',
    session_id                text,
    agent_name                text,
    metadata                  jsonb,
    source                    text not null default 'v1' check (source in ('v1', 'v1_decisions', 'ask')),
    status                    text not null default 'pending'
                              check (status in ('pending', 'selected_option', 'custom_instruction',
                                                'expired', 'cancelled')),
    selected_option_index     integer,
    custom_instruction        text,
    is_timeout_default        boolean not null default false,
    resolved_by_user_id       uuid,
    resolved_by_name          text,
    resolved_at               timestamptz,
    result_delivery_status    text not null default 'pending'
                              check (result_delivery_status in ('pending', 'delivered', 'failed')),
    result_delivery_error     text,
    created_at                timestamptz not null default now(),
    updated_at                timestamptz not null default now()
);
create unique index approvals_agent_request_key on approvals (agent_id, request_id);
-- Expiry claim: due pending approvals in deadline order.
create index approvals_pending_expiry_idx on approvals (expires_at) where status = 'pending';
-- Agent list and reviewer inbox, newest first with a keyset cursor.
create index approvals_agent_created_idx on approvals (agent_id, created_at desc, id desc);
create index approvals_team_created_idx on approvals (team_id, created_at desc, id desc);
create index approvals_team_pending_idx on approvals (team_id, created_at desc, id desc)
    where status = 'pending';

-- Append-only history of every state change.
create table approval_events (
    id            bigint generated always as identity primary key,
    approval_id   uuid not null references approvals(id) on delete cascade,
    team_id       uuid not null,
    kind          text not null,
    actor_type    text not null check (actor_type in ('agent', 'user', 'system')),
    actor_id      text,
    data          jsonb not null default '{}'::jsonb,
    created_at    timestamptz not null default now()
);
create index approval_events_approval_idx on approval_events (approval_id, id);

create function approval_events_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'approval_events is append-only';
end $$;
create trigger approval_events_no_update before update on approval_events
    for each row execute function approval_events_append_only();

-- Outbox: jobs written in the same transaction as the state change that
-- causes them, claimed by workers with FOR UPDATE SKIP LOCKED and a lease.
create table jobs (
    id            bigint generated always as identity primary key,
    team_id       uuid not null,
    kind          text not null check (kind in ('callback')),
    approval_id   uuid references approvals(id) on delete cascade,
    agent_id      uuid references agents(id) on delete cascade,
    url           text not null,
    headers       jsonb,                    -- the caller's callback.headers
    body          text not null,            -- exact bytes to send (and sign)
    webhook_id    text not null,            -- stable across retries (receivers de-duplicate)
    state         text not null default 'queued' check (state in ('queued', 'done', 'failed')),
    run_at        timestamptz not null default now(),
    attempts      integer not null default 0,
    max_attempts  integer not null,
    lease_until   timestamptz,
    leased_by     text,
    last_error    text,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
create index jobs_due_idx on jobs (run_at) where state = 'queued';
create index jobs_approval_idx on jobs (approval_id);

-- When the expiry worker next plans to wake. A create whose deadline is
-- earlier (or when no worker has said) sends NOTIFY hp_expiry, so creates
-- with later deadlines — nearly all of them — skip the NOTIFY lock.
create table expiry_schedule (
    id            boolean primary key default true check (id),
    next_wake_at  timestamptz
);
insert into expiry_schedule (id, next_wake_at) values (true, null);

-- Monthly usage for quotas: one row per team and month, counted atomically.
create table team_usage (
    team_id       uuid not null references teams(id) on delete cascade,
    period        date not null,            -- first day of the month, UTC
    approvals     integer not null default 0,
    primary key (team_id, period)
);

-- Sliding-window create limit when Redis is not configured: the recent create
-- times of each agent, trimmed and appended in one statement.
create table agent_rate_windows (
    agent_id      uuid primary key references agents(id) on delete cascade,
    hits          timestamptz[] not null default '{}'
);
