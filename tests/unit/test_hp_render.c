/*
 * Unit tests for hp_render: every format against its golden file
 * (tests/unit/golden/render/<format>.json) over the same outcomes — approved
 * and denied by a person, a text reply, timeout defaults, an ask, an unknown
 * key, an expiry without a default, a cancel and a failure fallback — with
 * the exit status a hook command ends with; plus the verdict word lists, the
 * format list and unknown formats.
 */
#include <string.h>

#include <CUnit/Basic.h>

#include "golden.h"
#include "hp_render.h"
#include "hp_unit.h"

typedef struct outcome {
    const char *name;
    hp_render_in in;
} outcome;

static const outcome outcomes[] = {
    {"approved_by_person", {"selected_option", "allow", "Allow", NULL, false, "Ada"}},
    {"denied_by_person", {"selected_option", "deny", "Deny", NULL, false, "Ada"}},
    {"reply", {"custom_instruction", NULL, NULL, "use the staging database first", false, "Ada"}},
    {"timeout_default_deny", {"expired", "deny", "Deny", NULL, true, NULL}},
    {"timeout_default_allow", {"expired", "allow", "Allow", NULL, true, NULL}},
    {"ask", {"selected_option", "ask", "Ask at the terminal", NULL, false, "Ada"}},
    {"unknown_key", {"selected_option", "rollback", "Rollback", NULL, false, "Ada"}},
    {"expired_without_default", {"expired", NULL, NULL, NULL, false, NULL}},
    {"cancelled", {"cancelled", NULL, NULL, NULL, false, NULL}},
    {"simulated_allow", {"selected_option", "approve", "Approve", NULL, false, NULL}},
};

static void test_golden(void)
{
    for (int f = 0; hp_render_formats[f]; f++) {
        const char *format = hp_render_formats[f];
        json_object *all = json_object_new_object();
        char rel[128];

        for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
            json_object *c = json_object_new_object();
            json_object *out = hp_render(format, &outcomes[i].in);
            hp_verdict v = hp_render_verdict(&outcomes[i].in);
            CU_ASSERT_PTR_NOT_NULL_FATAL(out);
            json_object_object_add(c, "output", out);
            json_object_object_add(c, "exit_code",
                                   json_object_new_int(hp_render_exit_code(format, v)));
            json_object_object_add(all, outcomes[i].name, c);
        }
        {
            json_object *c = json_object_new_object();
            json_object_object_add(
                c, "output",
                hp_render_verdict_json(format, HP_VERDICT_DENY,
                                       "Holdpoint could not be reached (connect timeout); "
                                       "denied by default"));
            json_object_object_add(
                c, "exit_code", json_object_new_int(hp_render_exit_code(format, HP_VERDICT_DENY)));
            json_object_object_add(all, "fallback_server_down", c);
        }
        snprintf(rel, sizeof(rel), "render/%s.json", format);
        golden_check(rel, all);
        json_object_put(all);
    }
}

static void test_verdicts(void)
{
    static const char *const allow[] = {"allow", "Allow",      "APPROVE",      "approved", "yes",
                                        "ok",    "allow_once", "allow-always", NULL};
    static const char *const deny[] = {"deny",     "reject", "no",     "block",
                                       "rollback", "",       "allowx", NULL};
    hp_render_in in = {"selected_option", NULL, NULL, NULL, false, NULL};

    for (int i = 0; allow[i]; i++)
        CU_ASSERT_EQUAL(hp_render_key_verdict(allow[i]), HP_VERDICT_ALLOW);
    for (int i = 0; deny[i]; i++)
        CU_ASSERT_EQUAL(hp_render_key_verdict(deny[i]), HP_VERDICT_DENY);
    CU_ASSERT_EQUAL(hp_render_key_verdict("ask"), HP_VERDICT_ASK);
    CU_ASSERT_EQUAL(hp_render_key_verdict("Defer"), HP_VERDICT_ASK);
    CU_ASSERT_EQUAL(hp_render_key_verdict(NULL), HP_VERDICT_DENY);
    /* An allow key decides only when the option was chosen. */
    in.decision_key = "allow";
    CU_ASSERT_EQUAL(hp_render_verdict(&in), HP_VERDICT_ALLOW);
    in.status = "pending";
    CU_ASSERT_EQUAL(hp_render_verdict(&in), HP_VERDICT_DENY);
    in.status = "cancelled";
    CU_ASSERT_EQUAL(hp_render_verdict(&in), HP_VERDICT_DENY);
    in.status = "custom_instruction";
    CU_ASSERT_EQUAL(hp_render_verdict(&in), HP_VERDICT_DENY);
}

static void test_formats(void)
{
    int n = 0;
    for (; hp_render_formats[n]; n++)
        CU_ASSERT_TRUE(hp_render_format_ok(hp_render_formats[n]));
    CU_ASSERT_EQUAL(n, 7);
    CU_ASSERT_STRING_EQUAL(hp_render_formats[0], "raw");
    CU_ASSERT_FALSE(hp_render_format_ok("claude_code.posttooluse"));
    CU_ASSERT_FALSE(hp_render_format_ok(NULL));
    CU_ASSERT_FALSE(hp_render_format_ok(""));
    CU_ASSERT_PTR_NULL(hp_render("nope", &outcomes[0].in));
    CU_ASSERT_PTR_NULL(hp_render_verdict_json("nope", HP_VERDICT_DENY, "x"));
}

static void test_reason_bounded(void)
{
    char out[24];
    hp_render_in in = {"custom_instruction",
                       NULL,
                       NULL,
                       "a very long reply that does not fit in the buffer",
                       false,
                       "Ada"};

    hp_render_reason(&in, out, sizeof(out));
    CU_ASSERT_EQUAL(strlen(out), sizeof(out) - 1);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"golden files of every format", test_golden},
        {"verdicts", test_verdicts},
        {"formats", test_formats},
        {"reason is bounded", test_reason_bounded},
        {NULL, NULL},
    };
    return hp_unit_main("hp_render", tests);
}
