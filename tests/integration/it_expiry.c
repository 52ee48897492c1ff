/*
 * holdpoint-timeout against real PostgreSQL (and Redis): expiry per timeout
 * mode with the default option rules of seed 003 and seed 004, the audit
 * event and callback job written with it; the wake protocol (a create through
 * the real API with an earlier deadline wakes a sleeping worker, which then
 * plans that deadline; expiry lag stays small); Redis PUBLISH on hp:approval;
 * expiry driving a callback end to end through holdpoint-delivery; two
 * workers over 1,000 due approvals expiring each exactly once; SIGTERM; and
 * recovery after a PostgreSQL restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_workers.h"

#define WORKER "holdpoint-timeout"

static void jput(void *p)
{
    json_object_put(p);
}

static const char *col(const char *id, const char *c)
{
    return hp_it_sql_str(hp_it_fmt("select %s::text from approvals where id = $1::uuid", c), id,
                         (const char *)NULL);
}

static long long team_pending(const it_agent *a)
{
    return hp_it_sql_int("select count(*) from approvals where team_id = $1::uuid and "
                         "status = 'pending'",
                         a->team->team_id, (const char *)NULL);
}

/* Inserts an approval with explicit options, mode and source. */
static const char *insert_full(const it_agent *a, const char *expires_sql, const char *options,
                               const char *mode, const char *instruction, const char *source,
                               const char *callback_url)
{
    const char *sql = hp_it_fmt(
        "insert into approvals (id, team_id, agent_id, request_id, request_id_supplied, "
        "question, context_markdown, options, timeout_seconds, timeout_mode, "
        "predefined_instruction, expires_at, canonical_hash, callback_url, callback_headers, "
        "source) values (gen_random_uuid(), $1, $2, 'it-' || gen_random_uuid(), true, 'q?', "
        "'ctx', $3::jsonb, 60, $4, nullif($5, ''), %s, '\\x00', nullif($6, ''), "
        "case when $6 = '' then null else '{\"X-Run\":\"1\"}'::jsonb end, $7) "
        "returning id::text",
        expires_sql);
    return hp_it_sql_str(sql, a->team->team_id, a->agent_id, options, mode,
                         instruction ? instruction : "", callback_url ? callback_url : "", source,
                         (const char *)NULL);
}

/* The callback body the receiver got for approval_id: expiry queues the job
 * without a body and holdpoint-delivery renders it from the closed row. */
static json_object *job_body(it_recv *r, const char *approval_id)
{
    json_object *found = NULL;

    IT_CHECK(hp_it_sql_int("select count(*) from jobs where approval_id = $1::uuid and "
                           "kind = 'callback' and body is null",
                           approval_id, (const char *)NULL) == 1,
             "the expiry's callback job is queued without a body");
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n && found == NULL; i++) {
        json_object *j = strncmp(r->reqs[i].head, "POST /expired ", 14) == 0
                             ? json_tokener_parse(r->reqs[i].body)
                             : NULL; /* the callbacks, not the project webhooks */
        if (j == NULL)
            continue;
        hp_it_track(j, jput);
        const char *id = json_object_get_string(hp_it_jget(j, "approval_id", NULL));
        if (id != NULL && strcmp(id, approval_id) == 0)
            found = j;
    }
    pthread_mutex_unlock(&r->mu);
    return found;
}

static void test_modes_and_defaults(void)
{
    it_agent a = it_agent_new();
    const char *due = "now() - interval '1 second'";
    it_recv *rcv = it_recv_start(NULL, 0, 0);
    const char *cb = hp_it_fmt("http://127.0.0.1:%d/expired", rcv->port);
    const char *two = "[{\"label\":\"Allow\",\"value\":\"allow\"},"
                      "{\"label\":\"Deny\",\"value\":\"deny\",\"is_default_on_timeout\":true}]";
    const char *none = "[{\"label\":\"Allow\",\"value\":\"allow\"},"
                       "{\"label\":\"Deny\",\"value\":\"deny\"}]";
    const char *no_action = insert_full(&a, due, none, "expire_no_action", NULL, "v1", cb);
    const char *instr =
        insert_full(&a, due, none, "expire_with_predefined_instruction", "roll back", "v1", cb);
    const char *marked = insert_full(&a, due, two, "expire_no_action", NULL, "v1", cb);
    const char *dec_none = insert_full(&a, due, none, "expire_no_action", NULL, "v1_decisions", cb);
    const char *dec_marked =
        insert_full(&a, due, two, "expire_no_action", NULL, "v1_decisions", NULL);
    const char *later =
        insert_full(&a, "now() + interval '1 hour'", none, "expire_no_action", NULL, "v1", NULL);
    const char *const env[] = {NULL};
    const char *const dlv_env[] = {"HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", NULL};
    /* The project webhook (seed 004) hears of every timeout default. */
    IT_CHECK_FATAL(hp_it_sql_exec("update agents set webhook_url = $1 where id = $2::uuid",
                                  hp_it_fmt("http://127.0.0.1:%d/project", rcv->port), a.agent_id,
                                  (const char *)NULL),
                   "setting the project webhook");
    it_proc *w = it_proc_start(WORKER, "timeout", env);
    it_proc *d = it_proc_start("holdpoint-delivery", "delivery", dlv_env);
    json_object *b;

    IT_CHECK_FATAL(it_sql_wait(1, 15000,
                               "select count(*) from approvals where team_id = $1::uuid and "
                               "status = 'pending'",
                               a.team->team_id) == 1,
                   "due approvals were not expired");
    IT_CHECK(it_proc_stop(w, 10000) == 0, "worker exit status");
    IT_CHECK_FATAL(it_recv_wait(rcv, 7, 15000),
                   "four callbacks and three project webhooks were not delivered (%d)",
                   it_recv_count(rcv));
    IT_CHECK(it_proc_stop(d, 10000) == 0, "delivery worker exit status");
    IT_CHECK(strcmp(col(later, "status"), "pending") == 0, "a future deadline was expired");

    /* expire_no_action, nothing marked (seed 003): option fields null. */
    IT_CHECK(strcmp(col(no_action, "status"), "expired") == 0, "status");
    IT_CHECK(col(no_action, "selected_option_index") == NULL, "no option chosen");
    IT_CHECK(strcmp(col(no_action, "is_timeout_default"), "false") == 0, "not a default");
    b = job_body(rcv, no_action);
    IT_CHECK_FATAL(b != NULL, "callback job with the result body");
    IT_JSTR(b, "status", "expired");
    IT_JSTR(b, "timeout_mode", "expire_no_action");
    IT_JNULL(b, "predefined_instruction");
    IT_JNULL(b, "selected_option_index");
    IT_JBOOL(b, "is_timeout_default", false);
    IT_JNULL(b, "resolved_by");
    IT_CHECK(hp_it_jget(b, "resolved_at", NULL) != NULL, "resolved_at set");

    /* expire_with_predefined_instruction: the instruction is in the result. */
    b = job_body(rcv, instr);
    IT_CHECK_FATAL(b != NULL, "job for instruction mode");
    IT_JSTR(b, "timeout_mode", "expire_with_predefined_instruction");
    IT_JSTR(b, "predefined_instruction", "roll back");

    /* A marked option is reported as chosen with is_timeout_default. */
    b = job_body(rcv, marked);
    IT_CHECK_FATAL(b != NULL, "job for marked option");
    IT_JINT(b, "selected_option_index", 1);
    IT_JSTR(b, "selected_option_label", "Deny");
    IT_JBOOL(b, "is_timeout_default", true);

    /* Seed 004 decisions with none marked: the first decision is used. */
    IT_CHECK(strcmp(col(dec_none, "selected_option_index"), "0") == 0, "first decision");
    IT_CHECK(strcmp(col(dec_none, "is_timeout_default"), "true") == 0, "timeout default");
    IT_CHECK(strcmp(col(dec_marked, "selected_option_index"), "1") == 0, "marked decision");
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where approval_id = $1::uuid", dec_marked,
                           (const char *)NULL) == 0,
             "no job without a callback url");

    /* One "expired" event each, by the system, in the same transaction. */
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where team_id = $1::uuid and "
                           "kind = 'expired' and actor_type = 'system'",
                           a.team->team_id, (const char *)NULL) == 5,
             "five expired events");
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where team_id = $1::uuid and kind = "
                           "'callback' and state = 'done'",
                           a.team->team_id, (const char *)NULL) == 4,
             "four callback jobs, delivered");
    /* The responses take the agent's next sequence numbers, and each one's
     * project webhook is rendered from it at delivery. */
    IT_CHECK(hp_it_sql_int("select count(*) from action_responses where agent_id = $1::uuid and "
                           "seq between 1 and 3",
                           a.agent_id, (const char *)NULL) == 3,
             "sequence numbers 1 to 3");
    {
        const char *rid = hp_it_sql_str("select id::text from action_responses where "
                                        "approval_id = $1::uuid",
                                        marked, (const char *)NULL);
        json_object *pw = NULL;
        IT_CHECK(hp_it_sql_int("select count(*) from jobs where response_id = $1::uuid and kind = "
                               "'project_webhook' and body is null and state = 'done'",
                               rid ? rid : "", (const char *)NULL) == 1,
                 "one project webhook job per response, queued without a body, delivered");
        pthread_mutex_lock(&rcv->mu);
        for (int i = 0; i < rcv->n && pw == NULL; i++) {
            json_object *j = json_tokener_parse(rcv->reqs[i].body);
            if (j == NULL)
                continue;
            hp_it_track(j, jput);
            const char *id = json_object_get_string(hp_it_jget(j, "id", NULL));
            if (rid != NULL && id != NULL && strcmp(id, rid) == 0)
                pw = j;
        }
        pthread_mutex_unlock(&rcv->mu);
        IT_CHECK_FATAL(pw != NULL, "no project webhook for the marked option's response");
        IT_JSTR(pw, "action", "timeout_default");
        IT_JSTR(pw, "kind", "button");
        IT_JINT(pw, "button_index", 1);
        IT_JSTR(pw, "button_label", "Deny");
        IT_JSTR(pw, "decision_key", "deny");
        IT_JBOOL(pw, "is_timeout_default", true);
        IT_JSTR(pw, "approval_id", marked);
        IT_JSTR(pw, "project_id", a.agent_id);
        IT_CHECK(hp_it_jget(pw, "timestamp", NULL) != NULL && hp_it_jget(pw, "nonce", NULL),
                 "timestamp and nonce: %s", hp_it_jtext(pw));
    }
    /* Each default reported as chosen is a timeout_default response in the
     * agent's inbox (seed 004); an expiry with no option records none. */
    IT_CHECK(hp_it_sql_int("select count(*) from action_responses where team_id = $1::uuid and "
                           "action = 'timeout_default' and is_timeout_default and "
                           "approval_id in ($2::uuid, $3::uuid, $4::uuid)",
                           a.team->team_id, marked, dec_none, dec_marked, (const char *)NULL) == 3,
             "three timeout-default responses");
    IT_CHECK(hp_it_sql_int("select count(*) from action_responses where approval_id in "
                           "($1::uuid, $2::uuid)",
                           no_action, instr, (const char *)NULL) == 0,
             "no response without a default");
    IT_CHECK(hp_it_sql_exec("delete from jobs where team_id = $1::uuid", a.team->team_id,
                            (const char *)NULL),
             "cleanup");
}

static void test_wake_protocol(void)
{
    it_agent a = it_agent_new();
    const char *const env[] = {NULL};
    it_proc *w;
    const char *plan, *id, *deadline;
    double lag;

    /* Nothing of ours pending: once idle, the plan is the earliest other
     * pending deadline or infinity. */
    w = it_proc_start(WORKER, "timeout-wake", env);
    hp_it_sleep_ms(800);

    /* A create through the real API with a deadline earlier than the plan
     * sends NOTIFY hp_expiry; the woken worker plans that deadline. */
    IT_CHECK_FATAL(
        hp_it_sql_exec("update expiry_schedule set next_wake_at = 'infinity'", (const char *)NULL),
        "reset plan");
    {
        hp_it_resp *r =
            hp_it_create_ok(a.team, "wake me", "\"timeout\":{\"expires_in_seconds\":30}");
        id = hp_it_fmt("%s", json_object_get_string(hp_it_jget(r->json, "approval_id", NULL)));
    }
    deadline = hp_it_sql_str("select (extract(epoch from expires_at) * 1000)::bigint::text "
                             "from approvals where id = $1::uuid",
                             id, (const char *)NULL);
    {
        double end = hp_it_now() + 5;
        do {
            plan = hp_it_sql_str("select case when isfinite(next_wake_at) then (extract(epoch "
                                 "from next_wake_at) * 1000)::bigint::text else 'none' end "
                                 "from expiry_schedule",
                                 (const char *)NULL);
            if (plan && deadline && strcmp(plan, "none") != 0 &&
                strtoll(plan, NULL, 10) <= strtoll(deadline, NULL, 10))
                break;
            hp_it_sleep_ms(20);
        } while (hp_it_now() < end);
    }
    IT_CHECK(plan && deadline && strcmp(plan, "none") != 0 &&
                 strtoll(plan, NULL, 10) <= strtoll(deadline, NULL, 10),
             "worker did not plan the new deadline (plan %s, deadline %s)", plan ? plan : "?",
             deadline ? deadline : "?");
    IT_CHECK(hp_it_sql_exec("update approvals set status = 'cancelled' where id = $1::uuid", id,
                            (const char *)NULL),
             "cancel the 30 s approval");

    /* Lag: an approval due in 1.5 s, announced the way the store announces
     * it (hp_store_expiry_wake_if_earlier), expires right after its deadline. */
    id = insert_full(&a, "now() + interval '1500 milliseconds'",
                     "[{\"label\":\"Ok\",\"value\":\"ok\"}]", "expire_no_action", NULL, "v1", NULL);
    IT_CHECK_FATAL(hp_it_sql_exec("select pg_notify('hp_expiry', '') from expiry_schedule where "
                                  "next_wake_at is null or next_wake_at > "
                                  "(select expires_at from approvals where id = $1::uuid)",
                                  id, (const char *)NULL),
                   "notify");
    IT_CHECK(it_sql_wait(0, 10000,
                         "select count(*) from approvals where id = $1::uuid and "
                         "status = 'pending'",
                         id) == 0,
             "not expired");
    lag = (double)hp_it_sql_int("select (extract(epoch from resolved_at - expires_at) * 1000)"
                                "::bigint from approvals where id = $1::uuid",
                                id, (const char *)NULL);
    IT_CHECK(lag >= 0 && lag < 1000, "expiry lag %.0f ms", lag);
    fprintf(stderr, "\n  expiry lag %.0f ms\n", lag);
    IT_CHECK(it_proc_stop(w, 10000) == 0, "worker exit status");
}

static void test_redis_publish(void)
{
    it_agent a = it_agent_new();
    const char *const env[] = {NULL};
    const char *out = hp_it_redis_subscribe("hp:approval", 8);
    const char *id;
    it_proc *w;
    bool seen = false;

    id = it_approval_insert(&a, "now() - interval '1 second'", NULL);
    w = it_proc_start(WORKER, "timeout-redis", env);
    for (double end = hp_it_now() + 6; !seen && hp_it_now() < end; hp_it_sleep_ms(50))
        seen = hp_it_file_count(out, id) > 0;
    IT_CHECK(seen, "approval id %s not published on hp:approval", id);
    IT_CHECK(it_proc_stop(w, 10000) == 0, "worker exit status");
}

static void test_expiry_triggers_callback(void)
{
    it_agent a = it_agent_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    const char *url = hp_it_fmt("http://127.0.0.1:%d/expired", r->port);
    const char *id = it_approval_insert(&a, "now() + interval '1 second'", url);
    const char *const tenv[] = {NULL};
    const char *const denv[] = {"HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", NULL};
    it_proc *tw = it_proc_start(WORKER, "timeout-cb", tenv);
    it_proc *dw = it_proc_start("holdpoint-delivery", "delivery-cb", denv);
    json_object *b;

    IT_CHECK(hp_it_sql_exec("select pg_notify('hp_expiry', '')", (const char *)NULL), "notify");
    IT_CHECK_FATAL(it_recv_wait(r, 1, 15000), "no callback after expiry");
    b = json_tokener_parse(r->reqs[0].body);
    IT_CHECK_FATAL(b != NULL, "callback body is JSON");
    hp_it_track(b, jput);
    IT_JSTR(b, "status", "expired");
    IT_JSTR(b, "approval_id", id);
    IT_CHECK(strcmp(it_rhdr(&r->reqs[0], "webhook-id"),
                    hp_it_sql_str("select webhook_id from jobs where approval_id = $1::uuid", id,
                                  (const char *)NULL)) == 0,
             "webhook-id is the job's");
    IT_CHECK(it_sql_wait(1, 5000,
                         "select count(*) from approvals where id = $1::uuid and "
                         "result_delivery_status = 'delivered'",
                         id) == 1,
             "result_delivery_status delivered");
    IT_CHECK(it_proc_stop(tw, 10000) == 0, "timeout worker exit status");
    IT_CHECK(it_proc_stop(dw, 15000) == 0, "delivery worker exit status");
}

/* 1,000 due approvals expired by `copies` workers (1 or 2). Each worker
 * claims a backlog with two threads (tmo_cycle), so one copy runs two
 * claimers and two copies four: each approval must still close once. */
static void expire_1000(int copies)
{
    it_agent a = it_agent_new();
    const char *const env[] = {NULL};
    it_proc *w1, *w2 = NULL;
    double t0;

    IT_CHECK_FATAL(
        hp_it_sql_exec("insert into approvals (id, team_id, agent_id, request_id, "
                       "request_id_supplied, question, context_markdown, options, "
                       "timeout_seconds, timeout_mode, expires_at, canonical_hash, callback_url, "
                       "callback_headers) select gen_random_uuid(), $1, $2, 'bulk-' || g, true, "
                       "'q', 'c', '[{\"label\":\"A\",\"value\":\"a\"}]', 60, 'expire_no_action', "
                       "now() - interval '1 second' + g * interval '1 microsecond', '\\x00', "
                       "'http://127.0.0.1:9/x', '{}' from generate_series(1, 1000) g",
                       a.team->team_id, a.agent_id, (const char *)NULL),
        "insert 1000 due approvals");
    t0 = hp_it_now();
    w1 = it_proc_start(WORKER, "timeout-a", env);
    if (copies > 1)
        w2 = it_proc_start(WORKER, "timeout-b", env);
    IT_CHECK(it_sql_wait(0, 30000,
                         "select count(*) from approvals where team_id = $1::uuid and "
                         "status = 'pending'",
                         a.team->team_id) == 0,
             "%lld still pending", team_pending(&a));
    fprintf(stderr, "\n  1000 expiries with %d worker(s) in %.2f s (incl. start)\n", copies,
            hp_it_now() - t0);
    IT_CHECK(it_proc_stop(w1, 10000) == 0, "worker a exit status");
    if (w2 != NULL)
        IT_CHECK(it_proc_stop(w2, 10000) == 0, "worker b exit status");
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where team_id = $1::uuid and "
                           "kind = 'expired'",
                           a.team->team_id, (const char *)NULL) == 1000,
             "expired events != 1000");
    IT_CHECK(hp_it_sql_int("select count(*) from (select approval_id from approval_events where "
                           "team_id = $1::uuid and kind = 'expired' group by approval_id "
                           "having count(*) > 1) d",
                           a.team->team_id, (const char *)NULL) == 0,
             "an approval was expired twice");
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where team_id = $1::uuid", a.team->team_id,
                           (const char *)NULL) == 1000,
             "jobs != 1000");
    fprintf(stderr, "  events by worker: %s\n",
            hp_it_sql_str("select string_agg(n::text, ' + ') from (select count(*) n from "
                          "approval_events where team_id = $1::uuid and kind = 'expired' "
                          "group by actor_id) s",
                          a.team->team_id, (const char *)NULL));
    IT_CHECK(hp_it_sql_exec("delete from jobs where team_id = $1::uuid", a.team->team_id,
                            (const char *)NULL),
             "cleanup");
}

static void test_one_worker_1000(void)
{
    expire_1000(1);
}

static void test_two_workers_1000(void)
{
    expire_1000(2);
}

/* Decisions through the API racing two expiry workers over the same due
 * approvals (each with a marked default, so both sides would record an
 * action response and a callback): every approval ends with exactly one
 * outcome — one close event, one response, one callback job — and the API
 * answered 200 exactly for the approvals its decision closed, 409 for the
 * others. */
static void test_decision_races_expiry_batch(void)
{
    enum { N = 150 };
    it_agent a = it_agent_new();
    const char *const env[] = {NULL};
    static hp_it_req reqs[N];
    static hp_it_resp *out[N];
    char **ids;
    int ok = 0, conflict = 0;

    IT_CHECK_FATAL(
        hp_it_sql_exec("insert into approvals (id, team_id, agent_id, request_id, "
                       "request_id_supplied, question, context_markdown, options, "
                       "timeout_seconds, timeout_mode, expires_at, canonical_hash, callback_url, "
                       "callback_headers) select gen_random_uuid(), $1, $2, 'race-' || g, true, "
                       "'q', 'c', '[{\"label\":\"A\",\"value\":\"a\"},{\"label\":\"B\","
                       "\"value\":\"b\",\"is_default_on_timeout\":true}]', 60, "
                       "'expire_no_action', now() - interval '1 second', '\\x00', "
                       "'http://127.0.0.1:9/x', '{}' from generate_series(1, 150) g",
                       a.team->team_id, a.agent_id, (const char *)NULL),
        "insert due approvals");
    ids = hp_it_track(calloc(N, sizeof(*ids)), free);
    for (int i = 0; i < N; i++) {
        ids[i] = hp_it_sql_str("select id::text from approvals where agent_id = $1::uuid and "
                               "request_id = $2",
                               a.agent_id, hp_it_fmt("race-%d", i + 1), (const char *)NULL);
        IT_CHECK_FATAL(ids[i] != NULL, "approval %d missing", i + 1);
        reqs[i] = (hp_it_req){.method = "POST",
                              .path = hp_it_fmt("/v1/review/approvals/%s/resolve", ids[i]),
                              .headers = hp_it_user_headers(a.team, true),
                              .body = "{\"option_index\":0}"};
    }
    it_proc *w1 = it_proc_start(WORKER, "timeout-race-a", env);
    it_proc *w2 = it_proc_start(WORKER, "timeout-race-b", env);
    hp_it_parallel(NULL, N, reqs, out);
    IT_CHECK(it_sql_wait(0, 30000,
                         "select count(*) from approvals where team_id = $1::uuid and "
                         "status = 'pending'",
                         a.team->team_id) == 0,
             "%lld still pending", team_pending(&a));
    IT_CHECK(it_proc_stop(w1, 10000) == 0, "worker a exit status");
    IT_CHECK(it_proc_stop(w2, 10000) == 0, "worker b exit status");
    for (int i = 0; i < N; i++) {
        const char *st = col(ids[i], "status");
        IT_CHECK(out[i]->status == 200 || out[i]->status == 409, "decision answered %ld: %s",
                 out[i]->status, out[i]->body);
        if (out[i]->status == 200) {
            ok++;
            IT_CHECK(st != NULL && strcmp(st, "selected_option") == 0,
                     "answered 200 but the approval is %s", st ? st : "(none)");
        } else if (out[i]->status == 409) {
            conflict++;
            IT_CHECK(st != NULL && strcmp(st, "expired") == 0,
                     "answered 409 but the approval is %s", st ? st : "(none)");
        }
    }
    fprintf(stderr, "\n  %d decided, %d expired first\n", ok, conflict);
    IT_CHECK(hp_it_sql_int("select count(*) from approvals a where a.team_id = $1::uuid and "
                           "(select count(*) from approval_events e where e.approval_id = a.id "
                           "and e.kind in ('resolved', 'expired')) <> 1",
                           a.team->team_id, (const char *)NULL) == 0,
             "an approval has no close event or more than one");
    IT_CHECK(hp_it_sql_int("select count(*) from approvals a where a.team_id = $1::uuid and "
                           "((select count(*) from action_responses r where r.approval_id = a.id) "
                           "<> 1 or (select count(*) from jobs j where j.approval_id = a.id and "
                           "j.kind = 'callback') <> 1)",
                           a.team->team_id, (const char *)NULL) == 0,
             "an approval has no response or callback, or more than one");
    IT_CHECK(hp_it_sql_int("select count(distinct seq) from action_responses where agent_id = "
                           "$1::uuid",
                           a.agent_id, (const char *)NULL) == N,
             "the responses' sequence numbers are not distinct");
    IT_CHECK(hp_it_sql_exec("delete from jobs where team_id = $1::uuid", a.team->team_id,
                            (const char *)NULL),
             "cleanup");
}

static void test_sigterm(void)
{
    int port = it_free_port();
    const char *listen_env = hp_it_fmt("HOLDPOINT_METRICS_LISTEN=127.0.0.1:%d", port);
    const char *const env[] = {listen_env, NULL};
    it_proc *w = it_proc_start(WORKER, "timeout-term", env);
    long code = it_get_until_200(hp_it_fmt("http://127.0.0.1:%d/healthz", port), 10000);
    double t0;
    int st;

    IT_CHECK(code == 200, "GET /healthz answered %ld", code);
    /* Idle means asleep until the next deadline: no polling loop. */
    {
        long c0, c1;
        hp_it_sleep_ms(1000);
        c0 = it_proc_cpu_ticks(w);
        hp_it_sleep_ms(2000);
        c1 = it_proc_cpu_ticks(w);
        IT_CHECK(c0 >= 0 && c1 - c0 <= 10, "idle worker used %ld ticks of CPU in 2 s", c1 - c0);
    }
    t0 = hp_it_now();
    st = it_proc_stop(w, 10000);
    IT_CHECK(st == 0, "exit status %d", st);
    /* Bounded: the cycle in progress (at most one batch, or the 1 s plan
     * settle wait) plus civetweb closing the health listener (its accept
     * loop wakes every 2 s). */
    IT_CHECK(hp_it_now() - t0 < 4.0, "stop took %.2f s", hp_it_now() - t0);
    IT_CHECK(it_proc_log_count(w, "\"stopped\"") == 1, "no stopped line");
}

static void test_postgres_restart(void)
{
    it_agent a = it_agent_new();
    const char *const env[] = {NULL};
    const char *svc = HP_ITEST_SERVICES_SH, *run = hp_it_env("HP_RUN_DIR");
    it_proc *w = it_proc_start(WORKER, "timeout-pg", env);
    const char *id;

    hp_it_sleep_ms(500);
    IT_CHECK_FATAL(system(hp_it_fmt("'%s' pg-stop '%s' >/dev/null 2>&1", svc, run)) == 0,
                   "pg-stop");
    hp_it_sleep_ms(1500);
    IT_CHECK_FATAL(system(hp_it_fmt("'%s' pg-start '%s' >/dev/null 2>&1", svc, run)) == 0,
                   "pg-start");
    id = it_approval_insert(&a, "now() + interval '500 milliseconds'", NULL);
    (void)hp_it_sql_exec("select pg_notify('hp_expiry', '')", (const char *)NULL);
    IT_CHECK(it_sql_wait(0, 20000,
                         "select count(*) from approvals where id = $1::uuid and "
                         "status = 'pending'",
                         id) == 0,
             "not expired after the restart");
    IT_CHECK(it_proc_log_count(w, "postgresql reachable again") >= 1 ||
                 it_proc_log_count(w, "could not reach postgresql") == 0,
             "no recovery logged");
    IT_CHECK(it_proc_stop(w, 10000) == 0, "worker exit status");
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"expiry per mode and default option; event and job", test_modes_and_defaults},
        {"wake protocol: an earlier create wakes the worker; lag", test_wake_protocol},
        {"redis publish on hp:approval", test_redis_publish},
        {"expiry triggers the callback", test_expiry_triggers_callback},
        {"one worker over 1000 due approvals: each expired once", test_one_worker_1000},
        {"two workers over 1000 due approvals: each expired once", test_two_workers_1000},
        {"decisions racing expiry batches: one outcome each", test_decision_races_expiry_batch},
        {"healthz; sigterm exits 0 promptly", test_sigterm},
        {"postgresql restart: reconnects and expires", test_postgres_restart},
        {NULL, NULL}};
    return hp_it_main("it_expiry", tests, it_schema_ready, NULL);
}
