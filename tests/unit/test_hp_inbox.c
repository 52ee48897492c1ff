/*
 * Unit tests for the pure half of hp_inbox: the item shape (seed 004's
 * fields and ours, nulls), the project webhook payload, the acknowledgement
 * body (default, enum, error only with failed) and the redaction of handler
 * errors (credentials, control characters, the length cut on a character
 * boundary).
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_inbox.h"
#include "hp_json.h"
#include "hp_unit.h"

static json_object *parse(const char *text)
{
    json_object *v = NULL;
    char err[128];
    CU_ASSERT_FATAL(hp_json_parse(text, strlen(text), &v, err, sizeof(err)) == HP_OK);
    return v;
}

static void test_item_shape(void)
{
    hp_inbox_response r = {.id = "r1",
                           .agent_id = "a1",
                           .seq = 7,
                           .session_id = "s1",
                           .notification_id = "n1",
                           .kind = "button",
                           .action = "button_pressed",
                           .button_index = 0,
                           .button_label = "Approve",
                           .ack_status = "pending",
                           .acked_at = -1,
                           .decided_at = 0,
                           .recorded_at = 1000,
                           .user_id = "u1",
                           .user_name = "Ada",
                           .notification_title = "Deploy approval needed",
                           .notification_message = "Promote build 1.2.3?"};
    json_object *o = hp_inbox_response_json(&r);
    const char *want[] = {
        "id",         "notification_id", "project_id",         "session_id",
        "kind",       "action",          "button_index",       "button_label",
        "ack_status", "recorded_at",     "notification_title", "notification_message",
        NULL};

    /* Every field of seed 004's example item is there. */
    for (int i = 0; want[i]; i++)
        CU_ASSERT_TRUE(json_object_object_get_ex(o, want[i], NULL));
    CU_ASSERT_STRING_EQUAL(hp_json_str(o, "project_id"), "a1");
    CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(o, "button_index")), 0);
    CU_ASSERT_STRING_EQUAL(hp_json_str(json_object_object_get(o, "decided_by"), "name"), "Ada");
    CU_ASSERT_STRING_EQUAL(hp_json_str(o, "recorded_at"), "1970-01-01T00:00:00.001Z");
    CU_ASSERT_TRUE(json_object_object_get_ex(o, "acked_at", NULL));
    CU_ASSERT_PTR_NULL(json_object_object_get(o, "acked_at"));
    CU_ASSERT_FALSE(json_object_object_get_ex(o, "seq", NULL)); /* internal */
    json_object_put(o);

    /* No button: index null; no user: decided_by null. */
    r.button_index = -1;
    r.user_id = NULL;
    o = hp_inbox_response_json(&r);
    CU_ASSERT_TRUE(json_object_object_get_ex(o, "button_index", NULL));
    CU_ASSERT_PTR_NULL(json_object_object_get(o, "button_index"));
    CU_ASSERT_PTR_NULL(json_object_object_get(o, "decided_by"));
    json_object_put(o);
}

static void test_webhook_body(void)
{
    hp_inbox_record rec = {.agent_id = "a1",
                           .session_id = "s1",
                           .notification_id = "n1",
                           .kind = "button",
                           .action = "button_pressed",
                           .button_index = 2,
                           .button_label = "Rollback",
                           .decided_at = -1};
    json_object *o = hp_inbox_webhook_body(&rec, "r1", 1777248000, "b7c1f9d0");

    /* Seed 004's payload fields, with the seed's example values. */
    CU_ASSERT_STRING_EQUAL(hp_json_str(o, "notification_id"), "n1");
    CU_ASSERT_STRING_EQUAL(hp_json_str(o, "action"), "button_pressed");
    CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(o, "button_index")), 2);
    CU_ASSERT_STRING_EQUAL(hp_json_str(o, "session_id"), "s1");
    CU_ASSERT_EQUAL(json_object_get_int64(json_object_object_get(o, "timestamp")), 1777248000);
    CU_ASSERT_STRING_EQUAL(hp_json_str(o, "nonce"), "b7c1f9d0");
    CU_ASSERT_STRING_EQUAL(hp_json_str(o, "id"), "r1");
    json_object_put(o);
}

static void ack(const char *text, bool ok, const char *status, const char *error)
{
    json_object *body = text ? parse(text) : NULL;
    hp_issues *is = hp_issues_new();
    const char *st = NULL;
    char err[1024];

    CU_ASSERT_EQUAL(hp_inbox_ack_parse(body, &st, err, sizeof(err), is), ok);
    if (ok) {
        CU_ASSERT_STRING_EQUAL(st, status);
        CU_ASSERT_STRING_EQUAL(err, error);
    }
    hp_issues_free(is);
    json_object_put(body);
}

static void test_ack_body(void)
{
    ack(NULL, true, "processed", "");
    ack("{}", true, "processed", "");
    ack("{\"status\":\"ignored\"}", true, "ignored", "");
    ack("{\"status\":\"failed\",\"error\":\"disk full\"}", true, "failed", "disk full");
    ack("{\"status\":\"done\"}", false, NULL, NULL);
    ack("{\"status\":\"processed\",\"error\":\"x\"}", false, NULL, NULL);
    ack("[]", false, NULL, NULL);
    ack("{\"status\":\"failed\",\"error\":\"\"}", false, NULL, NULL);
}

static void redacts(const char *in, const char *want)
{
    char out[512];
    hp_inbox_redact(in, 200, out, sizeof(out));
    if (strcmp(out, want) != 0)
        fprintf(stderr, "\n  in   %s\n  want %s\n  got  %s\n", in, want, out);
    CU_ASSERT_STRING_EQUAL(out, want);
}

static void test_redact(void)
{
    redacts("disk full", "disk full");
    redacts("auth failed with hpk_abcdefghijkl_0123456789abcdef0123456789abcdef",
            "auth failed with [redacted]");
    redacts("header Authorization: Bearer eyJhbGciOi.x.y rejected",
            "header Authorization: Bearer [redacted] rejected");
    redacts("password=hunter2, token:abc123", "password=[redacted], token:[redacted]");
    redacts("sk-proj1234567890 and whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "[redacted] and [redacted]");
    redacts("hash 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 mismatch",
            "hash [redacted] mismatch");
    redacts("line1\nline2\ttab\x01", "line1 line2 tab ");
    redacts("version 2.1.119 of the tool", "version 2.1.119 of the tool");
}

static void test_redact_cut(void)
{
    char out[64];

    /* 10 code points kept, then an ellipsis; multi-byte characters count
     * once and are never split. */
    hp_inbox_redact("ééééééééééééééé", 10, out, sizeof(out));
    CU_ASSERT_STRING_EQUAL(out, "éééééééééé\xe2\x80\xa6");
    hp_inbox_redact("short", 10, out, sizeof(out));
    CU_ASSERT_STRING_EQUAL(out, "short");
    /* A small buffer cuts earlier, still on a boundary. */
    hp_inbox_redact("abcdefghij", 100, out, 8);
    CU_ASSERT_STRING_EQUAL(out, "abcd\xe2\x80\xa6"); /* 4 + 3 + NUL = 8 */
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"item shape", test_item_shape},    {"webhook payload", test_webhook_body},
        {"ack body", test_ack_body},        {"redaction", test_redact},
        {"redaction cut", test_redact_cut}, {NULL, NULL},
    };
    return hp_unit_main("hp_inbox", tests);
}
