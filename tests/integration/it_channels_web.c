/*
 * Notifications in a real browser (tests/e2e/channels.mjs: playwright-core
 * driving Debian's Chromium): an owner configures channels in Settings and
 * tests one, an emailed decision link is followed and confirmed, and the
 * PWA's service worker shows a push with its actions. This program starts
 * the API (allowing 127.0.0.1 destinations, for the local receivers) and
 * holdpoint-delivery, makes a team, and runs the browser script.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_workers.h"

static const char *const api_env[] = {"HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", NULL};

static void put_str(json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v));
}

static void test_browser(void)
{
    const char *base = hp_it_api_base(hp_it_api_default());
    const char *env[] = {"HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1",
                         hp_it_fmt("HOLDPOINT_PUBLIC_URL=%s", base), NULL};
    it_proc *delivery = it_proc_start("holdpoint-delivery", "channels-web-delivery", env);
    const hp_it_team *t = hp_it_team_new();
    json_object *cfg = json_object_new_object(), *owner = json_object_new_object();
    const char *path =
        hp_it_fmt("%s/channels-e2e-%s.json", hp_it_env("HP_RUN_DIR"), hp_it_unique());
    FILE *f;
    int st;

    put_str(cfg, "base", base);
    put_str(owner, "email", t->email);
    put_str(owner, "password", "it-password-1234");
    put_str(owner, "agent_id", t->agent_id);
    put_str(owner, "api_key", t->api_key);
    put_str(owner, "user_token", t->user_token);
    json_object_object_add(cfg, "owner", owner);
    f = fopen(path, "w");
    IT_CHECK_FATAL(f != NULL, "write %s", path);
    fputs(json_object_to_json_string(cfg), f);
    fclose(f);
    json_object_put(cfg);
    st = system(hp_it_fmt("node '%s/tests/e2e/channels.mjs' '%s' >&2", it_repo_root(), path));
    IT_CHECK(st == 0, "the browser tests pass (their output is above; status %d)", st);
    IT_CHECK(it_proc_stop(delivery, 30000) == 0, "holdpoint-delivery stopped cleanly");
}

static int setup(void)
{
    if (it_schema_ready() != 0)
        return 1;
    return it_e2e_ready("it_channels_web");
}

int main(void)
{
    static const hp_it_test tests[] = {{"browser", test_browser}, {NULL, NULL}};
    hp_it_set_default_env(api_env);
    return hp_it_main("it_channels_web", tests, setup, NULL);
}
