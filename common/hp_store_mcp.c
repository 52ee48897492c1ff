/*
 * hp_store_mcp: SQL for MCP sessions; see hp_store_mcp.h.
 */
#include <string.h>

#include "hp_crypto.h"
#include "hp_store_mcp.h"
#include "hp_str.h"

/* bytea input text "\x<64 hex>" of a SHA-256. */
static void hp__hash_text(const unsigned char hash[32], char out[67])
{
    out[0] = '\\';
    out[1] = 'x';
    hp_hex_encode(hash, 32, out + 2);
}

/* The condition every lookup shares: $1 hash, $2 team, $3 agent, $4 idle
 * seconds. */
#define HP__LIVE                                                                                   \
    "id_hash = $1::bytea and team_id = $2::uuid and agent_id = $3::uuid and ended_at is null "     \
    "and last_seen_at > now() - make_interval(secs => $4::int)"

hp_err hp_store_mcp_session_open(hp_dbconn *c, const unsigned char hash[32], const char *team_id,
                                 const char *agent_id, const char *version, const char *client_name,
                                 const char *client_version, char *err, size_t errcap)
{
    static const char sql[] =
        "with gone as (delete from mcp_sessions where id_hash in (select id_hash from "
        "  mcp_sessions where last_seen_at < now() - make_interval(secs => $7::int) "
        "  or ended_at < now() - interval '1 hour' limit 100)) "
        "insert into mcp_sessions (id_hash, team_id, agent_id, protocol_version, client_name, "
        "client_version) values ($1::bytea, $2, $3, $4, $5, $6)";
    char h[67], idle[16];

    hp__hash_text(hash, h);
    (void)hp_fmt(idle, sizeof(idle), "%d", HP_MCP_SESSION_IDLE_S);
    const char *p[] = {h, team_id, agent_id, version, client_name, client_version, idle};
    return hp_db_exec(c, NULL, sql, 7, p, err, errcap);
}

hp_err hp_store_mcp_session_get(hp_dbconn *c, hp_pool *pool, const unsigned char hash[32],
                                const char *team_id, const char *agent_id, const char **version,
                                bool *found, char *err, size_t errcap)
{
    /* The touch only writes when the last one is a minute old, so a busy
     * session costs one read per request, not one write. */
    static const char sql[] =
        "with s as (select protocol_version, last_seen_at from mcp_sessions where " HP__LIVE "), "
        "t as (update mcp_sessions set last_seen_at = now() where " HP__LIVE
        " and last_seen_at < now() - interval '1 minute') "
        "select protocol_version from s";
    char h[67], idle[16];
    PGresult *r;
    hp_err rc;

    hp__hash_text(hash, h);
    (void)hp_fmt(idle, sizeof(idle), "%d", HP_MCP_SESSION_IDLE_S);
    const char *p[] = {h, team_id, agent_id, idle};
    rc = hp_db_exec(c, &r, sql, 4, p, err, errcap);
    if (rc != HP_OK)
        return rc;
    hp_db_keep(pool, r);
    *found = PQntuples(r) == 1;
    *version = *found ? hp_db_val(r, 0, 0) : NULL;
    return HP_OK;
}

hp_err hp_store_mcp_session_end(hp_dbconn *c, const unsigned char hash[32], const char *team_id,
                                const char *agent_id, bool *found, char *err, size_t errcap)
{
    static const char sql[] =
        "update mcp_sessions set ended_at = now() where " HP__LIVE " returning 1";
    char h[67], idle[16];

    hp__hash_text(hash, h);
    (void)hp_fmt(idle, sizeof(idle), "%d", HP_MCP_SESSION_IDLE_S);
    const char *p[] = {h, team_id, agent_id, idle};
    return hp_db_exists(c, sql, 4, p, found, err, errcap);
}
