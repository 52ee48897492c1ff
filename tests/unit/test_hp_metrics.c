/*
 * Unit tests for hp_metrics: the exposition text of each family type (HELP
 * and TYPE once per family, series in creation order), counters that add,
 * gauges that set, histograms with cumulative buckets, +Inf, sum and count,
 * scrape-time gauges, label escaping, unknown names ignored, and counts kept
 * exact when many threads add at once.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_metrics.h"
#include "hp_unit.h"

/* True when text has line as a whole line. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

static int count_of(const char *text, const char *s)
{
    int k = 0;
    for (const char *p = text; (p = strstr(p, s)) != NULL; p += strlen(s))
        k++;
    return k;
}

static void test_counter_gauge(void)
{
    hp_metrics *m = hp_metrics_new();
    char *t;

    hp_metrics_family(m, "hp_requests_total", HP_METRIC_COUNTER, "Requests served.", NULL, 0);
    hp_metrics_family(m, "hp_depth", HP_METRIC_GAUGE, "Queue depth.", NULL, 0);
    hp_metrics_add(m, "hp_requests_total", "route=\"/a\",status=\"200\"", 1);
    hp_metrics_add(m, "hp_requests_total", "route=\"/a\",status=\"200\"", 2);
    hp_metrics_add(m, "hp_requests_total", "route=\"/b\",status=\"404\"", 1);
    hp_metrics_set(m, "hp_depth", NULL, 7);
    hp_metrics_set(m, "hp_depth", NULL, 3);
    hp_metrics_add(m, "hp_not_declared", NULL, 1); /* ignored */
    t = hp_metrics_render(m);
    CU_ASSERT_TRUE(has_line(t, "# HELP hp_requests_total Requests served."));
    CU_ASSERT_TRUE(has_line(t, "# TYPE hp_requests_total counter"));
    CU_ASSERT_TRUE(has_line(t, "hp_requests_total{route=\"/a\",status=\"200\"} 3"));
    CU_ASSERT_TRUE(has_line(t, "hp_requests_total{route=\"/b\",status=\"404\"} 1"));
    CU_ASSERT_TRUE(has_line(t, "# TYPE hp_depth gauge"));
    CU_ASSERT_TRUE(has_line(t, "hp_depth 3"));
    CU_ASSERT_EQUAL(count_of(t, "# TYPE hp_requests_total"), 1);
    CU_ASSERT_PTR_NULL(strstr(t, "hp_not_declared"));
    free(t);
    hp_metrics_free(m);
}

static void test_histogram(void)
{
    static const double b[] = {0.1, 1, 10};
    hp_metrics *m = hp_metrics_new();
    char *t;

    hp_metrics_family(m, "hp_seconds", HP_METRIC_HISTOGRAM, "Latency.", b, 3);
    hp_metrics_observe(m, "hp_seconds", "route=\"/a\"", 0.05);
    hp_metrics_observe(m, "hp_seconds", "route=\"/a\"", 0.5);
    hp_metrics_observe(m, "hp_seconds", "route=\"/a\"", 5);
    hp_metrics_observe(m, "hp_seconds", "route=\"/a\"", 50);
    t = hp_metrics_render(m);
    CU_ASSERT_TRUE(has_line(t, "# TYPE hp_seconds histogram"));
    CU_ASSERT_TRUE(has_line(t, "hp_seconds_bucket{route=\"/a\",le=\"0.1\"} 1"));
    CU_ASSERT_TRUE(has_line(t, "hp_seconds_bucket{route=\"/a\",le=\"1\"} 2"));
    CU_ASSERT_TRUE(has_line(t, "hp_seconds_bucket{route=\"/a\",le=\"10\"} 3"));
    CU_ASSERT_TRUE(has_line(t, "hp_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4"));
    CU_ASSERT_TRUE(has_line(t, "hp_seconds_sum{route=\"/a\"} 55.55"));
    CU_ASSERT_TRUE(has_line(t, "hp_seconds_count{route=\"/a\"} 4"));
    free(t);
    hp_metrics_free(m);
}

static double seven(void *ctx)
{
    return *(double *)ctx;
}

static void test_gauge_fn_and_escape(void)
{
    hp_metrics *m = hp_metrics_new();
    double v = 7;
    char out[64], *t;

    hp_metrics_gauge_fn(m, "hp_pool_in_use", "Connections borrowed.", seven, &v);
    v = 9; /* read at scrape time, not at registration */
    t = hp_metrics_render(m);
    CU_ASSERT_TRUE(has_line(t, "# TYPE hp_pool_in_use gauge"));
    CU_ASSERT_TRUE(has_line(t, "hp_pool_in_use 9"));
    free(t);
    CU_ASSERT_TRUE(hp_metrics_escape("a\"b\\c\nd", out, sizeof(out)));
    CU_ASSERT_STRING_EQUAL(out, "a\\\"b\\\\c\\nd");
    CU_ASSERT_FALSE(hp_metrics_escape("0123456789", out, 8));
    hp_metrics_free(m);
}

static void *adder(void *arg)
{
    for (int i = 0; i < 10000; i++)
        hp_metrics_add(arg, "hp_n_total", "k=\"v\"", 1);
    return NULL;
}

static void test_threads(void)
{
    hp_metrics *m = hp_metrics_new();
    pthread_t t[4];
    char *text;

    hp_metrics_family(m, "hp_n_total", HP_METRIC_COUNTER, "N.", NULL, 0);
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, adder, m);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    text = hp_metrics_render(m);
    CU_ASSERT_TRUE(has_line(text, "hp_n_total{k=\"v\"} 40000"));
    free(text);
    hp_metrics_free(m);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"counter and gauge", test_counter_gauge},
        {"histogram", test_histogram},
        {"scrape-time gauge and escaping", test_gauge_fn_and_escape},
        {"threads", test_threads},
        {NULL, NULL},
    };
    return hp_unit_main("hp_metrics", tests);
}
