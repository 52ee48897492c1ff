/*
 * hp_metrics: a small Prometheus registry shared by every process. Families
 * are declared once (name, type, help); series are created on first use from
 * a pre-rendered label string such as `route="/v1/approvals",status="200"`.
 * Gauges can also be read from a callback at scrape time. hp_metrics_render
 * produces the text exposition format (version 0.0.4). Thread-safe.
 */
#ifndef HP_METRICS_H
#define HP_METRICS_H

#include <stddef.h>

/* The Content-Type of hp_metrics_render's text. */
#define HP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4"

typedef struct hp_metrics hp_metrics;

typedef enum { HP_METRIC_COUNTER = 0, HP_METRIC_GAUGE, HP_METRIC_HISTOGRAM } hp_metric_type;

hp_metrics *hp_metrics_new(void);
void hp_metrics_free(hp_metrics *m);

/* Declares a family; must happen before its first use. Histograms use the
 * given upper bounds (ascending, nb of them) in seconds or their own unit. */
void hp_metrics_family(hp_metrics *m, const char *name, hp_metric_type type, const char *help,
                       const double *buckets, size_t nbuckets);
/* A gauge whose value fn(ctx) is read at every scrape (no labels). */
void hp_metrics_gauge_fn(hp_metrics *m, const char *name, const char *help, double (*fn)(void *ctx),
                         void *ctx);

/* A counter kept elsewhere (it only grows), read at every scrape through
 * fn(ctx) (no labels). */
void hp_metrics_counter_fn(hp_metrics *m, const char *name, const char *help,
                           double (*fn)(void *ctx), void *ctx);

/* labels may be NULL or "" for an unlabelled series. Unknown names are
 * ignored (a programming error, not worth a crash in production). */
void hp_metrics_add(hp_metrics *m, const char *name, const char *labels, double v);
void hp_metrics_set(hp_metrics *m, const char *name, const char *labels, double v);
void hp_metrics_observe(hp_metrics *m, const char *name, const char *labels, double v);

/* Escapes a label value (\, ", newline) into out; false when it does not fit. */
int hp_metrics_escape(const char *value, char *out, size_t cap);

/* The exposition text; heap string, caller frees. */
char *hp_metrics_render(hp_metrics *m);

#endif
