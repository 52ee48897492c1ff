/*
 * Reminders and escalation with two holdpoint-timeout workers racing over
 * the same approvals, a real holdpoint-delivery and a local receiver: every
 * pending approval is reminded exactly once (to the agent's routed channel,
 * "Reminder: …") and escalated exactly once (to the escalation channel,
 * "Escalated: …"); approvals decided before a step never take it; the steps
 * are in approval_notify_steps and the audit trail; the workers wake for a
 * step without polling (the plan includes it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_workers.h"

#define N_APPROVALS 24
#define N_DECIDED   6

static const char *jstr(json_object *o, const char *path)
{
    json_object *v = hp_it_jget(o, path, NULL);
    return v != NULL ? json_object_get_string(v) : NULL;
}

static json_object *channel(const char *const *args)
{
    const char *full[40] = {"admin", "channel"};
    int n = 2;
    for (const char *const *a = args; *a != NULL; a++)
        full[n++] = *a;
    full[n++] = "--json";
    full[n] = NULL;
    setenv("HOLDPOINT_OUTBOUND_ALLOW", "127.0.0.1", 1);
    return hp_it_admin(full);
}

/* Requests to path whose JSON title starts with prefix. */
static int titled(it_recv *r, const char *path, const char *prefix)
{
    const char *line = hp_it_fmt("POST %s HTTP/1.1", path);
    int n = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n; i++) {
        json_object *o;
        if (strncmp(r->reqs[i].head, line, strlen(line)) != 0)
            continue;
        o = json_tokener_parse(r->reqs[i].body);
        if (o != NULL && jstr(o, "title") != NULL &&
            strncmp(jstr(o, "title"), prefix, strlen(prefix)) == 0)
            n++;
        json_object_put(o);
    }
    pthread_mutex_unlock(&r->mu);
    return n;
}

static bool wait_titled(it_recv *r, const char *path, const char *prefix, int n, long ms)
{
    double end = hp_it_now() + (double)ms / 1000.0;
    while (titled(r, path, prefix) < n && hp_it_now() < end)
        hp_it_sleep_ms(50);
    return titled(r, path, prefix) >= n;
}

static void test_two_workers_once_per_step(void)
{
    const hp_it_team *t = hp_it_team_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    const char *base = hp_it_api_base(hp_it_api_default());
    const char *a[] = {"add",     "--team-id", t->team_id,
                       "--kind",  "ntfy",      "--name",
                       "Ask",     "--url",     hp_it_fmt("http://127.0.0.1:%d/ask", r->port),
                       "--topic", "t",         NULL};
    const char *b[] = {"add",      "--team-id", t->team_id,
                       "--kind",   "ntfy",      "--name",
                       "Escalate", "--url",     hp_it_fmt("http://127.0.0.1:%d/esc", r->port),
                       "--topic",  "t",         NULL};
    const char *p[] = {"add",     "--team-id", t->team_id, "--kind",
                       "webpush", "--name",    "Devices",  NULL};
    const char *ask = jstr(channel(a), "channel_id"), *esc = jstr(channel(b), "channel_id");
    const char *ids[N_APPROVALS];
    const char *env[] = {
        "HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", "HOLDPOINT_CALLBACK_BASE_DELAY_MS=100",
        "HOLDPOINT_CALLBACK_MAX_DELAY_MS=300", hp_it_fmt("HOLDPOINT_PUBLIC_URL=%s", base), NULL};
    const char *late;
    it_proc *t1, *t2, *d;

    (void)channel(p);
    {
        /* Reminder after 2 s to the routed channel, escalation after 9 s
         * to the other channel and to the owner (reachable: the team has a
         * webpush channel, though the owner enabled no device). */
        const char *route[] = {"route",     "--agent-id",
                               t->agent_id, "--channels",
                               ask,         "--remind-after",
                               "2s",        "--escalate-after",
                               "9s",        "--escalate-channels",
                               esc,         "--escalate-users",
                               t->user_id,  NULL};
        (void)channel(route);
    }
    for (int i = 0; i < N_APPROVALS; i++) {
        hp_it_resp *res = hp_it_create_ok(t, hp_it_fmt("Step %d?", i), NULL);
        ids[i] = jstr(res->json, "approval_id");
    }
    for (int i = 0; i < N_DECIDED; i++)
        IT_STATUS(hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", ids[i]),
                             "{\"option_index\":0}"),
                  200);
    t1 = it_proc_start("holdpoint-timeout", "timeout-a", env);
    t2 = it_proc_start("holdpoint-timeout", "timeout-b", env);
    d = it_proc_start("holdpoint-delivery", "delivery-steps", env);

    IT_CHECK(wait_titled(r, "/ask", "Reminder: ", N_APPROVALS - N_DECIDED, 20000), "%d reminders",
             titled(r, "/ask", "Reminder: "));
    /* Decided after its reminder and before its escalation: never
     * escalated. */
    late = ids[N_DECIDED];
    IT_STATUS(hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", late),
                         "{\"option_index\":1}"),
              200);
    IT_CHECK(wait_titled(r, "/esc", "Escalated: ", N_APPROVALS - N_DECIDED - 1, 25000),
             "%d escalations", titled(r, "/esc", "Escalated: "));
    hp_it_sleep_ms(1500); /* room for a duplicate to show up */

    IT_CHECK(titled(r, "/ask", "Reminder: ") == N_APPROVALS - N_DECIDED, "%d reminders sent",
             titled(r, "/ask", "Reminder: "));
    IT_CHECK(titled(r, "/esc", "Escalated: ") == N_APPROVALS - N_DECIDED - 1, "%d escalations sent",
             titled(r, "/esc", "Escalated: "));
    /* The decided ones closed before the delivery worker started: their
     * notices were never sent. */
    IT_CHECK(titled(r, "/ask", "Step ") == N_APPROVALS - N_DECIDED, "%d created notices",
             titled(r, "/ask", "Step "));
    IT_CHECK(titled(r, "/esc", "Reminder: ") == 0 && titled(r, "/ask", "Escalated: ") == 0,
             "a step went to the wrong channel");
    IT_CHECK(hp_it_sql_int("select count(*) from approval_notify_steps where team_id = $1 and "
                           "step = 'remind'",
                           t->team_id, (const char *)NULL) == N_APPROVALS - N_DECIDED,
             "remind steps");
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where team_id = $1 and "
                           "kind = 'escalated'",
                           t->team_id, (const char *)NULL) == N_APPROVALS - N_DECIDED - 1,
             "escalated events");
    for (int i = 0; i < N_DECIDED; i++)
        IT_CHECK(hp_it_sql_int("select count(*) from approval_notify_steps where approval_id = $1",
                               ids[i], (const char *)NULL) == 0,
                 "a decided approval took a step");
    IT_CHECK(hp_it_sql_int("select count(*) from approval_notify_steps where approval_id = $1 "
                           "and step = 'escalate'",
                           late, (const char *)NULL) == 0,
             "escalated after its decision");
    /* Both workers did work or raced for it; both logged their steps. */
    IT_CHECK(it_proc_log_count(t1, "reminders and escalations queued") +
                     it_proc_log_count(t2, "reminders and escalations queued") >=
                 2,
             "steps not logged");
    IT_CHECK(it_proc_stop(t1, 15000) == 0 && it_proc_stop(t2, 15000) == 0, "timeout exit status");
    IT_CHECK(it_proc_stop(d, 15000) == 0, "delivery exit status");
}

static int setup(void)
{
    return it_schema_ready();
}

static int teardown(void)
{
    return it_jobs_cleanup();
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"two timeout workers: each step once, none after a decision",
         test_two_workers_once_per_step},
        {NULL, NULL}};
    return hp_it_main("it_steps", tests, setup, teardown);
}
