/*
 * Unit tests for hp_wake's pure parts: the seal of a decision's row on Redis
 * matches one computed independently (Python's hmac and hashlib, HKDF by
 * hand, from secret bytes 0..31), and without a key only the keys go; a
 * sealed message opens to the NOTIFY form; a message without a row passes as
 * it is; a row without a seal, with a malformed seal, with a seal under
 * another key, or changed anywhere after sealing (keys, seal or row) opens
 * to its keys alone and is reported forged; without a key every row is
 * refused; the reconnect backoff doubles from 100 ms to 5 s.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_unit.h"
#include "hp_wake.h"

static unsigned char key[32];

#define KEYS                                                                                       \
    "0191d2c4-7b3a-7cde-8f01-23456789abcd team:11111111-2222-4333-8444-555555555555 "              \
    "agent:22222222-3333-4444-8555-666666666666"
#define ROW " =[\"0191d2c4-7b3a-7cde-8f01-23456789abcd\",null,\"caf\xc3\xa9 \\\"q\\\"\"]"
/* HMAC-SHA256(HKDF-SHA256(bytes 0..31, no salt, "holdpoint wake messages
 * v1"), KEYS ROW), computed with Python 3. */
#define SEAL "e7cf1557b1c81309f96a91782cdddf6eac9aaf8db453154ef3155d8eaec4f013"

/* Opens payload under k: checks the result and the forged flag, frees. */
static void expect_open(const unsigned char *k, const char *payload, const char *want, bool forged)
{
    bool f = !forged;
    char *m = hp_wake_open(k, payload, &f);

    CU_ASSERT_STRING_EQUAL(m, want);
    CU_ASSERT_EQUAL(f, forged);
    free(m);
}

static void test_vector(void)
{
    char *s = hp_wake_seal(key, KEYS ROW);

    CU_ASSERT_STRING_EQUAL(s, KEYS " ~" SEAL ROW);
    expect_open(key, s, KEYS ROW, false);
    free(s);
    /* Without a key, the keys alone. */
    s = hp_wake_seal(NULL, KEYS ROW);
    CU_ASSERT_STRING_EQUAL(s, KEYS);
    free(s);
}

static void test_without_row(void)
{
    char *s = hp_wake_seal(key, KEYS);

    CU_ASSERT_STRING_EQUAL(s, KEYS);
    free(s);
    expect_open(key, KEYS, KEYS, false);
    expect_open(NULL, "team:11111111-2222-4333-8444-555555555555",
                "team:11111111-2222-4333-8444-555555555555", false);
}

static void test_refused(void)
{
    static const char sealed[] = KEYS " ~" SEAL ROW;
    unsigned char other[32];

    /* No seal, a short one, one not in hex, an empty one. */
    expect_open(key, KEYS ROW, KEYS, true);
    expect_open(key, KEYS " ~e7cf15" ROW, KEYS " ~e7cf15", true);
    expect_open(key, KEYS " ~g7cf1557b1c81309f96a91782cdddf6eac9aaf8db453154ef3155d8eaec4f013" ROW,
                KEYS, true);
    expect_open(key, " ~" SEAL ROW, " ~" SEAL, true);
    /* Another key, or none. */
    memcpy(other, key, sizeof(other));
    other[31] ^= 1;
    expect_open(other, sealed, KEYS, true);
    expect_open(NULL, sealed, KEYS, true);
    /* Any one character changed, anywhere. */
    for (size_t i = 0; i < sizeof(sealed) - 1; i++) {
        char *t = strdup(sealed), *m;
        bool forged = false;
        t[i] = t[i] == 'a' ? 'b' : 'a';
        m = hp_wake_open(key, t, &forged);
        if (strstr(t, " =") != NULL) {
            CU_ASSERT_TRUE(forged);
            CU_ASSERT_PTR_NULL(strstr(m, " ="));
        }
        free(m);
        free(t);
    }
}

static void test_backoff(void)
{
    CU_ASSERT_EQUAL(hp_wake_backoff_ms(1), 100);
    CU_ASSERT_EQUAL(hp_wake_backoff_ms(2), 200);
    CU_ASSERT_EQUAL(hp_wake_backoff_ms(6), 3200);
    CU_ASSERT_EQUAL(hp_wake_backoff_ms(7), 5000);
    CU_ASSERT_EQUAL(hp_wake_backoff_ms(1000), 5000);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"independent vector", test_vector},
        {"messages without a row pass", test_without_row},
        {"unsealed, malformed, foreign or changed rows refused", test_refused},
        {"reconnect backoff", test_backoff},
        {NULL, NULL},
    };
    unsigned char secret[32];

    for (int i = 0; i < 32; i++)
        secret[i] = (unsigned char)i;
    hp_wake_key(secret, key);
    return hp_unit_main("hp_wake", tests);
}
