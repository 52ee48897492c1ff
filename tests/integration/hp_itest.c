/*
 * hp_itest: process control, HTTP, CLI and SQL helpers for the integration
 * tests (see hp_itest.h). Test code may read the environment; product code
 * may not.
 *
 * Allocations are tracked in one of two scopes, the running test's or the
 * program's, and freed when that scope ends; a mutex guards the lists because
 * hp_it_parallel's threads allocate responses.
 */
#include "hp_itest.h"

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- memory scopes ------------------------------------------------------ */

typedef struct it_cell {
    void *p;
    void (*free_fn)(void *);
    struct it_cell *next;
} it_cell;

static pthread_mutex_t it_mem_lock = PTHREAD_MUTEX_INITIALIZER;
static it_cell *it_test_cells;   /* freed when the running test ends */
static it_cell *it_global_cells; /* freed when the program ends */
static bool it_in_test;
static const char *it_suite_name = "it";

static void *it_xmalloc(size_t n)
{
    void *p = malloc(n == 0 ? 1 : n);
    if (p == NULL) {
        fprintf(stderr, "hp_itest: out of memory\n");
        abort();
    }
    return p;
}

static char *it_xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *d = it_xmalloc(n + 1);
    memcpy(d, s, n + 1);
    return d;
}

void *hp_it_track(void *p, void (*free_fn)(void *))
{
    if (p == NULL)
        return NULL;
    it_cell *c = it_xmalloc(sizeof(*c));
    c->p = p;
    c->free_fn = free_fn;
    pthread_mutex_lock(&it_mem_lock);
    if (it_in_test) {
        c->next = it_test_cells;
        it_test_cells = c;
    } else {
        c->next = it_global_cells;
        it_global_cells = c;
    }
    pthread_mutex_unlock(&it_mem_lock);
    return p;
}

static void it_release(it_cell **list)
{
    pthread_mutex_lock(&it_mem_lock);
    it_cell *c = *list;
    *list = NULL;
    pthread_mutex_unlock(&it_mem_lock);
    while (c != NULL) {
        it_cell *next = c->next;
        c->free_fn(c->p);
        free(c);
        c = next;
    }
}

static char *it_tstrdup(const char *s)
{
    return s == NULL ? NULL : hp_it_track(it_xstrdup(s), free);
}

static void it_json_put(void *p)
{
    json_object_put(p);
}

static char *it_vfmt(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *it_vfmt(const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0)
        n = 0;
    char *s = it_xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *hp_it_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = it_vfmt(fmt, ap);
    va_end(ap);
    return hp_it_track(s, free);
}

char *hp_it_repeat(const char *unit, int n)
{
    size_t u = strlen(unit), total = u * (size_t)(n < 0 ? 0 : n);
    char *s = it_xmalloc(total + 1);
    for (size_t i = 0; i < total; i += u)
        memcpy(s + i, unit, u);
    s[total] = '\0';
    return hp_it_track(s, free);
}

const char *hp_it_unique(void)
{
    static unsigned counter;
    unsigned char rnd[4] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd))
            memset(rnd, 0, sizeof(rnd));
        close(fd);
    }
    counter++;
    return hp_it_fmt("%ld-%u-%02x%02x%02x%02x", (long)getpid(), counter, rnd[0], rnd[1], rnd[2],
                     rnd[3]);
}

/* ---- environment -------------------------------------------------------- */

static const char *const it_required_env[] = {
    "HP_BIN_DIR",          "HP_RUN_DIR",           "HOLDPOINT_DATABASE_URL",
    "HOLDPOINT_REDIS_URL", "HOLDPOINT_SECRET_KEY", NULL,
};

const char *hp_it_env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr, "hp_itest: %s is not set (run the tests with make test)\n", name);
        exit(1);
    }
    return v;
}

/* ---- time ---------------------------------------------------------------- */

double hp_it_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double it_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int hp_it_file_count(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int n = 0;

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, text) != NULL;
    fclose(f);
    return n;
}

const char *hp_it_redis_subscribe(const char *channel, int secs)
{
    const char *out = hp_it_fmt("%s/sub-%s.txt", hp_it_env("HP_RUN_DIR"), hp_it_unique());
    const char *cmd =
        hp_it_fmt("timeout %d redis-cli -u '%s' --no-raw SUBSCRIBE '%s' > '%s' 2>&1 &", secs,
                  hp_it_env("HOLDPOINT_REDIS_URL"), channel, out);
    bool ready = false;

    IT_CHECK_FATAL(system(cmd) == 0, "could not start redis-cli");
    /* redis-cli prints Redis's "subscribe" confirmation once it is in. */
    for (double end = hp_it_now() + 5; !ready && hp_it_now() < end; hp_it_sleep_ms(20))
        ready = hp_it_file_count(out, "\"subscribe\"") > 0;
    IT_CHECK_FATAL(ready, "redis-cli did not confirm its subscription to %s", channel);
    return out;
}

void hp_it_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

double hp_it_time(const char *s)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, consumed = 0;
    double frac = 0;

    if (s == NULL)
        return -1;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &consumed) != 6 ||
        consumed != 19)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        double scale = 0.1;
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9') {
            frac += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    if (strcmp(p, "Z") != 0)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return (double)timegm(&tm) + frac;
}

bool hp_it_is_uuid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

/* ---- assertions --------------------------------------------------------- */

static const char *it_clip(const char *s, size_t max)
{
    if (s == NULL)
        return "(null)";
    if (strlen(s) <= max)
        return s;
    return hp_it_fmt("%.*s…(%zu bytes)", (int)max, s, strlen(s));
}

bool hp_it__check(bool ok, const char *file, unsigned line, bool fatal, const char *fmt, ...)
{
    char *msg;
    va_list ap;

    va_start(ap, fmt);
    msg = it_vfmt(fmt, ap);
    va_end(ap);
    if (!ok)
        fprintf(stderr, "\n  FAIL %s:%u: %s\n", file, line, msg);
    hp_it_track(msg, free);
    if (!it_in_test) {
        /* Program setup: there is no CUnit test to record this in. */
        if (!ok && fatal) {
            fprintf(stderr, "%s: FAILED in setup\n", it_suite_name);
            exit(1);
        }
        return ok;
    }
    /* A fatal failure longjmps out of here; msg is tracked, so nothing leaks. */
    CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, msg, file, "",
                            fatal ? CU_TRUE : CU_FALSE);
    return ok;
}

static const char *it_resp_desc(const hp_it_resp *r)
{
    if (r == NULL)
        return "no response";
    if (r->status == 0)
        return hp_it_fmt("transport error: %s", r->error);
    return hp_it_fmt("status %ld, body %s", r->status, it_clip(r->body, 700));
}

bool hp_it__status(const hp_it_resp *r, long want, const char *file, unsigned line, bool fatal)
{
    bool ok = r != NULL && r->status == want;
    return hp_it__check(ok, file, line, fatal, "want HTTP %ld, got %s", want, it_resp_desc(r));
}

bool hp_it__error(const hp_it_resp *r, long status, const char *code, const char *file,
                  unsigned line)
{
    if (!hp_it__check(r != NULL && r->status == status, file, line, false,
                      "want HTTP %ld %s, got %s", status, code, it_resp_desc(r)))
        return false;
    bool ok = true;
    json_object *e = hp_it_jget(r->json, "error", NULL);
    ok &= hp_it__check(r->json != NULL && json_object_is_type(r->json, json_type_object), file,
                       line, false, "error body is not a JSON object: %s", it_clip(r->body, 500));
    ok &= hp_it__check(e != NULL && json_object_is_type(e, json_type_string) &&
                           strcmp(json_object_get_string(e), code) == 0,
                       file, line, false, "want error \"%s\", got %s", code, hp_it_jtext(e));
    json_object *m = hp_it_jget(r->json, "message", NULL);
    ok &= hp_it__check(m != NULL && json_object_is_type(m, json_type_string) &&
                           json_object_get_string_len(m) > 0,
                       file, line, false, "error body has no message: %s", it_clip(r->body, 500));
    const char *ct = hp_it_header(r, "Content-Type");
    ok &= hp_it__check(ct != NULL && strncasecmp(ct, "application/json", 16) == 0, file, line,
                       false, "error Content-Type is %s", ct ? ct : "(none)");
    const char *xrid = hp_it_header(r, "X-Request-Id");
    ok &= hp_it__check(xrid != NULL && *xrid != '\0', file, line, false,
                       "error response has no X-Request-Id header");
    if (strcmp(code, "idempotency_conflict") != 0) {
        json_object *rid = hp_it_jget(r->json, "request_id", NULL);
        ok &= hp_it__check(rid != NULL && json_object_is_type(rid, json_type_string) &&
                               xrid != NULL && strcmp(json_object_get_string(rid), xrid) == 0,
                           file, line, false, "error request_id %s differs from X-Request-Id %s",
                           hp_it_jtext(rid), xrid ? xrid : "(none)");
    }
    return ok;
}

bool hp_it__issue(const hp_it_resp *r, const char *path, const char *code, const char *file,
                  unsigned line)
{
    if (!hp_it__error(r, 400, "invalid_payload", file, line))
        return false;
    json_object *issues = hp_it_jget(r->json, "issues", NULL);
    if (!hp_it__check(issues != NULL && json_object_is_type(issues, json_type_array) &&
                          json_object_array_length(issues) > 0,
                      file, line, false, "invalid_payload without issues: %s",
                      it_clip(r->body, 500)))
        return false;
    bool found = false, shaped = true;
    size_t n = json_object_array_length(issues);
    for (size_t i = 0; i < n; i++) {
        json_object *is = json_object_array_get_idx(issues, i);
        json_object *p = hp_it_jget(is, "path", NULL), *c = hp_it_jget(is, "code", NULL),
                    *m = hp_it_jget(is, "message", NULL);
        if (p == NULL || !json_object_is_type(p, json_type_array) || c == NULL ||
            !json_object_is_type(c, json_type_string) || m == NULL ||
            !json_object_is_type(m, json_type_string) || json_object_get_string_len(m) == 0) {
            shaped = false;
            continue;
        }
        if (strcmp(hp_it_jtext(p), path) == 0 && strcmp(json_object_get_string(c), code) == 0)
            found = true;
    }
    hp_it__check(shaped, file, line, false,
                 "every issue needs path (array), code and message (strings): %s",
                 hp_it_jtext(issues));
    return hp_it__check(found, file, line, false, "want issue %s %s, got %s", path, code,
                        hp_it_jtext(issues));
}

bool hp_it__jstr(json_object *o, const char *path, const char *want, const char *file,
                 unsigned line)
{
    json_object *v = hp_it_jget(o, path, NULL);
    bool ok = v != NULL && json_object_is_type(v, json_type_string) &&
              strcmp(json_object_get_string(v), want) == 0;
    return hp_it__check(ok, file, line, false, "%s: want \"%s\", got %s", path, it_clip(want, 200),
                        it_clip(hp_it_jtext(v), 200));
}

bool hp_it__jint(json_object *o, const char *path, long long want, const char *file, unsigned line)
{
    json_object *v = hp_it_jget(o, path, NULL);
    bool ok = v != NULL && json_object_is_type(v, json_type_int) &&
              json_object_get_int64(v) == (int64_t)want;
    return hp_it__check(ok, file, line, false, "%s: want %lld, got %s", path, want, hp_it_jtext(v));
}

bool hp_it__jbool(json_object *o, const char *path, bool want, const char *file, unsigned line)
{
    json_object *v = hp_it_jget(o, path, NULL);
    bool ok = v != NULL && json_object_is_type(v, json_type_boolean) &&
              (json_object_get_boolean(v) != 0) == want;
    return hp_it__check(ok, file, line, false, "%s: want %s, got %s", path, want ? "true" : "false",
                        hp_it_jtext(v));
}

bool hp_it__jnull(json_object *o, const char *path, const char *file, unsigned line)
{
    bool present = false;
    json_object *v = hp_it_jget(o, path, &present);
    return hp_it__check(present && v == NULL, file, line, false, "%s: want null, got %s", path,
                        present ? hp_it_jtext(v) : "(absent)");
}

bool hp_it__jmissing(json_object *o, const char *path, const char *file, unsigned line)
{
    bool present = false;
    json_object *v = hp_it_jget(o, path, &present);
    return hp_it__check(o != NULL && !present, file, line, false, "%s: want absent, got %s", path,
                        o == NULL ? "(no JSON body)" : hp_it_jtext(v));
}

/* ---- JSON --------------------------------------------------------------- */

json_object *hp_it_jget(json_object *o, const char *path, bool *present)
{
    char part[256];
    const char *p = path;

    if (present != NULL)
        *present = false;
    while (o != NULL) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof(part))
            return NULL;
        memcpy(part, p, n);
        part[n] = '\0';
        json_object *next = NULL;
        bool has;
        if (json_object_is_type(o, json_type_object)) {
            has = json_object_object_get_ex(o, part, &next);
        } else if (json_object_is_type(o, json_type_array)) {
            char *end;
            long idx = strtol(part, &end, 10);
            has = *part != '\0' && *end == '\0' && idx >= 0 &&
                  (size_t)idx < json_object_array_length(o);
            if (has)
                next = json_object_array_get_idx(o, (size_t)idx);
        } else {
            return NULL;
        }
        if (!has)
            return NULL;
        if (p[n] == '\0') {
            if (present != NULL)
                *present = true;
            return next;
        }
        o = next;
        p += n + 1;
    }
    return NULL;
}

const char *hp_it_jtext(json_object *o)
{
    if (o == NULL)
        return "null";
    return it_tstrdup(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

int hp_it_jlen(json_object *o)
{
    if (o == NULL)
        return -1;
    if (json_object_is_type(o, json_type_object))
        return json_object_object_length(o);
    if (json_object_is_type(o, json_type_array))
        return (int)json_object_array_length(o);
    return -1;
}

const char *hp_it_jesc(const char *s)
{
    json_object *j = json_object_new_string(s);
    const char *t =
        json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t n = strlen(t);
    char *out = it_xmalloc(n);
    memcpy(out, t + 1, n - 2);
    out[n - 2] = '\0';
    json_object_put(j);
    return hp_it_track(out, free);
}

static json_object *it_parse(const char *text, size_t len)
{
    if (text == NULL || len == 0)
        return NULL;
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (e != json_tokener_success) {
        json_object_put(o);
        return NULL;
    }
    /* Trailing whitespace only. */
    for (size_t i = used; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t') {
            json_object_put(o);
            return NULL;
        }
    }
    return o;
}

json_object *hp_it_json(const char *text)
{
    return text ? hp_it_track(it_parse(text, strlen(text)), it_json_put) : NULL;
}

/* ---- child processes ---------------------------------------------------- */

/* Reads a file's last max bytes (harness-owned). */
static char *it_tail(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return hp_it_fmt("(cannot open %s)", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long from = size > (long)max ? size - (long)max : 0;
    fseek(f, from, SEEK_SET);
    char *buf = it_xmalloc(max + 1);
    size_t n = fread(buf, 1, max, f);
    buf[n] = '\0';
    fclose(f);
    return hp_it_track(buf, free);
}

/* Builds the child's environment: ours, minus every name in over, plus the
 * "NAME=value" entries of over. Returns a malloc'd array of malloc'd strings. */
static char **it_env_build(const char *const *over)
{
    size_t n = 0, m = 0;
    for (char **e = environ; *e != NULL; e++)
        n++;
    if (over != NULL)
        for (const char *const *o = over; *o != NULL; o++)
            m++;
    char **out = it_xmalloc(sizeof(char *) * (n + m + 1));
    size_t k = 0;
    for (char **e = environ; *e != NULL; e++) {
        size_t len = strcspn(*e, "=");
        bool drop = false;
        if (over != NULL)
            for (const char *const *o = over; *o != NULL; o++)
                if (strcspn(*o, "=") == len && strncmp(*o, *e, len) == 0)
                    drop = true;
        if (!drop)
            out[k++] = it_xstrdup(*e);
    }
    if (over != NULL)
        for (const char *const *o = over; *o != NULL; o++)
            if (strchr(*o, '=') != NULL)
                out[k++] = it_xstrdup(*o);
    out[k] = NULL;
    return out;
}

static void it_env_free(char **env)
{
    for (char **e = env; *e != NULL; e++)
        free(*e);
    free(env);
}

/* Waits for pid up to timeout seconds; returns the status as documented for
 * hp_it_api_stop, or -1 when it is still running. */
static int it_wait(pid_t pid, double timeout)
{
    double end = it_mono() + timeout;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(st))
                return WEXITSTATUS(st);
            if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
            return -1;
        }
        if (r < 0 && errno != EINTR)
            return -1;
        if (it_mono() >= end)
            return -1;
        hp_it_sleep_ms(20);
    }
}

/* ---- metrics ------------------------------------------------------------ */

double hp_it_gauge(hp_it_api *api, const char *name)
{
    hp_it_resp *r = hp_it_http(api, "GET", "/metrics", NULL, NULL);
    char key[128];
    const char *p;

    if (r->status != 200)
        return -1;
    snprintf(key, sizeof(key), "\n%s ", name);
    p = strstr(r->body, key);
    return p ? strtod(p + strlen(key), NULL) : -1;
}

bool hp_it_await_gauge(hp_it_api *api, const char *name, double want, bool at_least, long ms)
{
    double until = hp_it_now() + (double)ms / 1000.0, v = -1;
    while (hp_it_now() < until) {
        v = hp_it_gauge(api, name);
        if (at_least ? v >= want : v == want)
            return true;
        hp_it_sleep_ms(20);
    }
    fprintf(stderr, "\n%s stayed at %.0f (wanted %s%.0f)\n", name, v, at_least ? ">= " : "", want);
    return false;
}

/* ---- the CLI ------------------------------------------------------------ */

json_object *hp_it_cli(const char *const *args, int *status, char **out, char **err)
{
    return hp_it_cli_env(args, NULL, status, out, err);
}

json_object *hp_it_cli_env(const char *const *args, const char *const *env, int *status, char **out,
                           char **err)
{
    return hp_it_cli_input(args, env, NULL, status, out, err);
}

json_object *hp_it_cli_input(const char *const *args, const char *const *env, const char *input,
                             int *status, char **out, char **err)
{
    int po[2], pe[2], pi[2] = {-1, -1};
    size_t argc = 0;
    for (const char *const *a = args; *a != NULL; a++)
        argc++;
    char **argv = it_xmalloc(sizeof(char *) * (argc + 2));
    char *bin = hp_it_fmt("%s/holdpoint", hp_it_env("HP_BIN_DIR"));
    argv[0] = bin;
    for (size_t i = 0; i < argc; i++)
        argv[i + 1] = (char *)args[i];
    argv[argc + 1] = NULL;
    /* Built before fork: the child of a threaded program must not allocate. */
    char **envp = it_env_build(env);

    if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0 ||
        (input != NULL && pipe2(pi, O_CLOEXEC) != 0)) {
        perror("hp_itest: pipe");
        abort();
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("hp_itest: fork");
        abort();
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        int devnull = pi[0] >= 0 ? pi[0] : open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        execve(bin, argv, envp);
        _exit(127);
    }
    free(argv);
    it_env_free(envp);
    close(po[1]);
    close(pe[1]);
    if (input != NULL) {
        /* Test inputs fit the pipe's buffer: write it all, then EOF. */
        size_t left = strlen(input);
        close(pi[0]);
        while (left > 0) {
            ssize_t w = write(pi[1], input, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            input += w;
            left -= (size_t)w;
        }
        close(pi[1]);
    }

    size_t cap[2] = {4096, 4096}, len[2] = {0, 0};
    char *buf[2] = {it_xmalloc(cap[0]), it_xmalloc(cap[1])};
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_fds = 2;
    double end = it_mono() + 60;
    bool timed_out = false;
    while (open_fds > 0) {
        double left = end - it_mono();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        int pr = poll(fds, 2, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            if (len[i] + 4096 > cap[i]) {
                cap[i] *= 2;
                char *nb = realloc(buf[i], cap[i]);
                if (nb == NULL)
                    abort();
                buf[i] = nb;
            }
            ssize_t r = read(fds[i].fd, buf[i] + len[i], cap[i] - len[i] - 1);
            if (r > 0) {
                len[i] += (size_t)r;
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        if (fds[i].fd >= 0)
            close(fds[i].fd);
        buf[i][len[i]] = '\0';
    }
    if (timed_out)
        kill(pid, SIGKILL);
    int st = it_wait(pid, timed_out ? 10 : 60);
    if (st < 0) {
        kill(pid, SIGKILL);
        st = it_wait(pid, 10);
    }
    *status = timed_out ? 124 : st;
    json_object *j = it_parse(buf[0], len[0]);
    hp_it_track(buf[0], free);
    hp_it_track(buf[1], free);
    if (out != NULL)
        *out = buf[0];
    if (err != NULL)
        *err = buf[1];
    return hp_it_track(j, it_json_put);
}

static const char *it_args_text(const char *const *args)
{
    size_t n = 1;
    for (const char *const *a = args; *a != NULL; a++)
        n += strlen(*a) + 1;
    char *s = it_xmalloc(n);
    size_t k = 0;
    for (const char *const *a = args; *a != NULL; a++) {
        size_t l = strlen(*a);
        memcpy(s + k, *a, l);
        k += l;
        s[k++] = ' ';
    }
    s[k] = '\0';
    return hp_it_track(s, free);
}

json_object *hp_it_admin(const char *const *args)
{
    int st;
    char *out, *err;
    json_object *j = hp_it_cli(args, &st, &out, &err);
    hp_it__check(st == 0 && j != NULL, __FILE__, __LINE__, true,
                 "holdpoint %s failed: status %d, stdout %s, stderr %s", it_args_text(args), st,
                 it_clip(out, 400), it_clip(err, 800));
    return j;
}

static const char *it_jstr_dup(json_object *o, const char *key)
{
    json_object *v = hp_it_jget(o, key, NULL);
    hp_it__check(v != NULL && json_object_is_type(v, json_type_string), __FILE__, __LINE__, true,
                 "CLI output lacks string \"%s\": %s", key, hp_it_jtext(o));
    return it_tstrdup(json_object_get_string(v));
}

const hp_it_team *hp_it_team_new_named(const char *team, const char *agent, const char *user_name,
                                       const char *const *extra)
{
    const char *u = hp_it_unique();
    hp_it_team *t = hp_it_track(it_xmalloc(sizeof(*t)), free);
    memset(t, 0, sizeof(*t));
    t->team_name = team != NULL ? team : hp_it_fmt("it-team-%s", u);
    t->email = hp_it_fmt("it-%s@example.test", u);
    t->user_name = user_name != NULL ? user_name : hp_it_fmt("Reviewer %s", u);

    const char *args[32];
    size_t n = 0;
    args[n++] = "admin";
    args[n++] = "bootstrap";
    args[n++] = "--team";
    args[n++] = t->team_name;
    args[n++] = "--email";
    args[n++] = t->email;
    args[n++] = "--password";
    args[n++] = "it-password-1234";
    args[n++] = "--agent";
    args[n++] = agent != NULL ? agent : hp_it_fmt("it-agent-%s", u);
    args[n++] = "--user-name";
    args[n++] = t->user_name;
    if (extra != NULL)
        for (const char *const *e = extra; *e != NULL && n < 30; e++)
            args[n++] = *e;
    args[n++] = "--json";
    args[n] = NULL;

    json_object *j = hp_it_admin(args);
    t->team_id = it_jstr_dup(j, "team_id");
    t->user_id = it_jstr_dup(j, "user_id");
    t->user_token = it_jstr_dup(j, "user_token");
    t->agent_id = it_jstr_dup(j, "agent_id");
    t->api_key = it_jstr_dup(j, "api_key");
    t->webhook_secret = it_jstr_dup(j, "webhook_secret");
    return t;
}

const hp_it_team *hp_it_team_new_args(const char *const *extra)
{
    return hp_it_team_new_named(NULL, NULL, NULL, extra);
}

const hp_it_team *hp_it_team_new(void)
{
    return hp_it_team_new_args(NULL);
}

const hp_it_team *hp_it_team_as(const hp_it_team *t, const char *agent_id, const char *key)
{
    hp_it_team *c = hp_it_track(it_xmalloc(sizeof(*c)), free);
    *c = *t;
    if (agent_id != NULL)
        c->agent_id = agent_id;
    if (key != NULL)
        c->api_key = key;
    return c;
}

const char *hp_it_agent_new(const hp_it_team *t, const char *const *extra)
{
    const char *args[32];
    size_t n = 0;
    args[n++] = "admin";
    args[n++] = "create-agent";
    args[n++] = "--team-id";
    args[n++] = t->team_id;
    args[n++] = "--name";
    args[n++] = hp_it_fmt("it-agent-%s", hp_it_unique());
    if (extra != NULL)
        for (const char *const *e = extra; *e != NULL && n < 30; e++)
            args[n++] = *e;
    args[n++] = "--json";
    args[n] = NULL;
    return it_jstr_dup(hp_it_admin(args), "agent_id");
}

const hp_it_team *hp_it_team_agent(const hp_it_team *t)
{
    const char *agent = hp_it_agent_new(t, NULL);
    const char *args[] = {"admin",      "create-key", "--team-id", t->team_id,
                          "--agent-id", agent,        "--json",    NULL};
    return hp_it_team_as(t, agent, it_jstr_dup(hp_it_admin(args), "api_key"));
}

/* ---- API processes ------------------------------------------------------ */

struct hp_it_api {
    pid_t pid;
    int port;
    char base[64];
    char *log;
    char *name;
    struct hp_it_api *next;
};

static hp_it_api *it_apis; /* every API still running */
static hp_it_api *it_default_api;

static const char *const *it_default_env;

void hp_it_set_default_env(const char *const *env)
{
    it_default_env = env;
}

hp_it_api *hp_it_api_default(void)
{
    return it_default_api;
}

const char *hp_it_api_base(const hp_it_api *api)
{
    return api->base;
}

const char *hp_it_api_log(const hp_it_api *api)
{
    return api->log;
}

int hp_it_api_port(const hp_it_api *api)
{
    return api->port;
}

int hp_it_dial(int port, const char *from)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    if (from != NULL) {
        inet_pton(AF_INET, from, &a.sin_addr);
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
            close(fd);
            return -1;
        }
    }
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int it_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int port = -1;

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void it_api_unlink(hp_it_api *api)
{
    for (hp_it_api **p = &it_apis; *p != NULL; p = &(*p)->next) {
        if (*p == api) {
            *p = api->next;
            break;
        }
    }
    if (it_default_api == api)
        it_default_api = NULL;
}

static void it_api_free(hp_it_api *api)
{
    free(api->log);
    free(api->name);
    free(api);
}

/* Every API a test starts gets these unless the test's own env names the
 * variable (a bare "NAME" then restores the product default): the default of
 * 4,352 HTTP threads per process would put a dozen test APIs running side by
 * side past the machine's thread limits (kernel.pid_max). Tests of the
 * defaults unset them. */
static const char *const it_api_base_env[] = {"HOLDPOINT_API_THREADS=160",
                                              "HOLDPOINT_MAX_WAITERS=128"};

/* One attempt: fork, exec, wait for /healthz. Returns 1 when up, 0 when the
 * process exited (maybe a port race), -1 when it hung. */
static int it_api_try(hp_it_api *api, const char *const *env)
{
    static unsigned seq;
    const char *bin = hp_it_fmt("%s/holdpoint-api", hp_it_env("HP_BIN_DIR"));
    api->port = it_free_port();
    snprintf(api->base, sizeof(api->base), "http://127.0.0.1:%d", api->port);
    free(api->log);
    api->log = it_xstrdup(hp_it_fmt("%s/api-%s-%s-%ld-%u.log", hp_it_env("HP_RUN_DIR"),
                                    it_suite_name, api->name, (long)getpid(), ++seq));

    size_t n = 0, k = 0;
    if (env != NULL)
        while (env[n] != NULL)
            n++;
    const size_t nbase = sizeof(it_api_base_env) / sizeof(it_api_base_env[0]);
    const char **over = it_xmalloc(sizeof(char *) * (n + nbase + 2));
    over[k++] = hp_it_fmt("HOLDPOINT_LISTEN=127.0.0.1:%d", api->port);
    for (size_t b = 0; b < nbase; b++) {
        size_t len = strcspn(it_api_base_env[b], "=");
        bool named = false;
        for (size_t i = 0; i < n; i++)
            named = named ||
                    (strcspn(env[i], "=") == len && strncmp(env[i], it_api_base_env[b], len) == 0);
        if (!named)
            over[k++] = it_api_base_env[b];
    }
    for (size_t i = 0; i < n; i++)
        over[k++] = env[i];
    over[k] = NULL;
    char **envp = it_env_build(over);
    free(over);
    char *argv[] = {(char *)bin, NULL};

    int logfd = open(api->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        fprintf(stderr, "hp_itest: cannot create %s: %s\n", api->log, strerror(errno));
        it_env_free(envp);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("hp_itest: fork");
        abort();
    }
    if (pid == 0) {
        /* The API must not outlive a crashed or killed test program. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
        }
        dup2(logfd, 1);
        dup2(logfd, 2);
        execve(bin, argv, envp);
        _exit(127);
    }
    close(logfd);
    it_env_free(envp);
    api->pid = pid;

    double end = it_mono() + 10;
    while (it_mono() < end) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            api->pid = -1;
            return 0;
        }
        /* Not recorded: until the handler is registered, civetweb itself
         * answers (404 text/plain), which is no response of the API's. */
        hp_it_req req = {
            .method = "GET", .path = "/healthz", .flags = HP_IT_NORECORD, .timeout_ms = 1000};
        hp_it_resp *resp = hp_it_send(api, &req);
        if (resp->status == 200)
            return 1;
        hp_it_sleep_ms(50);
    }
    return -1;
}

hp_it_api *hp_it_api_start(const char *name, const char *const *env)
{
    hp_it_api *api = it_xmalloc(sizeof(*api));
    memset(api, 0, sizeof(*api));
    api->name = it_xstrdup(name);
    api->pid = -1;
    for (int attempt = 0; attempt < 3; attempt++) {
        int r = it_api_try(api, env);
        if (r == 1) {
            api->next = it_apis;
            it_apis = api;
            return api;
        }
        if (r < 0) {
            if (api->pid > 0) {
                kill(api->pid, SIGKILL);
                it_wait(api->pid, 10);
            }
            fprintf(stderr,
                    "hp_itest: holdpoint-api (%s) did not answer /healthz within 10 s;"
                    " log %s:\n%s\n",
                    name, api->log ? api->log : "-", api->log ? it_tail(api->log, 3000) : "");
            it_api_free(api);
            return NULL;
        }
        /* Exited: print why, then retry once more on a new port in case
         * another process took ours. */
        fprintf(stderr, "hp_itest: holdpoint-api (%s) exited at start; log %s:\n%s\n", name,
                api->log, it_tail(api->log, 3000));
    }
    it_api_free(api);
    return NULL;
}

/* When the API already exited on its own, reaps it and returns its status
 * (as hp_it_api_stop would), else -1. */
static int it_api_exited(hp_it_api *api)
{
    int st;
    if (api->pid <= 0 || waitpid(api->pid, &st, WNOHANG) != api->pid)
        return -1;
    api->pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int hp_it_api_stop(hp_it_api *api)
{
    if (api == NULL)
        return -1;
    it_api_unlink(api);
    int st = it_api_exited(api);
    if (st >= 0) {
        /* Nobody asked it to stop: that is a failure even with status 0
         * (an outside SIGTERM). */
        fprintf(stderr,
                "hp_itest: holdpoint-api (%s) had already exited (status %d) before the "
                "harness stopped it\n",
                api->name, st);
        if (st == 0)
            st = 254;
    }
    if (st < 0 && api->pid <= 0)
        st = 253; /* reported dead earlier */
    if (api->pid > 0) {
        /* Generous: under ASan a process with a thousand threads and a large
         * heap spends seconds in the leak check after it has stopped. */
        kill(api->pid, SIGTERM);
        st = it_wait(api->pid, 30);
        if (st < 0) {
            fprintf(stderr, "hp_itest: holdpoint-api (%s) ignored SIGTERM for 30 s; killing\n",
                    api->name);
            kill(api->pid, SIGKILL);
            st = it_wait(api->pid, 10);
            if (st < 0)
                st = 255;
        }
    }
    if (st != 0)
        fprintf(stderr, "hp_itest: holdpoint-api (%s) exited with status %d; log %s:\n%s\n",
                api->name, st, api->log, it_tail(api->log, 6000));
    it_api_free(api);
    return st;
}

/* ---- HTTP --------------------------------------------------------------- */

typedef struct it_buf {
    char *p;
    size_t len, cap;
} it_buf;

static void it_buf_add(it_buf *b, const char *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (np == NULL)
            abort();
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static size_t it_on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    it_buf_add(ud, data, size * nmemb);
    return size * nmemb;
}

static size_t it_on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    it_buf *b = ud;
    size_t n = size * nmemb;
    /* A new status line starts a new block (after 100 Continue). */
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
        b->len = 0;
    it_buf_add(b, data, n);
    return n;
}

typedef struct it_upload {
    const char *p;
    size_t left;
} it_upload;

static size_t it_on_read(char *dst, size_t size, size_t nmemb, void *ud)
{
    it_upload *u = ud;
    size_t n = size * nmemb;
    /* Small pieces so a chunked body really arrives in several chunks. */
    if (n > 1024)
        n = 1024;
    if (n > u->left)
        n = u->left;
    memcpy(dst, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

static void it_resp_free(void *p)
{
    hp_it_resp *r = p;
    free(r->body);
    free(r->headers);
    json_object_put(r->json);
    free(r);
}

/* ---- the response recorder (HP_IT_RECORD) ------------------------------- */

/* When HP_IT_RECORD names a file, every response is appended to it as one
 * JSON line {method, path, status, content_type, headers, body} for the
 * contract test (tests/contract/check.mjs). One write(2) per line on an
 * O_APPEND descriptor, under a mutex: hp_it_parallel's threads record at
 * once, and programs may run side by side. */
static pthread_mutex_t it_rec_lock = PTHREAD_MUTEX_INITIALIZER;

void hp_it_record(const char *method, const char *path, long status, const char *content_type,
                  const char *headers, const char *body, size_t body_len)
{
    const char *file = getenv("HP_IT_RECORD");
    if (file == NULL || *file == '\0')
        return;
    json_object *o = json_object_new_object(), *h = json_object_new_object();
    json_object_object_add(o, "method", json_object_new_string(method ? method : "GET"));
    json_object_object_add(o, "path", json_object_new_string_len(path, (int)strcspn(path, "?#")));
    json_object_object_add(o, "status", json_object_new_int64(status));
    json_object_object_add(o, "content_type",
                           content_type ? json_object_new_string(content_type) : NULL);
    /* The final header block, names lower-cased (the status line skipped). */
    for (const char *p = headers ? strstr(headers, "\r\n") : NULL; p != NULL && p[2] != '\0';) {
        const char *line = p + 2, *eol = strstr(line, "\r\n"), *colon;
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        colon = memchr(line, ':', len);
        if (colon != NULL && colon > line && (size_t)(colon - line) < 128) {
            char name[128];
            size_t nl = (size_t)(colon - line), vs = nl + 1;
            for (size_t i = 0; i < nl; i++)
                name[i] = (char)(line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32 : line[i]);
            name[nl] = '\0';
            while (vs < len && (line[vs] == ' ' || line[vs] == '\t'))
                vs++;
            json_object_object_add(h, name, json_object_new_string_len(line + vs, (int)(len - vs)));
        }
        p = eol;
    }
    json_object_object_add(o, "headers", h);
    json_object_object_add(o, "body", json_object_new_string_len(body ? body : "", (int)body_len));
    const char *text =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t n = strlen(text);
    char *line = it_xmalloc(n + 2);
    memcpy(line, text, n);
    line[n++] = '\n';
    json_object_put(o);

    pthread_mutex_lock(&it_rec_lock);
    int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    size_t off = 0;
    while (fd >= 0 && off < n) {
        ssize_t w = write(fd, line + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (fd < 0 || off < n)
        fprintf(stderr, "hp_itest: cannot append to HP_IT_RECORD %s: %s\n", file, strerror(errno));
    if (fd >= 0)
        close(fd);
    pthread_mutex_unlock(&it_rec_lock);
    free(line);
}

hp_it_resp *hp_it_send(hp_it_api *api, const hp_it_req *req)
{
    hp_it_resp *r = it_xmalloc(sizeof(*r));
    it_buf body = {0}, hdr = {0};
    struct curl_slist *list = NULL;
    it_upload up = {0};
    CURL *c = curl_easy_init();
    double t0 = it_mono();

    memset(r, 0, sizeof(*r));
    if (api == NULL)
        api = it_default_api;
    if (c == NULL || api == NULL) {
        snprintf(r->error, sizeof(r->error), "%s", c ? "no API running" : "curl_easy_init failed");
        if (c)
            curl_easy_cleanup(c);
        r->body = it_xstrdup("");
        r->headers = it_xstrdup("");
        return hp_it_track(r, it_resp_free);
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s%s", api->base, req->path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 30000L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, it_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, it_on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);

    const char *m = req->method ? req->method : "GET";
    if (req->body != NULL) {
        size_t n = req->body_len ? req->body_len : strlen(req->body);
        if (req->flags & HP_IT_CHUNKED) {
            up.p = req->body;
            up.left = n;
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_READFUNCTION, it_on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, &up);
            list = curl_slist_append(list, "Transfer-Encoding: chunked");
        } else {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
        }
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    } else if (strcmp(m, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    } else if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(m, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    }
    if (!(req->flags & HP_IT_EXPECT))
        list = curl_slist_append(list, "Expect:");
    if (req->headers != NULL)
        for (const char *const *h = req->headers; *h != NULL; h++)
            list = curl_slist_append(list, *h);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);

    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    } else {
        /* A response may have arrived before a send error (early 413). */
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        r->status = code;
        snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(rc));
    }
    r->seconds = it_mono() - t0;
    r->body = body.p ? body.p : it_xstrdup("");
    r->body_len = body.len;
    r->headers = hdr.p ? hdr.p : it_xstrdup("");
    if (r->status != 0 && !(req->flags & HP_IT_NORECORD)) {
        char *ct = NULL;
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        hp_it_record(m, req->path, r->status, ct, r->headers, r->body, r->body_len);
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    r->json = it_parse(r->body, r->body_len);
    return hp_it_track(r, it_resp_free);
}

hp_it_resp *hp_it_http(hp_it_api *api, const char *method, const char *path,
                       const char *const *headers, const char *body)
{
    hp_it_req req = {.method = method, .path = path, .headers = headers, .body = body};
    return hp_it_send(api, &req);
}

const char *hp_it_header(const hp_it_resp *r, const char *name)
{
    size_t nl = strlen(name);
    const char *p = r->headers;
    while (p != NULL && *p != '\0') {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vl = len - (size_t)(v - p);
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            return hp_it_fmt("%.*s", (int)vl, v);
        }
        p = eol ? eol + 2 : NULL;
    }
    return NULL;
}

typedef struct it_par {
    hp_it_api *api;
    const hp_it_req *req;
    hp_it_resp *resp;
    pthread_barrier_t *barrier;
} it_par;

static void *it_par_run(void *arg)
{
    it_par *p = arg;
    pthread_barrier_wait(p->barrier);
    p->resp = hp_it_send(p->api, p->req);
    return NULL;
}

void hp_it_parallel(hp_it_api *api, int n, const hp_it_req *reqs, hp_it_resp **out)
{
    pthread_t *th = it_xmalloc(sizeof(pthread_t) * (size_t)n);
    it_par *ps = it_xmalloc(sizeof(it_par) * (size_t)n);
    pthread_barrier_t barrier;

    pthread_barrier_init(&barrier, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        ps[i].api = api ? api : it_default_api;
        ps[i].req = &reqs[i];
        ps[i].resp = NULL;
        ps[i].barrier = &barrier;
        if (pthread_create(&th[i], NULL, it_par_run, &ps[i]) != 0) {
            fprintf(stderr, "hp_itest: pthread_create failed\n");
            abort();
        }
    }
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        out[i] = ps[i].resp;
    }
    pthread_barrier_destroy(&barrier);
    free(ps);
    free(th);
}

const char *const *hp_it_agent_headers(const hp_it_team *t, bool json_body)
{
    const char **h = hp_it_track(it_xmalloc(sizeof(char *) * 4), free);
    int n = 0;
    h[n++] = hp_it_fmt("X-Agent-Id: %s", t->agent_id);
    h[n++] = hp_it_fmt("X-Api-Key: %s", t->api_key);
    if (json_body)
        h[n++] = "Content-Type: application/json";
    h[n] = NULL;
    return h;
}

const char *const *hp_it_user_headers(const hp_it_team *t, bool json_body)
{
    const char **h = hp_it_track(it_xmalloc(sizeof(char *) * 3), free);
    int n = 0;
    h[n++] = hp_it_fmt("Authorization: Bearer %s", t->user_token);
    if (json_body)
        h[n++] = "Content-Type: application/json";
    h[n] = NULL;
    return h;
}

hp_it_resp *hp_it_agent_on(hp_it_api *api, const hp_it_team *t, const char *method,
                           const char *path, const char *body)
{
    return hp_it_http(api, method, path, hp_it_agent_headers(t, body != NULL), body);
}

hp_it_resp *hp_it_agent(const hp_it_team *t, const char *method, const char *path, const char *body)
{
    return hp_it_agent_on(NULL, t, method, path, body);
}

hp_it_resp *hp_it_user(const hp_it_team *t, const char *method, const char *path, const char *body)
{
    return hp_it_http(NULL, method, path, hp_it_user_headers(t, body != NULL), body);
}

char *hp_it_create_body(const char *q, const char *extra)
{
    return hp_it_fmt("{\"question\":\"%s\",\"context_markdown\":\"Build #123 passed CI.\","
                     "\"options\":[{\"label\":\"Approve\",\"value\":\"approve\"},"
                     "{\"label\":\"Reject\",\"value\":\"reject\"}]%s%s}",
                     hp_it_jesc(q), extra ? "," : "", extra ? extra : "");
}

hp_it_resp *hp_it_create_ok(const hp_it_team *t, const char *q, const char *extra)
{
    hp_it_resp *r = hp_it_agent(t, "POST", "/v1/approvals", hp_it_create_body(q, extra));
    IT_STATUS_FATAL(r, 200);
    return r;
}

/* ---- SQL ---------------------------------------------------------------- */

static PGconn *it_pg;
static pthread_mutex_t it_pg_lock = PTHREAD_MUTEX_INITIALIZER;

/* Runs sql with the NULL-terminated params in ap; returns the result (caller
 * clears) or NULL with err set. Reconnects once when the connection broke
 * (the outage test restarts PostgreSQL under us). */
static PGresult *it_sql_run(const char *sql, va_list ap, char *err, size_t errcap)
{
    const char *params[16];
    int n = 0;
    const char *p;
    while ((p = va_arg(ap, const char *)) != NULL && n < 16)
        params[n++] = p;

    pthread_mutex_lock(&it_pg_lock);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (it_pg == NULL) {
            /* Behind a pooler (pooled.sh) the harness looks at the server
             * itself; the processes under test use the pooler. */
            const char *direct = getenv("HOLDPOINT_DATABASE_DIRECT_URL");
            it_pg = PQconnectdb(
                direct != NULL && *direct != '\0' ? direct : hp_it_env("HOLDPOINT_DATABASE_URL"));
        } else if (PQstatus(it_pg) != CONNECTION_OK) {
            PQreset(it_pg);
        }
        if (PQstatus(it_pg) != CONNECTION_OK) {
            snprintf(err, errcap, "connect: %s", PQerrorMessage(it_pg));
            continue;
        }
        PGresult *res = PQexecParams(it_pg, sql, n, NULL, params, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            pthread_mutex_unlock(&it_pg_lock);
            return res;
        }
        snprintf(err, errcap, "%s", PQerrorMessage(it_pg));
        PQclear(res);
        if (PQstatus(it_pg) == CONNECTION_OK)
            break;
    }
    pthread_mutex_unlock(&it_pg_lock);
    return NULL;
}

long long hp_it_sql_int(const char *sql, ...)
{
    char err[512] = "";
    va_list ap;
    va_start(ap, sql);
    PGresult *res = it_sql_run(sql, ap, err, sizeof(err));
    va_end(ap);
    if (!IT_CHECK(res != NULL, "SQL failed: %s: %s", sql, err))
        return -1;
    bool ok = PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0);
    long long v = ok ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    IT_CHECK(ok, "SQL returned no value: %s", sql);
    return v;
}

char *hp_it_sql_str(const char *sql, ...)
{
    char err[512] = "";
    va_list ap;
    va_start(ap, sql);
    PGresult *res = it_sql_run(sql, ap, err, sizeof(err));
    va_end(ap);
    if (!IT_CHECK(res != NULL, "SQL failed: %s: %s", sql, err))
        return NULL;
    char *v = NULL;
    if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
        v = it_tstrdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

bool hp_it_sql_exec(const char *sql, ...)
{
    char err[512] = "";
    va_list ap;
    va_start(ap, sql);
    PGresult *res = it_sql_run(sql, ap, err, sizeof(err));
    va_end(ap);
    PQclear(res);
    return IT_CHECK(res != NULL, "SQL failed: %s: %s", sql, err);
}

/* ---- the runner --------------------------------------------------------- */

/* Reports every API that exited since the last check; returns how many. */
static int it_apis_check(void)
{
    int dead = 0;
    for (hp_it_api *a = it_apis; a != NULL; a = a->next) {
        if (a->pid <= 0)
            continue;
        int st;
        if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
            a->pid = -1;
            dead++;
            fprintf(
                stderr,
                "hp_itest: holdpoint-api (%s) exited during the tests with %s %d; log %s:\n%s\n",
                a->name, WIFEXITED(st) ? "status" : "signal",
                WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), a->log, it_tail(a->log, 4000));
        }
    }
    return dead;
}

static int it_test_setup(void)
{
    pthread_mutex_lock(&it_mem_lock);
    it_in_test = true;
    pthread_mutex_unlock(&it_mem_lock);
    return 0;
}

static int it_test_teardown(void)
{
    /* An API that died during this test fails it (and names the cause). */
    int dead = it_apis_check();
    hp_it__check(dead == 0, __FILE__, __LINE__, false,
                 "%d holdpoint-api process(es) exited during this test (see above)", dead);
    it_release(&it_test_cells);
    pthread_mutex_lock(&it_mem_lock);
    it_in_test = false;
    pthread_mutex_unlock(&it_mem_lock);
    return 0;
}

/* CUnit's per-test hooks are void(void). */
static void it_test_setup_v(void)
{
    (void)it_test_setup();
}

static void it_test_teardown_v(void)
{
    (void)it_test_teardown();
}

static void it_on_signal(int sig)
{
    /* Children die with us through PR_SET_PDEATHSIG; just go. */
    signal(sig, SIG_DFL);
    raise(sig);
}

int hp_it_main(const char *suite, const hp_it_test *tests, int (*setup)(void),
               int (*teardown)(void))
{
    int rc = 0;
    unsigned ntests = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    it_suite_name = suite;
    for (const char *const *e = it_required_env; *e != NULL; e++) {
        const char *v = getenv(*e);
        if (v == NULL || *v == '\0') {
            fprintf(stderr,
                    "%s: FAILED: %s is not set. The integration tests need the services and "
                    "binaries that `make test` provides; they are never skipped.\n",
                    suite, *e);
            return 1;
        }
    }
    signal(SIGINT, it_on_signal);
    signal(SIGTERM, it_on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "%s: FAILED: curl_global_init\n", suite);
        return 1;
    }

    it_default_api = hp_it_api_start("default", it_default_env);
    if (it_default_api == NULL) {
        fprintf(stderr, "%s: FAILED: could not start holdpoint-api\n", suite);
        rc = 1;
        goto out;
    }
    if (setup != NULL && setup() != 0) {
        fprintf(stderr, "%s: FAILED: suite setup failed\n", suite);
        rc = 1;
        goto out_apis;
    }

    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "%s: FAILED: CUnit: %s\n", suite, CU_get_error_msg());
        rc = 1;
        goto out_teardown;
    }
    CU_pSuite s = CU_add_suite_with_setup_and_teardown(suite, NULL, NULL, it_test_setup_v,
                                                       it_test_teardown_v);
    if (s == NULL) {
        rc = 1;
        goto out_registry;
    }
    for (const hp_it_test *t = tests; t->name != NULL; t++) {
        if (CU_add_test(s, t->name, t->fn) == NULL) {
            rc = 1;
            goto out_registry;
        }
        ntests++;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (CU_basic_run_tests() != CUE_SUCCESS) {
        fprintf(stderr, "%s: FAILED: CUnit: %s\n", suite, CU_get_error_msg());
        rc = 1;
    }
    if (CU_get_number_of_failures() != 0 || CU_get_number_of_tests_failed() != 0 ||
        CU_get_number_of_suites_failed() != 0 || CU_get_number_of_tests_run() != ntests ||
        ntests == 0)
        rc = 1;
out_registry:
    CU_cleanup_registry();
out_teardown:
    if (teardown != NULL && teardown() != 0) {
        fprintf(stderr, "%s: FAILED: suite teardown failed\n", suite);
        rc = 1;
    }
out_apis:
    /* Stop every API the program started; each must exit 0. */
    while (it_apis != NULL) {
        const char *name = hp_it_fmt("%s", it_apis->name);
        int st = hp_it_api_stop(it_apis);
        if (st != 0) {
            fprintf(stderr, "%s: FAILED: holdpoint-api (%s) exited with status %d\n", suite, name,
                    st);
            rc = 1;
        }
    }
out:
    pthread_mutex_lock(&it_pg_lock);
    if (it_pg != NULL)
        PQfinish(it_pg);
    it_pg = NULL;
    pthread_mutex_unlock(&it_pg_lock);
    it_release(&it_test_cells);
    it_release(&it_global_cells);
    curl_global_cleanup();
    printf("%s: %s\n", suite, rc == 0 ? "PASSED" : "FAILED");
    return rc;
}
