/*
 * hp_store_approval: every SQL statement about approvals, their events and
 * their outbox jobs. Functions run on a borrowed connection inside whatever
 * transaction the caller (hp_approval_ops.c) opened; rows are read into the
 * caller's pool (the PGresult is cleared when the pool is freed).
 */
#ifndef HP_STORE_APPROVAL_H
#define HP_STORE_APPROVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "hp_approval.h"
#include "hp_crypto.h"
#include "hp_db.h"
#include "hp_inbox.h"
#include "hp_pool.h"

/* The columns of an hp_approval_row ("a" is approvals; times in µs), for
 * statements of other store modules that read an approval along with
 * something else; hp_store_approval_read reads them. */
#define HP_STORE_APPROVAL_US(col) "(extract(epoch from " col ") * 1000000)::bigint"
#define HP_STORE_APPROVAL_COLS                                                                     \
    "a.id, a.team_id, a.agent_id, a.request_id, a.correlation_id, a.question, "                    \
    "a.context_markdown, a.notification_summary, a.options::text, a.timeout_seconds, "             \
    "a.timeout_mode, a.predefined_instruction, " HP_STORE_APPROVAL_US(                             \
        "a.expires_at") ", a.callback_url, a.callback_headers::text, "                             \
                        "a.allow_custom_instruction, a.session_id, a.agent_name, "                 \
                        "a.metadata::text, a.status, a.selected_option_index, "                    \
                        "a.custom_instruction, a.is_timeout_default, a.resolved_by_user_id, "      \
                        "a.resolved_by_name, " HP_STORE_APPROVAL_US(                               \
                            "a.resolved_at") ", a.result_delivery_status, "                        \
                                             "a.result_delivery_error, " HP_STORE_APPROVAL_US(     \
                                                 "a.created_at") ", a.source, a.response_format"
#define HP_STORE_APPROVAL_NCOLS 31

/* The typed reader of HP_STORE_APPROVAL_COLS: fills *row from row i of r,
 * whose approval columns start at column col; a column after them (when r
 * has one) is the agent's display name. The options are parsed into pool,
 * the strings copied into pool (one allocation), so r may be cleared as
 * soon as this returns. */
void hp_store_approval_read(hp_pool *pool, const PGresult *r, int i, int col, hp_approval_row *row);

/* Reads the approval of agent_id with external id request_id (team-scoped).
 * *found false when none. With hash non-NULL, *same_hash says whether the
 * stored canonical hash equals it. */
HP_MUSTCHECK hp_err hp_store_approval_by_request(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                                 const char *agent_id, const char *request_id,
                                                 const unsigned char *hash, hp_approval_row *row,
                                                 bool *found, bool *same_hash, char *err,
                                                 size_t errcap);

/* Reads approval_id of team_id. */
HP_MUSTCHECK hp_err hp_store_approval_by_id(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                            const char *approval_id, hp_approval_row *row,
                                            bool *found, char *err, size_t errcap);

/* The closed row a decision's wake message carries after its keys (from
 * HP_WAKE_ROW_PREFIX on: the prefix and a JSON array; see
 * HP__WAKE_ROW_SQL) as a result laid out like
 * hp_store_approval_by_id_result's: one row for hp_store_approval_read
 * (the callback's URL and headers null). NULL when msg is not such a row.
 * The caller clears it. */
PGresult *hp_store_approval_row_msg(const char *msg);

/* The same read as hp_store_approval_by_id (no lock), left as PostgreSQL
 * returned it: zero or one row for hp_store_approval_read (columns from 0).
 * For a read that many waiters share, each decoding it into its own pool;
 * the caller clears *out. */
HP_MUSTCHECK hp_err hp_store_approval_by_id_result(hp_dbconn *c, const char *team_id,
                                                   const char *approval_id, PGresult **out,
                                                   char *err, size_t errcap);

/* Counts one approval against the team's monthly quota; *allowed false when
 * the team is over it (the caller rolls back). */
HP_MUSTCHECK hp_err hp_store_quota_take(hp_dbconn *c, const char *team_id, bool *allowed, char *err,
                                        size_t errcap);

/* A create authenticated from the API's memory of its key (hp_keymem.h):
 * the key's id, and its team's count of changes to agent defaults as of the
 * remembered lookup (hp_key_row.team_agents_rev), whose defaults the
 * create's timeout was merged with. */
typedef struct hp_key_memo {
    const char *key_id;
    int64_t team_agents_rev;
} hp_key_memo;

/* One approval to insert: in, for agent_id of team_id under request_id
 * (request_id_supplied: the caller's own), its row's strings into pool. */
typedef struct hp_insert_query {
    const char *team_id, *agent_id, *request_id;
    bool request_id_supplied;
    const hp_approval_input *in;
    hp_pool *pool;
    /* NULL, or the API key the create was authenticated with from memory
     * (hp_keymem.h): then it is inserted only while that key of team_id is
     * not revoked, the team has no quota and no agent's defaults changed
     * since the remembered lookup, and otherwise left out like an existing
     * (agent_id, request_id). */
    const hp_key_memo *memo;
    char id[HP_UUID_LEN + 1]; /* the new id (UUIDv7), set by the store */
    hp_approval_row row;      /* out, when inserted */
    bool inserted;            /* out: false when (agent_id, request_id) existed */
} hp_insert_query;

/* Inserts q's approval unless (agent_id, request_id) exists. */
HP_MUSTCHECK hp_err hp_store_approval_insert(hp_dbconn *c, hp_insert_query *q, char *err,
                                             size_t errcap);

/* The creates of teams without a quota, q[0..n), as one statement (its own
 * transaction; call it outside BEGIN): each inserted unless (agent_id,
 * request_id) exists — also when an earlier one of q[] has it —, the
 * "created" events, the expiry wake of hp_store_expiry_wake_for, with notify
 * NOTIFY hp_approval with each approval's wake message, and — only for a team
 * with an enabled channel — the "created" notify job (hp_store_fanout.h).
 * All or none are inserted. */
HP_MUSTCHECK hp_err hp_store_approval_insert_all(hp_dbconn *c, hp_insert_query *const *q, int n,
                                                 bool notify, char *err, size_t errcap);

/* Sends NOTIFY hp_expiry when approval_id's first time-driven transition —
 * its deadline, or an earlier reminder or escalation step of its agent — is
 * earlier than the expiry worker's planned wake, or when no plan is known. */
HP_MUSTCHECK hp_err hp_store_expiry_wake_for(hp_dbconn *c, const char *approval_id, char *err,
                                             size_t errcap);

/* A decision for hp_store_approval_decide. Strings are borrowed; NULL is
 * SQL NULL. */
typedef enum {
    HP_STORE_DECIDE_OPTION = 0, /* choose option_index */
    HP_STORE_DECIDE_CUSTOM,     /* a custom instruction (when the approval allows one) */
    HP_STORE_DECIDE_CANCEL,
} hp_store_decide_kind;

typedef struct hp_store_decide {
    const char *approval_id;
    const char *team_id;
    hp_store_decide_kind kind;
    int option_index; /* -1 for none */
    const char *custom_instruction;
    const char *user_id; /* the deciding user, recorded in the approval */
    const char *user_name;
    /* Or, with token_prefix set, the user whose live user token has this
     * prefix and SHA-256 (hp_key_hash), read by the same statement: it
     * decides for its team, and team_id, user_id, user_name and actor_id
     * are then NULL. No live token matching: out->token_refused, nothing
     * written. */
    const char *token_prefix;
    const unsigned char *token_hash;
    const char *status;     /* the new status: selected_option, custom_instruction, cancelled */
    const char *event_kind; /* the audit event: resolved, cancelled */
    const char *actor_type;
    const char *actor_id;
    const char *event_data;      /* the audit event's data, JSON text ("{}" when NULL) */
    int max_attempts;            /* of the callback and project webhook jobs */
    const char *client_event_id; /* of the action response the decision records */
    const char *device;
    bool keep_result; /* hand the statement's result to the caller (hp_store_decided) */
    /* When not NULL: filled with the action response the decision recorded
     * (strings in the pool), or zeroed (id NULL) when it recorded none. */
    hp_inbox_response *response;
} hp_store_decide;

/* Why a decision changed nothing. */
typedef enum {
    HP_STORE_DECIDED = 0,
    HP_STORE_DECIDE_CLOSED,     /* no longer pending (status says what it is) */
    HP_STORE_DECIDE_BAD_OPTION, /* option_index out of range (options says how many) */
    HP_STORE_DECIDE_NO_CUSTOM,  /* custom instructions not allowed */
} hp_store_refusal;

typedef struct hp_store_decided {
    bool token_refused; /* d->token_prefix named no live user token */
    bool found;         /* the team has the approval */
    hp_store_refusal refusal;
    const char *status; /* the approval's status after the statement (pool) */
    int options;        /* how many options it has */
    /* With HP_STORE_DECIDED: the wake message the decision's NOTIFY carried
     * (its keys, then its row when it fit; pool), which the caller also
     * publishes on Redis; else NULL. */
    const char *wake_msg;
    /* With keep_result and HP_STORE_DECIDED: the statement's result, whose
     * row 0 is the closed approval as hp_store_approval_read reads it (the
     * same columns as a read by id). The caller's to PQclear; else NULL. */
    PGresult *result;
} hp_store_decided;

/* Decides d->approval_id of d->team_id as ONE statement (its own
 * transaction; call it outside BEGIN, one round trip): locks the approval,
 * refuses when it is no longer pending or d does not fit it (out->refusal),
 * otherwise closes it and writes every effect of the close in the same
 * statement — the audit event (d->event_kind, actor, d->event_data), the
 * callback job, the team webhooks' notify job, the action response of a
 * chosen option or custom instruction with its project webhook job, NOTIFY
 * hp_jobs and NOTIFY hp_approval with the wake message
 * "<approval id> team:<team id> agent:<agent id>" and the closed row after
 * it — set-based, the same SQL as the expiry batch
 * (hp_store_approval_expire_due). Of concurrent decisions the first to
 * lock the row wins; the others wait for its commit and are refused as
 * closed. *row (pool) is the closed approval with the agent's name when
 * out->refusal is HP_STORE_DECIDED and out->found, and d->response (when
 * set) the action response recorded, from the same statement.
 * HP_ERR_CONFLICT (nothing written) when the agent already recorded
 * d->client_event_id. */
HP_MUSTCHECK hp_err hp_store_approval_decide(hp_dbconn *c, hp_pool *pool, const hp_store_decide *d,
                                             hp_approval_row *row, hp_store_decided *out, char *err,
                                             size_t errcap);

/* Appends an audit event; data_json is JSON text ("{}" when NULL). */
HP_MUSTCHECK hp_err hp_store_event_add(hp_dbconn *c, const char *approval_id, const char *team_id,
                                       const char *kind, const char *actor_type,
                                       const char *actor_id, const char *data_json, char *err,
                                       size_t errcap);

/* NOTIFY hp_approval with a wake message (hp_approval_ops.h), for
 * waiters; sent at commit. */
HP_MUSTCHECK hp_err hp_store_notify_approval(hp_dbconn *c, const char *msg, char *err,
                                             size_t errcap);

/* A list query. NULL filters are not applied. */
typedef struct hp_approval_filter {
    const char *team_id;  /* required */
    const char *agent_id; /* agent list; NULL for the team inbox */
    const char *status;   /* one status, or NULL for all */
    const char *session_id;
    const char *text;          /* question contains this text (case-insensitive) */
    int64_t created_after;     /* µs, or -1 */
    int64_t created_before;    /* µs, or -1 */
    int64_t cursor_created_at; /* keyset: rows strictly before (created_at, id) */
    const char *cursor_id;     /* NULL = first page */
    int limit;                 /* rows to return; one more is read to detect a next page */
} hp_approval_filter;

/* Reads up to f->limit + 1 rows newest first into *rows (pool memory). */
HP_MUSTCHECK hp_err hp_store_approval_list(hp_dbconn *c, hp_pool *pool, const hp_approval_filter *f,
                                           hp_approval_row **rows, int *n, char *err,
                                           size_t errcap);

/* The live inbox: up to limit approvals of team_id whose updated_at is at
 * or after since (µs; creates and every close set it), oldest change
 * first, into *rows with each row's updated_at (µs) in *changed_at (pool
 * memory). */
HP_MUSTCHECK hp_err hp_store_approval_changes(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                              int64_t since, int limit, hp_approval_row **rows,
                                              int64_t **changed_at, int *n, char *err,
                                              size_t errcap);

/* The number of team_id's pending approvals, counted up to cap (*count ==
 * cap means "cap or more"), through the pending partial index, and the
 * database's clock (*now, µs). */
HP_MUSTCHECK hp_err hp_store_pending_count(hp_dbconn *c, const char *team_id, int cap, int *count,
                                           int64_t *now, char *err, size_t errcap);

/* One audit event (strings in the reader's pool). */
typedef struct hp_event {
    int64_t id;
    const char *kind;
    const char *actor_type;
    const char *actor_id;
    const char *actor_name; /* the actor's current name (a user or agent of the team), or NULL */
    const char *data;       /* JSON text, or NULL */
    int64_t created_at;     /* µs */
} hp_event;

/* Reads the audit events of approval_id in order into *events (*n of them,
 * an array in pool; the strings live as long as pool). */
HP_MUSTCHECK hp_err hp_store_event_list(hp_dbconn *c, hp_pool *pool, const char *approval_id,
                                        hp_event **events, int *n, char *err, size_t errcap);

/* One approval an expiry batch closed (strings in the batch's pool). */
typedef struct hp_expired {
    const char *id;
    const char *team_id;
    const char *agent_id;
    int64_t expires_at; /* µs */
    const char *timeout_mode;
} hp_expired;

/* Approvals one expiry statement closes at most. */
#define HP_STORE_EXPIRE_BATCH 200

/* Expiry (holdpoint-timeout): ONE statement, its own transaction (call it
 * outside BEGIN), that claims up to HP_STORE_EXPIRE_BATCH pending approvals whose
 * expires_at has passed, oldest deadline first, with FOR UPDATE SKIP LOCKED
 * so concurrent workers split the work, closes them as "expired" (status =
 * 'pending' is re-checked by the UPDATE, so no approval is expired twice),
 * and writes every effect of those closes set-based, with the SQL a
 * decision shares (hp_store_approval_decide): audit events with actor,
 * callback jobs, team webhook notify jobs, timeout defaults' action
 * responses with their project webhook jobs, NOTIFY hp_jobs and NOTIFY
 * hp_approval with the batch's wake keys. Callback and project webhook
 * jobs are queued with a null body that holdpoint-delivery renders from the
 * closed row. The option marked is_default_on_timeout (the first such)
 * becomes the selected option with is_timeout_default true; a seed 004
 * approval (source 'v1_decisions') with none marked uses its first
 * decision the same way; a seed 003 approval with none marked leaves the
 * option fields null. *rows (pool memory) gets the closed approvals, *n
 * their count; the caller publishes their wake messages on Redis after it
 * returns. */
HP_MUSTCHECK hp_err hp_store_approval_expire_due(hp_dbconn *c, hp_pool *pool, const char *actor,
                                                 int max_attempts, hp_expired **rows, int *n,
                                                 char *err, size_t errcap);

/* The expiry of one approval, the same statement as
 * hp_store_approval_expire_due limited to approval_id of team_id: when it is
 * still pending and due (by the database clock), closes it with every
 * effect and sets *expired and *row; otherwise changes nothing (*expired
 * false). A row another transaction holds is skipped, not waited for. For
 * waiters that must answer at the deadline without depending on the expiry
 * worker's lag. */
HP_MUSTCHECK hp_err hp_store_approval_expire_one(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                                 const char *approval_id, const char *actor,
                                                 int max_attempts, hp_approval_row *row,
                                                 bool *expired, char *err, size_t errcap);

#endif
