-- 008_channels: notification channels. A team configures channels (Web Push
-- to its members' devices, ntfy, Slack, email over SMTP, a signed team
-- webhook); an agent's settings route its approvals and messages to some of
-- them (all by default) and add reminder and escalation steps. Everything
-- sent goes through the jobs outbox and holdpoint-delivery. Forward-only.

create table channels (
    id               uuid primary key,
    team_id          uuid not null references teams(id) on delete cascade,
    kind             text not null check (kind in ('webpush', 'ntfy', 'slack', 'email', 'webhook')),
    name             text not null check (length(name) between 1 and 200),
    -- Settings that are not secret (server URL, topic, SMTP host, recipients).
    config           jsonb not null default '{}'::jsonb,
    -- hp_secret_seal() of a JSON object with the secrets (access token, Slack
    -- webhook URL and signing secret, SMTP password, webhook signing secret).
    secret_sealed    text,
    enabled          boolean not null default true,
    -- Operations: written by holdpoint-delivery with each recorded attempt.
    last_success_at  timestamptz,
    last_error_at    timestamptz,
    last_error       text,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now()
);
create unique index channels_team_name_key on channels (team_id, lower(name));
-- The create path asks "does this team have an enabled channel?" per approval.
create index channels_team_enabled_idx on channels (team_id, kind) where enabled;

-- Per agent: which channels its approvals and messages go to (channel_ids
-- null = every enabled channel of the team), and the reminder and escalation
-- delays (null = no such step) with the escalation's targets.
create table agent_notify (
    agent_id                uuid primary key references agents(id) on delete cascade,
    team_id                 uuid not null references teams(id) on delete cascade,
    channel_ids             uuid[],
    remind_after_seconds    integer check (remind_after_seconds between 1 and 604800),
    escalate_after_seconds  integer check (escalate_after_seconds between 1 and 604800),
    escalate_channel_ids    uuid[] not null default '{}',
    escalate_user_ids       uuid[] not null default '{}',
    updated_at              timestamptz not null default now()
);

-- Reminder and escalation steps taken: the primary key makes each step of an
-- approval happen at most once however many timeout workers race for it.
create table approval_notify_steps (
    approval_id  uuid not null references approvals(id) on delete cascade,
    step         text not null check (step in ('remind', 'escalate')),
    team_id      uuid not null,
    done_at      timestamptz not null default now(),
    primary key (approval_id, step)
);

-- Web Push subscriptions, one per browser (endpoint) of a signed-in member.
-- p256dh is the browser's public key; the auth secret is sealed.
create table push_subscriptions (
    id               uuid primary key,
    team_id          uuid not null references teams(id) on delete cascade,
    user_id          uuid not null references users(id) on delete cascade,
    endpoint         text not null,
    p256dh           text not null,
    auth_sealed      text not null,
    user_agent       text,
    created_at       timestamptz not null default now(),
    last_success_at  timestamptz,
    last_error_at    timestamptz,
    last_error       text
);
create unique index push_subscriptions_endpoint_key on push_subscriptions (endpoint);
create index push_subscriptions_user_idx on push_subscriptions (team_id, user_id);

-- Keys created once per installation (the VAPID key pair of Web Push):
-- the public half in clear, the private half sealed. Created by whichever
-- process needs it first (insert ... on conflict do nothing, then read).
create table installation_keys (
    name        text primary key,
    public      text not null,
    sealed      text not null,
    created_at  timestamptz not null default now()
);

-- Channel jobs: the channel (and push subscription) they send to, whether
-- they are dropped once their approval is no longer pending (asks,
-- reminders) rather than sent (team webhook events), and the "notify" job
-- they were expanded from.
alter table jobs add column channel_id uuid references channels(id) on delete cascade;
alter table jobs add column subscription_id uuid references push_subscriptions(id) on delete set null;
alter table jobs add column only_pending boolean not null default false;
alter table jobs add column parent_id bigint;
create index jobs_channel_idx on jobs (channel_id) where channel_id is not null;
create index jobs_parent_idx on jobs (parent_id) where parent_id is not null;
