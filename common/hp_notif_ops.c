/*
 * hp_notif_ops: the writes of seed 004's sessions and messages. Each is one
 * statement (its own transaction), so a message, its implicit session and
 * its wake notification commit together. A message send is idempotent by
 * client_event_id: the unique index decides between concurrent repeats and
 * the loser reads the winner's row.
 */
#include <string.h>

#include "hp_crypto.h"
#include "hp_notif.h"
#include "hp_store_notif.h"
#include "hp_str.h"

hp_err hp_notif_message_send(hp_dbconn *c, hp_pool *pool, const char *team_id, const char *agent_id,
                             const hp_notif_message_input *in, bool notify, hp_notif_message *out,
                             bool *idempotent, char *err, size_t errcap)
{
    bool parent_ok = false, inserted = false, found = false;
    hp_err rc;

    *idempotent = false;
    rc = hp_store_notif_message_insert(c, pool, team_id, agent_id, in, notify, out, &parent_ok,
                                       &inserted, err, errcap);
    if (rc != HP_OK)
        return rc;
    if (!parent_ok) {
        hp_err_set(err, errcap, "parent_id names no notification of this project");
        return HP_ERR_NOT_FOUND;
    }
    if (inserted)
        return HP_OK;
    /* The client_event_id was used before: answer the first message. */
    rc = hp_store_notif_message_by_event(c, pool, agent_id, in->client_event_id, out, &found, err,
                                         errcap);
    if (rc == HP_OK && !found) {
        hp_err_set(err, errcap, "message vanished after a client_event_id conflict");
        rc = HP_ERR_INTERNAL;
    }
    *idempotent = rc == HP_OK;
    return rc;
}

hp_err hp_notif_session_create(hp_dbconn *c, hp_pool *pool, const char *team_id,
                               const char *agent_id, const hp_notif_session_input *in,
                               hp_notif_session *out, bool *created, char *err, size_t errcap)
{
    hp_notif_session_input with_id = *in;
    char uuid[HP_UUID_LEN + 1];

    if (with_id.id == NULL) {
        hp_uuid_v4(uuid);
        with_id.id = uuid;
    }
    return hp_store_notif_session_upsert(c, pool, team_id, agent_id, &with_id, out, created, err,
                                         errcap);
}

hp_err hp_notif_session_end(hp_dbconn *c, hp_pool *pool, const char *agent_id,
                            const char *session_id, const char *status, const char *error,
                            hp_notif_session *out, bool *changed, char *err, size_t errcap)
{
    bool found = false;
    hp_err rc;

    if (strcmp(status, "completed") != 0 && strcmp(status, "error") != 0) {
        hp_err_set(err, errcap, "status must be completed or error");
        return HP_ERR_INVALID_PAYLOAD;
    }
    rc = hp_store_notif_session_end(c, pool, agent_id, session_id, status,
                                    strcmp(status, "error") == 0 ? error : NULL, out, &found,
                                    changed, err, errcap);
    if (rc == HP_OK && !found) {
        hp_err_set(err, errcap, "no such session");
        rc = HP_ERR_NOT_FOUND;
    }
    return rc;
}
