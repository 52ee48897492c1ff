/*
 * Unit tests for hp_keys: the shape of minted API keys and user tokens, the
 * parser that the API trusts to refuse anything else, the stored hash, and
 * webhook signing secrets. Pure; no database.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_crypto.h"
#include "hp_keys.h"
#include "hp_unit.h"

static bool all_alnum(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

static void check_round_trip(hp_key_kind kind, const char *tag)
{
    char key[HP_KEY_LEN + 1], prefix[HP_KEY_PREFIX_LEN + 1], parsed[HP_KEY_PREFIX_LEN + 1];

    hp_key_mint(kind, key, prefix);
    CU_ASSERT_EQUAL(strlen(key), HP_KEY_LEN);
    CU_ASSERT_EQUAL(strlen(prefix), HP_KEY_PREFIX_LEN);
    CU_ASSERT_EQUAL(strncmp(key, tag, 4), 0);
    CU_ASSERT_EQUAL(strncmp(key, prefix, HP_KEY_PREFIX_LEN), 0);
    CU_ASSERT_TRUE(all_alnum(key + 4, 12));
    CU_ASSERT_EQUAL(key[HP_KEY_PREFIX_LEN], '_');
    CU_ASSERT_TRUE(all_alnum(key + HP_KEY_PREFIX_LEN + 1, 32));

    memset(parsed, 'x', sizeof(parsed));
    CU_ASSERT_TRUE(hp_key_parse(kind, key, parsed));
    CU_ASSERT_STRING_EQUAL(parsed, prefix);
}

static void test_mint_parse_round_trip(void)
{
    check_round_trip(HP_KEY_API, "hpk_");
    check_round_trip(HP_KEY_USER, "hpu_");
}

static void test_mint_is_random(void)
{
    enum { N = 200 };
    static char keys[N][HP_KEY_LEN + 1];
    char prefix[HP_KEY_PREFIX_LEN + 1];

    for (int i = 0; i < N; i++)
        hp_key_mint(HP_KEY_API, keys[i], prefix);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) {
            CU_ASSERT_NOT_EQUAL(strncmp(keys[i], keys[j], HP_KEY_PREFIX_LEN), 0);
            CU_ASSERT_STRING_NOT_EQUAL(keys[i] + HP_KEY_PREFIX_LEN, keys[j] + HP_KEY_PREFIX_LEN);
        }
}

static void test_wrong_kind(void)
{
    char api[HP_KEY_LEN + 1], user[HP_KEY_LEN + 1], prefix[HP_KEY_PREFIX_LEN + 1];

    hp_key_mint(HP_KEY_API, api, prefix);
    hp_key_mint(HP_KEY_USER, user, prefix);
    CU_ASSERT_FALSE(hp_key_parse(HP_KEY_USER, api, prefix));
    CU_ASSERT_FALSE(hp_key_parse(HP_KEY_API, user, prefix));
    /* Tags are case-sensitive. */
    api[0] = 'H';
    CU_ASSERT_FALSE(hp_key_parse(HP_KEY_API, api, prefix));
}

static void test_wrong_length(void)
{
    char key[HP_KEY_LEN + 1], prefix[HP_KEY_PREFIX_LEN + 1];
    char longer[HP_KEY_LEN + 2];

    hp_key_mint(HP_KEY_API, key, prefix);
    memcpy(longer, key, HP_KEY_LEN);
    longer[HP_KEY_LEN] = 'a';
    longer[HP_KEY_LEN + 1] = '\0';
    CU_ASSERT_FALSE(hp_key_parse(HP_KEY_API, longer, prefix));
    key[HP_KEY_LEN - 1] = '\0';
    CU_ASSERT_FALSE(hp_key_parse(HP_KEY_API, key, prefix));
    CU_ASSERT_FALSE(hp_key_parse(HP_KEY_API, "", prefix));
    CU_ASSERT_FALSE(hp_key_parse(HP_KEY_API, "hpk_", prefix));
    CU_ASSERT_FALSE(hp_key_parse(HP_KEY_API, NULL, prefix));
}

/* Replaces key[pos] with bad and expects the parse to fail. */
static void expect_bad_char(size_t pos, char bad)
{
    char key[HP_KEY_LEN + 1], prefix[HP_KEY_PREFIX_LEN + 1];

    hp_key_mint(HP_KEY_API, key, prefix);
    CU_ASSERT_TRUE_FATAL(hp_key_parse(HP_KEY_API, key, prefix));
    key[pos] = bad;
    CU_ASSERT_FALSE(hp_key_parse(HP_KEY_API, key, prefix));
}

static void test_bad_chars(void)
{
    /* In the public part. */
    expect_bad_char(4, '-');
    expect_bad_char(15, '_');
    expect_bad_char(10, ' ');
    /* The separator. */
    expect_bad_char(HP_KEY_PREFIX_LEN, 'a');
    expect_bad_char(HP_KEY_PREFIX_LEN, '-');
    /* In the secret part, including base64 and non-ASCII bytes. */
    expect_bad_char(HP_KEY_PREFIX_LEN + 1, '+');
    expect_bad_char(HP_KEY_LEN - 1, '/');
    expect_bad_char(30, '=');
    expect_bad_char(40, (char)0xc3);
}

static void test_hash_known_answer(void)
{
    /* FIPS 180-2 test vector: SHA-256("abc"). */
    static const unsigned char abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                          0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                          0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                          0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    char key[HP_KEY_LEN + 1], prefix[HP_KEY_PREFIX_LEN + 1];
    unsigned char h1[32], h2[32];

    hp_key_hash("abc", h1);
    CU_ASSERT_EQUAL(memcmp(h1, abc, 32), 0);

    /* The stored hash is SHA-256 of the whole secret, prefix included. */
    hp_key_mint(HP_KEY_API, key, prefix);
    hp_key_hash(key, h1);
    hp_sha256(key, strlen(key), h2);
    CU_ASSERT_EQUAL(memcmp(h1, h2, 32), 0);
    hp_sha256(key + HP_KEY_PREFIX_LEN + 1, 32, h2);
    CU_ASSERT_NOT_EQUAL(memcmp(h1, h2, 32), 0);
}

static void test_prefix_valid(void)
{
    char key[HP_KEY_LEN + 1], prefix[HP_KEY_PREFIX_LEN + 1], bad[HP_KEY_PREFIX_LEN + 1];

    hp_key_mint(HP_KEY_API, key, prefix);
    CU_ASSERT_TRUE(hp_key_prefix_valid(HP_KEY_API, prefix));
    CU_ASSERT_FALSE(hp_key_prefix_valid(HP_KEY_USER, prefix));
    /* The whole key is not a prefix, nor is a shorter or longer string. */
    CU_ASSERT_FALSE(hp_key_prefix_valid(HP_KEY_API, key));
    CU_ASSERT_FALSE(hp_key_prefix_valid(HP_KEY_API, "hpk_"));
    CU_ASSERT_FALSE(hp_key_prefix_valid(HP_KEY_API, ""));
    CU_ASSERT_FALSE(hp_key_prefix_valid(HP_KEY_API, NULL));
    memcpy(bad, prefix, sizeof(bad));
    bad[HP_KEY_PREFIX_LEN - 1] = '\0';
    CU_ASSERT_FALSE(hp_key_prefix_valid(HP_KEY_API, bad));
    memcpy(bad, prefix, sizeof(bad));
    bad[9] = '%';
    CU_ASSERT_FALSE(hp_key_prefix_valid(HP_KEY_API, bad));
    CU_ASSERT_FALSE(hp_key_prefix_valid(HP_KEY_API, "00000000-0000-4000-8000-000000000000"));
}

static void test_webhook_secret(void)
{
    char *a = hp_key_webhook_secret_new();
    char *b = hp_key_webhook_secret_new();
    unsigned char raw[64];
    size_t n = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(strncmp(a, "whsec_", 6), 0);
    CU_ASSERT_EQUAL(strlen(a), 6 + 44);
    CU_ASSERT_EQUAL(hp_base64_decode(a + 6, raw, sizeof(raw), &n), HP_OK);
    CU_ASSERT_EQUAL(n, 32);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    free(b);
    free(a);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"mint and parse round trip", test_mint_parse_round_trip},
        {"minted keys differ", test_mint_is_random},
        {"wrong kind is refused", test_wrong_kind},
        {"wrong length is refused", test_wrong_length},
        {"bad characters are refused", test_bad_chars},
        {"public prefixes are recognised", test_prefix_valid},
        {"hash known answer", test_hash_known_answer},
        {"webhook secret decodes to 32 bytes", test_webhook_secret},
        {NULL, NULL},
    };
    return hp_unit_main("hp_keys", tests);
}
