/*
 * Deciding from notifications, against the real API, holdpoint-delivery and
 * a local receiver:
 *
 *  - signed decision links (links taken from real ntfy notifications): GET
 *    of a view or an action link shows a page and decides nothing; a POST
 *    with an empty body (what ntfy's http action sends) decides the action
 *    link's option and records the channel in the audit trail; a second use
 *    answers 409 and changes nothing; a tampered link is 404, never a 500;
 *  - tokens signed independently (tests/e2e/sign.js, Node's crypto): a link
 *    sent to a member records that member as the reviewer; an expired link
 *    answers 410 on GET and POST and decides nothing; a view link takes a
 *    form choice or a custom instruction; an action link refuses another
 *    option;
 *  - Slack's interactive buttons: a bad or stale X-Slack-Signature is 401
 *    and decides nothing; a good one decides as the Slack user and the
 *    message is replaced through the outbox (response_url); a button that
 *    only opens a link is acknowledged and does nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_workers.h"

static const char *const api_env[] = {"HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", NULL};

static const char *jstr(json_object *o, const char *path)
{
    json_object *v = hp_it_jget(o, path, NULL);
    return v != NULL ? json_object_get_string(v) : NULL;
}

static const char *const *worker_env(void)
{
    const char **e = hp_it_track(calloc(6, sizeof(char *)), free);
    e[0] = "HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1";
    e[1] = "HOLDPOINT_CALLBACK_BASE_DELAY_MS=100";
    e[2] = "HOLDPOINT_CALLBACK_MAX_DELAY_MS=300";
    e[3] = hp_it_fmt("HOLDPOINT_PUBLIC_URL=%s", hp_it_api_base(hp_it_api_default()));
    return e;
}

static const char *add(const hp_it_team *t, const char *kind, const char *name,
                       const char *const *extra)
{
    const char *a[30] = {"admin",  "channel", "add",    "--team-id", t->team_id,
                         "--kind", kind,      "--name", name};
    int n = 9;
    for (const char *const *e = extra; e != NULL && *e != NULL; e++)
        a[n++] = *e;
    a[n++] = "--json";
    a[n] = NULL;
    setenv("HOLDPOINT_OUTBOUND_ALLOW", "127.0.0.1", 1);
    return jstr(hp_it_admin(a), "channel_id");
}

static const char *create(const hp_it_team *t, const char *q, int timeout)
{
    hp_it_resp *r = hp_it_agent(
        t, "POST", "/v1/approvals",
        hp_it_fmt("{\"question\":\"%s\",\"context_markdown\":\"Ships *today*.\",\"options\":["
                  "{\"label\":\"Approve\",\"value\":\"y\"},{\"label\":\"Deny\",\"value\":\"n\"}],"
                  "\"timeout_seconds\":%d}",
                  q, timeout));
    IT_STATUS_FATAL(r, 200);
    return jstr(r->json, "approval_id");
}

/* The path part of a link URL ("/app/link/<token>"). */
static const char *path_of(const char *url)
{
    const char *p = url != NULL ? strstr(url, "/app/link/") : NULL;
    IT_CHECK_FATAL(p != NULL, "not a link: %s", url ? url : "(none)");
    return p;
}

static const char *approval_col(const char *id, const char *col)
{
    return hp_it_sql_str(hp_it_fmt("select %s::text from approvals where id = $1", col), id,
                         (const char *)NULL);
}

static hp_it_resp *get(const char *path)
{
    return hp_it_http(NULL, "GET", path, NULL, NULL);
}

static hp_it_resp *post_form(const char *path, const char *form)
{
    static const char *const h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    hp_it_req rq = {.method = "POST", .path = path, .headers = form ? h : NULL, .body = form};
    return hp_it_send(NULL, &rq);
}

/* The request to path on the receiver, parsed, waiting for it. */
static json_object *received(it_recv *r, const char *path, long ms)
{
    const char *line = hp_it_fmt("POST %s HTTP/1.1", path);
    double end = hp_it_now() + (double)ms / 1000.0;
    for (;;) {
        json_object *o = NULL;
        pthread_mutex_lock(&r->mu);
        for (int i = r->n - 1; i >= 0 && o == NULL; i--)
            if (strncmp(r->reqs[i].head, line, strlen(line)) == 0)
                o = hp_it_json(r->reqs[i].body);
        pthread_mutex_unlock(&r->mu);
        if (o != NULL || hp_it_now() > end)
            return o;
        hp_it_sleep_ms(25);
    }
}

static const char *node_sign(const char *args)
{
    const char *out = hp_it_fmt("%s/sign-%s.out", hp_it_env("HP_RUN_DIR"), hp_it_unique());
    FILE *f;
    char buf[512] = "";
    int st = system(hp_it_fmt("node '%s/tests/e2e/sign.js' %s > '%s'", it_repo_root(), args, out));
    IT_CHECK_FATAL(st == 0, "sign.js %s failed", args);
    f = fopen(out, "r");
    IT_CHECK_FATAL(f != NULL && fgets(buf, sizeof(buf), f) != NULL, "sign.js wrote nothing");
    fclose(f);
    return hp_it_fmt("%s", buf);
}

static void test_links_from_ntfy(void)
{
    const hp_it_team *t = hp_it_team_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    const char *args[] = {"--url", hp_it_fmt("http://127.0.0.1:%d/ntfy", r->port), "--topic", "t",
                          NULL};
    const char *ch = add(t, "ntfy", "Phones", args);
    it_proc *w = it_proc_start("holdpoint-delivery", "delivery-links", worker_env());
    const char *id = create(t, "Merge <the> branch?", 600);
    json_object *n = received(r, "/ntfy", 15000);
    const char *view, *approve, *deny, *bad;
    hp_it_resp *res;

    IT_CHECK_FATAL(n != NULL, "no ntfy notification");
    view = path_of(jstr(n, "click"));
    approve = path_of(jstr(n, "actions.0.url"));
    deny = path_of(jstr(n, "actions.1.url"));

    /* GET shows, never decides: what a link scanner or a preview does. */
    res = get(view);
    IT_STATUS(res, 200);
    IT_CHECK(strncmp(hp_it_header(res, "Content-Type"), "text/html", 9) == 0, "content type");
    IT_CHECK(strstr(res->body, "Merge &lt;the&gt; branch?") != NULL, "question not escaped");
    IT_CHECK(strstr(res->body, "<em>today</em>") != NULL, "context not rendered");
    IT_CHECK(strstr(res->body, ">Approve</button>") && strstr(res->body, ">Deny</button>"),
             "options missing");
    IT_CHECK(strcmp(hp_it_header(res, "Referrer-Policy"), "no-referrer") == 0, "referrer policy");
    IT_CHECK(strstr(hp_it_header(res, "Content-Security-Policy"), "default-src 'none'") != NULL,
             "csp");
    res = get(approve);
    IT_STATUS(res, 200);
    IT_CHECK(strstr(res->body, "Confirm: Approve") != NULL, "action page: %s", res->body);
    IT_CHECK(strcmp(approval_col(id, "status"), "pending") == 0, "a GET decided");

    /* ntfy's http action: a POST with no body decides the link's option. */
    res = post_form(deny, NULL);
    IT_STATUS(res, 200);
    IT_CHECK(strstr(res->body, "Decision recorded") != NULL, "page: %s", res->body);
    IT_CHECK(strcmp(approval_col(id, "status"), "selected_option") == 0 &&
                 strcmp(approval_col(id, "selected_option_index"), "1") == 0,
             "not decided as Deny");
    IT_CHECK(strcmp(approval_col(id, "resolved_by_name"), "Phones (ntfy)") == 0,
             "resolved_by_name %s", approval_col(id, "resolved_by_name"));
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where approval_id = $1 and "
                           "kind = 'resolved' and data->>'via' = 'link' and "
                           "data->>'channel_id' = $2",
                           id, ch, (const char *)NULL) == 1,
             "audit lacks the channel");
    /* A second use: already decided, nothing changes. */
    res = post_form(approve, NULL);
    IT_STATUS(res, 409);
    IT_CHECK(strstr(res->body, "Already decided") != NULL, "409 page");
    IT_CHECK(strcmp(approval_col(id, "selected_option_index"), "1") == 0, "changed by reuse");
    res = get(view);
    IT_STATUS(res, 200);
    IT_CHECK(strstr(res->body, "Already decided: Deny") != NULL, "closed page: %s", res->body);
    /* Tampered: a clear 404, never a 500. */
    bad = hp_it_fmt("%s", view);
    ((char *)bad)[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'B' : 'A';
    IT_STATUS(get(bad), 404);
    IT_STATUS(post_form(bad, NULL), 404);
    IT_STATUS(get("/app/link/not-a-token"), 404);
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
}

static void test_links_signed_independently(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *key = hp_it_env("HOLDPOINT_SECRET_KEY");
    const char *a1 = create(t, "Member link?", 600), *a2 = create(t, "Expired link?", 600);
    const char *a3 = create(t, "Instruction?", 600);
    const char *member, *old, *view3, *act3;
    hp_it_resp *res;

    /* A view link sent to a member: the member decides. */
    member = node_sign(
        hp_it_fmt("link '%s' %s -1 - %s %lld", key, a1, t->user_id, (long long)hp_it_now() + 3600));
    IT_STATUS(get(hp_it_fmt("/app/link/%s", member)), 200);
    res = post_form(hp_it_fmt("/app/link/%s", member), "option_index=0");
    IT_STATUS(res, 200);
    res = hp_it_user(t, "GET", hp_it_fmt("/v1/review/approvals/%s", a1), NULL);
    IT_JINT(res->json, "selected_option_index", 0);
    IT_JSTR(res->json, "resolved_by.user_id", t->user_id);
    IT_CHECK(strcmp(approval_col(a1, "resolved_by_name"), t->user_name) == 0, "reviewer %s",
             approval_col(a1, "resolved_by_name"));

    /* Expired: 410 on GET and POST, nothing decided. */
    old = node_sign(hp_it_fmt("link '%s' %s 0 - - %lld", key, a2, (long long)hp_it_now() - 5));
    IT_STATUS(get(hp_it_fmt("/app/link/%s", old)), 410);
    IT_STATUS(post_form(hp_it_fmt("/app/link/%s", old), NULL), 410);
    IT_CHECK(strcmp(approval_col(a2, "status"), "pending") == 0, "an expired link decided");

    /* A view link takes an instruction; an action link only its option. */
    act3 = node_sign(hp_it_fmt("link '%s' %s 0 - - %lld", key, a3, (long long)hp_it_now() + 600));
    IT_STATUS(post_form(hp_it_fmt("/app/link/%s", act3), "option_index=1"), 400);
    IT_STATUS(post_form(hp_it_fmt("/app/link/%s", act3), "custom_instruction=no"), 400);
    view3 = node_sign(hp_it_fmt("link '%s' %s -1 - - %lld", key, a3, (long long)hp_it_now() + 600));
    IT_STATUS(post_form(hp_it_fmt("/app/link/%s", view3), "option_index=7"), 400);
    IT_STATUS(post_form(hp_it_fmt("/app/link/%s", view3), NULL), 400);
    IT_CHECK(strcmp(approval_col(a3, "status"), "pending") == 0, "a refused post decided");
    IT_STATUS(post_form(hp_it_fmt("/app/link/%s", view3), "custom_instruction=Use+the+staging+db"),
              200);
    IT_CHECK(strcmp(approval_col(a3, "status"), "custom_instruction") == 0 &&
                 strcmp(approval_col(a3, "custom_instruction"), "Use the staging db") == 0,
             "instruction not recorded");
}

/* POSTs a Slack interaction (form body payload=<json>) signed with secret
 * at timestamp ts (NULL signature: signed correctly). */
static hp_it_resp *slack_post(const char *payload_json, const char *secret, long long ts,
                              const char *signature)
{
    char *esc = curl_easy_escape(NULL, payload_json, 0);
    const char *body = hp_it_fmt("payload=%s", esc);
    const char *file = hp_it_fmt("%s/slack-%s.body", hp_it_env("HP_RUN_DIR"), hp_it_unique());
    FILE *f = fopen(file, "w");
    const char *sig;
    curl_free(esc);
    fputs(body, f);
    fclose(f);
    sig = signature != NULL ? signature
                            : node_sign(hp_it_fmt("slack '%s' %lld '%s'", secret, ts, file));
    const char *h[] = {"Content-Type: application/x-www-form-urlencoded",
                       hp_it_fmt("X-Slack-Request-Timestamp: %lld", ts),
                       hp_it_fmt("X-Slack-Signature: %s", sig), NULL};
    hp_it_req rq = {.method = "POST",
                    .path = "/v1/integrations/slack/interactions",
                    .headers = h,
                    .body = body};
    return hp_it_send(NULL, &rq);
}

static void test_slack_interactions(void)
{
    const hp_it_team *t = hp_it_team_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    const char *secret = "8f742231b10e8888abcd99yyyzzz85a5";
    const char *args[] = {"--webhook-url", hp_it_fmt("http://127.0.0.1:%d/slack", r->port),
                          "--signing-secret", secret, NULL};
    const char *ch = add(t, "slack", "Ops", args);
    it_proc *w = it_proc_start("holdpoint-delivery", "delivery-slack", worker_env());
    const char *id = create(t, "Rotate the keys?", 600);
    json_object *msg = received(r, "/slack", 15000), *upd;
    const char *token, *payload;
    long long now = (long long)hp_it_now();
    hp_it_resp *res;

    IT_CHECK_FATAL(msg != NULL, "no slack message");
    IT_JSTR(msg, "blocks.3.elements.0.action_id", "hp_decide_0");
    IT_JMISSING(msg, "blocks.3.elements.0.url");
    token = jstr(msg, "blocks.3.elements.0.value");
    IT_CHECK_FATAL(token != NULL, "no button value");
    payload = hp_it_fmt("{\"type\":\"block_actions\",\"user\":{\"id\":\"U042\",\"username\":"
                        "\"ana\"},\"actions\":[{\"action_id\":\"hp_decide_0\",\"value\":\"%s\"}],"
                        "\"response_url\":\"http://127.0.0.1:%d/slack-response\"}",
                        token, r->port);

    res = slack_post(payload, secret, now,
                     "v0="
                     "0000000000000000000000000000000000000000000000000000000000000000");
    IT_ERROR(res, 401, "invalid_signature");
    res = slack_post(payload, "not-the-secret", now, NULL);
    IT_ERROR(res, 401, "invalid_signature");
    res = slack_post(payload, secret, now - 600, NULL);
    IT_ERROR(res, 401, "invalid_signature");
    IT_CHECK(strcmp(approval_col(id, "status"), "pending") == 0, "a refused request decided");
    res = slack_post("{\"type\":\"block_actions\",\"actions\":[{\"action_id\":\"hp_open\"}]}",
                     secret, now, NULL);
    IT_STATUS(res, 200);

    res = slack_post(payload, secret, now, NULL);
    IT_STATUS(res, 200);
    IT_CHECK(strcmp(approval_col(id, "status"), "selected_option") == 0 &&
                 strcmp(approval_col(id, "selected_option_index"), "0") == 0,
             "not decided");
    IT_CHECK(strcmp(approval_col(id, "resolved_by_name"), "@ana (Slack)") == 0, "reviewer %s",
             approval_col(id, "resolved_by_name"));
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where approval_id = $1 and "
                           "kind = 'resolved' and data->>'via' = 'slack' and "
                           "data->>'channel_id' = $2 and actor_id = 'slack:U042'",
                           id, ch, (const char *)NULL) == 1,
             "audit lacks slack");
    upd = received(r, "/slack-response", 15000);
    IT_CHECK_FATAL(upd != NULL, "the message was not replaced");
    IT_JBOOL(upd, "replace_original", true);
    IT_CHECK(strstr(hp_it_jtext(upd), "decided by @ana") != NULL, "update: %s", hp_it_jtext(upd));
    IT_JMISSING(upd, "blocks.2");
    /* The same button again: acknowledged, already decided. */
    res = slack_post(payload, secret, now, NULL);
    IT_STATUS(res, 200);
    IT_CHECK(it_recv_wait(r, 3, 15000), "second update missing");
    IT_CHECK(strstr(hp_it_jtext(received(r, "/slack-response", 1000)), "already decided") != NULL,
             "second update text");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
    IT_CHECK(it_proc_log_count(w, secret) == 0, "signing secret logged");
}

static int setup(void)
{
    if (it_schema_ready() != 0)
        return 1;
    return it_e2e_ready("it_links");
}

static int teardown(void)
{
    return it_jobs_cleanup();
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"links from ntfy: GET shows, POST decides, reuse 409, tampered 404", test_links_from_ntfy},
        {"links signed by node: member reviewer, expired 410, form choices",
         test_links_signed_independently},
        {"slack: bad and stale signatures 401, good decides and updates", test_slack_interactions},
        {NULL, NULL}};
    hp_it_set_default_env(api_env);
    return hp_it_main("it_links", tests, setup, teardown);
}
