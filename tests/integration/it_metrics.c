/*
 * /metrics as Prometheus reads it: the default API's exposition, after real
 * requests, must pass `promtool check metrics` (the parser plus its lint
 * rules) with no complaint, and hold the families the operations docs
 * promise: holdpoint_http_requests_total by route, method and status, the
 * holdpoint_http_request_duration_seconds histogram, and the
 * holdpoint_waiters, holdpoint_db_pool_in_use and holdpoint_db_pool_size
 * gauges. Counters must count exactly the requests sent, histograms must be
 * cumulative and end in a +Inf bucket equal to _count, and the pool gauge
 * must show the configured pool. promtool comes from the Debian prometheus
 * package (scripts/packages.txt); without it the test fails.
 *
 * The workers' listeners (HOLDPOINT_METRICS_LISTEN) get the same promtool
 * check in test_worker_metrics, after real work: one due approval with a
 * callback to a local receiver is expired by holdpoint-timeout and its
 * callback sent by holdpoint-delivery, so holdpoint_approvals_expired_total,
 * holdpoint_jobs_claimed_total and holdpoint_jobs_sent_total must have moved.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "hp_itest.h"
#include "it_workers.h"

/* The default API runs with this pool size, so the pool gauge is checked
 * against a value that is not the built-in default. */
#define IT_POOL_SIZE 5
#define IT_STR_(x)   #x
#define IT_STR(x)    IT_STR_(x)

static const char *const default_env[] = {"HOLDPOINT_DB_POOL_SIZE=" IT_STR(IT_POOL_SIZE), NULL};

/* ---- helpers ------------------------------------------------------------- */

typedef struct promtool_result {
    int status;         /* exit status, 128 + signal, or -1 when it did not run */
    const char *output; /* stdout and stderr together, harness-owned */
} promtool_result;

/* Runs `promtool check metrics` on text (through a file in HP_RUN_DIR). */
static promtool_result promtool_check(const char *text, const char *label)
{
    promtool_result res = {-1, ""};
    const char *path =
        hp_it_fmt("%s/metrics-%s-%s.txt", hp_it_env("HP_RUN_DIR"), label, hp_it_unique());
    FILE *f = fopen(path, "w");
    char out[8192];
    size_t n = 0, k;
    int st;

    if (f == NULL)
        return res;
    k = fwrite(text, 1, strlen(text), f);
    if (fclose(f) != 0 || k != strlen(text))
        return res;
    f = popen(hp_it_fmt("promtool check metrics < '%s' 2>&1", path), "r");
    if (f == NULL)
        return res;
    while (n < sizeof(out) - 1 && (k = fread(out + n, 1, sizeof(out) - 1 - n, f)) > 0)
        n += k;
    out[n] = '\0';
    st = pclose(f);
    res.status = st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    res.output = hp_it_fmt("%s", out);
    (void)remove(path);
    return res;
}

/* Asserts that promtool accepts text without a single lint message. */
static void check_promtool(const char *text, const char *label)
{
    promtool_result p = promtool_check(text, label);
    IT_CHECK(p.status == 0, "%s: promtool check metrics exits 0 (got %d): %s", label, p.status,
             p.output);
    IT_CHECK(p.output[0] == '\0', "%s: promtool has no complaint (got: %s)", label, p.output);
}

/* The value of the series `key` (name plus braces, exactly as exposed), or
 * -1 when the exposition has no such line. */
static double series(const char *text, const char *key)
{
    const char *want = hp_it_fmt("%s ", key), *p = text;
    size_t n = strlen(want);

    /* A match at the start of a line: the text's start or after '\n'. */
    while (p != NULL && strncmp(p, want, n) != 0) {
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return p ? strtod(p + n, NULL) : -1;
}

static bool has_line(const char *text, const char *line)
{
    return strstr(text, hp_it_fmt("\n%s\n", line)) != NULL ||
           strncmp(text, hp_it_fmt("%s\n", line), strlen(line) + 1) == 0;
}

static hp_it_resp *scrape(void)
{
    hp_it_resp *r = hp_it_http(NULL, "GET", "/metrics", NULL, NULL);
    IT_STATUS_FATAL(r, 200);
    return r;
}

/* Checks one histogram series: its buckets (`name_bucket{labels,le="..."}`
 * lines, in exposition order) rise in le and never fall in count, the last
 * is +Inf, and it equals name_count; returns _count or -1. */
static double check_histogram(const char *text, const char *name, const char *labels)
{
    const char *prefix = hp_it_fmt("\n%s_bucket{%s,le=\"", name, labels);
    const char *p = text;
    double prev_le = -1, prev_n = 0, count, sum;
    int buckets = 0;
    bool inf = false;

    while ((p = strstr(p, prefix)) != NULL) {
        const char *le = p + strlen(prefix), *close = strstr(le, "\"} ");
        double bound, n;
        if (!IT_CHECK(close != NULL, "%s bucket line is well formed", name))
            return -1;
        inf = strncmp(le, "+Inf\"", 5) == 0;
        bound = inf ? 1e308 : strtod(le, NULL);
        n = strtod(close + 3, NULL);
        IT_CHECK(bound > prev_le, "%s{%s}: le rises (%g after %g)", name, labels, bound, prev_le);
        IT_CHECK(n >= prev_n, "%s{%s}: buckets are cumulative (%g after %g)", name, labels, n,
                 prev_n);
        prev_le = bound;
        prev_n = n;
        buckets++;
        p = close;
    }
    count = series(text, hp_it_fmt("%s_count{%s}", name, labels));
    sum = series(text, hp_it_fmt("%s_sum{%s}", name, labels));
    IT_CHECK(buckets >= 2, "%s{%s}: has buckets (%d)", name, labels, buckets);
    IT_CHECK(inf, "%s{%s}: the last bucket is le=\"+Inf\"", name, labels);
    IT_CHECK(count >= 0 && prev_n == count, "%s{%s}: +Inf bucket %g equals _count %g", name, labels,
             prev_n, count);
    IT_CHECK(sum >= 0, "%s{%s}: _sum present and not negative (%g)", name, labels, sum);
    return count;
}

/* ---- the API --------------------------------------------------------------- */

static void test_api_promtool(void)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_resp *c = hp_it_create_ok(t, "metrics?", NULL);
    const char *rid = json_object_get_string(hp_it_jget(c->json, "request_id", NULL));
    hp_it_resp *r;
    const char *ct;
    double in_use;

    IT_CHECK_FATAL(rid != NULL, "create answers a request_id");
    IT_STATUS(hp_it_agent(t, "GET", hp_it_fmt("/v1/approvals/%s/result", rid), NULL), 200);
    IT_STATUS(hp_it_http(NULL, "GET", "/v1/approvals", NULL, NULL), 401);
    IT_STATUS(hp_it_http(NULL, "GET", "/no-such-route", NULL, NULL), 404);
    IT_STATUS(hp_it_http(NULL, "GET", "/healthz", NULL, NULL), 200);

    r = scrape();
    ct = hp_it_header(r, "Content-Type");
    IT_CHECK(ct != NULL && strncmp(ct, "text/plain", 10) == 0 && strstr(ct, "version=0.0.4"),
             "Content-Type is the text format 0.0.4 (got %s)", ct ? ct : "(none)");
    check_promtool(r->body, "api");

    /* The families, with their types. */
    IT_CHECK(has_line(r->body, "# TYPE holdpoint_http_requests_total counter"),
             "holdpoint_http_requests_total is a counter");
    IT_CHECK(has_line(r->body, "# TYPE holdpoint_http_request_duration_seconds histogram"),
             "holdpoint_http_request_duration_seconds is a histogram");
    IT_CHECK(has_line(r->body, "# TYPE holdpoint_waiters gauge"), "holdpoint_waiters is a gauge");
    IT_CHECK(has_line(r->body, "# TYPE holdpoint_db_pool_in_use gauge"),
             "holdpoint_db_pool_in_use is a gauge");
    IT_CHECK(has_line(r->body, "# TYPE holdpoint_db_pool_size gauge"),
             "holdpoint_db_pool_size is a gauge");

    /* Requests by route, method and status, for each kind sent above. */
    IT_CHECK(series(r->body, "holdpoint_http_requests_total{route=\"/v1/approvals\","
                             "method=\"POST\",status=\"200\"}") >= 1,
             "the create is counted under its route, method and status");
    IT_CHECK(series(r->body, "holdpoint_http_requests_total{route=\"/v1/approvals/{}/result\","
                             "method=\"GET\",status=\"200\"}") >= 1,
             "the poll is counted under its route pattern, not its id");
    IT_CHECK(series(r->body, "holdpoint_http_requests_total{route=\"/v1/approvals\","
                             "method=\"GET\",status=\"401\"}") >= 1,
             "a refused request is counted with its status");
    IT_CHECK(series(r->body, "holdpoint_http_requests_total{route=\"unmatched\","
                             "method=\"GET\",status=\"404\"}") >= 1,
             "an unknown path is counted as route=\"unmatched\"");
    IT_CHECK(strstr(r->body, rid) == NULL, "no request id leaks into a label");
    IT_CHECK(check_histogram(r->body, "holdpoint_http_request_duration_seconds",
                             "route=\"/v1/approvals\",status=\"200\"") >= 1,
             "the create's latency is observed");

    /* The gauges read live state. */
    IT_CHECK(series(r->body, "holdpoint_db_pool_size") == IT_POOL_SIZE,
             "holdpoint_db_pool_size is HOLDPOINT_DB_POOL_SIZE (%d), got %g", IT_POOL_SIZE,
             series(r->body, "holdpoint_db_pool_size"));
    in_use = series(r->body, "holdpoint_db_pool_in_use");
    IT_CHECK(in_use >= 0 && in_use <= IT_POOL_SIZE,
             "holdpoint_db_pool_in_use within the pool (got %g)", in_use);
    IT_CHECK(series(r->body, "holdpoint_waiters") == 0,
             "holdpoint_waiters is 0 while nothing waits (got %g)",
             series(r->body, "holdpoint_waiters"));
}

static void test_api_counts(void)
{
    const char *key =
        "holdpoint_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"}";
    const char *labels = "route=\"/healthz\",status=\"200\"";
    hp_it_resp *before = scrape(), *after;
    double n0 = series(before->body, key), c0, n1, c1;

    c0 = series(before->body,
                hp_it_fmt("holdpoint_http_request_duration_seconds_count{%s}", labels));
    for (int i = 0; i < 3; i++)
        IT_STATUS(hp_it_http(NULL, "GET", "/healthz", NULL, NULL), 200);
    after = scrape();
    n1 = series(after->body, key);
    c1 = check_histogram(after->body, "holdpoint_http_request_duration_seconds", labels);
    /* A series appears on first use: absent before counts as 0. */
    IT_CHECK(n1 - (n0 < 0 ? 0 : n0) == 3, "three requests add 3 to the counter (%g -> %g)", n0, n1);
    IT_CHECK(c1 - (c0 < 0 ? 0 : c0) == 3, "three requests add 3 to the histogram (%g -> %g)", c0,
             c1);
    check_promtool(after->body, "api-counts");
}

/* ---- the workers ------------------------------------------------------------ */

typedef struct body_buf {
    char *data;
    size_t len;
} body_buf;

static size_t collect(char *p, size_t s, size_t n, void *u)
{
    body_buf *b = u;
    char *grown = realloc(b->data, b->len + s * n + 1);
    if (grown == NULL)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, p, s * n);
    b->len += s * n;
    b->data[b->len] = '\0';
    return s * n;
}

/* GET url with a 10 s bound; *status gets the HTTP status (0 when nothing
 * answered) and *type the Content-Type ("" when none). Returns the body,
 * harness-owned ("" when empty). */
static const char *http_get(const char *url, long *status, const char **type)
{
    body_buf b = {NULL, 0};
    CURL *c = curl_easy_init();
    char *ct = NULL;

    *status = 0;
    *type = "";
    IT_CHECK_FATAL(c != NULL, "curl_easy_init");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
            *type = hp_it_fmt("%s", ct);
    }
    curl_easy_cleanup(c);
    if (b.data == NULL)
        return "";
    return hp_it_track(b.data, free);
}

/* A worker started with its metrics listener on a free port. */
typedef struct it_worker {
    const char *bin;
    const char *base; /* http://127.0.0.1:port */
    it_proc *proc;
} it_worker;

/* Starts bin with env plus HOLDPOINT_METRICS_LISTEN and waits for /healthz;
 * false (the log dumped) when it does not answer. */
static bool worker_start(it_worker *w, const char *bin, const char *const *env)
{
    int port = it_free_port(), n = 0;
    const char *full[8];

    while (env[n] != NULL && n < 6) {
        full[n] = env[n];
        n++;
    }
    full[n++] = hp_it_fmt("HOLDPOINT_METRICS_LISTEN=127.0.0.1:%d", port);
    full[n] = NULL;
    w->bin = bin;
    w->base = hp_it_fmt("http://127.0.0.1:%d", port);
    w->proc = it_proc_start(bin, bin, full);
    if (!IT_CHECK(it_get_until_200(hp_it_fmt("%s/healthz", w->base), 10000) == 200,
                  "%s: /healthz answers 200 on HOLDPOINT_METRICS_LISTEN", bin)) {
        it_proc_dump(w->proc);
        return false;
    }
    return true;
}

/* Scrapes the worker's /metrics: 200, text format 0.0.4, promtool clean,
 * holdpoint_ families. Returns the body, or NULL when it did not answer 200. */
static const char *worker_scrape(const it_worker *w)
{
    long status;
    const char *type, *body = http_get(hp_it_fmt("%s/metrics", w->base), &status, &type);

    IT_CHECK(status == 200, "%s: /metrics answers 200 (got %ld)", w->bin, status);
    if (status != 200)
        return NULL;
    IT_CHECK(strcmp(type, "text/plain; version=0.0.4") == 0,
             "%s: Content-Type is text/plain; version=0.0.4 (got %s)", w->bin, type);
    check_promtool(body, w->bin);
    IT_CHECK(strstr(body, "# TYPE holdpoint_") != NULL, "%s: exposes holdpoint_ families", w->bin);
    IT_CHECK(series(body, "holdpoint_db_pool_size") >= 1, "%s: holdpoint_db_pool_size (got %g)",
             w->bin, series(body, "holdpoint_db_pool_size"));
    IT_CHECK(series(body, "holdpoint_db_pool_in_use") >= 0, "%s: holdpoint_db_pool_in_use (got %g)",
             w->bin, series(body, "holdpoint_db_pool_in_use"));
    return body;
}

/* Stops the worker with SIGTERM; it must exit 0. */
static void worker_stop(it_worker *w)
{
    int rc = it_proc_stop(w->proc, 30000);
    IT_CHECK(rc == 0, "%s: exits 0 on SIGTERM (got %d)", w->bin, rc);
    if (rc != 0)
        it_proc_dump(w->proc);
}

static void test_worker_metrics(void)
{
    static const char *const env[] = {"HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1",
                                      "HOLDPOINT_CALLBACK_TIMEOUT_MS=5000", NULL};
    it_worker tmo, dlv;
    it_agent a;
    it_recv *r;
    const char *ap, *body;
    long long n;

    if (!worker_start(&tmo, "holdpoint-timeout", env))
        return;
    if (!worker_start(&dlv, "holdpoint-delivery", env)) {
        worker_stop(&tmo);
        return;
    }
    /* Idle first: the exposition is valid before any work. */
    (void)worker_scrape(&tmo);
    (void)worker_scrape(&dlv);

    /* Real work: a due approval whose callback goes to a local receiver. */
    a = it_agent_new();
    r = it_recv_start(NULL, 0, 0);
    ap = it_approval_insert(&a, "now() - interval '1 second'",
                            hp_it_fmt("http://127.0.0.1:%d/hook", r->port));
    /* Inserted behind the API's back: wake the sleeping timeout worker as a
     * create with an earlier deadline would. */
    IT_CHECK(hp_it_sql_exec("notify hp_expiry", (const char *)NULL), "notify hp_expiry");
    n = it_sql_wait(
        1, 15000, "select count(*) from approvals where id = $1::uuid and status = 'expired'", ap);
    IT_CHECK(n == 1, "the timeout worker expires the due approval");
    IT_CHECK(it_recv_wait(r, 1, 15000), "the delivery worker sends its callback");
    n = it_sql_wait(
        1, 15000, "select count(*) from jobs where approval_id = $1::uuid and state = 'done'", ap);
    IT_CHECK(n == 1, "the callback job is recorded as done");

    body = worker_scrape(&tmo);
    if (body != NULL) {
        IT_CHECK(series(body, "holdpoint_approvals_expired_total") >= 1,
                 "holdpoint_approvals_expired_total >= 1 (got %g)",
                 series(body, "holdpoint_approvals_expired_total"));
        IT_CHECK(series(body, "holdpoint_expiry_batches_total") >= 1,
                 "holdpoint_expiry_batches_total >= 1 (got %g)",
                 series(body, "holdpoint_expiry_batches_total"));
        IT_CHECK(series(body, "holdpoint_expiry_lag_seconds_count") >= 1,
                 "the expiry's lag is observed (count %g)",
                 series(body, "holdpoint_expiry_lag_seconds_count"));
        IT_CHECK(series(body, "holdpoint_expiry_overdue") >= 0,
                 "holdpoint_expiry_overdue is a count (got %g)",
                 series(body, "holdpoint_expiry_overdue"));
    }
    body = worker_scrape(&dlv);
    if (body != NULL) {
        IT_CHECK(series(body, "holdpoint_jobs_claimed_total") >= 1,
                 "holdpoint_jobs_claimed_total >= 1 (got %g)",
                 series(body, "holdpoint_jobs_claimed_total"));
        IT_CHECK(series(body, "holdpoint_jobs_sent_total") >= 1,
                 "holdpoint_jobs_sent_total >= 1 (got %g)",
                 series(body, "holdpoint_jobs_sent_total"));
        IT_CHECK(series(body, "holdpoint_delivery_attempt_duration_seconds_count") >= 1,
                 "the attempt's duration is observed (count %g)",
                 series(body, "holdpoint_delivery_attempt_duration_seconds_count"));
        IT_CHECK(series(body, "holdpoint_jobs_in_flight") >= 0,
                 "holdpoint_jobs_in_flight is a count (got %g)",
                 series(body, "holdpoint_jobs_in_flight"));
        IT_CHECK(series(body, "holdpoint_outbox_depth") >= 0,
                 "holdpoint_outbox_depth is a count (got %g)",
                 series(body, "holdpoint_outbox_depth"));
    }
    worker_stop(&dlv);
    worker_stop(&tmo);
}

int main(void)
{
    hp_it_test tests[4];
    size_t n = 0;

    tests[n++] =
        (hp_it_test){"api /metrics passes promtool and has the families", test_api_promtool};
    tests[n++] = (hp_it_test){"api counters and histograms count each request", test_api_counts};
    tests[n++] =
        (hp_it_test){"worker /metrics pass promtool and count real work", test_worker_metrics};
    tests[n] = (hp_it_test){NULL, NULL};
    hp_it_set_default_env(default_env);
    return hp_it_main("metrics", tests, NULL, NULL);
}
