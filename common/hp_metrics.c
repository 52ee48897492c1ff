/*
 * hp_metrics: families in declaration order, each with its series in
 * creation order, under one mutex. Series are few (routes x statuses), so a
 * linear search per update is cheaper than it looks and keeps this simple.
 */
#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hp_buf.h"
#include "hp_mem.h"
#include "hp_metrics.h"

#define HP__MAX_BUCKETS 16

typedef struct hp__series {
    char *labels;
    double value; /* counter, gauge */
    double sum;   /* histogram */
    unsigned long long count;
    unsigned long long bucket[HP__MAX_BUCKETS];
    struct hp__series *next;
} hp__series;

typedef struct hp__family {
    char *name;
    char *help;
    hp_metric_type type;
    double bounds[HP__MAX_BUCKETS];
    size_t nbounds;
    double (*fn)(void *ctx);
    void *ctx;
    hp__series *series, *last;
    struct hp__family *next;
} hp__family;

struct hp_metrics {
    pthread_mutex_t mu;
    hp__family *families, *last;
};

hp_metrics *hp_metrics_new(void)
{
    hp_metrics *m = hp_xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

void hp_metrics_free(hp_metrics *m)
{
    if (m == NULL)
        return;
    for (hp__family *f = m->families, *fn; f; f = fn) {
        fn = f->next;
        for (hp__series *s = f->series, *sn; s; s = sn) {
            sn = s->next;
            free(s->labels);
            free(s);
        }
        free(f->name);
        free(f->help);
        free(f);
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static hp__family *hp__family_add(hp_metrics *m, const char *name, hp_metric_type type,
                                  const char *help)
{
    hp__family *f = hp_xcalloc(1, sizeof(*f));
    f->name = hp_xstrdup(name);
    f->help = hp_xstrdup(help);
    f->type = type;
    pthread_mutex_lock(&m->mu);
    if (m->last)
        m->last->next = f;
    else
        m->families = f;
    m->last = f;
    pthread_mutex_unlock(&m->mu);
    return f;
}

void hp_metrics_family(hp_metrics *m, const char *name, hp_metric_type type, const char *help,
                       const double *buckets, size_t nbuckets)
{
    hp__family *f = hp__family_add(m, name, type, help);
    if (nbuckets > HP__MAX_BUCKETS)
        nbuckets = HP__MAX_BUCKETS;
    for (size_t i = 0; i < nbuckets; i++)
        f->bounds[i] = buckets[i];
    f->nbounds = nbuckets;
}

void hp_metrics_gauge_fn(hp_metrics *m, const char *name, const char *help, double (*fn)(void *ctx),
                         void *ctx)
{
    hp__family *f = hp__family_add(m, name, HP_METRIC_GAUGE, help);
    f->fn = fn;
    f->ctx = ctx;
}

void hp_metrics_counter_fn(hp_metrics *m, const char *name, const char *help,
                           double (*fn)(void *ctx), void *ctx)
{
    hp__family *f = hp__family_add(m, name, HP_METRIC_COUNTER, help);
    f->fn = fn;
    f->ctx = ctx;
}

/* Finds or creates the series (mu held). */
static hp__series *hp__series_get(hp_metrics *m, const char *name, const char *labels,
                                  hp__family **fam)
{
    hp__family *f;
    hp__series *s;

    if (labels == NULL)
        labels = "";
    for (f = m->families; f; f = f->next)
        if (strcmp(f->name, name) == 0)
            break;
    if (f == NULL || f->fn != NULL)
        return NULL;
    *fam = f;
    for (s = f->series; s; s = s->next)
        if (strcmp(s->labels, labels) == 0)
            return s;
    s = hp_xcalloc(1, sizeof(*s));
    s->labels = hp_xstrdup(labels);
    if (f->last)
        f->last->next = s;
    else
        f->series = s;
    f->last = s;
    return s;
}

void hp_metrics_add(hp_metrics *m, const char *name, const char *labels, double v)
{
    hp__family *f;
    pthread_mutex_lock(&m->mu);
    hp__series *s = hp__series_get(m, name, labels, &f);
    if (s)
        s->value += v;
    pthread_mutex_unlock(&m->mu);
}

void hp_metrics_set(hp_metrics *m, const char *name, const char *labels, double v)
{
    hp__family *f;
    pthread_mutex_lock(&m->mu);
    hp__series *s = hp__series_get(m, name, labels, &f);
    if (s)
        s->value = v;
    pthread_mutex_unlock(&m->mu);
}

void hp_metrics_observe(hp_metrics *m, const char *name, const char *labels, double v)
{
    hp__family *f;
    pthread_mutex_lock(&m->mu);
    hp__series *s = hp__series_get(m, name, labels, &f);
    if (s) {
        for (size_t i = 0; i < f->nbounds; i++)
            if (v <= f->bounds[i])
                s->bucket[i]++;
        s->sum += v;
        s->count++;
    }
    pthread_mutex_unlock(&m->mu);
}

int hp_metrics_escape(const char *value, char *out, size_t cap)
{
    size_t n = 0;
    for (; *value; value++) {
        const char *rep = NULL;
        char one[2] = {*value, '\0'};
        if (*value == '\\')
            rep = "\\\\";
        else if (*value == '"')
            rep = "\\\"";
        else if (*value == '\n')
            rep = "\\n";
        else
            rep = one;
        size_t k = strlen(rep);
        if (n + k >= cap)
            return 0;
        memcpy(out + n, rep, k);
        n += k;
    }
    if (cap == 0)
        return 0;
    out[n] = '\0';
    return 1;
}

/* The exposition buffer is capped far above any real registry; an append that
 * would pass the cap truncates the scrape rather than failing it. */
static void hp__puts(hp_buf *b, const char *s)
{
    hp_err rc = hp_buf_puts(b, s);
    (void)rc;
}

static void hp__printf(hp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hp__printf(hp_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    hp__puts(b, tmp);
}

/* HELP text escapes backslash and newline (the text format, version 0.0.4);
 * a raw newline would end the line and break the scrape. */
static void hp__help(hp_buf *b, const char *help)
{
    char tmp[512];
    size_t n = 0;

    for (; *help; help++) {
        if (n + 3 > sizeof(tmp)) {
            tmp[n] = '\0';
            hp__puts(b, tmp);
            n = 0;
        }
        if (*help == '\\' || *help == '\n') {
            tmp[n++] = '\\';
            tmp[n++] = *help == '\n' ? 'n' : '\\';
        } else {
            tmp[n++] = *help;
        }
    }
    tmp[n] = '\0';
    hp__puts(b, tmp);
}

static void hp__num(hp_buf *b, double v)
{
    if (isnan(v))
        hp__puts(b, "NaN");
    else if (isinf(v))
        hp__puts(b, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        hp__printf(b, "%.0f", v);
    else
        hp__printf(b, "%.9g", v);
}

/* name{labels,extra} with the braces only when something is inside. */
static void hp__series_name(hp_buf *b, const char *name, const char *suffix, const char *labels,
                            const char *extra)
{
    bool has_l = labels && labels[0], has_e = extra && extra[0];
    hp__printf(b, "%s%s", name, suffix);
    if (has_l || has_e)
        hp__printf(b, "{%s%s%s}", has_l ? labels : "", has_l && has_e ? "," : "",
                   has_e ? extra : "");
    hp__puts(b, " ");
}

char *hp_metrics_render(hp_metrics *m)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    hp_buf b;

    hp_buf_init(&b, 64u << 20);
    pthread_mutex_lock(&m->mu);
    for (hp__family *f = m->families; f; f = f->next) {
        hp__printf(&b, "# HELP %s ", f->name);
        hp__help(&b, f->help);
        hp__printf(&b, "\n# TYPE %s %s\n", f->name, types[f->type]);
        if (f->fn) {
            hp__series_name(&b, f->name, "", NULL, NULL);
            hp__num(&b, f->fn(f->ctx));
            hp__puts(&b, "\n");
            continue;
        }
        for (hp__series *s = f->series; s; s = s->next) {
            if (f->type != HP_METRIC_HISTOGRAM) {
                hp__series_name(&b, f->name, "", s->labels, NULL);
                hp__num(&b, s->value);
                hp__puts(&b, "\n");
                continue;
            }
            for (size_t i = 0; i < f->nbounds; i++) {
                char le[48];
                (void)snprintf(le, sizeof(le), "le=\"%.9g\"", f->bounds[i]);
                hp__series_name(&b, f->name, "_bucket", s->labels, le);
                hp__num(&b, (double)s->bucket[i]);
                hp__puts(&b, "\n");
            }
            hp__series_name(&b, f->name, "_bucket", s->labels, "le=\"+Inf\"");
            hp__num(&b, (double)s->count);
            hp__puts(&b, "\n");
            hp__series_name(&b, f->name, "_sum", s->labels, NULL);
            hp__num(&b, s->sum);
            hp__puts(&b, "\n");
            hp__series_name(&b, f->name, "_count", s->labels, NULL);
            hp__num(&b, (double)s->count);
            hp__puts(&b, "\n");
        }
    }
    pthread_mutex_unlock(&m->mu);
    if (b.data == NULL)
        return hp_xstrdup("");
    return hp_buf_steal(&b);
}
