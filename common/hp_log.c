/*
 * hp_log: structured logging for every Holdpoint process. Each call builds
 * one JSON object with json-c — "ts", "level", "proc", "msg", then the
 * caller's context fields in the order given — and writes it plus a newline
 * with a single write(2), so lines from concurrent threads never interleave
 * (a pipe guarantees this up to PIPE_BUF bytes; regular files and terminals
 * in practice). Context keys that would shadow ts, level, proc or msg are
 * dropped. The module keeps no lock: the process name is set once by
 * hp_log_init before threads start, and the level and fd are atomics.
 * Nothing here may log through hp_log itself or call into modules that do.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_log.h"
#include "hp_mem.h"
#include "hp_str.h"
#include "hp_time.h"

static char hp__log_proc[64] = "holdpoint";
static atomic_int hp__log_min = HP_LOG_INFO;
static atomic_int hp__log_fd = STDERR_FILENO;

static const char *const hp__log_names[] = {"debug", "info", "warn", "error"};

void hp_log_init(const char *proc, hp_log_level min_level)
{
    if (proc != NULL)
        (void)hp_strlcpy(hp__log_proc, proc, sizeof(hp__log_proc));
    atomic_store(&hp__log_min, (int)min_level);
}

int hp_log_level_parse(const char *s)
{
    if (s == NULL)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(s, hp__log_names[i]) == 0)
            return i;
    return -1;
}

#ifdef HP_TESTING
void hp_log_set_fd(int fd)
{
    atomic_store(&hp__log_fd, fd);
}
#endif

static bool hp__log_enabled(hp_log_level level)
{
    return (int)level >= atomic_load(&hp__log_min);
}

static bool hp__log_reserved(const char *key)
{
    return strcmp(key, "ts") == 0 || strcmp(key, "level") == 0 || strcmp(key, "proc") == 0 ||
           strcmp(key, "msg") == 0;
}

/* A new object holding the four fixed fields. */
static json_object *hp__log_head(hp_log_level level, const char *msg)
{
    json_object *o = json_object_new_object();
    char ts[32];
    int li = (int)level;

    hp_time_rfc3339(hp_time_now_us(), ts, sizeof(ts));
    json_object_object_add(o, "ts", json_object_new_string(ts));
    json_object_object_add(o, "level",
                           json_object_new_string(li >= 0 && li < 4 ? hp__log_names[li] : "error"));
    json_object_object_add(o, "proc", json_object_new_string(hp__log_proc));
    json_object_object_add(o, "msg", json_object_new_string(msg != NULL ? msg : ""));
    return o;
}

/* Serialises o, appends the newline and writes the line in one call. */
static void hp__log_emit(json_object *o)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    char *line = hp_xmalloc(len + 1);
    int fd = atomic_load(&hp__log_fd);
    size_t off = 0;

    memcpy(line, text, len);
    line[len++] = '\n';
    /* One write carries the whole line; the loop only finishes a write the
     * kernel cut short (a full pipe, a signal), which is better than losing
     * the rest of the line. */
    while (off < len) {
        ssize_t n = write(fd, line + off, len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break; /* nowhere left to report it */
        }
        off += (size_t)n;
    }
    free(line);
}

void hp__log(hp_log_level level, const char *msg, ...)
{
    va_list ap;
    const char *key;
    json_object *o;

    if (!hp__log_enabled(level))
        return;
    o = hp__log_head(level, msg);
    va_start(ap, msg);
    while ((key = va_arg(ap, const char *)) != NULL) {
        const char *val = va_arg(ap, const char *);
        if (hp__log_reserved(key))
            continue;
        json_object_object_add(o, key, val != NULL ? json_object_new_string(val) : NULL);
    }
    va_end(ap);
    hp__log_emit(o);
    json_object_put(o);
}

void hp_log_fields(hp_log_level level, const char *msg, json_object *fields)
{
    json_object *o;

    if (!hp__log_enabled(level))
        return;
    o = hp__log_head(level, msg);
    if (fields != NULL && json_object_is_type(fields, json_type_object)) {
        json_object_object_foreach(fields, key, val)
        {
            if (!hp__log_reserved(key))
                json_object_object_add(o, key, json_object_get(val));
        }
    }
    hp__log_emit(o);
    json_object_put(o);
}
