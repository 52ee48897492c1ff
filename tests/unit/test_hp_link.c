/*
 * Unit tests for hp_link: a token computed independently (Python's hmac and
 * hashlib over the documented layout, with HKDF-SHA256 for the key) is what
 * hp_link_sign writes and hp_link_parse reads back; round trips with and
 * without an option, channel and member; every single-character change, a
 * wrong key, a truncated or padded token and a foreign version are refused;
 * out-of-range input is refused at signing.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_link.h"
#include "hp_str.h"
#include "hp_unit.h"

static unsigned char key[32];

/* Computed with Python 3 (hmac, hashlib, base64) from secret bytes 0..31. */
static const char vector[] =
    "AQGR0sR7OnzejwEjRWeJq80BERERESIiQzOERFVVVVVVVQAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "cNvYgA.fkbS4mYHeh0AwY6nF-c_4w";

static void test_vector(void)
{
    hp_link l = {.option_index = 1, .expires_at = 1893456000};
    char tok[HP_LINK_TOKEN_LEN + 1];
    hp_link back;

    hp_strlcpy(l.approval_id, "0191d2c4-7b3a-7cde-8f01-23456789abcd", sizeof(l.approval_id));
    hp_strlcpy(l.channel_id, "11111111-2222-4333-8444-555555555555", sizeof(l.channel_id));
    CU_ASSERT_EQUAL_FATAL(hp_link_sign(key, &l, tok), HP_OK);
    CU_ASSERT_STRING_EQUAL(tok, vector);
    CU_ASSERT_EQUAL(strlen(tok), HP_LINK_TOKEN_LEN);
    CU_ASSERT_EQUAL_FATAL(hp_link_parse(key, vector, &back), HP_OK);
    CU_ASSERT_STRING_EQUAL(back.approval_id, l.approval_id);
    CU_ASSERT_EQUAL(back.option_index, 1);
    CU_ASSERT_STRING_EQUAL(back.channel_id, l.channel_id);
    CU_ASSERT_STRING_EQUAL(back.user_id, "");
    CU_ASSERT_EQUAL(back.expires_at, 1893456000);
}

static void test_round_trip(void)
{
    hp_link l = {.option_index = -1, .expires_at = 42};
    char tok[HP_LINK_TOKEN_LEN + 1];
    hp_link back;

    hp_strlcpy(l.approval_id, "ffffffff-ffff-4fff-bfff-ffffffffffff", sizeof(l.approval_id));
    hp_strlcpy(l.user_id, "00000000-0000-4000-8000-000000000001", sizeof(l.user_id));
    CU_ASSERT_EQUAL_FATAL(hp_link_sign(key, &l, tok), HP_OK);
    CU_ASSERT_EQUAL_FATAL(hp_link_parse(key, tok, &back), HP_OK);
    CU_ASSERT_EQUAL(back.option_index, -1);
    CU_ASSERT_STRING_EQUAL(back.channel_id, "");
    CU_ASSERT_STRING_EQUAL(back.user_id, l.user_id);
    CU_ASSERT_EQUAL(back.expires_at, 42);
    l.option_index = 254;
    CU_ASSERT_EQUAL(hp_link_sign(key, &l, tok), HP_OK);
    CU_ASSERT_EQUAL(hp_link_parse(key, tok, &back), HP_OK);
    CU_ASSERT_EQUAL(back.option_index, 254);
}

static void test_tampered(void)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    char t[HP_LINK_TOKEN_LEN + 2];
    unsigned char other[32];
    hp_link back;
    int refused = 0, tried = 0;

    for (size_t i = 0; i < HP_LINK_TOKEN_LEN; i++) {
        for (const char *c = alphabet; *c; c++) {
            if (*c == vector[i])
                continue;
            hp_strlcpy(t, vector, sizeof(t));
            t[i] = *c;
            tried++;
            if (hp_link_parse(key, t, &back) != HP_OK)
                refused++;
        }
    }
    CU_ASSERT_EQUAL(refused, tried);
    memcpy(other, key, sizeof(other));
    other[0] ^= 1;
    CU_ASSERT_EQUAL(hp_link_parse(other, vector, &back), HP_ERR_INVALID_PAYLOAD);
    hp_strlcpy(t, vector, sizeof(t));
    t[HP_LINK_TOKEN_LEN - 1] = '\0';
    CU_ASSERT_EQUAL(hp_link_parse(key, t, &back), HP_ERR_INVALID_PAYLOAD);
    (void)hp_fmt(t, sizeof(t), "%sA", vector);
    CU_ASSERT_EQUAL(hp_link_parse(key, t, &back), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_link_parse(key, "", &back), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_link_parse(key, NULL, &back), HP_ERR_INVALID_PAYLOAD);
}

static void test_refused_at_signing(void)
{
    hp_link l = {.option_index = 0, .expires_at = 1};
    char tok[HP_LINK_TOKEN_LEN + 1];

    hp_strlcpy(l.approval_id, "not-a-uuid", sizeof(l.approval_id));
    CU_ASSERT_EQUAL(hp_link_sign(key, &l, tok), HP_ERR_INVALID_PAYLOAD);
    hp_strlcpy(l.approval_id, "0191d2c4-7b3a-7cde-8f01-23456789abcd", sizeof(l.approval_id));
    hp_strlcpy(l.channel_id, "xyz", sizeof(l.channel_id));
    CU_ASSERT_EQUAL(hp_link_sign(key, &l, tok), HP_ERR_INVALID_PAYLOAD);
    l.channel_id[0] = '\0';
    l.option_index = 255;
    CU_ASSERT_EQUAL(hp_link_sign(key, &l, tok), HP_ERR_INVALID_PAYLOAD);
    l.option_index = -2;
    CU_ASSERT_EQUAL(hp_link_sign(key, &l, tok), HP_ERR_INVALID_PAYLOAD);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"independent vector", test_vector},
        {"round trip", test_round_trip},
        {"tampered, wrong key, malformed", test_tampered},
        {"refused at signing", test_refused_at_signing},
        {NULL, NULL},
    };
    unsigned char secret[32];

    for (int i = 0; i < 32; i++)
        secret[i] = (unsigned char)i;
    hp_link_key(secret, key);
    return hp_unit_main("hp_link", tests);
}
