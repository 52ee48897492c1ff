/*
 * Unit tests for hp_webhook: the Standard Webhooks signature against the
 * specification's published test vector, the seed 004 signature against a
 * vector computed with Node's crypto, key decoding, the header list (seed 003
 * order, agent auth winning once, reserved names dropped), and the retry
 * delay (equal jitter bounds, cap, no overflow).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_webhook.h"
#include "hp_unit.h"

static const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
static const char *body = "{\"test\": 2432232314}";

static void test_standard_vector(void)
{
    unsigned char key[HP_WEBHOOK_KEY_MAX];
    size_t keylen = 0;
    char sig[HP_WEBHOOK_SIG_STD_LEN + 1];

    CU_ASSERT_EQUAL_FATAL(hp_webhook_key(secret, key, &keylen), HP_OK);
    CU_ASSERT_EQUAL(keylen, 24);
    hp_webhook_sign_std(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
                        sig);
    CU_ASSERT_STRING_EQUAL(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

static void test_seed004_vector(void)
{
    unsigned char key[HP_WEBHOOK_KEY_MAX];
    size_t keylen = 0;
    char sig[HP_WEBHOOK_SIG_HEX_LEN + 1];

    CU_ASSERT_EQUAL_FATAL(hp_webhook_key(secret, key, &keylen), HP_OK);
    hp_webhook_sign_hex(key, keylen, 1614265330, "abc123", body, strlen(body), sig);
    CU_ASSERT_STRING_EQUAL(
        sig, "sha256=b11d5deae65cec27e1c091624fea772e3b31c69b7e3002f07802a38bc2627fa6");
}

static void test_holdpoint_vector(void)
{
    unsigned char key[HP_WEBHOOK_KEY_MAX];
    size_t keylen = 0;
    char sig[HP_WEBHOOK_SIG_HP_LEN + 1];

    /* Computed independently with Python's hmac and Node's crypto. */
    CU_ASSERT_EQUAL_FATAL(hp_webhook_key(secret, key, &keylen), HP_OK);
    hp_webhook_sign_holdpoint(key, keylen, 1614265330, body, strlen(body), sig);
    CU_ASSERT_STRING_EQUAL(
        sig, "t=1614265330,v1=e96203c6de850e7dc1fde7489ef6140b402d3a5a64fe250cd2eef9830fac1cef");
    /* The longest timestamp fits. */
    hp_webhook_sign_holdpoint(key, keylen, -9223372036854775807LL - 1, body, strlen(body), sig);
    CU_ASSERT_EQUAL(strlen(sig), 2 + 20 + 4 + 64);
}

static void test_key_errors(void)
{
    unsigned char key[HP_WEBHOOK_KEY_MAX];
    size_t keylen;

    CU_ASSERT_EQUAL(hp_webhook_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, &keylen),
                    HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_webhook_key("whsec_not base64!", key, &keylen), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_webhook_key(NULL, key, &keylen), HP_ERR_INVALID_PAYLOAD);
}

/* The list as "a|b|c" for easy comparison. */
static void list_text(struct curl_slist *l, char *out, size_t cap)
{
    out[0] = '\0';
    for (; l != NULL; l = l->next) {
        strncat(out, l->data, cap - strlen(out) - 2);
        strncat(out, "|", cap - strlen(out) - 1);
    }
}

static void test_headers_order_and_auth(void)
{
    struct curl_slist *l = NULL;
    char text[2048];

    CU_ASSERT_EQUAL_FATAL(
        hp_webhook_headers("{\"X-Trace\":\"t1\",\"authorization\":\"Bearer caller\","
                           "\"content-type\":\"text/plain\",\"Host\":\"evil\","
                           "\"webhook-id\":\"forged\",\"Bad Name\":\"x\",\"X-N\":7,"
                           "\"X-CRLF\":\"a\\r\\nInjected: 1\"}",
                           "Authorization", "Bearer agent", NULL, &l),
        HP_OK);
    list_text(l, text, sizeof(text));
    CU_ASSERT_STRING_EQUAL(text, "Content-Type: application/json|X-Trace: t1|Authorization: Bearer "
                                 "agent|Expect:|");
    curl_slist_free_all(l);
}

static void test_headers_signature(void)
{
    struct curl_slist *l = NULL;
    hp_webhook_sig sig;
    char text[2048];

    memset(&sig, 0, sizeof(sig));
    sig.id = "msg_1";
    sig.ts = 1700000000;
    sig.nonce = "n1";
    snprintf(sig.std, sizeof(sig.std), "v1,abc");
    snprintf(sig.hex, sizeof(sig.hex), "sha256=def");
    snprintf(sig.hp, sizeof(sig.hp), "t=1700000000,v1=123");
    CU_ASSERT_EQUAL_FATAL(
        hp_webhook_headers("{\"X-Holdpoint-Signature\":\"forged\"}", NULL, NULL, &sig, &l), HP_OK);
    list_text(l, text, sizeof(text));
    CU_ASSERT_STRING_EQUAL(text, "Content-Type: application/json|webhook-id: msg_1|"
                                 "webhook-timestamp: 1700000000|webhook-signature: v1,abc|"
                                 "X-Timestamp: 1700000000|X-Nonce: n1|"
                                 "X-Signature-256: sha256=def|"
                                 "X-Holdpoint-Signature: t=1700000000,v1=123|Expect:|");
    curl_slist_free_all(l);
    CU_ASSERT_EQUAL(hp_webhook_headers("[1]", NULL, NULL, NULL, &l), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_PTR_NULL(l);
    CU_ASSERT_EQUAL(hp_webhook_headers("{bad", NULL, NULL, NULL, &l), HP_ERR_INVALID_PAYLOAD);
}

static void test_backoff(void)
{
    /* Equal jitter: attempt n waits within [d/2, d], d = base * 2^(n-1). */
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(1, 1000, 30000, 0), 500);
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(1, 1000, 30000, 500), 1000);
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(1, 1000, 30000, 501), 500);
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(2, 1000, 30000, 0), 1000);
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(3, 1000, 30000, 0), 2000);
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(3, 1000, 30000, 2000), 4000);
    /* The cap. */
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(6, 1000, 30000, 0), 15000);
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(6, 1000, 30000, 15000), 30000);
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(1000000, 1000, 30000, UINT64_MAX) <= 30000, 1);
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(1000000, 1000, 30000, 0), 15000);
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(2, 50000, 30000, 0), 15000);
    /* Odd delays: ceil(d/2) .. d. */
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(1, 3, 100, 0), 2);
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(1, 3, 100, 1), 3);
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(0, 1000, 30000, 0), 500);
    CU_ASSERT_EQUAL(hp_webhook_backoff_ms(1, 0, 30000, 99), 0);
    /* Every value for a range of r stays inside the bounds. */
    for (uint64_t r = 0; r < 5000; r += 7) {
        int64_t d = hp_webhook_backoff_ms(4, 1000, 30000, r * 2654435761u);
        CU_ASSERT(d >= 4000 && d <= 8000);
    }
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"standard webhooks test vector", test_standard_vector},
        {"seed 004 signature vector", test_seed004_vector},
        {"X-Holdpoint-Signature vector", test_holdpoint_vector},
        {"key errors", test_key_errors},
        {"headers: order, auth wins once, reserved dropped", test_headers_order_and_auth},
        {"headers: signature headers", test_headers_signature},
        {"backoff with equal jitter", test_backoff},
        {NULL, NULL},
    };
    return hp_unit_main("hp_webhook", tests);
}
