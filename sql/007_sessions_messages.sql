-- 007_sessions_messages: seed 004's sessions, messages (notifications with up
-- to four buttons) and the acknowledged inbox of action responses, plus the
-- project webhook of an agent. A seed 004 "project" is a Holdpoint agent
-- (project_id = agents.id, project = agents.name).

-- Where an agent's action responses are POSTed (seed 004's outbound rules are
-- checked when it is set and again before each delivery); null = none.
alter table agents add column webhook_url text;

-- A run of a coding agent or automation. The id is the caller's (Claude
-- Code's session_id, a Codex or Cursor conversation id) or a server UUID; it
-- is unique per agent, so two projects never see each other's sessions.
-- Created explicitly (POST /v1/sessions) or implicitly by the first message
-- or approval that names it.
create table agent_sessions (
    agent_id        uuid not null references agents(id) on delete cascade,
    id              text not null check (length(id) between 1 and 200),
    team_id         uuid not null references teams(id) on delete cascade,
    label           text,
    client          text,                   -- seed 004 "agent": "claude-code"
    client_version  text,
    metadata        jsonb,
    implicit        boolean not null default false,
    status          text not null default 'active'
                    check (status in ('active', 'completed', 'error')),
    error           text,                   -- short, when ended with 'error'
    created_at      timestamptz not null default now(),
    ended_at        timestamptz,
    primary key (agent_id, id)
);
create index agent_sessions_created_idx on agent_sessions (agent_id, created_at desc, id desc);

-- Notifications shown to the team's reviewers: seed 004 messages (POST
-- /v1/messages) and the Ask API's POST /send (source 'ask'). An approval is
-- its own notification (notification_id = approval id) and has no row here.
create table messages (
    id               uuid primary key,
    team_id          uuid not null references teams(id) on delete cascade,
    agent_id         uuid not null references agents(id) on delete cascade,
    session_id       text,
    parent_id        uuid,                  -- a parent notification (subagent trees)
    type             text not null,
    title            text not null,
    message          text not null default '',
    buttons          jsonb not null default '[]'::jsonb,   -- up to four labels
    allow_reply      boolean not null default false,
    client_event_id  text,
    agent_name       text,
    metadata         jsonb,
    source           text not null default 'v1' check (source in ('v1', 'ask')),
    created_at       timestamptz not null default now()
);
create index messages_agent_created_idx on messages (agent_id, created_at desc, id desc);
create index messages_team_created_idx on messages (team_id, created_at desc, id desc);
create index messages_session_idx on messages (agent_id, session_id, created_at)
    where session_id is not null;
-- A repeated send with the same client_event_id answers the first message.
create unique index messages_client_event_key on messages (agent_id, client_event_id)
    where client_event_id is not null;

-- The per-agent inbox sequence. Each action response takes the next number
-- while holding this row's lock until its transaction commits, so numbers
-- become visible in order: a reader that has seen number n never later
-- finds a committed response below n (resumable streams lose nothing).
create table inbox_counters (
    agent_id  uuid primary key references agents(id) on delete cascade,
    seq       bigint not null
);

-- A reviewer's button tap or text reply on a message, and every decision or
-- timeout default of an approval (written in the decision's transaction).
-- The agent reads them in seq order and acknowledges each.
create table action_responses (
    id                         uuid primary key,
    team_id                    uuid not null references teams(id) on delete cascade,
    agent_id                   uuid not null references agents(id) on delete cascade,
    seq                        bigint not null,
    session_id                 text,
    notification_id            uuid not null,        -- a message id or an approval id
    approval_id                uuid references approvals(id) on delete cascade,
    parent_id                  uuid,
    kind                       text not null check (kind in ('button', 'reply')),
    action                     text not null,        -- button_pressed, text_reply, timeout_default
    button_index               integer,
    button_label               text,
    decision_key               text,
    response_text              text,
    is_timeout_default         boolean not null default false,
    client_event_id            text,                 -- the action's
    notification_client_event_id text,               -- the message's, or the approval's correlation_id
    user_id                    uuid,
    user_name                  text,
    device                     text,
    notification_title         text not null,
    notification_message       text not null,
    ack_status                 text not null default 'pending'
                               check (ack_status in ('pending', 'processed', 'ignored', 'failed')),
    ack_error                  text,
    acked_at                   timestamptz,
    decided_at                 timestamptz not null,
    recorded_at                timestamptz not null default now()
);
create unique index action_responses_seq_key on action_responses (agent_id, seq);
create index action_responses_pending_idx on action_responses (agent_id, seq)
    where ack_status = 'pending';
create index action_responses_session_idx on action_responses (agent_id, session_id, seq)
    where session_id is not null;
create index action_responses_notification_idx on action_responses (notification_id);
create unique index action_responses_approval_key on action_responses (approval_id)
    where approval_id is not null;
-- POST /v1/actions is idempotent by client_event_id.
create unique index action_responses_client_event_key on action_responses (agent_id, client_event_id)
    where client_event_id is not null;

-- Session reads count and list an agent's approvals by session.
create index approvals_session_idx on approvals (agent_id, session_id, created_at)
    where session_id is not null;
