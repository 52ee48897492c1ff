/*
 * it_workers: helpers shared by it_delivery.c and it_expiry.c (header-only,
 * because the harness builds each it_*.c as its own program).
 *
 *  - a callback receiver on 127.0.0.1 written here in C: one thread accepts,
 *    one thread per connection reads a request, records its headers and exact
 *    body bytes, waits a configurable delay and answers a scripted status;
 *  - starting, stopping (SIGTERM, with the exit status) and killing
 *    (SIGKILL) holdpoint-delivery and holdpoint-timeout with extra
 *    environment, their stderr in HP_RUN_DIR;
 *  - SQL fixtures: a team with an agent whose webhook secret and callback auth
 *    come from `holdpoint admin create-agent`, approvals and jobs inserted
 *    directly (the API is not needed for worker tests).
 */
#ifndef IT_WORKERS_H
#define IT_WORKERS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "hp_itest.h"

extern char **environ;

/* ---- receiver ----------------------------------------------------------- */

typedef struct it_rreq {
    char *head; /* request line and header block, as received */
    char *body; /* exact bytes, NUL-terminated for convenience */
    size_t body_len;
    int status; /* what we answered */
} it_rreq;

typedef struct it_recv {
    int fd;
    int port;
    pthread_t thread;
    pthread_mutex_t mu;
    it_rreq *reqs;
    int n, cap;
    const int *script; /* statuses answered in order; the last repeats */
    int nscript;
    int delay_ms;
    bool keep_alive; /* answer keep-alive and serve a connection's next request */
    _Atomic int stop;
    int active;          /* connection threads still running (mu) */
    pthread_cond_t idle; /* signalled when active drops to 0 */
} it_recv;

typedef struct it_conn_arg {
    it_recv *r;
    int fd;
} it_conn_arg;

static inline void *it__recv_conn(void *p)
{
    it_conn_arg *a = p;
    it_recv *r = a->r;
    int fd = a->fd;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    char resp[160];

    free(a);
    buf[0] = '\0';
    for (;;) { /* one request each time round; once unless keep_alive */
        size_t want = 0, hlen = 0;
        it_rreq q;
        int idx, status;

        memset(&q, 0, sizeof(q));
        for (;;) {
            if (hlen == 0) {
                char *e = strstr(buf, "\r\n\r\n");
                if (e != NULL) {
                    hlen = (size_t)(e - buf) + 4;
                    char *cl = strcasestr(buf, "\r\ncontent-length:");
                    want = cl && cl < e ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
                }
            }
            if (hlen > 0 && len >= hlen + want)
                break;
            if (len == cap)
                goto done;
            ssize_t k = recv(fd, buf + len, cap - len, 0);
            if (k <= 0)
                goto done;
            len += (size_t)k;
            buf[len] = '\0';
        }
        q.head = strndup(buf, hlen);
        q.body = malloc(want + 1);
        memcpy(q.body, buf + hlen, want);
        q.body[want] = '\0';
        q.body_len = want;
        if (r->delay_ms > 0)
            usleep((useconds_t)r->delay_ms * 1000);
        pthread_mutex_lock(&r->mu);
        idx = r->n;
        status = r->nscript == 0 ? 200 : r->script[idx < r->nscript ? idx : r->nscript - 1];
        q.status = status;
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 64;
            r->reqs = realloc(r->reqs, (size_t)r->cap * sizeof(*r->reqs));
        }
        r->reqs[r->n++] = q;
        pthread_mutex_unlock(&r->mu);
        snprintf(resp, sizeof(resp),
                 "HTTP/1.1 %d X\r\nContent-Length: 2\r\nLocation: http://127.0.0.1:1/\r\n"
                 "Connection: %s\r\n\r\nok",
                 status, r->keep_alive ? "keep-alive" : "close");
        (void)!send(fd, resp, strlen(resp), MSG_NOSIGNAL);
        if (!r->keep_alive)
            break;
        /* Keep what already arrived of the next request. */
        len -= hlen + want;
        memmove(buf, buf + hlen + want, len);
        buf[len] = '\0';
    }
done:
    free(buf);
    close(fd);
    pthread_mutex_lock(&r->mu);
    if (--r->active == 0)
        pthread_cond_broadcast(&r->idle);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static inline void *it__recv_loop(void *p)
{
    it_recv *r = p;
    while (!r->stop) {
        int fd = accept(r->fd, NULL, NULL);
        pthread_t t;
        pthread_attr_t at;
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break;
        }
        /* A client that stops sending must not keep a thread (and the
         * receiver's teardown) waiting. */
        struct timeval tv = {.tv_sec = 15};
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        it_conn_arg *a = malloc(sizeof(*a));
        a->r = r;
        a->fd = fd;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_mutex_lock(&r->mu);
        r->active++;
        pthread_mutex_unlock(&r->mu);
        if (pthread_create(&t, &at, it__recv_conn, a) != 0) {
            close(fd);
            free(a);
            pthread_mutex_lock(&r->mu);
            r->active--;
            pthread_mutex_unlock(&r->mu);
        }
        pthread_attr_destroy(&at);
    }
    return NULL;
}

static inline void it__recv_free(void *p)
{
    it_recv *r = p;
    r->stop = 1;
    shutdown(r->fd, SHUT_RDWR);
    close(r->fd);
    pthread_join(r->thread, NULL);
    /* Connection threads are detached: wait until the last one is done with
     * r (each has a 15 s receive timeout). */
    pthread_mutex_lock(&r->mu);
    while (r->active > 0)
        pthread_cond_wait(&r->idle, &r->mu);
    pthread_mutex_unlock(&r->mu);
    pthread_cond_destroy(&r->idle);
    for (int i = 0; i < r->n; i++) {
        free(r->reqs[i].head);
        free(r->reqs[i].body);
    }
    free(r->reqs);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static inline it_recv *it__recv_start(const int *script, int nscript, int delay_ms, bool keep_alive)
{
    it_recv *r = calloc(1, sizeof(*r));
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);

    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->idle, NULL);
    r->script = script;
    r->nscript = nscript;
    r->delay_ms = delay_ms;
    r->keep_alive = keep_alive;
    r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    IT_CHECK_FATAL(bind(r->fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(r->fd, 1024) == 0 &&
                       getsockname(r->fd, (struct sockaddr *)&a, &alen) == 0,
                   "receiver could not listen");
    r->port = ntohs(a.sin_port);
    pthread_create(&r->thread, NULL, it__recv_loop, r);
    hp_it_track(r, it__recv_free);
    return r;
}

/* Starts a receiver on a free 127.0.0.1 port; freed at the end of the test.
 * script (may be NULL) lists the statuses to answer in order. Each
 * connection carries one request. */
static inline it_recv *it_recv_start(const int *script, int nscript, int delay_ms)
{
    return it__recv_start(script, nscript, delay_ms, false);
}

/* The same, answering 200 with keep-alive, so a client's connection carries
 * request after request (large volumes without a connection each). */
static inline it_recv *it_recv_start_keep_alive(void)
{
    return it__recv_start(NULL, 0, 0, true);
}

static inline int it_recv_count(it_recv *r)
{
    int n;
    pthread_mutex_lock(&r->mu);
    n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Waits until the receiver has at least n requests or timeout_ms passed. */
static inline bool it_recv_wait(it_recv *r, int n, long timeout_ms)
{
    double end = hp_it_now() + (double)timeout_ms / 1000.0;
    while (it_recv_count(r) < n && hp_it_now() < end)
        hp_it_sleep_ms(20);
    return it_recv_count(r) >= n;
}

/* Value of header name in a recorded request (harness-owned), or NULL. */
static inline const char *it_rhdr(const it_rreq *q, const char *name)
{
    size_t nl = strlen(name);
    const char *p = strstr(q->head, "\r\n");
    while (p != NULL && p[2] != '\r') {
        const char *line = p + 2, *end = strstr(line, "\r\n");
        if (end == NULL)
            break;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            return hp_it_fmt("%.*s", (int)(end - v), v);
        }
        p = end;
    }
    return NULL;
}

/* How many times header name occurs in a recorded request. */
static inline int it_rhdr_count(const it_rreq *q, const char *name)
{
    size_t nl = strlen(name);
    int n = 0;
    for (const char *p = strstr(q->head, "\r\n"); p != NULL && p[2] != '\r';
         p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':')
            n++;
    }
    return n;
}

/* ---- worker processes -------------------------------------------------- */

typedef struct it_proc {
    pid_t pid;
    char *log;
} it_proc;

/* At the end of the test that started it, a worker still running (a test
 * that failed before stopping it) is killed, so no worker outlives its test. */
static inline void it__proc_free(void *v)
{
    it_proc *p = v;
    int st;
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &st, 0);
    }
    free(p);
}

/* Starts HP_BIN_DIR/<bin> with the test environment plus env ("NAME=value",
 * NULL-terminated); stderr goes to HP_RUN_DIR/<label>-<unique>.log. The
 * worker dies with the test program (PR_SET_PDEATHSIG) and is killed when
 * the test ends if it still runs. */
static inline it_proc *it_proc_start(const char *bin, const char *label, const char *const *env)
{
    it_proc *p = hp_it_track(calloc(1, sizeof(*p)), it__proc_free);
    const char *path = hp_it_fmt("%s/%s", hp_it_env("HP_BIN_DIR"), bin);

    p->log = hp_it_fmt("%s/%s-%s.log", hp_it_env("HP_RUN_DIR"), label, hp_it_unique());
    p->pid = fork();
    IT_CHECK_FATAL(p->pid >= 0, "fork failed");
    if (p->pid == 0) {
        int fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
        }
        for (const char *const *e = env; e != NULL && *e != NULL; e++)
            putenv((char *)*e);
        execl(path, bin, (char *)NULL);
        _exit(127);
    }
    return p;
}

/* Waits up to timeout_ms for p to exit; returns its status (exit code, or
 * 128 + signal), or -1 on timeout (p is then killed). */
static inline int it_proc_wait(it_proc *p, long timeout_ms)
{
    double end = hp_it_now() + (double)timeout_ms / 1000.0;
    int st;
    for (;;) {
        pid_t w = waitpid(p->pid, &st, WNOHANG);
        if (w == p->pid)
            break;
        if (hp_it_now() > end) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            p->pid = 0;
            return -1;
        }
        hp_it_sleep_ms(10);
    }
    p->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* SIGTERM and wait; returns the status (-1 when it did not exit in time). */
static inline int it_proc_stop(it_proc *p, long timeout_ms)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    return it_proc_wait(p, timeout_ms);
}

static inline void it_proc_kill(it_proc *p)
{
    if (p->pid <= 0)
        return;
    kill(p->pid, SIGKILL);
    (void)it_proc_wait(p, 5000);
}

/* CPU time (user + system, in clock ticks) the worker has used so far. */
static inline long it_proc_cpu_ticks(const it_proc *p)
{
    char path[64], buf[1024];
    FILE *f;
    long ut = 0, st = 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    if (fgets(buf, sizeof(buf), f) != NULL) {
        const char *c = strrchr(buf, ')'); /* fields after "(comm)" */
        if (c != NULL &&
            sscanf(c + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st) != 2)
            ut = st = 0;
    }
    fclose(f);
    return ut + st;
}

/* Prints the tail of a worker's log (for failures). */
static inline void it_proc_dump(const it_proc *p)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "tail -n 20 '%s' >&2", p->log);
    (void)!system(cmd);
}

/* Lines of the worker's log that contain needle. */
static inline int it_proc_log_count(const it_proc *p, const char *needle)
{
    FILE *f = fopen(p->log, "r");
    char line[8192];
    int n = 0;
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, needle) != NULL)
            n++;
    fclose(f);
    return n;
}

/* ---- fixtures ------------------------------------------------------------ */

typedef struct it_agent {
    const hp_it_team *team;
    const char *agent_id;
    const char *webhook_secret;
} it_agent;

/* A new team plus an agent with callback auth "Authorization: Bearer
 * it-cb-secret" (sealed by the CLI, as in production). */
static inline it_agent it_agent_new(void)
{
    it_agent a;
    const hp_it_team *t = hp_it_team_new();
    const char *args[] = {"admin",
                          "create-agent",
                          "--team-id",
                          t->team_id,
                          "--name",
                          hp_it_fmt("it-cb-%s", hp_it_unique()),
                          "--callback-auth-header",
                          "Authorization",
                          "--callback-auth-value",
                          "Bearer it-cb-secret",
                          "--json",
                          NULL};
    json_object *j = hp_it_admin(args);
    a.team = t;
    a.agent_id = hp_it_fmt("%s", json_object_get_string(hp_it_jget(j, "agent_id", NULL)));
    a.webhook_secret =
        hp_it_fmt("%s", json_object_get_string(hp_it_jget(j, "webhook_secret", NULL)));
    return a;
}

/* Inserts an approval of a (pending, expiring `expires_sql` — an SQL
 * expression such as "now() + interval '1 day'") and returns its id.
 * callback_url NULL means none. */
static inline const char *it_approval_insert(const it_agent *a, const char *expires_sql,
                                             const char *callback_url)
{
    const char *sql = hp_it_fmt(
        "insert into approvals (id, team_id, agent_id, request_id, request_id_supplied, "
        "question, context_markdown, options, timeout_seconds, timeout_mode, expires_at, "
        "canonical_hash, callback_url, callback_headers) values (gen_random_uuid(), $1, $2, "
        "'it-' || gen_random_uuid(), true, 'q?', 'ctx', '[{\"label\":\"Yes\",\"value\":\"y\"}]', "
        "60, 'expire_no_action', %s, '\\x00', nullif($3, ''), case when $3 = '' then null else "
        "'{}'::jsonb end) returning id::text",
        expires_sql);
    return hp_it_sql_str(sql, a->team->team_id, a->agent_id, callback_url ? callback_url : "",
                         (const char *)NULL);
}

/* Queues a callback job for approval_id of a and returns the job id. */
static inline const char *it_job_insert(const it_agent *a, const char *approval_id, const char *url,
                                        const char *headers_json, const char *body,
                                        int max_attempts)
{
    char ma[16];
    snprintf(ma, sizeof(ma), "%d", max_attempts);
    return hp_it_sql_str(
        "insert into jobs (team_id, kind, approval_id, agent_id, url, headers, body, webhook_id, "
        "max_attempts) values ($1, 'callback', $2, $3, $4, nullif($5, '')::jsonb, $6, 'msg_' || "
        "gen_random_uuid(), $7::int) returning id::text",
        a->team->team_id, approval_id, a->agent_id, url, headers_json ? headers_json : "", body, ma,
        (const char *)NULL);
}

/* Polls an integer SQL query until it equals want or timeout_ms passes. */
static inline long long it_sql_wait(long long want, long timeout_ms, const char *sql,
                                    const char *p1)
{
    double end = hp_it_now() + (double)timeout_ms / 1000.0;
    long long v;
    for (;;) {
        v = hp_it_sql_int(sql, p1, (const char *)NULL);
        if (v == want || hp_it_now() > end)
            return v;
        hp_it_sleep_ms(50);
    }
}

/* A program's teardown: leaves no queued job of a test team behind for
 * other programs' workers. 0 on success. */
static inline int it_jobs_cleanup(void)
{
    return hp_it_sql_exec("delete from jobs where state = 'queued' and team_id in "
                          "(select id from teams where name like 'it-team-%')",
                          (const char *)NULL)
               ? 0
               : 1;
}

/* Fails unless the schema has what the workers need (migration 002). */
static inline int it_schema_ready(void)
{
    const char *t = hp_it_sql_str("select coalesce(to_regclass('job_attempts')::text, 'missing')",
                                  (const char *)NULL);
    if (t == NULL || strcmp(t, "job_attempts") != 0) {
        fprintf(stderr, "the database lacks job_attempts: run `holdpoint migrate` built with "
                        "sql/002_job_attempts.sql\n");
        return 1;
    }
    return 0;
}

/* The repository root, from the harness's path to scripts/services.sh. */
static inline const char *it_repo_root(void)
{
    const char *s = HP_ITEST_SERVICES_SH;
    const char *e = strstr(s, "/scripts/services.sh");
    return hp_it_fmt("%.*s", (int)(e ? e - s : 0), s);
}

static inline size_t it__discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

/* GETs url until it answers 200 or timeout_ms passes; returns the last
 * status (0 when nothing answered). */
static inline long it_get_until_200(const char *url, long timeout_ms)
{
    double end = hp_it_now() + (double)timeout_ms / 1000.0;
    long code = 0;
    while (code != 200 && hp_it_now() < end) {
        CURL *c = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, it__discard);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1000L);
        code = 0;
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(c);
        if (code != 200)
            hp_it_sleep_ms(50);
    }
    return code;
}

/* A free TCP port on 127.0.0.1 (bound then closed). */
static inline int it_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* ---- signatures, checked by Node (tests/e2e) ------------------------------ */

static inline char *it_b64(const char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = hp_it_track(malloc(4 * ((n + 2) / 3) + 1), free), *o = out;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        *o++ = tab[v >> 18 & 63];
        *o++ = tab[v >> 12 & 63];
        *o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? tab[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

static inline json_object *it_headers_json(const it_rreq *q)
{
    json_object *h = json_object_new_object();
    const char *p = strstr(q->head, "\r\n");
    while (p != NULL && p[2] != '\r') {
        const char *line = p + 2, *end = strstr(line, "\r\n"), *colon;
        if (end == NULL)
            break;
        colon = memchr(line, ':', (size_t)(end - line));
        if (colon != NULL) {
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            char *name = strndup(line, (size_t)(colon - line));
            json_object_object_add(h, name, json_object_new_string_len(v, (int)(end - v)));
            free(name);
        }
        p = end;
    }
    return h;
}

/* Runs tests/e2e/verify_signatures.js over the receiver's requests (only
 * those to path when it is not NULL), signed with secret; returns its exit
 * status (0: every request verifies under both schemes). */
static inline int it_verify_signatures(it_recv *r, const char *path, const char *secret)
{
    json_object *cap = json_object_new_object(), *reqs = json_object_new_array();
    const char *file = hp_it_fmt("%s/capture-%s.json", hp_it_env("HP_RUN_DIR"), hp_it_unique());
    const char *line = path != NULL ? hp_it_fmt("POST %s HTTP/1.1", path) : NULL;
    FILE *f;
    int st;

    json_object_object_add(cap, "secret", json_object_new_string(secret));
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n; i++) {
        json_object *o;
        if (line != NULL && strncmp(r->reqs[i].head, line, strlen(line)) != 0)
            continue;
        o = json_object_new_object();
        json_object_object_add(o, "headers", it_headers_json(&r->reqs[i]));
        json_object_object_add(
            o, "body_b64", json_object_new_string(it_b64(r->reqs[i].body, r->reqs[i].body_len)));
        json_object_array_add(reqs, o);
    }
    pthread_mutex_unlock(&r->mu);
    json_object_object_add(cap, "requests", reqs);
    f = fopen(file, "w");
    IT_CHECK_FATAL(f != NULL, "cannot write %s", file);
    fputs(json_object_to_json_string_ext(cap, JSON_C_TO_STRING_PLAIN), f);
    fclose(f);
    json_object_put(cap);
    st = system(hp_it_fmt("node '%s/tests/e2e/verify_signatures.js' '%s'", it_repo_root(), file));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Installs tests/e2e/node_modules from its lock when missing (a program's
 * setup); 0 when ready. */
static inline int it_e2e_ready(const char *program)
{
    const char *e2e = hp_it_fmt("%s/tests/e2e", it_repo_root());
    const char *lock = hp_it_fmt("%s/package-lock.json", e2e);
    const char *stamp = hp_it_fmt("%s/node_modules/.holdpoint-lock", e2e);
    const char *cmd =
        hp_it_fmt("cd '%s' && (cmp -s '%s' '%s' || (npm ci --no-audit --no-fund >&2 && cp '%s' "
                  "'%s'))",
                  e2e, lock, stamp, lock, stamp);
    if (system(cmd) != 0) {
        fprintf(stderr, "%s: npm ci in tests/e2e failed\n", program);
        return 1;
    }
    return 0;
}

static inline size_t it__collect(char *p, size_t s, size_t n, void *u)
{
    size_t k = s * n;
    char **buf = u;
    size_t have = *buf ? strlen(*buf) : 0;
    *buf = realloc(*buf, have + k + 1);
    memcpy(*buf + have, p, k);
    (*buf)[have + k] = '\0';
    return k;
}

/* GET url; the body on a 200 (harness-owned), else NULL. */
static inline const char *it_get_text(const char *url)
{
    CURL *c = curl_easy_init();
    char *buf = NULL;
    long code = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, it__collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    if (buf != NULL)
        hp_it_track(buf, free);
    return code == 200 ? buf : NULL;
}

#endif
