/*
 * hp_store_channel: channel configuration SQL (see hp_store_channel.h).
 * Secrets arrive as JSON objects and leave for SQL only sealed; unsealed
 * copies live in memory that is wiped when freed.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hp_json.h"
#include "hp_mem.h"
#include "hp_store_channel.h"
#include "hp_store_fanout.h"
#include "hp_str.h"
#include "hp_webpush.h"

#define HP__US(col) "(extract(epoch from " col ") * 1000000)::bigint"

static void hp__wipe_free(void *p)
{
    if (p != NULL) {
        OPENSSL_cleanse(p, strlen(p));
        free(p);
    }
}

/* A seal of the JSON text of secret (heap), or NULL for none. */
static char *hp__seal_json(const unsigned char key[32], json_object *secret)
{
    const char *text;
    if (secret == NULL)
        return NULL;
    text = json_object_to_json_string_ext(secret, JSON_C_TO_STRING_PLAIN);
    return hp_secret_seal(key, text, strlen(text));
}

hp_err hp_store_channel_add(hp_dbconn *c, const unsigned char key[32], const char *team_id,
                            const char *kind, const char *name, json_object *config,
                            json_object *secret, char id[HP_UUID_LEN + 1], char *err, size_t errcap)
{
    static const char sql[] =
        "insert into channels (id, team_id, kind, name, config, secret_sealed) "
        "select $1, t.id, $3, $4, $5::jsonb, $6 from teams t where t.id = $2 returning id";
    char *sealed = hp__seal_json(key, secret);
    PGresult *r = NULL;
    hp_err rc;

    hp_uuid_v7(id);
    const char *p[] = {id, team_id, kind, name, hp_json_text(config), sealed};
    rc = hp_db_exec(c, &r, sql, 6, p, err, errcap);
    if (rc == HP_OK && PQntuples(r) == 0) {
        hp_err_set(err, errcap, "no such team");
        rc = HP_ERR_NOT_FOUND;
    } else if (rc == HP_ERR_CONFLICT) {
        hp_err_set(err, errcap, "the team already has a channel named like that");
    }
    PQclear(r);
    free(sealed);
    return rc;
}

hp_err hp_store_channel_list(hp_dbconn *c, hp_pool *pool, const char *team_id, PGresult **res,
                             char *err, size_t errcap)
{
    static const char sql[] = "select id, kind, name, config::text, secret_sealed is not null, "
                              "enabled, " HP__US("last_success_at") ", " HP__US(
                                  "last_error_at") ", last_error, " HP__US("created_at") " from "
                                                                                         "channels "
                                                                                         "where "
                                                                                         "team_id "
                                                                                         "= $1 "
                                                                                         "order by "
                                                                                         "created_"
                                                                                         "at, id";
    const char *p[] = {team_id};
    hp_err rc = hp_db_exec(c, res, sql, 1, p, err, errcap);

    if (rc == HP_OK)
        hp_db_keep(pool, *res);
    return rc;
}

json_object *hp_store_channel_list_json(const PGresult *r)
{
    json_object *items = json_object_new_array();
    char err[64];

    for (int i = 0; i < PQntuples(r); i++) {
        json_object *o = json_object_new_object(), *cfg = NULL;
        const char *text = hp_db_val(r, i, 3);
        hp_json_set_str(o, "channel_id", hp_db_val(r, i, 0));
        hp_json_set_str(o, "kind", hp_db_val(r, i, 1));
        hp_json_set_str(o, "name", hp_db_val(r, i, 2));
        if (text == NULL || hp_json_parse(text, strlen(text), &cfg, err, sizeof(err)) != HP_OK)
            cfg = json_object_new_object();
        json_object_object_add(o, "config", cfg);
        json_object_object_add(o, "has_secret", json_object_new_boolean(hp_db_bool(r, i, 4)));
        json_object_object_add(o, "enabled", json_object_new_boolean(hp_db_bool(r, i, 5)));
        hp_json_set_time(o, "last_success_at", hp_db_ll(r, i, 6, -1));
        hp_json_set_time(o, "last_error_at", hp_db_ll(r, i, 7, -1));
        hp_json_set_str(o, "last_error", hp_db_val(r, i, 8));
        if (hp_db_val(r, i, 8) == NULL)
            json_object_object_add(o, "last_error", NULL);
        hp_json_set_time(o, "created_at", hp_db_ll(r, i, 9, -1));
        json_object_array_add(items, o);
    }
    return items;
}

hp_err hp_store_channel_remove(hp_dbconn *c, const char *team_id, const char *channel_id, char *err,
                               size_t errcap)
{
    /* One statement: the channel goes (its jobs with it, by cascade) and
     * every agent stops naming it. */
    static const char sql[] =
        "with d as (delete from channels where id = $1 and ($2::uuid is null or team_id = $2) "
        "  returning id, team_id), "
        "u as (update agent_notify s set channel_ids = array_remove(s.channel_ids, d.id), "
        "  escalate_channel_ids = array_remove(s.escalate_channel_ids, d.id), updated_at = now() "
        "  from d where s.team_id = d.team_id and (d.id = any(s.channel_ids) or "
        "  d.id = any(s.escalate_channel_ids))) "
        "select count(*) from d";
    const char *p[] = {channel_id, team_id};
    PGresult *r = NULL;
    hp_err rc = hp_db_exec(c, &r, sql, 2, p, err, errcap);

    if (rc == HP_OK && hp_db_ll(r, 0, 0, 0) == 0) {
        hp_err_set(err, errcap, "no such channel");
        rc = HP_ERR_NOT_FOUND;
    }
    PQclear(r);
    return rc;
}

hp_err hp_store_channel_test(hp_dbconn *c, const char *team_id, const char *channel_id,
                             char job_id[24], char *err, size_t errcap)
{
    static const char sql[] =
        "with j as (insert into jobs (team_id, kind, channel_id, url, body, webhook_id, "
        "  max_attempts) select ch.team_id, 'notify', ch.id, '', "
        "  jsonb_build_object('event', 'test', 'channel_id', ch.id)::text, "
        "  'ntf_' || gen_random_uuid(), " HP_STORE_FANOUT_NOTIFY_ATTEMPTS " from channels ch "
        "  where ch.id = $1 and ($2::uuid is null or ch.team_id = $2) returning id) "
        "select j.id::text, pg_notify('hp_jobs', '') from j";
    const char *p[] = {channel_id, team_id};
    PGresult *r = NULL;
    hp_err rc;

    rc = hp_db_exec(c, &r, sql, 2, p, err, errcap);
    if (rc == HP_OK && PQntuples(r) == 0) {
        hp_err_set(err, errcap, "no such channel");
        rc = HP_ERR_NOT_FOUND;
    } else if (rc == HP_OK) {
        hp_strlcpy(job_id, PQgetvalue(r, 0, 0), 24);
    }
    PQclear(r);
    return rc;
}

hp_err hp_store_channel_test_state(hp_dbconn *c, hp_pool *pool, const char *job_id, bool *done,
                                   bool *ok, const char **error, char *err, size_t errcap)
{
    /* The test job is expanded into one channel job per destination, which
     * name it as their parent. Done when the test job and every child left
     * 'queued'; ok when none failed. */
    static const char sql[] =
        "with k as (select state, last_error from jobs where id = $1::bigint "
        "  union all select state, last_error from jobs where parent_id = $1::bigint) "
        "select coalesce(bool_and(state <> 'queued'), false), coalesce(bool_and(state = 'done'), "
        "  false), (select last_error from k where state = 'failed' limit 1) from k";
    const char *p[] = {job_id};
    PGresult *r = NULL;
    hp_err rc = hp_db_exec(c, &r, sql, 1, p, err, errcap);

    if (rc != HP_OK)
        return rc;
    hp_db_keep(pool, r);
    *done = hp_db_bool(r, 0, 0);
    *ok = hp_db_bool(r, 0, 1);
    *error = hp_db_val(r, 0, 2);
    return HP_OK;
}

/* ---- agent settings -------------------------------------------------------- */

hp_err hp_store_agent_notify_set(hp_dbconn *c, const char *team_id, const char *agent_id,
                                 const hp_agent_notify_spec *spec, char *err, size_t errcap)
{
    /* One statement reports every check it needs: the agent's team, channel
     * ids outside it, user ids outside it, and whether members are
     * reachable; the upsert runs only when all pass ($8). */
    static const char check_sql[] =
        "with g as (select team_id from agents where id = $1 and ($5::uuid is null "
        "  or team_id = $5)) "
        "select (select team_id::text from g), "
        " (select count(*) from unnest($2::uuid[] || $3::uuid[]) x where not exists "
        "   (select 1 from channels ch, g where ch.id = x and ch.team_id = g.team_id)), "
        " (select count(*) from unnest($4::uuid[]) x where not exists "
        "   (select 1 from users u, g where u.id = x and u.team_id = g.team_id)), "
        " exists (select 1 from channels ch, g where ch.team_id = g.team_id and ch.enabled "
        "   and ch.kind in ('webpush', 'email'))";
    static const char upsert_sql[] =
        "insert into agent_notify as s (agent_id, team_id, channel_ids, remind_after_seconds, "
        "  escalate_after_seconds, escalate_channel_ids, escalate_user_ids) "
        "select $1, team_id, $2::uuid[], nullif($5::int, 0), nullif($6::int, 0), $3::uuid[], "
        "  $4::uuid[] from agents where id = $1 "
        "on conflict (agent_id) do update set channel_ids = excluded.channel_ids, "
        "  remind_after_seconds = excluded.remind_after_seconds, "
        "  escalate_after_seconds = excluded.escalate_after_seconds, "
        "  escalate_channel_ids = excluded.escalate_channel_ids, "
        "  escalate_user_ids = excluded.escalate_user_ids, updated_at = now()";
    char *routes = NULL, *esc = NULL, *users = NULL, remind[16], escalate[16];
    size_t nesc =
        spec->escalate_channel_ids ? json_object_array_length(spec->escalate_channel_ids) : 0;
    size_t nusers = spec->escalate_user_ids ? json_object_array_length(spec->escalate_user_ids) : 0;
    PGresult *r = NULL;
    hp_err rc;

    /* PostgreSQL array literals of validated UUIDs. */
    json_object *lists[3] = {spec->channel_ids, spec->escalate_channel_ids,
                             spec->escalate_user_ids};
    char **outs[3] = {&routes, &esc, &users};
    for (int k = 0; k < 3; k++) {
        size_t n = lists[k] ? json_object_array_length(lists[k]) : 0;
        char *s = hp_xmalloc(3 + n * (HP_UUID_LEN + 1));
        size_t o = 0;
        s[o++] = '{';
        for (size_t i = 0; i < n; i++) {
            const char *id = json_object_get_string(json_object_array_get_idx(lists[k], i));
            if (!hp_uuid_valid(id)) {
                hp_err_set(err, errcap, "not a UUID: item %zu of a list", i + 1);
                for (int j = 0; j <= k; j++)
                    free(*outs[j]);
                free(s);
                return HP_ERR_INVALID_PAYLOAD;
            }
            if (i > 0)
                s[o++] = ',';
            memcpy(s + o, id, HP_UUID_LEN);
            o += HP_UUID_LEN;
        }
        s[o++] = '}';
        s[o] = '\0';
        *outs[k] = s;
    }
    rc = HP_ERR_INVALID_PAYLOAD;
    if ((spec->escalate_after_seconds > 0) != (nesc + nusers > 0)) {
        hp_err_set(err, errcap,
                   spec->escalate_after_seconds > 0
                       ? "an escalation needs channels or members to escalate to"
                       : "escalation targets need an escalation delay");
        goto out;
    }
    {
        const char *p[] = {agent_id, routes, esc, users, team_id};
        rc = hp_db_exec(c, &r, check_sql, 5, p, err, errcap);
        if (rc != HP_OK)
            goto out;
    }
    if (PQgetisnull(r, 0, 0)) {
        hp_err_set(err, errcap, "no such agent");
        rc = HP_ERR_NOT_FOUND;
        goto out;
    }
    rc = HP_ERR_INVALID_PAYLOAD;
    if (hp_db_ll(r, 0, 1, 0) > 0) {
        hp_err_set(err, errcap, "%lld channel id(s) are not channels of the agent's team",
                   hp_db_ll(r, 0, 1, 0));
        goto out;
    }
    if (hp_db_ll(r, 0, 2, 0) > 0) {
        hp_err_set(err, errcap, "%lld user id(s) are not members of the agent's team",
                   hp_db_ll(r, 0, 2, 0));
        goto out;
    }
    if (nusers > 0 && !hp_db_bool(r, 0, 3)) {
        hp_err_set(err, errcap,
                   "members cannot be reached: the team has no enabled webpush or email channel");
        goto out;
    }
    PQclear(r);
    r = NULL;
    (void)hp_fmt(remind, sizeof(remind), "%d", spec->remind_after_seconds);
    (void)hp_fmt(escalate, sizeof(escalate), "%d", spec->escalate_after_seconds);
    {
        const char *p[] = {agent_id, spec->channel_ids ? routes : NULL, esc, users, remind,
                           escalate};
        rc = hp_db_exec(c, NULL, upsert_sql, 6, p, err, errcap);
    }
out:
    PQclear(r);
    free(routes);
    free(esc);
    free(users);
    return rc;
}

hp_err hp_store_agent_notify_get(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                 const char *agent_id, const char **json, char *err, size_t errcap)
{
    static const char sql[] =
        "select jsonb_build_object('agent_id', g.id, 'channel_ids', to_jsonb(s.channel_ids), "
        "  'remind_after_seconds', s.remind_after_seconds, 'escalate_after_seconds', "
        "  s.escalate_after_seconds, 'escalate_channel_ids', "
        "  coalesce(to_jsonb(s.escalate_channel_ids), '[]'::jsonb), 'escalate_user_ids', "
        "  coalesce(to_jsonb(s.escalate_user_ids), '[]'::jsonb))::text "
        "from agents g left join agent_notify s on s.agent_id = g.id where g.id = $1 "
        "and ($2::uuid is null or g.team_id = $2)";
    const char *p[] = {agent_id, team_id};
    PGresult *r = NULL;
    hp_err rc = hp_db_exec(c, &r, sql, 2, p, err, errcap);

    if (rc != HP_OK)
        return rc;
    hp_db_keep(pool, r);
    if (PQntuples(r) == 0) {
        hp_err_set(err, errcap, "no such agent");
        return HP_ERR_NOT_FOUND;
    }
    *json = hp_db_val(r, 0, 0);
    return HP_OK;
}

/* ---- push subscriptions ------------------------------------------------------ */

hp_err hp_store_push_subscribe(hp_dbconn *c, const unsigned char key[32], const char *team_id,
                               const char *user_id, const char *endpoint, const char *p256dh,
                               const char *auth, const char *user_agent, char id[HP_UUID_LEN + 1],
                               char *err, size_t errcap)
{
    /* An endpoint belongs to one browser profile: subscribing it again (the
     * same or another member signing in there) takes it over. */
    static const char sql[] =
        "insert into push_subscriptions as s (id, team_id, user_id, endpoint, p256dh, "
        "  auth_sealed, user_agent) values ($1, $2, $3, $4, $5, $6, $7) "
        "on conflict (endpoint) do update set team_id = excluded.team_id, user_id = "
        "  excluded.user_id, p256dh = excluded.p256dh, auth_sealed = excluded.auth_sealed, "
        "  user_agent = excluded.user_agent, last_error = null, last_error_at = null "
        "returning id::text";
    char *sealed = hp_secret_seal(key, auth, strlen(auth));
    char nid[HP_UUID_LEN + 1];
    PGresult *r = NULL;
    hp_err rc;

    hp_uuid_v7(nid);
    const char *p[] = {nid, team_id, user_id, endpoint, p256dh, sealed, user_agent};
    rc = hp_db_exec(c, &r, sql, 7, p, err, errcap);
    if (rc == HP_OK)
        hp_strlcpy(id, PQgetvalue(r, 0, 0), HP_UUID_LEN + 1);
    PQclear(r);
    free(sealed);
    return rc;
}

hp_err hp_store_push_unsubscribe(hp_dbconn *c, const char *user_id, const char *id, char *err,
                                 size_t errcap)
{
    const char *p[] = {id, user_id};
    PGresult *r = NULL;
    hp_err rc = hp_db_exec(c, &r,
                           "delete from push_subscriptions where id = $1 and user_id = $2 "
                           "returning id",
                           2, p, err, errcap);

    if (rc == HP_OK && PQntuples(r) == 0) {
        hp_err_set(err, errcap, "no such subscription");
        rc = HP_ERR_NOT_FOUND;
    }
    PQclear(r);
    return rc;
}

hp_err hp_store_push_list(hp_dbconn *c, hp_pool *pool, const char *user_id, hp_push_sub **subs,
                          int *n, char *err, size_t errcap)
{
    static const char sql[] = "select id, endpoint, user_agent, " HP__US("created_at") ", " HP__US(
        "last_success_at") ", last_error from push_subscriptions "
                           "where user_id = $1 order by created_at desc";
    const char *p[] = {user_id};
    PGresult *r;
    hp_err rc = hp_db_exec(c, &r, sql, 1, p, err, errcap);

    *subs = NULL;
    *n = 0;
    if (rc != HP_OK)
        return rc;
    *subs = hp_db_keep_rows(pool, r, sizeof(**subs), n);
    for (int i = 0; i < *n; i++) {
        hp_push_sub *s = &(*subs)[i];
        s->id = hp_db_val(r, i, 0);
        s->endpoint = hp_db_val(r, i, 1);
        s->user_agent = hp_db_val(r, i, 2);
        s->created_at = hp_db_ll(r, i, 3, -1);
        s->last_success_at = hp_db_ll(r, i, 4, -1);
        s->last_error = hp_db_val(r, i, 5);
    }
    return HP_OK;
}

/* ---- the VAPID key pair -------------------------------------------------------- */

hp_err hp_store_vapid_get(hp_dbconn *c, hp_pool *pool, const unsigned char key[32],
                          const char **public_b64, const char **private_pem, char *err,
                          size_t errcap)
{
    static const char read_sql[] = "select public, sealed from installation_keys where name = "
                                   "'vapid'";
    static const char insert_sql[] =
        "insert into installation_keys (name, public, sealed) values ('vapid', $1, $2) "
        "on conflict (name) do nothing";
    PGresult *r = NULL;
    hp_err rc;

    *public_b64 = NULL;
    if (private_pem != NULL)
        *private_pem = NULL;
    rc = hp_db_exec(c, &r, read_sql, 0, NULL, err, errcap);
    if (rc == HP_OK && PQntuples(r) == 0) {
        char *pem = NULL, *pub = NULL, *sealed;
        PQclear(r);
        r = NULL;
        hp_webpush_vapid_generate(&pem, &pub);
        sealed = hp_secret_seal(key, pem, strlen(pem));
        const char *p[] = {pub, sealed};
        rc = hp_db_exec(c, NULL, insert_sql, 2, p, err, errcap);
        hp__wipe_free(pem);
        free(pub);
        free(sealed);
        /* Whether ours or a racing process's insert won, read the winner. */
        if (rc == HP_OK)
            rc = hp_db_exec(c, &r, read_sql, 0, NULL, err, errcap);
    }
    if (rc != HP_OK || PQntuples(r) == 0) {
        if (rc == HP_OK) {
            hp_err_set(err, errcap, "vapid key missing after insert");
            rc = HP_ERR_INTERNAL;
        }
        PQclear(r);
        return rc;
    }
    hp_db_keep(pool, r);
    *public_b64 = hp_db_val(r, 0, 0);
    if (private_pem != NULL) {
        unsigned char *pem = NULL;
        size_t n = 0;
        if (hp_secret_open(key, hp_db_val(r, 0, 1), &pem, &n) != HP_OK) {
            hp_err_set(err, errcap,
                       "the vapid private key cannot be unsealed "
                       "(was HOLDPOINT_SECRET_KEY changed?)");
            return HP_ERR_INTERNAL;
        }
        hp_pool_defer(pool, hp__wipe_free, pem);
        *private_pem = (const char *)pem;
    }
    return HP_OK;
}
