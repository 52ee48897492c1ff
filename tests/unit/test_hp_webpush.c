/*
 * Unit tests for hp_webpush: RFC 8291 Appendix A reproduced byte for byte
 * (the same browser keys, auth secret, salt and sender key give the
 * published body); the random path's header layout (salt, rs 4096, idlen 65,
 * a fresh sender key each time) and size; keys that are not points on the
 * curve and oversized plaintexts refused; VAPID key pairs generated, loaded
 * back, and the Authorization header's JWT checked with OpenSSL's verifier
 * (ES256 over header.claims with the advertised key) and its claims read
 * back; the audience of endpoints with and without ports.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "hp_crypto.h"
#include "hp_webpush.h"
#include "hp_unit.h"

static size_t b64(const char *s, unsigned char *out, size_t cap)
{
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(hp_base64url_decode(s, out, cap, &n), HP_OK);
    return n;
}

/* RFC 8291 Appendix A. */
static void test_rfc8291_vector(void)
{
    static const char plaintext[] = "When I grow up, I want to be a watermelon";
    unsigned char ua[65], auth[16], salt[16], asp[32], aspub[65], want[256], *out = NULL;
    size_t n, outlen = 0;

    b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        ua, sizeof(ua));
    b64("BTBZMqHH6r4Tts7J_aSIgg", auth, sizeof(auth));
    b64("DGv6ra1nlYgDCS1FRnbzlw", salt, sizeof(salt));
    b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw", asp, sizeof(asp));
    b64("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
        aspub, sizeof(aspub));
    n = b64("DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocI"
            "nmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGN"
            "WQexSgSxsj_Qulcy4a-fN",
            want, sizeof(want));
    CU_ASSERT_EQUAL_FATAL(hp_webpush_encrypt_with(ua, auth, salt, asp, aspub, plaintext,
                                                  strlen(plaintext), &out, &outlen),
                          HP_OK);
    CU_ASSERT_EQUAL(outlen, n);
    CU_ASSERT_TRUE(outlen == n && memcmp(out, want, n) == 0);
    free(out);
}

static void test_random_path(void)
{
    static const char sub_key[] =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    unsigned char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    char big[HP_WEBPUSH_PLAINTEXT_MAX + 2];

    CU_ASSERT_EQUAL_FATAL(
        hp_webpush_encrypt(sub_key, "BTBZMqHH6r4Tts7J_aSIgg", "hello", 5, &a, &alen), HP_OK);
    CU_ASSERT_EQUAL_FATAL(
        hp_webpush_encrypt(sub_key, "BTBZMqHH6r4Tts7J_aSIgg", "hello", 5, &b, &blen), HP_OK);
    /* header 86 + plaintext 5 + delimiter 1 + tag 16 */
    CU_ASSERT_EQUAL(alen, 86 + 5 + 1 + 16);
    CU_ASSERT_EQUAL(a[16], 0);
    CU_ASSERT_EQUAL(a[17], 0);
    CU_ASSERT_EQUAL(a[18], 0x10);
    CU_ASSERT_EQUAL(a[19], 0);
    CU_ASSERT_EQUAL(a[20], 65);
    CU_ASSERT_EQUAL(a[21], 0x04);
    CU_ASSERT_FALSE(memcmp(a, b, 16) == 0);           /* fresh salt */
    CU_ASSERT_FALSE(memcmp(a + 21, b + 21, 65) == 0); /* fresh sender key */
    free(a);
    free(b);

    memset(big, 'x', sizeof(big));
    CU_ASSERT_EQUAL(hp_webpush_encrypt(sub_key, "BTBZMqHH6r4Tts7J_aSIgg", big,
                                       HP_WEBPUSH_PLAINTEXT_MAX, &a, &alen),
                    HP_OK);
    CU_ASSERT_EQUAL(alen, 86 + HP_WEBPUSH_RS);
    free(a);
    CU_ASSERT_EQUAL(hp_webpush_encrypt(sub_key, "BTBZMqHH6r4Tts7J_aSIgg", big,
                                       HP_WEBPUSH_PLAINTEXT_MAX + 1, &a, &alen),
                    HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_PTR_NULL(a);
}

static void test_bad_keys(void)
{
    unsigned char *out = NULL;
    size_t n = 0;
    /* A well-formed 65-byte encoding that is not on the curve (y changed). */
    static const char off_curve[] =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw8";

    CU_ASSERT_EQUAL(hp_webpush_encrypt(off_curve, "BTBZMqHH6r4Tts7J_aSIgg", "x", 1, &out, &n),
                    HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_webpush_encrypt("AAAA", "BTBZMqHH6r4Tts7J_aSIgg", "x", 1, &out, &n),
                    HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_webpush_encrypt(off_curve, "short", "x", 1, &out, &n),
                    HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_webpush_encrypt(NULL, NULL, "x", 1, &out, &n), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_PTR_NULL(out);
}

static void test_audience(void)
{
    char a[128];

    CU_ASSERT_EQUAL(hp_webpush_audience("https://fcm.googleapis.com/fcm/send/abc", a, sizeof(a)),
                    HP_OK);
    CU_ASSERT_STRING_EQUAL(a, "https://fcm.googleapis.com");
    CU_ASSERT_EQUAL(hp_webpush_audience("http://127.0.0.1:8123/push/1?x=y", a, sizeof(a)), HP_OK);
    CU_ASSERT_STRING_EQUAL(a, "http://127.0.0.1:8123");
    CU_ASSERT_EQUAL(hp_webpush_audience("ftp://x.example/", a, sizeof(a)), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_webpush_audience("not a url", a, sizeof(a)), HP_ERR_INVALID_PAYLOAD);
}

/* Verifies an ES256 JWS (raw r||s) with the public key point pub. */
static int es256_verify(const unsigned char pub[65], const char *signing, const unsigned char *sig)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ECDSA_SIG *es = ECDSA_SIG_new();
    unsigned char *der = NULL;
    int derlen, ok;

    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 65);
    params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_fromdata_init(pctx);
    EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, params);
    ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
    derlen = i2d_ECDSA_SIG(es, &der);
    ok = EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) == 1 &&
         EVP_DigestVerify(md, der, (size_t)derlen, (const unsigned char *)signing,
                          strlen(signing)) == 1;
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return ok;
}

static void test_vapid(void)
{
    char *pem = NULL, *pub = NULL, *hdr = NULL, *copy;
    hp_webpush_vapid *v = NULL;
    unsigned char pubraw[65], sig[64], claims[512];
    size_t n;

    hp_webpush_vapid_generate(&pem, &pub);
    CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(pem, "BEGIN PRIVATE KEY"));
    CU_ASSERT_EQUAL(strlen(pub), 87);
    CU_ASSERT_EQUAL_FATAL(hp_webpush_vapid_load(pem, &v), HP_OK);
    CU_ASSERT_STRING_EQUAL(hp_webpush_vapid_public(v), pub);
    CU_ASSERT_EQUAL_FATAL(hp_webpush_vapid_header(v, "https://push.example.net:8443/s/1",
                                                  "mailto:ops@example.com", 1893456000, &hdr),
                          HP_OK);
    /* "vapid t=<h>.<c>.<s>, k=<pub>" */
    CU_ASSERT_TRUE(strncmp(hdr, "vapid t=", 8) == 0);
    copy = strdup(hdr + 8);
    {
        char *comma = strstr(copy, ", k=");
        char *dot1, *dot2;
        CU_ASSERT_PTR_NOT_NULL_FATAL(comma);
        CU_ASSERT_STRING_EQUAL(comma + 4, pub);
        *comma = '\0';
        dot1 = strchr(copy, '.');
        dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
        CU_ASSERT_PTR_NOT_NULL_FATAL(dot2);
        n = 0;
        CU_ASSERT_EQUAL_FATAL(hp_base64url_decode(dot2 + 1, sig, sizeof(sig), &n), HP_OK);
        CU_ASSERT_EQUAL(n, 64);
        *dot2 = '\0';
        b64(pub, pubraw, sizeof(pubraw));
        CU_ASSERT_TRUE(es256_verify(pubraw, copy, sig));
        sig[5] ^= 1;
        CU_ASSERT_FALSE(es256_verify(pubraw, copy, sig));
        *dot1 = '\0';
        n = b64(copy, claims, sizeof(claims) - 1);
        claims[n] = '\0';
        CU_ASSERT_STRING_EQUAL((char *)claims, "{\"typ\":\"JWT\",\"alg\":\"ES256\"}");
        n = b64(dot1 + 1, claims, sizeof(claims) - 1);
        claims[n] = '\0';
        json_object *c = json_tokener_parse((char *)claims);
        CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(c, "aud")),
                               "https://push.example.net:8443");
        CU_ASSERT_EQUAL(json_object_get_int64(json_object_object_get(c, "exp")), 1893456000);
        CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(c, "sub")),
                               "mailto:ops@example.com");
        json_object_put(c);
    }
    free(copy);
    free(hdr);
    CU_ASSERT_EQUAL(hp_webpush_vapid_header(v, "gopher://x", "mailto:a@b", 1, &hdr),
                    HP_ERR_INVALID_PAYLOAD);
    hp_webpush_vapid_free(v);
    CU_ASSERT_EQUAL(hp_webpush_vapid_load("-----BEGIN PRIVATE KEY-----\nAAAA\n", &v),
                    HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_webpush_vapid_load(NULL, &v), HP_ERR_INVALID_PAYLOAD);
    free(pem);
    free(pub);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"rfc 8291 appendix a", test_rfc8291_vector},
        {"random salt and sender key", test_random_path},
        {"bad keys refused", test_bad_keys},
        {"audience", test_audience},
        {"vapid key and jwt", test_vapid},
        {NULL, NULL},
    };
    return hp_unit_main("hp_webpush", tests);
}
