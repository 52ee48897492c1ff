/*
 * bench_wake: how long from a decision to the release of a waiting request,
 * beside the raw wake transports measured in the same run:
 *
 *   notify      PostgreSQL NOTIFY → a LISTENing connection (round trip)
 *   redis       Redis PUBLISH → a SUBSCRIBEd connection
 *   same        long-poll on replica A, decision sent to A
 *   cross       long-poll on replica B, decision sent to A
 *
 * For the API cases the clock starts when the decision request is sent and
 * stops when the long-poll's answer arrives. The decision's own work (its
 * transaction) is inside that time; so each API case is run a second time
 * measured from the moment the decision's NOTIFY reaches a LISTEN
 * connection of the benchmark's own (the commit, as the raw transport
 * delivers it) to the answer: same_after_commit and cross_after_commit,
 * what the API adds to the raw wake. That listener is not there in the
 * first run: its wake would be one more process at every commit. Each run
 * first makes BENCH_WARMUP decisions it does not measure. Prints one JSON
 * line per case with p50/p99 in milliseconds. Traffic goes only to the
 * given URLs.
 *
 *   bench_wake BASE_A BASE_B AGENT_ID API_KEY USER_TOKEN DB_URL REDIS_HOST REDIS_PORT SAMPLES
 */
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "hp_buf.h"
#include "hp_str.h"
#include "hp_time.h"

/* Decisions made before each API case's samples, unmeasured: a fresh
 * pooled connection plans the decision's statement anew for its first few
 * executions (PostgreSQL's custom plans), about 1 ms each. */
#define BENCH_WARMUP 20

static double bench__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int bench__cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void bench__report(const char *name, double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), bench__cmp);
    printf("{\"case\":\"%s\",\"samples\":%d,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f}\n",
           name, n, v[n / 2], v[(n * 99) / 100 >= n ? n - 1 : (n * 99) / 100], v[n - 1]);
    fflush(stdout);
}

static void bench__notify(const char *db, double *out, int n)
{
    PGconn *l = PQconnectdb(db), *s = PQconnectdb(db);
    PQclear(PQexec(l, "LISTEN bench_wake"));
    for (int i = 0; i < n; i++) {
        double t0 = bench__now_ms();
        PQclear(PQexec(s, "NOTIFY bench_wake, 'x'"));
        for (;;) {
            struct pollfd p = {.fd = PQsocket(l), .events = POLLIN};
            PGnotify *nt;
            poll(&p, 1, 1000);
            PQconsumeInput(l);
            if ((nt = PQnotifies(l)) != NULL) {
                PQfreemem(nt);
                break;
            }
        }
        out[i] = bench__now_ms() - t0;
    }
    PQfinish(l);
    PQfinish(s);
}

static void bench__redis(const char *host, int port, double *out, int n)
{
    redisContext *sub = redisConnect(host, port), *pub = redisConnect(host, port);
    redisReply *r = redisCommand(sub, "SUBSCRIBE bench:wake");
    freeReplyObject(r);
    for (int i = 0; i < n; i++) {
        double t0 = bench__now_ms();
        void *rep;
        freeReplyObject(redisCommand(pub, "PUBLISH bench:wake x"));
        if (redisGetReply(sub, &rep) == REDIS_OK)
            freeReplyObject(rep);
        out[i] = bench__now_ms() - t0;
    }
    redisFree(sub);
    redisFree(pub);
}

/* A LISTEN hp_approval connection, read by its own thread for a whole
 * case, that notes when a wake naming the current approval arrives. */
typedef struct bench_listen {
    PGconn *conn;
    pthread_mutex_t mu;
    pthread_cond_t seen;
    char aid[64];
    double seen_ms;
    bool stop;
    pthread_t tid;
} bench_listen;

static void *bench__listen_main(void *arg)
{
    bench_listen *bl = arg;

    for (;;) {
        struct pollfd p = {.fd = PQsocket(bl->conn), .events = POLLIN};
        PGnotify *nt;
        int ready = poll(&p, 1, 100);
        double now = bench__now_ms();

        pthread_mutex_lock(&bl->mu);
        if (bl->stop) {
            pthread_mutex_unlock(&bl->mu);
            return NULL;
        }
        pthread_mutex_unlock(&bl->mu);
        if (ready <= 0)
            continue;
        PQconsumeInput(bl->conn);
        while ((nt = PQnotifies(bl->conn)) != NULL) {
            pthread_mutex_lock(&bl->mu);
            if (bl->seen_ms == 0 && bl->aid[0] != '\0' && strstr(nt->extra, bl->aid) != NULL) {
                bl->seen_ms = now;
                pthread_cond_signal(&bl->seen);
            }
            pthread_mutex_unlock(&bl->mu);
            PQfreemem(nt);
        }
    }
}

/* Waits up to 5 s for the listener to see the current approval's wake;
 * its time, or 0. */
static double bench__listen_seen(bench_listen *bl)
{
    struct timespec ts;
    double ms;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    pthread_mutex_lock(&bl->mu);
    while (bl->seen_ms == 0 && pthread_cond_timedwait(&bl->seen, &bl->mu, &ts) == 0)
        ;
    ms = bl->seen_ms;
    pthread_mutex_unlock(&bl->mu);
    return ms;
}

typedef struct bench_poll {
    char url[512];
    struct curl_slist *hs;
    double done_ms;
    long status;
    pthread_t tid;
} bench_poll;

static size_t bench__first_byte(char *p, size_t size, size_t n, void *ud)
{
    bench_poll *bp = ud;
    (void)p;
    if (bp->done_ms == 0)
        bp->done_ms = bench__now_ms();
    return size * n;
}

static void *bench__poll_main(void *arg)
{
    bench_poll *bp = arg;
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, bp->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, bp->hs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, bench__first_byte);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, bp);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &bp->status);
    curl_easy_cleanup(h);
    return NULL;
}

static size_t bench__sink(char *p, size_t size, size_t n, void *ud)
{
    return hp_buf_append(ud, p, size * n) == HP_OK ? size * n : 0;
}

static long bench__req(CURL *h, const char *url, const char *method, struct curl_slist *hs,
                       const char *body, hp_buf *out)
{
    long st = 0;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, bench__sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    return st;
}

/* Waits until replica base reports at least one waiter. */
static void bench__await_waiter(CURL *h, const char *base)
{
    char url[512];
    (void)hp_fmt(url, sizeof(url), "%s/metrics", base);
    for (int i = 0; i < 2000; i++) {
        hp_buf b;
        hp_buf_init(&b, 1 << 22);
        bench__req(h, url, "GET", NULL, NULL, &b);
        const char *p = b.data ? strstr(b.data, "\nholdpoint_waiters ") : NULL;
        double v = p ? strtod(p + 19, NULL) : 0;
        hp_buf_free(&b);
        if (v >= 1)
            return;
        hp_time_sleep_ms(1, NULL);
    }
}

/* n samples of one API case into out: from sending the decision to the
 * long-poll's answer, or with db (a LISTEN connection of the benchmark's
 * own, whose wake would be one more process to schedule at every commit
 * of the other kind) from the commit to the answer. */
static int bench__api(const char *poll_base, const char *decide_base, const char *db,
                      struct curl_slist *agent, struct curl_slist *user, double *out, int n)
{
    CURL *h = curl_easy_init();
    char url[512];
    int got = 0;
    bench_listen bl = {.conn = db != NULL ? PQconnectdb(db) : NULL};

    pthread_mutex_init(&bl.mu, NULL);
    pthread_cond_init(&bl.seen, NULL);
    if (bl.conn != NULL) {
        PQclear(PQexec(bl.conn, "LISTEN hp_approval"));
        pthread_create(&bl.tid, NULL, bench__listen_main, &bl);
    }
    for (int i = 0; i < n + BENCH_WARMUP; i++) {
        hp_buf b;
        bench_poll bp;
        json_object *o;
        char rid[64], aid[64];

        hp_buf_init(&b, 1 << 16);
        (void)hp_fmt(url, sizeof(url), "%s/v1/approvals", decide_base);
        if (bench__req(h, url, "POST", agent,
                       "{\"question\":\"wake\",\"context_markdown\":\"\",\"options\":[{\"label\":"
                       "\"ok\",\"value\":\"ok\"}]}",
                       &b) != 200) {
            hp_buf_free(&b);
            continue;
        }
        o = json_tokener_parse(b.data);
        hp_strlcpy(rid, json_object_get_string(json_object_object_get(o, "request_id")),
                   sizeof(rid));
        hp_strlcpy(aid, json_object_get_string(json_object_object_get(o, "approval_id")),
                   sizeof(aid));
        json_object_put(o);
        hp_buf_free(&b);

        memset(&bp, 0, sizeof(bp));
        bp.hs = agent;
        (void)hp_fmt(bp.url, sizeof(bp.url), "%s/v1/approvals/%s/result?wait=30", poll_base, rid);
        pthread_create(&bp.tid, NULL, bench__poll_main, &bp);
        bench__await_waiter(h, poll_base);

        (void)hp_fmt(url, sizeof(url), "%s/v1/review/approvals/%s/resolve", decide_base, aid);
        hp_buf_init(&b, 1 << 16);
        pthread_mutex_lock(&bl.mu);
        hp_strlcpy(bl.aid, aid, sizeof(bl.aid));
        bl.seen_ms = 0;
        pthread_mutex_unlock(&bl.mu);
        double t0 = bench__now_ms();
        bench__req(h, url, "POST", user, "{\"option_index\":0}", &b);
        hp_buf_free(&b);
        pthread_join(bp.tid, NULL);
        /* From the commit, an answer may beat the benchmark's own listener
         * (Redis, or the API's LISTEN read first): that counts as 0. */
        double from = bl.conn != NULL ? bench__listen_seen(&bl) : t0;
        if (i >= BENCH_WARMUP && bp.status == 200 && bp.done_ms > 0 && from > 0)
            out[got++] = bp.done_ms > from ? bp.done_ms - from : 0;
    }
    if (bl.conn != NULL) {
        pthread_mutex_lock(&bl.mu);
        bl.stop = true;
        pthread_mutex_unlock(&bl.mu);
        pthread_join(bl.tid, NULL);
        PQfinish(bl.conn);
    }
    pthread_cond_destroy(&bl.seen);
    pthread_mutex_destroy(&bl.mu);
    curl_easy_cleanup(h);
    return got;
}

int main(int argc, char **argv)
{
    long long n, rport;
    char h1[160], h2[160], h3[200];
    struct curl_slist *agent = NULL, *user = NULL;
    double *v;
    int got;

    if (argc != 10 || !hp_parse_ll(argv[8], 1, 65535, &rport) ||
        !hp_parse_ll(argv[9], 2, 100000, &n)) {
        fprintf(stderr, "usage: bench_wake BASE_A BASE_B AGENT_ID API_KEY USER_TOKEN DB_URL "
                        "REDIS_HOST REDIS_PORT SAMPLES\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    v = calloc((size_t)n, sizeof(*v));
    (void)hp_fmt(h1, sizeof(h1), "X-Agent-Id: %s", argv[3]);
    (void)hp_fmt(h2, sizeof(h2), "X-Api-Key: %s", argv[4]);
    (void)hp_fmt(h3, sizeof(h3), "Authorization: Bearer %s", argv[5]);
    agent = curl_slist_append(agent, "Content-Type: application/json");
    agent = curl_slist_append(agent, h1);
    agent = curl_slist_append(agent, h2);
    user = curl_slist_append(user, "Content-Type: application/json");
    user = curl_slist_append(user, h3);

    bench__notify(argv[6], v, (int)n);
    bench__report("notify", v, (int)n);
    bench__redis(argv[7], (int)rport, v, (int)n);
    bench__report("redis", v, (int)n);
    /* Each API case twice: from sending, then from the commit. */
    for (int k = 0; k < 4; k++) {
        static const char *const names[] = {"same", "same_after_commit", "cross",
                                            "cross_after_commit"};
        got = bench__api(argv[k < 2 ? 1 : 2], argv[1], k % 2 ? argv[6] : NULL, agent, user, v,
                         (int)n);
        if (got > 1)
            bench__report(names[k], v, got);
    }
    free(v);
    curl_slist_free_all(agent);
    curl_slist_free_all(user);
    curl_global_cleanup();
    return 0;
}
