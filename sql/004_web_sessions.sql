-- 004_web_sessions: what the web app at /app needs — server-side sign-in
-- sessions, the sign-in throttle, and an index for the live inbox's "what
-- changed since" read.

-- A signed-in browser. The cookie holds a random secret; only its SHA-256 is
-- stored, so a copy of this table signs nobody in. A session ends at
-- expires_at (absolute), after idle time without requests (checked against
-- last_seen_at), at sign-out, when the user changes their password (the
-- other sessions), or with the user (cascade).
create table user_sessions (
    id              uuid primary key,
    user_id         uuid not null references users(id) on delete cascade,
    team_id         uuid not null references teams(id) on delete cascade,
    secret_hash     bytea not null unique,
    created_at      timestamptz not null default now(),
    last_seen_at    timestamptz not null default now(),
    expires_at      timestamptz not null,
    client_addr     text
);
create index user_sessions_user_idx on user_sessions (user_id);

-- Failed sign-ins per account ("email:<lower email>") and per client address
-- ("addr:<address>") in a fixed window; a key over its limit is refused with
-- 429 until window_start + the window length. Rows of past windows are
-- reused in place, so the table holds one row per key ever seen failing.
create table signin_failures (
    key             text primary key,
    failures        integer not null default 0,
    window_start    timestamptz not null default now()
);

-- The live inbox reads "the team's approvals changed since T" after every
-- wake-up; creates set updated_at to the insert time and every close bumps it.
create index approvals_team_updated_idx on approvals (team_id, updated_at);
