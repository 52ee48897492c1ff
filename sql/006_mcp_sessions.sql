-- 006_mcp_sessions: the sessions of the MCP server at /mcp (Streamable
-- HTTP). A session is opened by `initialize` and named by the Mcp-Session-Id
-- header on every later request; it lives here, not in one process's memory,
-- so any API replica serves any session. Only the SHA-256 of the session id
-- is stored. A session belongs to the team and agent the Bearer key acted as
-- when it was opened; every request still authenticates with its key, and a
-- session id presented with another team's (or agent's) key is unknown.

create table mcp_sessions (
    id_hash           bytea primary key,         -- SHA-256 of the Mcp-Session-Id
    team_id           uuid not null references teams(id) on delete cascade,
    agent_id          uuid not null references agents(id) on delete cascade,
    protocol_version  text not null,             -- negotiated at initialize
    client_name       text,                      -- clientInfo, for operators
    client_version    text,
    created_at        timestamptz not null default now(),
    -- Touched at most once a minute; a session idle past the limit is gone.
    last_seen_at      timestamptz not null default now(),
    ended_at          timestamptz               -- DELETE /mcp
);
-- The prune at initialize finds long-idle and ended sessions without a scan.
create index mcp_sessions_seen_idx on mcp_sessions (last_seen_at);
create index mcp_sessions_team_idx on mcp_sessions (team_id);
