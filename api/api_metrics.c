/*
 * api_metrics: the metric families of holdpoint-api. Request counts and
 * latencies are recorded by api_dispatch for every request; the gauges are
 * read at scrape time from the pool and the waiter registry.
 */
#include "api.h"

static double api__waiters(void *ctx)
{
    return (double)hp_waiters_count(((hp_app *)ctx)->waiters);
}

static double api__wake_pg(void *ctx)
{
    return hp_waiters_pg_up(((hp_app *)ctx)->waiters) ? 1 : 0;
}

static double api__wake_redis(void *ctx)
{
    return hp_waiters_redis_up(((hp_app *)ctx)->waiters) ? 1 : 0;
}

static double api__by_decision(void *ctx)
{
    return (double)hp_waiters_by_decision(((hp_app *)ctx)->waiters);
}

static double api__keymem(hp_app *app, bool refused)
{
    hp_keymem_stats st;

    hp_keymem_stats_get(app->keymem, &st);
    return (double)(refused ? st.refused : st.hits);
}

static double api__keymem_hits(void *ctx)
{
    return api__keymem(ctx, false);
}

static double api__keymem_refused(void *ctx)
{
    return api__keymem(ctx, true);
}

static double api__socket_misses(void *ctx)
{
    return (double)hp_waiters_socket_misses(((hp_app *)ctx)->waiters);
}

/* The shared statements of the key lookup and create batches, and the
 * requests they served. */
static double api__batched(hp_app *app, bool items)
{
    hp_batch *const all[] = {app->key_batch, app->key_row_batch, app->env.creates};
    double sum = 0;

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        hp_batch_stats st;
        if (all[i] == NULL)
            continue;
        hp_batch_stats_get(all[i], &st);
        sum += (double)(items ? st.items : st.calls);
    }
    return sum;
}

static double api__batch_calls(void *ctx)
{
    return api__batched(ctx, false);
}

static double api__batch_items(void *ctx)
{
    return api__batched(ctx, true);
}

void api_metrics_init(hp_app *app)
{
    static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60};
    hp_metrics *m = app->metrics;

    hp_metrics_family(m, "holdpoint_http_requests_total", HP_METRIC_COUNTER,
                      "HTTP requests answered, by route, method and status.", NULL, 0);
    hp_metrics_family(m, "holdpoint_http_request_duration_seconds", HP_METRIC_HISTOGRAM,
                      "Time from request to response, by route and status (waits included).",
                      buckets, sizeof(buckets) / sizeof(buckets[0]));
    hp_metrics_gauge_fn(m, "holdpoint_waiters", "Requests waiting for a decision.", api__waiters,
                        app);
    hp_metrics_family(m, "holdpoint_waits_refused_total", HP_METRIC_COUNTER,
                      "Waits refused, by reason: team or key (that share was used, 429), "
                      "unavailable (process full, stopping or without wake source, 503).",
                      NULL, 0);
    hp_metrics_counter_fn(m, "holdpoint_waits_answered_by_decision_total",
                          "Long-polls answered from the decision's own row (its statement's "
                          "result here, or the row its NOTIFY carries), without a re-read.",
                          api__by_decision, app);
    hp_metrics_counter_fn(m, "holdpoint_waiter_socket_misses_total",
                          "Long-polls whose socket could not be found for hang-up detection "
                          "(they end at their deadline instead).",
                          api__socket_misses, app);
    hp_db_metrics(app->db, m);
    hp_metrics_counter_fn(m, "holdpoint_db_batch_statements_total",
                          "Statements run for batched key lookups and creates.", api__batch_calls,
                          app);
    hp_metrics_counter_fn(m, "holdpoint_db_batch_requests_total",
                          "Key lookups and creates those statements served (over the statements: "
                          "the mean batch).",
                          api__batch_items, app);
    hp_metrics_counter_fn(m, "holdpoint_key_memory_hits_total",
                          "Creates made without a key lookup: their API key was in this "
                          "replica's memory and their insert confirmed it.",
                          api__keymem_hits, app);
    hp_metrics_counter_fn(m, "holdpoint_key_memory_refused_total",
                          "Creates whose insert refused the remembered key (revoked, its team "
                          "given a quota, or an agent's defaults changed since): looked up again.",
                          api__keymem_refused, app);
    hp_metrics_gauge_fn(m, "holdpoint_wake_postgresql_up",
                        "1 while the PostgreSQL LISTEN connection for wakeups is up.", api__wake_pg,
                        app);
    hp_metrics_gauge_fn(m, "holdpoint_wake_redis_up",
                        "1 while the Redis subscription for wakeups is up (0 when not configured).",
                        api__wake_redis, app);
}
