/*
 * Seed 000's curl commands, pasted verbatim with only the base URL and the
 * key swapped (tests/e2e/seed000_curl.sh), against a running holdpoint-api
 * and holdpoint-delivery: send, ask with wait true answered and timed out,
 * wait false then a ?wait=30 poll, delete — and the callbackUrl: the
 * answer arrives at a receiver as {correlationId, answer, answeredAt}, and
 * its X-Holdpoint-Signature, Standard Webhooks and seed 004 signatures
 * verify with independent code (tests/e2e/verify_signatures.js). The team
 * has an ntfy channel (another receiver): the /send notification goes out
 * through it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "it_workers.h"

static const char *const dflt_env[] = {"HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", NULL};
static const char *const dlv_env[] = {"HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1",
                                      "HOLDPOINT_CALLBACK_BASE_DELAY_MS=100",
                                      "HOLDPOINT_CALLBACK_MAX_DELAY_MS=400", NULL};

/* The JSON body of the first request to r whose title is title, waiting up
 * to timeout_ms for it; NULL when none came. */
static json_object *titled(it_recv *r, const char *title, long timeout_ms)
{
    double end = hp_it_now() + (double)timeout_ms / 1000.0;

    for (int seen = 0;; hp_it_sleep_ms(20)) {
        for (int n = it_recv_count(r); seen < n; seen++) {
            pthread_mutex_lock(&r->mu);
            json_object *o = hp_it_json(r->reqs[seen].body);
            pthread_mutex_unlock(&r->mu);
            json_object *v = hp_it_jget(o, "title", NULL);
            if (v != NULL && strcmp(json_object_get_string(v), title) == 0)
                return o;
        }
        if (hp_it_now() >= end)
            return NULL;
    }
}

static void test_seed000_curl_commands(void)
{
    const hp_it_team *t = hp_it_team_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    it_recv *ntfy = it_recv_start(NULL, 0, 0);
    const char *chan[] = {"admin",
                          "channel",
                          "add",
                          "--team-id",
                          t->team_id,
                          "--kind",
                          "ntfy",
                          "--name",
                          "Phones",
                          "--url",
                          hp_it_fmt("http://127.0.0.1:%d/", ntfy->port),
                          "--topic",
                          "agents",
                          "--json",
                          NULL};
    setenv("HOLDPOINT_OUTBOUND_ALLOW", "127.0.0.1", 1);
    IT_CHECK_FATAL(hp_it_admin(chan) != NULL, "the ntfy channel was not added");
    it_proc *w = it_proc_start("holdpoint-delivery", "ask-curl-delivery", dlv_env);
    const char *cid_file = hp_it_fmt("%s/ask-curl-%s.cid", hp_it_env("HP_RUN_DIR"), hp_it_unique());
    const char *cmd =
        hp_it_fmt("HOLDPOINT_URL='%s' HOLDPOINT_API_KEY='%s' USER_TOKEN='%s' "
                  "CALLBACK_URL='http://127.0.0.1:%d/webhooks/holdpoint' CORRELATION_FILE='%s' "
                  "timeout 120 bash '%s/tests/e2e/seed000_curl.sh' >&2",
                  hp_it_api_base(hp_it_api_default()), t->api_key, t->user_token, r->port, cid_file,
                  it_repo_root());
    int st = system(cmd);

    IT_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the seed 000 commands failed (exit %d)",
             WIFEXITED(st) ? WEXITSTATUS(st) : -1);

    /* The answered async question called back, once, with seed 000's body. */
    IT_CHECK_FATAL(it_recv_wait(r, 1, 15000), "no callback arrived");
    FILE *f = fopen(cid_file, "r");
    char cid[128] = "";
    IT_CHECK_FATAL(f != NULL && fgets(cid, sizeof(cid), f) != NULL, "no correlation id written");
    fclose(f);
    cid[strcspn(cid, "\n")] = '\0';
    it_rreq *q = &r->reqs[0];
    json_object *body = hp_it_json(q->body);
    IT_CHECK_FATAL(body != NULL, "callback body is not JSON: %s", q->body);
    IT_CHECK(hp_it_jlen(body) == 3, "want {correlationId, answer, answeredAt}: %s", q->body);
    IT_JSTR(body, "correlationId", cid);
    IT_JSTR(body, "answer", "yes");
    IT_CHECK(hp_it_time(json_object_get_string(hp_it_jget(body, "answeredAt", NULL))) > 0,
             "answeredAt: %s", q->body);
    IT_CHECK(strncmp(q->head, "POST /webhooks/holdpoint HTTP/1.1", 33) == 0, "request line %.60s",
             q->head);
    IT_CHECK(it_rhdr(q, "X-Holdpoint-Signature") != NULL, "no X-Holdpoint-Signature");
    IT_CHECK(it_verify_signatures(r, NULL, t->webhook_secret) == 0, "a signature did not verify");
    /* The other questions (answered without a callback, timed out,
     * cancelled) called nobody. */
    hp_it_sleep_ms(300);
    IT_CHECK(it_recv_count(r) == 1, "%d callbacks, want 1", it_recv_count(r));
    IT_CHECK(it_sql_wait(1, 5000,
                         "select count(*) from approvals where request_id = $1 and "
                         "result_delivery_status = 'delivered'",
                         cid) == 1,
             "the question's delivery status is not delivered");

    /* The /send notification went out through the team's channel. */
    json_object *sent = titled(ntfy, "Backfill finished", 15000);
    IT_CHECK_FATAL(sent != NULL, "the notification never reached the ntfy channel");
    IT_JSTR(sent, "topic", "agents");
    json_object *msg = hp_it_jget(sent, "message", NULL);
    IT_CHECK(msg != NULL && strstr(json_object_get_string(msg), "Processed 12,400 rows") != NULL,
             "ntfy message: %s", json_object_to_json_string(sent));
    IT_CHECK(it_proc_stop(w, 15000) == 0, "holdpoint-delivery did not exit 0");
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"seed000_curl_commands", test_seed000_curl_commands},
        {NULL, NULL},
    };
    hp_it_set_default_env(dflt_env);
    return hp_it_main("ask_curl", tests, NULL, NULL);
}
