/*
 * The web app in a real browser (tests/e2e/webapp.mjs: playwright-core
 * driving Debian's Chromium, axe-core for accessibility). This program
 * starts the stack the way production runs it — two holdpoint-api replicas,
 * holdpoint-timeout and holdpoint-delivery on the make test PostgreSQL and
 * Redis — makes a team with an owner, a reviewer and an account to throttle,
 * and another team with an approval, then runs the browser tests against
 * both replicas. The browser tests stop and restart PostgreSQL (services.sh
 * pg-stop / pg-start), so this program runs alone.
 *
 * Screenshots go to HP_WEBAPP_SCREENSHOTS when it is set (the README's come
 * from `HP_WEBAPP_SCREENSHOTS=$PWD/docs/screenshots scripts/test.sh -R
 * it_webapp`), else to HP_RUN_DIR/screenshots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_workers.h"

static void put_str(json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v));
}

static const char *new_user(const hp_it_team *t, const char *role, const char *password)
{
    const char *email = hp_it_fmt("%s-%s@example.test", role, hp_it_unique());
    const char *args[] = {"admin",   "create-user", "--team-id",  t->team_id,
                          "--email", email,         "--password", password,
                          "--role",  role,          "--name",     hp_it_fmt("Rita %s", role),
                          "--json",  NULL};
    (void)hp_it_admin(args);
    return email;
}

static void test_browser(void)
{
    static const char *const env[] = {"HOLDPOINT_SIGNIN_MAX_FAILURES=3", NULL};
    static const char *const wenv[] = {"HOLDPOINT_METRICS_LISTEN", NULL};
    hp_it_api *b = hp_it_api_start("webapp-b", env);
    IT_CHECK_FATAL(b != NULL, "second replica started");
    it_proc *timeout = it_proc_start("holdpoint-timeout", "webapp-timeout", wenv);
    it_proc *delivery = it_proc_start("holdpoint-delivery", "webapp-delivery", wenv);

    /* Screenshots for docs/ show names a team would use. */
    const char *shots = getenv("HP_WEBAPP_SCREENSHOTS");
    const hp_it_team *t =
        shots && *shots ? hp_it_team_new_named("Acme Platform", "deploy-bot", "Dana Reyes", NULL)
                        : hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();
    const char *reviewer = new_user(t, "reviewer", "reviewer-pass-1");
    const char *victim = new_user(t, "admin", "victim-pass-1");
    hp_it_resp *o = hp_it_create_ok(other, "Another team's question?", NULL);

    json_object *cfg = json_object_new_object(), *owner = json_object_new_object();
    json_object *rev = json_object_new_object(), *vic = json_object_new_object();
    json_object *oth = json_object_new_object();
    put_str(cfg, "base_a", hp_it_api_base(hp_it_api_default()));
    put_str(cfg, "base_b", hp_it_api_base(b));
    put_str(cfg, "run_dir", hp_it_env("HP_RUN_DIR"));
    put_str(cfg, "services_sh", HP_ITEST_SERVICES_SH);
    put_str(cfg, "screenshots",
            shots && *shots ? shots : hp_it_fmt("%s/screenshots", hp_it_env("HP_RUN_DIR")));
    put_str(owner, "email", t->email);
    put_str(owner, "password", "it-password-1234");
    put_str(owner, "team_id", t->team_id);
    put_str(owner, "agent_id", t->agent_id);
    put_str(owner, "api_key", t->api_key);
    put_str(owner, "user_token", t->user_token);
    put_str(rev, "email", reviewer);
    put_str(rev, "password", "reviewer-pass-1");
    put_str(vic, "email", victim);
    put_str(oth, "approval_id", json_object_get_string(hp_it_jget(o->json, "approval_id", NULL)));
    json_object_object_add(cfg, "owner", owner);
    json_object_object_add(cfg, "reviewer", rev);
    json_object_object_add(cfg, "victim", vic);
    json_object_object_add(cfg, "other", oth);
    const char *path = hp_it_fmt("%s/webapp-e2e-%s.json", hp_it_env("HP_RUN_DIR"), hp_it_unique());
    FILE *f = fopen(path, "w");
    IT_CHECK_FATAL(f != NULL, "write %s", path);
    fputs(json_object_to_json_string(cfg), f);
    fclose(f);
    json_object_put(cfg);

    int st = system(hp_it_fmt("node '%s/tests/e2e/webapp.mjs' '%s' >&2", it_repo_root(), path));
    IT_CHECK(st == 0, "the browser tests pass (their output is above; status %d)", st);

    IT_CHECK(it_proc_stop(timeout, 30000) == 0, "holdpoint-timeout stopped cleanly");
    IT_CHECK(it_proc_stop(delivery, 30000) == 0, "holdpoint-delivery stopped cleanly");
    IT_CHECK(hp_it_api_stop(b) == 0, "second replica stopped cleanly");
}

int main(void)
{
    static const char *const dflt_env[] = {"HOLDPOINT_SIGNIN_MAX_FAILURES=3", NULL};
    static const hp_it_test tests[] = {
        {"browser", test_browser},
        {NULL, NULL},
    };
    hp_it_set_default_env(dflt_env);
    return hp_it_main("webapp", tests, it_schema_ready, NULL);
}
