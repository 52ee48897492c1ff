/*
 * api_misc: health and readiness probes and the team's agent list (seed 002).
 *
 * Readiness follows PostgreSQL alone: without Redis the API still serves
 * every request (rate limits count in PostgreSQL, wake-ups travel by
 * NOTIFY), so a Redis outage is reported as "degraded" in the body of a 200
 * rather than taking every replica out of a load balancer at once.
 */
#include <string.h>

#include "api.h"
#include "hp_admin.h"
#include "hp_json.h"
#include "hp_store_auth.h"

void api_healthz(hp_req *req)
{
    json_object *o = json_object_new_object();
    hp_json_set_str(o, "status", "ok");
    api_send_json(req, 200, o);
    json_object_put(o);
}

void api_readyz(hp_req *req)
{
    json_object *o = json_object_new_object();
    const char *db = "ok", *redis = "disabled";
    hp_dbconn *c = NULL;
    char err[HP_ERRBUF];

    if (hp_db_acquire(req->app->db, &c, err, sizeof(err)) != HP_OK ||
        hp_db_ping(c, err, sizeof(err)) != HP_OK)
        db = "unavailable";
    hp_db_release(req->app->db, c);
    if (req->app->redis != NULL) {
        redisReply *rep = NULL;
        const char *argv[] = {"PING"};
        redis = hp_redis_cmd(req->app->redis, &rep, 1, argv, NULL, err, sizeof(err)) == HP_OK
                    ? "ok"
                    : "degraded";
        if (rep)
            freeReplyObject(rep);
    }
    bool ready = strcmp(db, "ok") == 0;
    hp_json_set_str(o, "status", ready ? "ready" : "unavailable");
    hp_json_set_str(o, "database", db);
    hp_json_set_str(o, "redis", redis);
    api_send_json(req, ready ? 200 : 503, o);
    json_object_put(o);
}

json_object *api_agent_json(const hp_agent_row *a)
{
    /* The settings' shape, with the project webhook (seed 004) in place of
     * the callback auth header's name. */
    json_object *o = hp_admin_agent_json(a);

    json_object_object_del(o, "callback_auth_header");
    hp_json_set_str(o, "webhook_url", a->webhook_url);
    return o;
}

void api_agents_list(hp_req *req)
{
    hp_agent_row *agents;
    json_object *items;
    hp_dbconn *c;
    int n;
    hp_err rc;

    if (api_auth_team(req) != HP_OK || api_db(req, &c) != HP_OK)
        return;
    /* An agent-scoped key sees only its own agent. */
    rc = hp_store_agents_list(c, req->pool, req->auth.team_id,
                              req->auth.key_agent_scoped ? req->auth.agent_id : NULL, &agents, &n,
                              req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    items = json_object_new_array();
    for (int i = 0; i < n; i++)
        json_object_array_add(items, api_agent_json(&agents[i]));
    api_send_items(req, items);
}
