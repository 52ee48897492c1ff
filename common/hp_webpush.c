/*
 * hp_webpush: RFC 8291 message encryption and RFC 8292 VAPID with OpenSSL 3.
 *
 * Encryption (RFC 8291 section 3.4): a fresh sender key pair per message,
 * ecdh_secret = ECDH(sender private, browser public); IKM = HKDF(auth,
 * ecdh_secret, "WebPush: info\0" || ua_public || as_public, 32); then RFC
 * 8188: CEK = HKDF(salt, IKM, "Content-Encoding: aes128gcm\0", 16), NONCE =
 * HKDF(salt, IKM, "Content-Encoding: nonce\0", 12), and one record: the
 * plaintext followed by the last-record delimiter 0x02, sealed with
 * AES-128-GCM. The body starts with the header salt || rs || idlen || keyid,
 * where keyid is the sender's public key. The unit tests hold this to RFC
 * 8291 Appendix A byte for byte.
 *
 * VAPID: a P-256 key kept as PKCS#8 PEM (sealed at rest by the caller); the
 * JWT is ES256, whose signature is the raw r || s (64 bytes), not DER.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "hp_crypto.h"
#include "hp_mem.h"
#include "hp_str.h"
#include "hp_webpush.h"

struct hp_webpush_vapid {
    EVP_PKEY *key;
    char *public_b64;
};

/* A P-256 key from its parts: the public point, and the private scalar when
 * priv is not NULL. NULL when the point is not on the curve. */
static EVP_PKEY *hp__ec_key(const unsigned char pub[HP_WEBPUSH_KEY_LEN], const unsigned char *priv)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL), *chk = NULL;
    EVP_PKEY *key = NULL;
    BIGNUM *d = NULL;

    if (bld == NULL || ctx == NULL)
        goto out;
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, HP_WEBPUSH_KEY_LEN))
        goto out;
    if (priv != NULL) {
        d = BN_bin2bn(priv, 32, NULL);
        if (d == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d))
            goto out;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &key, priv != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                          params) != 1)
        goto out;
    /* fromdata does not promise a point on the curve: check it. */
    chk = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (chk == NULL || EVP_PKEY_public_check(chk) != 1) {
        EVP_PKEY_free(key);
        key = NULL;
    }
out:
    EVP_PKEY_CTX_free(chk);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(d);
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static void hp__fatal(const char *what)
{
    (void)what;
    abort(); /* an OpenSSL primitive failed on valid input: not recoverable */
}

/* The encoded public point of key into out (65 bytes). */
static void hp__ec_public(EVP_PKEY *key, unsigned char out[HP_WEBPUSH_KEY_LEN])
{
    size_t n = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out,
                                        HP_WEBPUSH_KEY_LEN, &n) != 1 ||
        n != HP_WEBPUSH_KEY_LEN)
        hp__fatal("ec public key");
}

static EVP_PKEY *hp__ec_generate(void)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (key == NULL)
        hp__fatal("ec key generation");
    return key;
}

/* ECDH shared secret (32 bytes). */
static bool hp__ecdh(EVP_PKEY *mine, EVP_PKEY *peer, unsigned char out[32])
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL);
    size_t n = 32;
    bool ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
              EVP_PKEY_derive_set_peer(ctx, peer) == 1 && EVP_PKEY_derive(ctx, out, &n) == 1 &&
              n == 32;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static hp_err hp__encrypt(EVP_PKEY *as, const unsigned char ua_public[HP_WEBPUSH_KEY_LEN],
                          const unsigned char auth[HP_WEBPUSH_AUTH_LEN],
                          const unsigned char salt[HP_WEBPUSH_SALT_LEN], const void *plaintext,
                          size_t len, unsigned char **out, size_t *outlen)
{
    static const char info_prefix[] = "WebPush: info"; /* followed by a NUL */
    static const char cek_info[] = "Content-Encoding: aes128gcm";
    static const char nonce_info[] = "Content-Encoding: nonce";
    unsigned char as_public[HP_WEBPUSH_KEY_LEN], secret[32], ikm[32], cek[16], nonce[12];
    unsigned char key_info[sizeof(info_prefix) + 2 * HP_WEBPUSH_KEY_LEN];
    const size_t hlen = HP_WEBPUSH_SALT_LEN + 4 + 1 + HP_WEBPUSH_KEY_LEN;
    EVP_PKEY *ua = NULL;
    EVP_CIPHER_CTX *cx = NULL;
    unsigned char *body = NULL, *pt = NULL;
    int n = 0, fin = 0;
    hp_err rc = HP_ERR_INVALID_PAYLOAD;

    *out = NULL;
    *outlen = 0;
    if (len > HP_WEBPUSH_PLAINTEXT_MAX)
        return HP_ERR_INVALID_PAYLOAD;
    ua = hp__ec_key(ua_public, NULL);
    if (ua == NULL || !hp__ecdh(as, ua, secret))
        goto out;
    hp__ec_public(as, as_public);

    memcpy(key_info, info_prefix, sizeof(info_prefix)); /* with its NUL */
    memcpy(key_info + sizeof(info_prefix), ua_public, HP_WEBPUSH_KEY_LEN);
    memcpy(key_info + sizeof(info_prefix) + HP_WEBPUSH_KEY_LEN, as_public, HP_WEBPUSH_KEY_LEN);
    hp_hkdf_sha256(auth, HP_WEBPUSH_AUTH_LEN, secret, sizeof(secret), key_info, sizeof(key_info),
                   ikm, sizeof(ikm));
    hp_hkdf_sha256(salt, HP_WEBPUSH_SALT_LEN, ikm, sizeof(ikm), cek_info, sizeof(cek_info), cek,
                   sizeof(cek));
    hp_hkdf_sha256(salt, HP_WEBPUSH_SALT_LEN, ikm, sizeof(ikm), nonce_info, sizeof(nonce_info),
                   nonce, sizeof(nonce));

    pt = hp_xmalloc(len + 1);
    if (len > 0)
        memcpy(pt, plaintext, len);
    pt[len] = 0x02; /* padding delimiter of the last (only) record, no padding */
    body = hp_xmalloc(hlen + len + 1 + 16);
    memcpy(body, salt, HP_WEBPUSH_SALT_LEN);
    body[16] = (unsigned char)(HP_WEBPUSH_RS >> 24);
    body[17] = (unsigned char)(HP_WEBPUSH_RS >> 16);
    body[18] = (unsigned char)(HP_WEBPUSH_RS >> 8);
    body[19] = (unsigned char)HP_WEBPUSH_RS;
    body[20] = HP_WEBPUSH_KEY_LEN;
    memcpy(body + 21, as_public, HP_WEBPUSH_KEY_LEN);
    cx = EVP_CIPHER_CTX_new();
    if (cx == NULL || EVP_EncryptInit_ex(cx, EVP_aes_128_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, sizeof(nonce), NULL) != 1 ||
        EVP_EncryptInit_ex(cx, NULL, NULL, cek, nonce) != 1 ||
        EVP_EncryptUpdate(cx, body + hlen, &n, pt, (int)(len + 1)) != 1 ||
        EVP_EncryptFinal_ex(cx, body + hlen + n, &fin) != 1 || (size_t)(n + fin) != len + 1 ||
        EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, 16, body + hlen + len + 1) != 1)
        hp__fatal("aes-128-gcm");
    *out = body;
    *outlen = hlen + len + 1 + 16;
    body = NULL;
    rc = HP_OK;
out:
    EVP_CIPHER_CTX_free(cx);
    if (pt != NULL) {
        OPENSSL_cleanse(pt, len + 1);
        free(pt);
    }
    free(body);
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(ikm, sizeof(ikm));
    OPENSSL_cleanse(cek, sizeof(cek));
    EVP_PKEY_free(ua);
    return rc;
}

hp_err hp_webpush_encrypt_with(const unsigned char ua_public[HP_WEBPUSH_KEY_LEN],
                               const unsigned char auth[HP_WEBPUSH_AUTH_LEN],
                               const unsigned char salt[HP_WEBPUSH_SALT_LEN],
                               const unsigned char as_private[32],
                               const unsigned char as_public[HP_WEBPUSH_KEY_LEN],
                               const void *plaintext, size_t len, unsigned char **out,
                               size_t *outlen)
{
    EVP_PKEY *as = hp__ec_key(as_public, as_private);
    hp_err rc;

    *out = NULL;
    *outlen = 0;
    if (as == NULL)
        return HP_ERR_INVALID_PAYLOAD;
    rc = hp__encrypt(as, ua_public, auth, salt, plaintext, len, out, outlen);
    EVP_PKEY_free(as);
    return rc;
}

hp_err hp_webpush_encrypt(const char *p256dh, const char *auth, const void *plaintext, size_t len,
                          unsigned char **out, size_t *outlen)
{
    unsigned char ua[HP_WEBPUSH_KEY_LEN], sec[HP_WEBPUSH_AUTH_LEN], salt[HP_WEBPUSH_SALT_LEN];
    size_t n1 = 0, n2 = 0;
    EVP_PKEY *as;
    hp_err rc;

    *out = NULL;
    *outlen = 0;
    if (hp_base64url_decode(p256dh, ua, sizeof(ua), &n1) != HP_OK || n1 != sizeof(ua) ||
        hp_base64url_decode(auth, sec, sizeof(sec), &n2) != HP_OK || n2 != sizeof(sec))
        return HP_ERR_INVALID_PAYLOAD;
    hp_rand_bytes(salt, sizeof(salt));
    as = hp__ec_generate();
    rc = hp__encrypt(as, ua, sec, salt, plaintext, len, out, outlen);
    EVP_PKEY_free(as);
    OPENSSL_cleanse(sec, sizeof(sec));
    return rc;
}

bool hp_webpush_keys_ok(const char *p256dh, const char *auth)
{
    unsigned char ua[HP_WEBPUSH_KEY_LEN], sec[HP_WEBPUSH_AUTH_LEN];
    size_t n1 = 0, n2 = 0;
    EVP_PKEY *k;

    if (hp_base64url_decode(p256dh, ua, sizeof(ua), &n1) != HP_OK || n1 != sizeof(ua) ||
        hp_base64url_decode(auth, sec, sizeof(sec), &n2) != HP_OK || n2 != sizeof(sec))
        return false;
    k = hp__ec_key(ua, NULL);
    EVP_PKEY_free(k);
    return k != NULL;
}

/* ---- VAPID ------------------------------------------------------------------- */

static char *hp__public_b64(EVP_PKEY *key)
{
    unsigned char pub[HP_WEBPUSH_KEY_LEN];
    hp__ec_public(key, pub);
    return hp_base64url_encode(pub, sizeof(pub));
}

void hp_webpush_vapid_generate(char **private_pem, char **public_b64)
{
    EVP_PKEY *key = hp__ec_generate();
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;

    if (bio == NULL || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1)
        hp__fatal("pem encoding");
    n = BIO_get_mem_data(bio, &data);
    *private_pem = hp_xstrndup(data, (size_t)n);
    *public_b64 = hp__public_b64(key);
    BIO_free_all(bio); /* BIO_free_all cleanses nothing: the PEM copy is the caller's */
    EVP_PKEY_free(key);
}

hp_err hp_webpush_vapid_load(const char *private_pem, hp_webpush_vapid **out)
{
    BIO *bio;
    EVP_PKEY *key;
    char group[32] = "";
    size_t glen = 0;

    *out = NULL;
    if (private_pem == NULL)
        return HP_ERR_INVALID_PAYLOAD;
    bio = BIO_new_mem_buf(private_pem, -1);
    if (bio == NULL)
        hp__fatal("bio");
    key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key == NULL || !EVP_PKEY_is_a(key, "EC") ||
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &glen) != 1 ||
        strcmp(group, "prime256v1") != 0) {
        EVP_PKEY_free(key);
        return HP_ERR_INVALID_PAYLOAD;
    }
    *out = hp_xcalloc(1, sizeof(**out));
    (*out)->key = key;
    (*out)->public_b64 = hp__public_b64(key);
    return HP_OK;
}

void hp_webpush_vapid_free(hp_webpush_vapid *v)
{
    if (v == NULL)
        return;
    EVP_PKEY_free(v->key);
    free(v->public_b64);
    free(v);
}

const char *hp_webpush_vapid_public(const hp_webpush_vapid *v)
{
    return v->public_b64;
}

hp_err hp_webpush_audience(const char *endpoint, char *out, size_t cap)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    hp_err rc = HP_ERR_INVALID_PAYLOAD;

    if (u == NULL)
        abort();
    if (endpoint == NULL || curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out;
    if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
        goto out;
    /* Only an explicit, non-default port is part of the origin. */
    (void)curl_url_get(u, CURLUPART_PORT, &port, 0);
    if (port != NULL)
        rc = hp_fmt(out, cap, "%s://%s:%s", scheme, host, port) ? HP_OK : HP_ERR_INVALID_PAYLOAD;
    else
        rc = hp_fmt(out, cap, "%s://%s", scheme, host) ? HP_OK : HP_ERR_INVALID_PAYLOAD;
out:
    curl_free(port);
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

/* ES256 over data: the raw 64-byte r || s of RFC 7518 section 3.4. */
static void hp__es256(EVP_PKEY *key, const char *data, unsigned char out[64])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[80];
    const unsigned char *p = der;
    size_t derlen = sizeof(der);
    ECDSA_SIG *sig;
    const BIGNUM *r, *s;

    if (md == NULL || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) != 1 ||
        EVP_DigestSign(md, der, &derlen, (const unsigned char *)data, strlen(data)) != 1)
        hp__fatal("ecdsa");
    EVP_MD_CTX_free(md);
    sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    if (sig == NULL)
        hp__fatal("ecdsa signature");
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, out, 32) != 32 || BN_bn2binpad(s, out + 32, 32) != 32)
        hp__fatal("ecdsa signature");
    ECDSA_SIG_free(sig);
}

hp_err hp_webpush_vapid_header(const hp_webpush_vapid *v, const char *endpoint, const char *subject,
                               int64_t exp, char **out)
{
    static const char header[] = "{\"typ\":\"JWT\",\"alg\":\"ES256\"}";
    char aud[512];
    json_object *claims;
    char *h64, *c64, *s64, *signing;
    unsigned char sig[64];

    *out = NULL;
    if (hp_webpush_audience(endpoint, aud, sizeof(aud)) != HP_OK || subject == NULL)
        return HP_ERR_INVALID_PAYLOAD;
    claims = json_object_new_object();
    json_object_object_add(claims, "aud", json_object_new_string(aud));
    json_object_object_add(claims, "exp", json_object_new_int64(exp));
    json_object_object_add(claims, "sub", json_object_new_string(subject));
    {
        const char *ct = json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN |
                                                                    JSON_C_TO_STRING_NOSLASHESCAPE);
        c64 = hp_base64url_encode(ct, strlen(ct));
    }
    json_object_put(claims);
    h64 = hp_base64url_encode(header, sizeof(header) - 1);
    signing = hp_xasprintf("%s.%s", h64, c64);
    hp__es256(v->key, signing, sig);
    s64 = hp_base64url_encode(sig, sizeof(sig));
    *out = hp_xasprintf("vapid t=%s.%s, k=%s", signing, s64, v->public_b64);
    free(s64);
    free(signing);
    free(h64);
    free(c64);
    return HP_OK;
}
