/*
 * hp_store_mcp: the SQL of the MCP server's sessions (sql/006_mcp_sessions).
 * A session is keyed by the SHA-256 of its Mcp-Session-Id and bound to the
 * team and agent that opened it; every lookup matches all three, so another
 * tenant's key cannot use (or learn of) a session. Each function is one
 * statement on a borrowed connection; any thread of holdpoint-api.
 */
#ifndef HP_STORE_MCP_H
#define HP_STORE_MCP_H

#include <stdbool.h>

#include "hp_db.h"
#include "hp_err.h"
#include "hp_pool.h"

/* How long a session may sit unused before it is gone (24 hours). */
#define HP_MCP_SESSION_IDLE_S 86400

/* Stores a new session (hash = SHA-256 of its id) for agent_id of team_id
 * with the negotiated protocol version and the client's name and version
 * (either may be NULL), and deletes up to a hundred sessions that ended or
 * sat idle past HP_MCP_SESSION_IDLE_S, so the table stays small without a
 * sweeper. Blocks on the database. */
HP_MUSTCHECK hp_err hp_store_mcp_session_open(hp_dbconn *c, const unsigned char hash[32],
                                              const char *team_id, const char *agent_id,
                                              const char *version, const char *client_name,
                                              const char *client_version, char *err, size_t errcap);

/* Finds the live session hash of agent_id in team_id (not ended, used within
 * HP_MCP_SESSION_IDLE_S) and marks it used (at most once a minute). *found
 * false when there is none; *version (pool memory) is its protocol version. */
HP_MUSTCHECK hp_err hp_store_mcp_session_get(hp_dbconn *c, hp_pool *pool,
                                             const unsigned char hash[32], const char *team_id,
                                             const char *agent_id, const char **version,
                                             bool *found, char *err, size_t errcap);

/* Ends the live session (DELETE /mcp); *found false when there is none. */
HP_MUSTCHECK hp_err hp_store_mcp_session_end(hp_dbconn *c, const unsigned char hash[32],
                                             const char *team_id, const char *agent_id, bool *found,
                                             char *err, size_t errcap);

#endif
