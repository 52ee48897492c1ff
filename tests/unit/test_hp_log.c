/*
 * Unit tests for hp_log: each call writes exactly one line that is a JSON
 * object whose first keys are ts, level, proc and msg, followed by the
 * caller's context in order; NULL values become null; levels below the
 * minimum are dropped; hp_log_fields merges integers and nested objects;
 * context cannot overwrite the fixed keys; awkward messages stay on one line;
 * and lines written by many threads at once never interleave. Output goes to
 * a temporary file through the test-build hook hp_log_set_fd.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <json-c/json.h>

#include "hp_log.h"
#include "hp_str.h"
#include "hp_time.h"
#include "hp_unit.h"

static int log_fd = -1;
static off_t log_read_at;

/* Returns what was logged since the last call (caller frees). */
static char *drain(void)
{
    off_t end = lseek(log_fd, 0, SEEK_END);
    size_t n = (size_t)(end - log_read_at);
    char *s = malloc(n + 1);
    ssize_t k = pread(log_fd, s, n, log_read_at);

    CU_ASSERT_EQUAL((size_t)k, n);
    s[k > 0 ? (size_t)k : 0] = '\0';
    log_read_at = end;
    return s;
}

/* Parses a single logged line (exactly one '\n', at the end). */
static json_object *one_line(void)
{
    char *s = drain();
    size_t len = strlen(s);
    json_object *o;

    CU_ASSERT_FATAL(len > 0 && s[len - 1] == '\n');
    CU_ASSERT_PTR_NULL_FATAL(memchr(s, '\n', len - 1));
    o = json_tokener_parse(s);
    free(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_TRUE_FATAL(json_object_is_type(o, json_type_object));
    return o;
}

static const char *str_of(json_object *o, const char *key)
{
    json_object *v = json_object_object_get(o, key);
    return v != NULL ? json_object_get_string(v) : NULL;
}

static int suite_init(void)
{
    char path[] = "/tmp/hp_log_test_XXXXXX";
    log_fd = mkstemp(path);
    if (log_fd < 0)
        return -1;
    unlink(path);
    /* O_APPEND, as a log file would be opened: each write lands at the end. */
    if (fcntl(log_fd, F_SETFL, O_APPEND) != 0)
        return -1;
    hp_log_set_fd(log_fd);
    hp_log_init("test-proc", HP_LOG_INFO);
    return 0;
}

static int suite_clean(void)
{
    hp_log_set_fd(2);
    close(log_fd);
    return 0;
}

static void test_level_parse(void)
{
    CU_ASSERT_EQUAL(hp_log_level_parse("debug"), HP_LOG_DEBUG);
    CU_ASSERT_EQUAL(hp_log_level_parse("info"), HP_LOG_INFO);
    CU_ASSERT_EQUAL(hp_log_level_parse("warn"), HP_LOG_WARN);
    CU_ASSERT_EQUAL(hp_log_level_parse("error"), HP_LOG_ERROR);
    CU_ASSERT_EQUAL(hp_log_level_parse("INFO"), -1);
    CU_ASSERT_EQUAL(hp_log_level_parse("warning"), -1);
    CU_ASSERT_EQUAL(hp_log_level_parse(""), -1);
    CU_ASSERT_EQUAL(hp_log_level_parse(NULL), -1);
}

static void test_shape(void)
{
    json_object *o;
    const char *want[] = {"ts", "level", "proc", "msg", "request_id", "team_id", "reason"};
    int i = 0;
    int64_t t;

    hp_log_info("could not connect to redis", "request_id", "r-1", "team_id", "t-1", "reason",
                (const char *)NULL);
    o = one_line();
    json_object_object_foreach(o, k, v)
    {
        (void)v;
        CU_ASSERT_FATAL(i < 7);
        CU_ASSERT_STRING_EQUAL(k, want[i]);
        i++;
    }
    CU_ASSERT_EQUAL(i, 7);
    CU_ASSERT_STRING_EQUAL(str_of(o, "level"), "info");
    CU_ASSERT_STRING_EQUAL(str_of(o, "proc"), "test-proc");
    CU_ASSERT_STRING_EQUAL(str_of(o, "msg"), "could not connect to redis");
    CU_ASSERT_STRING_EQUAL(str_of(o, "request_id"), "r-1");
    CU_ASSERT_TRUE(json_object_object_get_ex(o, "reason", NULL));
    CU_ASSERT_PTR_NULL(json_object_object_get(o, "reason")); /* JSON null */
    CU_ASSERT_TRUE(hp_time_parse_rfc3339(str_of(o, "ts"), &t));
    CU_ASSERT(llabs(t - hp_time_now_us()) < 60 * 1000000LL);
    CU_ASSERT_EQUAL(strlen(str_of(o, "ts")), 24); /* 2026-11-23T08:37:29.123Z */
    json_object_put(o);
}

static void test_levels(void)
{
    json_object *o;
    char *s;

    hp_log_debug("hidden");
    s = drain();
    CU_ASSERT_STRING_EQUAL(s, ""); /* below the minimum: nothing written */
    free(s);
    hp_log_warn("w");
    o = one_line();
    CU_ASSERT_STRING_EQUAL(str_of(o, "level"), "warn");
    json_object_put(o);
    hp_log_error("e");
    o = one_line();
    CU_ASSERT_STRING_EQUAL(str_of(o, "level"), "error");
    json_object_put(o);
    hp_log_init("test-proc", HP_LOG_DEBUG);
    hp_log_debug("shown");
    o = one_line();
    CU_ASSERT_STRING_EQUAL(str_of(o, "level"), "debug");
    json_object_put(o);
    hp_log_init("test-proc", HP_LOG_ERROR);
    hp_log_warn("hidden");
    s = drain();
    CU_ASSERT_STRING_EQUAL(s, "");
    free(s);
    hp_log_init("test-proc", HP_LOG_INFO);
}

static void test_fields(void)
{
    json_object *f = json_object_new_object(), *o, *nested;

    json_object_object_add(f, "status", json_object_new_int(201));
    json_object_object_add(f, "duration_ms", json_object_new_int64(12));
    nested = json_object_new_object();
    json_object_object_add(nested, "a", json_object_new_boolean(1));
    json_object_object_add(f, "nested", nested);
    json_object_object_add(f, "level", json_object_new_string("spoofed"));
    hp_log_fields(HP_LOG_INFO, "request", f);
    o = one_line();
    CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(o, "status")), 201);
    CU_ASSERT_TRUE(json_object_is_type(json_object_object_get(o, "duration_ms"), json_type_int));
    CU_ASSERT_TRUE(
        json_object_get_boolean(json_object_object_get(json_object_object_get(o, "nested"), "a")));
    CU_ASSERT_STRING_EQUAL(str_of(o, "level"), "info"); /* fixed keys win */
    CU_ASSERT_STRING_EQUAL(str_of(o, "msg"), "request");
    json_object_put(o);
    /* The caller's object is borrowed: still usable and unchanged. */
    CU_ASSERT_EQUAL(json_object_object_length(f), 4);
    json_object_put(f);

    hp_log_fields(HP_LOG_INFO, "no fields", NULL);
    o = one_line();
    CU_ASSERT_EQUAL(json_object_object_length(o), 4);
    json_object_put(o);
}

static void test_escaping(void)
{
    json_object *o;

    hp_log_info("line one\nline \"two\"\t/ \xc3\xa9", "msg", "spoofed", "ts", "x", "path",
                "/v1/approvals");
    o = one_line();
    CU_ASSERT_STRING_EQUAL(str_of(o, "msg"), "line one\nline \"two\"\t/ \xc3\xa9");
    CU_ASSERT_STRING_EQUAL(str_of(o, "path"), "/v1/approvals");
    CU_ASSERT_NOT_EQUAL(strcmp(str_of(o, "ts"), "x"), 0);
    json_object_put(o);
    hp_log_info(NULL);
    o = one_line();
    CU_ASSERT_STRING_EQUAL(str_of(o, "msg"), "");
    json_object_put(o);
}

#define NTHREADS 8
#define NLINES   400

static void *writer(void *arg)
{
    char id[16], pad[300];

    snprintf(id, sizeof(id), "%d", (int)(intptr_t)arg);
    memset(pad, 'x', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    for (int i = 0; i < NLINES; i++)
        hp_log_info("concurrent line", "thread", id, "pad", pad);
    return NULL;
}

static void test_concurrent(void)
{
    pthread_t th[NTHREADS];
    char *s, *line, *next;
    int lines = 0, bad = 0, per[NTHREADS] = {0};

    for (int i = 0; i < NTHREADS; i++)
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    s = drain();
    for (line = s; *line; line = next) {
        json_object *o;
        next = strchr(line, '\n');
        CU_ASSERT_PTR_NOT_NULL_FATAL(next);
        *next++ = '\0';
        o = json_tokener_parse(line);
        if (o == NULL || str_of(o, "thread") == NULL) {
            bad++;
        } else {
            long long t = -1;
            if (hp_parse_ll(str_of(o, "thread"), 0, NTHREADS - 1, &t))
                per[t]++;
        }
        json_object_put(o);
        lines++;
    }
    free(s);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(lines, NTHREADS * NLINES);
    for (int i = 0; i < NTHREADS; i++)
        CU_ASSERT_EQUAL(per[i], NLINES);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"level parse", test_level_parse},
        {"line shape", test_shape},
        {"levels", test_levels},
        {"fields", test_fields},
        {"escaping", test_escaping},
        {"concurrent writers", test_concurrent},
        {NULL, NULL},
    };
    return hp_unit_main_with("hp_log", suite_init, suite_clean, tests);
}
