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

/* X(name, http_status, wire) */
#define HP_ERR_MAP(X)                                                                              \
    X(OK, 200, "ok")                                                                               \
    X(INVALID_PAYLOAD, 400, "invalid_payload")                                                     \
    X(INVALID_QUERY, 400, "invalid_query")                                                         \
    X(MISSING_AGENT_AUTH, 401, "missing_agent_auth")                                               \
    X(INVALID_AGENT, 401, "invalid_agent")                                                         \
    X(INVALID_API_KEY, 401, "invalid_api_key")                                                     \
    X(INVALID_USER_TOKEN, 401, "invalid_user_token")                                               \
    X(USAGE_LIMIT, 403, "USAGE_APPROVAL_LIMIT")                                                    \
    X(FORBIDDEN, 403, "forbidden")                                                                 \
    X(NOT_FOUND, 404, "not_found")                                                                 \
    X(METHOD_NOT_ALLOWED, 405, "method_not_allowed")                                               \
    X(IDEMPOTENCY_CONFLICT, 409, "idempotency_conflict")                                           \
    X(ALREADY_RESOLVED, 409, "already_resolved")                                                   \
    X(CONFLICT, 409, "conflict")                                                                   \
    X(PAYLOAD_TOO_LARGE, 413, "payload_too_large")                                                 \
    X(UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type")                                       \
    X(RATE_LIMITED, 429, "rate_limited")                                                           \
    X(CREATE_FAILED, 500, "approval_creation_failed")                                              \
    X(INTERNAL, 500, "internal_error")                                                             \
    X(UNAVAILABLE, 503, "service_unavailable")                                                     \
    X(CONFIG, 500, "config_error")                                                                 \
    X(NOMEM, 500, "out_of_memory")

typedef enum {
#define HP__ERR_ENUM(name, status, wire) HP_ERR_##name,
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

/* Formats a reason into buf (bounded, always NUL-terminated when cap > 0). */
void hp_err_set(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
