/*
 * Unit tests for hp_admin, the model of a tenant's identities: each check
 * accepts the specs the admin commands and settings pages send and refuses
 * each kind of bad value with a reason naming the option; an agent's sealed
 * secrets open with the key to what the caller was shown, and nothing in
 * them is plain text.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_admin.h"
#include "hp_unit.h"

static const char *const team = "0193a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b";

/* The check gives HP_ERR_INVALID_PAYLOAD and its reason mentions word. */
static void refused(hp_err rc, const char *err, const char *word)
{
    CU_ASSERT_EQUAL(rc, HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, word));
}

static void test_user(void)
{
    hp_admin_user_spec u = {.email = "ana@example.com", .password = "pw"};
    char err[HP_ERRBUF] = "";

    CU_ASSERT_EQUAL(hp_admin_user_check(team, &u, err, sizeof(err)), HP_OK);
    u.role = "admin";
    CU_ASSERT_EQUAL(hp_admin_user_check(team, &u, err, sizeof(err)), HP_OK);
    u.role = "root";
    refused(hp_admin_user_check(team, &u, err, sizeof(err)), err, "--role");
    u.role = NULL;
    u.email = "ana.example.com";
    refused(hp_admin_user_check(team, &u, err, sizeof(err)), err, "--email");
    u.email = "a@b@c";
    refused(hp_admin_user_check(team, &u, err, sizeof(err)), err, "--email");
    u.email = "ana@example.com";
    u.password = "";
    refused(hp_admin_user_check(team, &u, err, sizeof(err)), err, "--password");
    u.password = "pw";
    refused(hp_admin_user_check("not-a-uuid", &u, err, sizeof(err)), err, "--team-id");
}

static void test_agent(void)
{
    hp_admin_agent_spec a = {.name = "deployer"};
    char err[HP_ERRBUF] = "";

    CU_ASSERT_EQUAL(hp_admin_agent_check(team, &a, err, sizeof(err)), HP_OK);
    a.timeout_seconds = 29;
    refused(hp_admin_agent_check(team, &a, err, sizeof(err)), err, "--timeout-seconds");
    a.timeout_seconds = 86400;
    a.timeout_mode = "expire_with_predefined_instruction";
    refused(hp_admin_agent_check(team, &a, err, sizeof(err)), err, "--timeout-instruction");
    a.timeout_instruction = "roll back";
    CU_ASSERT_EQUAL(hp_admin_agent_check(team, &a, err, sizeof(err)), HP_OK);
    a.timeout_mode = NULL;
    refused(hp_admin_agent_check(team, &a, err, sizeof(err)), err, "--timeout-instruction");
    a.timeout_instruction = NULL;
    a.callback_auth_header = "X-Auth";
    refused(hp_admin_agent_check(team, &a, err, sizeof(err)), err, "together");
    a.callback_auth_value = "secret";
    CU_ASSERT_EQUAL(hp_admin_agent_check(team, &a, err, sizeof(err)), HP_OK);
    a.callback_auth_header = "X Auth";
    refused(hp_admin_agent_check(team, &a, err, sizeof(err)), err, "--callback-auth-header");
    a.callback_auth_header = "Content-Length";
    refused(hp_admin_agent_check(team, &a, err, sizeof(err)), err, "--callback-auth-header");
    a.callback_auth_header = "X-Auth";
    a.callback_auth_value = "a\r\nInjected: 1";
    refused(hp_admin_agent_check(team, &a, err, sizeof(err)), err, "control");
    a.callback_auth_value = "secret";
    a.name = "";
    refused(hp_admin_agent_check(team, &a, err, sizeof(err)), err, "--name");
}

/* A change to an existing agent: what it leaves out stays, a mode without
 * an instruction drops the old one, and the result is checked whole. */
static void test_agent_patch(void)
{
    const hp_admin_agent_spec cur = {.name = "deploy-bot",
                                     .timeout_seconds = 600,
                                     .timeout_mode = "expire_with_predefined_instruction",
                                     .timeout_instruction = "Stop."};
    hp_admin_agent_patch p = {.set_timeout_seconds = true, .timeout_seconds = 1200};
    hp_admin_agent_spec out;
    char err[HP_ERRBUF] = "";

    CU_ASSERT_EQUAL(hp_admin_agent_patch_apply(team, &cur, &p, &out, err, sizeof(err)), HP_OK);
    CU_ASSERT_STRING_EQUAL(out.name, "deploy-bot");
    CU_ASSERT_EQUAL(out.timeout_seconds, 1200);
    CU_ASSERT_STRING_EQUAL(out.timeout_mode, "expire_with_predefined_instruction");
    CU_ASSERT_STRING_EQUAL(out.timeout_instruction, "Stop.");
    CU_ASSERT_PTR_NULL(out.callback_auth_header);
    /* No action: the instruction goes with the old mode. */
    p = (hp_admin_agent_patch){.timeout_mode = "expire_no_action"};
    CU_ASSERT_EQUAL(hp_admin_agent_patch_apply(team, &cur, &p, &out, err, sizeof(err)), HP_OK);
    CU_ASSERT_EQUAL(out.timeout_seconds, 600);
    CU_ASSERT_PTR_NULL(out.timeout_instruction);
    /* ... unless one is given, which that mode does not allow. */
    p.set_timeout_instruction = true;
    p.timeout_instruction = "Halt.";
    refused(hp_admin_agent_patch_apply(team, &cur, &p, &out, err, sizeof(err)), err,
            "--timeout-instruction");
    /* The instruction cleared while the mode still needs one. */
    p = (hp_admin_agent_patch){.set_timeout_instruction = true};
    refused(hp_admin_agent_patch_apply(team, &cur, &p, &out, err, sizeof(err)), err,
            "--timeout-instruction");
    p = (hp_admin_agent_patch){.set_timeout_seconds = true, .timeout_seconds = 20};
    refused(hp_admin_agent_patch_apply(team, &cur, &p, &out, err, sizeof(err)), err,
            "--timeout-seconds");
    /* The callback header's name and value change together, or go. */
    p = (hp_admin_agent_patch){.set_callback_auth = true, .callback_auth_header = "X-Auth"};
    refused(hp_admin_agent_patch_apply(team, &cur, &p, &out, err, sizeof(err)), err, "together");
    p.callback_auth_value = "secret";
    CU_ASSERT_EQUAL(hp_admin_agent_patch_apply(team, &cur, &p, &out, err, sizeof(err)), HP_OK);
    CU_ASSERT_STRING_EQUAL(out.callback_auth_header, "X-Auth");
    CU_ASSERT_STRING_EQUAL(out.callback_auth_value, "secret");
    p = (hp_admin_agent_patch){.set_callback_auth = true};
    CU_ASSERT_EQUAL(hp_admin_agent_patch_apply(team, &cur, &p, &out, err, sizeof(err)), HP_OK);
    CU_ASSERT_PTR_NULL(out.callback_auth_header);
    CU_ASSERT_PTR_NULL(out.callback_auth_value);
    /* A new name, under a new agent's rules; the rest is kept. */
    p = (hp_admin_agent_patch){.name = "release-bot"};
    CU_ASSERT_EQUAL(hp_admin_agent_patch_apply(team, &cur, &p, &out, err, sizeof(err)), HP_OK);
    CU_ASSERT_STRING_EQUAL(out.name, "release-bot");
    CU_ASSERT_EQUAL(out.timeout_seconds, 600);
    CU_ASSERT_STRING_EQUAL(out.timeout_instruction, "Stop.");
    p.name = "";
    refused(hp_admin_agent_patch_apply(team, &cur, &p, &out, err, sizeof(err)), err, "--name");
    p.name = "two\nlines";
    refused(hp_admin_agent_patch_apply(team, &cur, &p, &out, err, sizeof(err)), err, "--name");
}

static void test_key_and_quota(void)
{
    hp_admin_bootstrap_spec b = {.team_name = "t",
                                 .quota = HP_QUOTA_UNLIMITED,
                                 .user = {.email = "o@example.com", .password = "pw"},
                                 .agent_name = "a"};
    char err[HP_ERRBUF] = "";

    CU_ASSERT_EQUAL(hp_admin_key_check(team, NULL, NULL, err, sizeof(err)), HP_OK);
    refused(hp_admin_key_check(team, "x", NULL, err, sizeof(err)), err, "--agent-id");
    {
        hp_admin_key_ref ref;
        char key[HP_KEY_LEN + 1], prefix[HP_KEY_PREFIX_LEN + 1];
        unsigned char h[32];

        refused(hp_admin_key_ref_parse("x", &ref, err, sizeof(err)), err, "--key-id");
        refused(hp_admin_key_ref_parse(NULL, &ref, err, sizeof(err)), err, "--key-id");
        hp_key_mint(HP_KEY_API, key, prefix);
        /* By id. */
        CU_ASSERT_EQUAL(hp_admin_key_ref_parse(team, &ref, err, sizeof(err)), HP_OK);
        CU_ASSERT_STRING_EQUAL(ref.id, team);
        CU_ASSERT_STRING_EQUAL(ref.prefix, "");
        CU_ASSERT_FALSE(ref.has_hash);
        /* By the key: its prefix and hash. */
        CU_ASSERT_EQUAL(hp_admin_key_ref_parse(key, &ref, err, sizeof(err)), HP_OK);
        CU_ASSERT_STRING_EQUAL(ref.id, "");
        CU_ASSERT_STRING_EQUAL(ref.prefix, prefix);
        CU_ASSERT_TRUE(ref.has_hash);
        hp_key_hash(key, h);
        CU_ASSERT_EQUAL(memcmp(ref.hash, h, 32), 0);
        /* By prefix. */
        CU_ASSERT_EQUAL(hp_admin_key_ref_parse(prefix, &ref, err, sizeof(err)), HP_OK);
        CU_ASSERT_STRING_EQUAL(ref.prefix, prefix);
        CU_ASSERT_FALSE(ref.has_hash);
        /* A mistyped key is refused without being quoted. */
        key[20] = '-';
        refused(hp_admin_key_ref_parse(key, &ref, err, sizeof(err)), err, "--key-id");
        CU_ASSERT_PTR_NULL(strstr(err, key + 17));
        /* A user token is not an API key. */
        hp_key_mint(HP_KEY_USER, key, prefix);
        refused(hp_admin_key_ref_parse(key, &ref, err, sizeof(err)), err, "--key-id");
        refused(hp_admin_key_ref_parse(prefix, &ref, err, sizeof(err)), err, "--key-id");
    }
    CU_ASSERT_EQUAL(hp_admin_quota_check(team, 0, err, sizeof(err)), HP_OK);
    CU_ASSERT_EQUAL(hp_admin_quota_check(team, HP_QUOTA_UNLIMITED, err, sizeof(err)), HP_OK);
    refused(hp_admin_quota_check(team, 2147483648LL, err, sizeof(err)), err, "--approvals");
    CU_ASSERT_EQUAL(hp_admin_bootstrap_check(&b, err, sizeof(err)), HP_OK);
    b.user.role = "reviewer";
    refused(hp_admin_bootstrap_check(&b, err, sizeof(err)), err, "owner");
}

static void test_agent_seal(void)
{
    unsigned char key[32], other[32];
    hp_admin_agent_spec a = {
        .name = "n", .callback_auth_header = "X-A", .callback_auth_value = "bearer s3cret"};
    hp_admin_agent out;
    hp_admin_agent_sealed s;
    char err[HP_ERRBUF] = "";
    unsigned char *open = NULL;
    size_t len = 0;

    memset(key, 7, sizeof(key));
    memset(other, 8, sizeof(other));
    CU_ASSERT_EQUAL_FATAL(hp_admin_agent_seal(key, &a, &out, &s, err, sizeof(err)), HP_OK);
    CU_ASSERT_EQUAL(strncmp(out.webhook_secret, "whsec_", 6), 0);
    CU_ASSERT_PTR_NULL(strstr(s.webhook_secret, out.webhook_secret + 6));
    CU_ASSERT_PTR_NULL(strstr(s.callback_auth_value, "s3cret"));
    CU_ASSERT_EQUAL_FATAL(hp_secret_open(key, s.webhook_secret, &open, &len), HP_OK);
    CU_ASSERT_STRING_EQUAL((char *)open, out.webhook_secret);
    free(open);
    CU_ASSERT_EQUAL_FATAL(hp_secret_open(key, s.callback_auth_value, &open, &len), HP_OK);
    CU_ASSERT_STRING_EQUAL((char *)open, "bearer s3cret");
    free(open);
    CU_ASSERT_NOT_EQUAL(hp_secret_open(other, s.webhook_secret, &open, &len), HP_OK);
    hp_admin_agent_sealed_deinit(&s);
    CU_ASSERT_PTR_NULL(s.webhook_secret);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"user", test_user},
        {"agent", test_agent},
        {"agent patch", test_agent_patch},
        {"key and quota", test_key_and_quota},
        {"agent secrets sealed", test_agent_seal},
        {NULL, NULL},
    };
    return hp_unit_main("hp_admin", tests);
}
