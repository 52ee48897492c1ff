/*
 * hp_err: the one table of error codes used by every Holdpoint process.
 *
 * Each code has an HTTP status and the wire string that goes into the
 * "error" field of a response body and into logs, so an error reads the same
 * in a response, a log line and the docs.  Functions that can fail return
 * hp_err (0 = HP_OK) and put results in out-parameters; lower layers add a
 * short reason in a caller-supplied buffer, and only the boundary (a handler,
 * a worker loop, the CLI) logs and maps the error.
 */
#ifndef HP_ERR_H
#define HP_ERR_H

#include <stddef.h>

#define HP_MUSTCHECK __attribute__((warn_unused_result))

/* X(name, http_status, wire, default message): the message is what a response
 * says when the caller has nothing more specific to add. */
#define HP_ERR_MAP(X)                                                                              \
    X(OK, 200, "ok", "ok")                                                                         \
    X(INVALID_PAYLOAD, 400, "invalid_payload", "the request body is not valid")                    \
    X(INVALID_QUERY, 400, "invalid_query", "the query string is not valid")                        \
    X(INVALID_REQUEST, 400, "invalid_request", "the request is not valid here")                    \
    X(MISSING_AGENT_AUTH, 401, "missing_agent_auth",                                               \
      "send X-Agent-Id and X-Api-Key, or a Bearer API key")                                        \
    X(MISSING_API_KEY, 401, "missing_api_key", "send Authorization: Bearer <API key>")             \
    X(INVALID_AGENT, 401, "invalid_agent", "X-Agent-Id is not a known agent")                      \
    X(INVALID_API_KEY, 401, "invalid_api_key", "the API key is not valid or was revoked")          \
    X(INVALID_USER_TOKEN, 401, "invalid_user_token", "the user token is not valid or was revoked") \
    X(INVALID_SESSION, 401, "invalid_session",                                                     \
      "sign in again: the session is missing, expired or was ended")                               \
    X(INVALID_CREDENTIALS, 401, "invalid_credentials", "the email or password is not correct")     \
    X(INVALID_SIGNATURE, 401, "invalid_signature",                                                 \
      "the request signature is not valid or is too old")                                          \
    X(USAGE_LIMIT, 403, "USAGE_APPROVAL_LIMIT", "the team is over its approval quota")             \
    X(FORBIDDEN, 403, "forbidden", "this credential may not do that")                              \
    X(CSRF, 403, "csrf_failed", "send the X-CSRF-Token header of this session with every change")  \
    X(NOT_FOUND, 404, "not_found", "not found")                                                    \
    X(METHOD_NOT_ALLOWED, 405, "method_not_allowed", "method not allowed on this path")            \
    X(NOT_ACCEPTABLE, 406, "not_acceptable",                                                       \
      "the Accept header allows neither application/json nor text/event-stream")                   \
    X(IDEMPOTENCY_CONFLICT, 409, "idempotency_conflict",                                           \
      "an approval with this request_id exists with a different payload")                          \
    X(ALREADY_RESOLVED, 409, "already_resolved", "the approval was already resolved")              \
    X(CONFLICT, 409, "conflict", "the request conflicts with the current state")                   \
    X(PAYLOAD_TOO_LARGE, 413, "payload_too_large",                                                 \
      "the request body is larger than the configured limit")                                      \
    X(UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type",                                       \
      "the request body must be application/json")                                                 \
    X(RATE_LIMITED, 429, "rate_limited", "too many requests; retry later")                         \
    X(WAIT_SHARE, 429, "wait_share_exceeded",                                                      \
      "this team or key already holds its share of waiting requests; retry later")                 \
    X(CREATE_FAILED, 500, "approval_creation_failed", "the approval could not be created")         \
    X(INTERNAL, 500, "internal_error", "internal error")                                           \
    X(UNAVAILABLE, 503, "service_unavailable", "a dependency is unavailable; retry shortly")       \
    X(CONFIG, 500, "config_error", "the configuration is not valid")                               \
    X(NOMEM, 500, "out_of_memory", "out of memory")

typedef enum {
#define HP__ERR_ENUM(name, status, wire, message) HP_ERR_##name,
    HP_ERR_MAP(HP__ERR_ENUM)
#undef HP__ERR_ENUM
        HP_ERR__COUNT
} hp_err;

#define HP_OK HP_ERR_OK

/* Short reason buffers passed down by callers ("char err[HP_ERRBUF]"). */
#define HP_ERRBUF 256

/* Returns the HTTP status for e (500 for unknown values). Pure, any thread. */
int hp_err_status(hp_err e);

/* Returns the static wire string for e ("internal_error" for unknown). */
const char *hp_err_wire(hp_err e);

/* Returns the static default message for e (internal_error's for unknown
 * values): what a response body says when the caller has nothing more
 * specific. Pure, any thread. */
const char *hp_err_message(hp_err e);

/* Formats a reason into buf (bounded, always NUL-terminated when cap > 0). */
void hp_err_set(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
