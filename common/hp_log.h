/*
 * hp_log: one JSON object per line on stderr, for every process.
 *
 * Each line has "ts" (RFC 3339 UTC), "level", "proc", "msg" and context fields
 * given by the caller. Messages are lower case, without a final period, and
 * never carry keys, tokens or bodies. Lines are written with a single write(2)
 * so concurrent threads never interleave. Thread-safe after hp_log_init.
 */
#ifndef HP_LOG_H
#define HP_LOG_H

#include <json-c/json.h>

typedef enum { HP_LOG_DEBUG = 0, HP_LOG_INFO, HP_LOG_WARN, HP_LOG_ERROR } hp_log_level;

/* Sets the process name and minimum level; call once from main(). */
void hp_log_init(const char *proc, hp_log_level min_level);

/* Parses "debug", "info", "warn", "error"; returns -1 on anything else. */
int hp_log_level_parse(const char *s);

/* Writes one line. After msg come key, value string pairs; a NULL value is
 * written as JSON null. The macro ends the list itself, so a call can never
 * forget its terminator: hp_log(HP_LOG_WARN, "msg", "key", value). An
 * error's reason always goes under the key "reason". */
#define hp_log(level, ...) hp__log((level), __VA_ARGS__, (const char *)NULL)

/* The function behind hp_log: the pairs end with a NULL key. Call the macro. */
void hp__log(hp_log_level level, const char *msg, ...) __attribute__((sentinel));

/* Writes one line with the fields of a JSON object (borrowed, may be NULL);
 * use this for integer or nested context. */
void hp_log_fields(hp_log_level level, const char *msg, json_object *fields);

#define hp_log_debug(...) hp_log(HP_LOG_DEBUG, __VA_ARGS__)
#define hp_log_info(...)  hp_log(HP_LOG_INFO, __VA_ARGS__)
#define hp_log_warn(...)  hp_log(HP_LOG_WARN, __VA_ARGS__)
#define hp_log_error(...) hp_log(HP_LOG_ERROR, __VA_ARGS__)

#ifdef HP_TESTING
/* Test builds: send lines to fd instead of stderr (unit tests use a pipe). */
void hp_log_set_fd(int fd);
#endif

#endif
