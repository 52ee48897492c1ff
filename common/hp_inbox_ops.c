/*
 * hp_inbox_ops: recording and acknowledging action responses. A record is
 * one statement (sequence number, response, project webhook job, wake) that
 * joins whatever transaction the caller has open, so a decision and its
 * response commit or vanish together. See hp_inbox.h for the ordering
 * guarantee the sequence gives readers.
 */
#include <string.h>
#include <time.h>

#include "hp_crypto.h"
#include "hp_inbox.h"
#include "hp_json.h"
#include "hp_store_inbox.h"
#include "hp_str.h"

hp_err hp_inbox_record_add(hp_dbconn *c, hp_pool *pool, const hp_inbox_env *env,
                           const hp_inbox_record *rec, bool wake, hp_inbox_response *out, char *err,
                           size_t errcap)
{
    char id[HP_UUID_LEN + 1], wid[HP_UUID_LEN + 5], nonce[33];
    unsigned char raw[16];
    json_object *body;
    hp_err rc;

    hp_uuid_v7(id);
    hp_rand_bytes(raw, sizeof(raw));
    hp_hex_encode(raw, sizeof(raw), nonce);
    /* The webhook-id is the response's, so receivers can de-duplicate
     * retries by it as well as by the body's id. */
    (void)hp_fmt(wid, sizeof(wid), "msg_%s", id);
    body = hp_inbox_webhook_body(rec, id, (long long)time(NULL), nonce);
    rc = hp_store_inbox_insert(c, pool, rec, id, hp_json_text(body), wid, env->webhook_max_attempts,
                               wake, out, err, errcap);
    json_object_put(body);
    return rc;
}

hp_err hp_inbox_ack(hp_dbconn *c, hp_pool *pool, const char *agent_id, const char *id,
                    const char *status, const char *error, hp_inbox_response *out, bool *changed,
                    char *err, size_t errcap)
{
    bool found = false;
    hp_err rc;

    if (strcmp(status, "processed") != 0 && strcmp(status, "ignored") != 0 &&
        strcmp(status, "failed") != 0) {
        hp_err_set(err, errcap, "status must be processed, ignored or failed");
        return HP_ERR_INVALID_PAYLOAD;
    }
    rc = hp_store_inbox_ack(c, pool, agent_id, id, status,
                            strcmp(status, "failed") == 0 && error && error[0] ? error : NULL, out,
                            &found, changed, err, errcap);
    if (rc == HP_OK && !found) {
        hp_err_set(err, errcap, "no such action response");
        rc = HP_ERR_NOT_FOUND;
    }
    return rc;
}
