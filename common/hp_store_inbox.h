/*
 * hp_store_inbox: every SQL statement about action responses and their
 * per-agent sequence (inbox_counters). Functions run on a borrowed
 * connection inside whatever transaction the caller opened; rows are read
 * into the caller's pool. Every read is scoped by the agent (the seed 004
 * project), so another project's response is never found.
 */
#ifndef HP_STORE_INBOX_H
#define HP_STORE_INBOX_H

#include <stdbool.h>

#include "hp_db.h"
#include "hp_inbox.h"
#include "hp_pool.h"

/* The columns of an hp_inbox_response ("r" is action_responses; times in
 * µs), for statements of other store modules; hp_store_inbox_read reads
 * them from row i of r, starting at column col: the strings copied into
 * pool, or borrowed from r when pool is NULL. */
#define HP_STORE_INBOX_US(col) "(extract(epoch from " col ") * 1000000)::bigint"
#define HP_STORE_INBOX_COLS                                                                        \
    "r.id, r.team_id, r.agent_id, r.seq, r.session_id, r.notification_id, r.approval_id, "         \
    "r.parent_id, r.kind, r.action, r.button_index, r.button_label, r.decision_key, "              \
    "r.response_text, r.is_timeout_default, r.client_event_id, "                                   \
    "r.notification_client_event_id, r.user_id, r.user_name, r.device, r.notification_title, "     \
    "r.notification_message, r.ack_status, r.ack_error, " HP_STORE_INBOX_US(                       \
        "r.acked_at") ", " HP_STORE_INBOX_US("r.decided_at") ", " HP_STORE_INBOX_US("r.recorded_"  \
                                                                                    "at")
#define HP_STORE_INBOX_NCOLS 27
void hp_store_inbox_read(hp_pool *pool, const PGresult *r, int i, int col, hp_inbox_response *x);

/* One statement: takes the agent's next sequence number (holding its
 * counter row until commit), inserts rec as response id, and when the
 * agent has a webhook_url queues a "project_webhook" job with
 * webhook_body (exact bytes) and webhook_id, NOTIFY hp_jobs; with wake,
 * NOTIFY hp_approval "agent:<agent_id>". HP_ERR_CONFLICT when the agent
 * already has rec->client_event_id. */
HP_MUSTCHECK hp_err hp_store_inbox_insert(hp_dbconn *c, hp_pool *pool, const hp_inbox_record *rec,
                                          const char *id, const char *webhook_body,
                                          const char *webhook_id, int max_attempts, bool wake,
                                          hp_inbox_response *out, char *err, size_t errcap);

/* Locks (creating when missing) the sequence counters of the n agents in
 * id order, so a transaction that records responses for several agents (an
 * expiry batch) cannot deadlock with another. */
HP_MUSTCHECK hp_err hp_store_inbox_lock_agents(hp_dbconn *c, const char *const *agent_ids, int n,
                                               char *err, size_t errcap);

/* Response id of agent_id. */
HP_MUSTCHECK hp_err hp_store_inbox_get(hp_dbconn *c, hp_pool *pool, const char *agent_id,
                                       const char *id, hp_inbox_response *out, bool *found,
                                       char *err, size_t errcap);

/* The response agent_id recorded with this client_event_id. */
HP_MUSTCHECK hp_err hp_store_inbox_by_event(hp_dbconn *c, hp_pool *pool, const char *agent_id,
                                            const char *client_event_id, hp_inbox_response *out,
                                            bool *found, char *err, size_t errcap);

/* The sequence number of response id of agent_id (a cursor). */
HP_MUSTCHECK hp_err hp_store_inbox_seq_of(hp_dbconn *c, const char *agent_id, const char *id,
                                          long long *seq, bool *found, char *err, size_t errcap);

/* Up to f->limit + 1 responses after f->after_seq, in sequence order. */
HP_MUSTCHECK hp_err hp_store_inbox_list(hp_dbconn *c, hp_pool *pool, const hp_inbox_filter *f,
                                        hp_inbox_response **rows, int *n, char *err, size_t errcap);

/* Sets a pending response's ack status; *changed false when it had left
 * pending (then *out is as it is), *found false when there is none. */
HP_MUSTCHECK hp_err hp_store_inbox_ack(hp_dbconn *c, hp_pool *pool, const char *agent_id,
                                       const char *id, const char *status, const char *error,
                                       hp_inbox_response *out, bool *found, bool *changed,
                                       char *err, size_t errcap);

/* Acknowledges (processed) the pending response of approval_id, if any:
 * its decision was handed to the caller directly. */
HP_MUSTCHECK hp_err hp_store_inbox_ack_approval(hp_dbconn *c, const char *approval_id, char *err,
                                                size_t errcap);

#endif
