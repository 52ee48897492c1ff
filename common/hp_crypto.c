/*
 * hp_crypto: every cryptographic primitive Holdpoint uses, from OpenSSL 3
 * (and libargon2 for password hashes), behind small functions that cannot be
 * misused: randomness from one shared DRBG seeded by OpenSSL's (the bits of
 * new ids from a small cache per thread refilled from it), SHA-256 and HMAC-SHA256, base64
 * that refuses anything but canonical padded text, constant-time comparison, UUIDs, tokens drawn
 * without modulo bias, and AES-256-GCM sealing of stored secrets (webhook signing secrets) under
 * HOLDPOINT_SECRET_KEY.
 *
 * A failing CSPRNG or digest is not an error a caller can handle, so those
 * paths abort like out-of-memory does. UUID v7 values are strictly increasing
 * within a process: the 12 bits after the millisecond timestamp carry the
 * sub-millisecond clock (RFC 9562 method 3), and a lock-free "last value"
 * bumps ties, so ids made in one process sort in creation order.
 * Thread-safe; nothing here logs or keeps secrets beyond a call.
 */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "hp_crypto.h"
#include "hp_mem.h"

#define HP__GCM_NONCE   12
#define HP__GCM_TAG     16
#define HP__SEAL_PREFIX "v1."

/* argon2id parameters (OWASP's minimum: 19 MiB, 2 passes, 1 lane). */
#define HP__ARGON2_T    2
#define HP__ARGON2_M    19456
#define HP__ARGON2_P    1
#define HP__ARGON2_SALT 16
#define HP__ARGON2_HASH 32

static _Noreturn void hp__crypto_fatal(const char *what)
{
    char line[160];
    int k = snprintf(line, sizeof(line), "{\"level\":\"error\",\"msg\":\"%s failed\"}\n", what);
    if (k > 0)
        (void)!write(STDERR_FILENO, line, (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1);
    abort();
}

/* One DRBG for the whole process, chained to OpenSSL's primary DRBG (which
 * seeds from the operating system) and shared under its own lock.
 * RAND_bytes would give every calling thread DRBG state of its own (some
 * KiB kept until the thread ends), and the API has thousands of threads
 * that each make a request id now and then. */
static EVP_RAND_CTX *hp__drbg;

/* Counts forks, in the child: a thread's cache of id bits (below) filled
 * under another count belongs to the parent. */
static _Atomic unsigned hp__fork_gen;

static void hp__fork_child(void)
{
    atomic_fetch_add(&hp__fork_gen, 1);
}

static pthread_once_t hp__drbg_once = PTHREAD_ONCE_INIT;

static void hp__drbg_init(void)
{
    EVP_RAND *alg = EVP_RAND_fetch(NULL, "CTR-DRBG", NULL);
    EVP_RAND_CTX *ctx = alg != NULL ? EVP_RAND_CTX_new(alg, RAND_get0_primary(NULL)) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_DRBG_PARAM_CIPHER, (char *)"AES-256-CTR", 0),
        OSSL_PARAM_construct_end()};

    EVP_RAND_free(alg);
    if (ctx == NULL || EVP_RAND_enable_locking(ctx) != 1 ||
        EVP_RAND_instantiate(ctx, 256, 0, NULL, 0, params) != 1)
        hp__crypto_fatal("random number generator setup");
    if (pthread_atfork(NULL, NULL, hp__fork_child) != 0)
        hp__crypto_fatal("fork handler setup");
    hp__drbg = ctx;
}

void hp_rand_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;

    pthread_once(&hp__drbg_once, hp__drbg_init);
    while (n > 0) {
        /* A DRBG request is bounded (2^16 bytes for CTR-DRBG). */
        size_t chunk = n > 4096 ? 4096 : n;
        if (EVP_RAND_generate(hp__drbg, p, chunk, 0, 0, NULL, 0) != 1)
            hp__crypto_fatal("random number generation");
        p += chunk;
        n -= chunk;
    }
}

/* The random bits of new ids (UUID v4 and v7) come from a small cache per
 * thread, refilled from the shared DRBG 256 bytes at a time. A create makes
 * two or three ids; each taking the DRBG's lock on its own had the API's
 * threads queue on that lock (futex waits and wake-ups, one fork check each).
 * The same cache gives the API's request ids. Ids are public, so holding
 * their bits before use keeps no secret; keys, tokens, nonces and salts take
 * hp_rand_bytes directly. A forked child
 * throws every cache away (its parent's threads hold the same bytes). */
#define HP__ID_CACHE 256

static _Thread_local struct {
    unsigned char b[HP__ID_CACHE];
    size_t pos;
    unsigned gen;
} hp__ids = {.pos = HP__ID_CACHE};

void hp_rand_id_bytes(void *buf, size_t n)
{
    unsigned gen;

    if (n > sizeof(hp__ids.b) / 4) {
        hp_rand_bytes(buf, n);
        return;
    }
    /* The first refill sets up the DRBG and with it the fork handler; a
     * fork before that finds every cache still empty. */
    gen = atomic_load(&hp__fork_gen);
    if (hp__ids.gen != gen || sizeof(hp__ids.b) - hp__ids.pos < n) {
        hp_rand_bytes(hp__ids.b, sizeof(hp__ids.b));
        hp__ids.pos = 0;
        hp__ids.gen = gen;
    }
    memcpy(buf, hp__ids.b + hp__ids.pos, n);
    hp__ids.pos += n;
}

/* ---- UUIDs ----------------------------------------------------------------- */

void hp_uuid_from_bytes(const unsigned char b[16], char out[HP_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

/* The last (ms << 12 | sub-ms) value handed out; 60 bits. */
static _Atomic uint64_t hp__uuid_last;

void hp_uuid_v7(char out[HP_UUID_LEN + 1])
{
    unsigned char b[16];
    struct timespec ts;
    uint64_t ms, sub, v, last;

    clock_gettime(CLOCK_REALTIME, &ts);
    ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    /* Sub-millisecond fraction scaled to 12 bits (0..4095). */
    sub = ((uint64_t)ts.tv_nsec % 1000000) * 4096 / 1000000;
    v = (ms << 12) | sub;
    last = atomic_load(&hp__uuid_last);
    for (;;) {
        uint64_t want = v > last ? v : last + 1; /* carries into ms if needed */
        if (atomic_compare_exchange_weak(&hp__uuid_last, &last, want)) {
            v = want;
            break;
        }
    }
    ms = v >> 12;
    sub = v & 0xfff;
    hp_rand_id_bytes(b + 8, 8);
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)(0x70 | (sub >> 8)); /* version 7 */
    b[7] = (unsigned char)(sub & 0xff);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10 */
    hp_uuid_from_bytes(b, out);
}

void hp_uuid_v4(char out[HP_UUID_LEN + 1])
{
    unsigned char b[16];

    hp_rand_id_bytes(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    hp_uuid_from_bytes(b, out);
}

static bool hp__is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool hp_uuid_valid(const char *s)
{
    if (s == NULL)
        return false;
    for (int i = 0; i < HP_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!hp__is_hex(s[i])) {
            return false; /* also stops at a NUL in a short string */
        }
    }
    return s[HP_UUID_LEN] == '\0';
}

bool hp_uuid_to_bytes(const char *s, unsigned char out[16])
{
    int k = 0;

    if (!hp_uuid_valid(s))
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '-')
            continue;
        int v = OPENSSL_hexchar2int((unsigned char)*p);
        if (k % 2 == 0)
            out[k / 2] = (unsigned char)(v << 4);
        else
            out[k / 2] |= (unsigned char)v;
        k++;
    }
    return true;
}

/* ---- digests ------------------------------------------------------------------ */

void hp_sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    if (EVP_Digest(len > 0 ? data : "", len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
        hp__crypto_fatal("sha-256");
}

void hp_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[32];
    hp_sha256(data, len, d);
    hp_hex_encode(d, sizeof(d), out);
}

void hp_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                    unsigned char out[32])
{
    static const unsigned char empty[1] = {0};
    unsigned int n = 0;

    if (keylen > INT_MAX)
        hp__crypto_fatal("hmac-sha256 (key too long)");
    /* HMAC() treats a NULL key as "reuse the last one"; pass a real pointer. */
    if (HMAC(EVP_sha256(), keylen > 0 ? key : empty, (int)keylen,
             len > 0 ? (const unsigned char *)data : empty, len, out, &n) == NULL ||
        n != 32)
        hp__crypto_fatal("hmac-sha256");
}

bool hp_ct_equal(const void *a, const void *b, size_t n)
{
    return n == 0 || CRYPTO_memcmp(a, b, n) == 0;
}

/* ---- encodings -------------------------------------------------------------- */

/* Input bytes per EVP_EncodeBlock call: a multiple of 3 so chunks join. */
#define HP__B64_CHUNK (3u * 1024u * 1024u)

char *hp_base64_encode(const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t outlen, o = 0;
    char *out;

    if (len / 3 > ((size_t)-1) / 4 - 2)
        hp__crypto_fatal("base64 encoding (input too large)");
    outlen = (len + 2) / 3 * 4;
    out = hp_xmalloc(outlen + 1);
    while (len > 0) {
        size_t chunk = len > HP__B64_CHUNK ? HP__B64_CHUNK : len;
        o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, p, (int)chunk);
        p += chunk;
        len -= chunk;
    }
    out[o] = '\0';
    return out;
}

static int hp__b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Characters per EVP_DecodeBlock call: a multiple of 4. */
#define HP__B64_DCHUNK (4u * 1024u * 1024u)

hp_err hp_base64_decode(const char *s, unsigned char *out, size_t cap, size_t *outlen)
{
    size_t len, pad = 0, n, done = 0;
    unsigned char *tmp;

    if (outlen != NULL)
        *outlen = 0;
    if (s == NULL)
        return HP_ERR_INVALID_PAYLOAD;
    len = strlen(s);
    if (len % 4 != 0)
        return HP_ERR_INVALID_PAYLOAD;
    if (len == 0)
        return HP_OK;
    if (s[len - 1] == '=')
        pad = s[len - 2] == '=' ? 2 : 1;
    /* EVP_DecodeBlock skips surrounding whitespace and treats '=' anywhere
     * as zero bits, so the exact alphabet and padding are checked here. */
    for (size_t i = 0; i < len - pad; i++)
        if (hp__b64_value((unsigned char)s[i]) < 0)
            return HP_ERR_INVALID_PAYLOAD;
    /* Canonical form only: the bits the padding drops must be zero. */
    if (pad == 2 && (hp__b64_value((unsigned char)s[len - 3]) & 0x0f) != 0)
        return HP_ERR_INVALID_PAYLOAD;
    if (pad == 1 && (hp__b64_value((unsigned char)s[len - 2]) & 0x03) != 0)
        return HP_ERR_INVALID_PAYLOAD;
    n = len / 4 * 3 - pad;
    if (n > cap)
        return HP_ERR_INVALID_PAYLOAD;
    tmp = hp_xmalloc(len / 4 * 3);
    for (size_t i = 0; i < len; i += HP__B64_DCHUNK) {
        size_t chunk = len - i > HP__B64_DCHUNK ? HP__B64_DCHUNK : len - i;
        int k = EVP_DecodeBlock(tmp + done, (const unsigned char *)s + i, (int)chunk);
        if (k < 0 || (size_t)k != chunk / 4 * 3) {
            OPENSSL_cleanse(tmp, len / 4 * 3);
            free(tmp);
            return HP_ERR_INVALID_PAYLOAD;
        }
        done += (size_t)k;
    }
    if (n > 0)
        memcpy(out, tmp, n);
    OPENSSL_cleanse(tmp, len / 4 * 3);
    free(tmp);
    if (outlen != NULL)
        *outlen = n;
    return HP_OK;
}

void hp_hex_encode(const void *data, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * len] = '\0';
}

char *hp_base64url_encode(const void *data, size_t len)
{
    char *out = hp_base64_encode(data, len);
    size_t n = strlen(out);

    while (n > 0 && out[n - 1] == '=')
        out[--n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return out;
}

hp_err hp_base64url_decode(const char *s, unsigned char *out, size_t cap, size_t *outlen)
{
    size_t len, padded;
    char *tmp;
    hp_err rc;

    if (outlen != NULL)
        *outlen = 0;
    if (s == NULL)
        return HP_ERR_INVALID_PAYLOAD;
    len = strlen(s);
    if (len % 4 == 1 || len > ((size_t)-1) / 2)
        return HP_ERR_INVALID_PAYLOAD;
    padded = (len + 3) / 4 * 4;
    tmp = hp_xmalloc(padded + 1);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        /* The standard alphabet's '+', '/' and '=' are not base64url. */
        if (c == '+' || c == '/' || c == '=') {
            free(tmp);
            return HP_ERR_INVALID_PAYLOAD;
        }
        tmp[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    for (size_t i = len; i < padded; i++)
        tmp[i] = '=';
    tmp[padded] = '\0';
    rc = hp_base64_decode(tmp, out, cap, outlen);
    OPENSSL_cleanse(tmp, padded);
    free(tmp);
    return rc;
}

void hp_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm, size_t ikmlen,
                    const void *info, size_t infolen, unsigned char *out, size_t outlen)
{
    static const unsigned char empty[1] = {0};
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[5], *p = params;

    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(ikmlen > 0 ? ikm : empty),
                                             ikmlen);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                             (void *)(saltlen > 0 ? salt : empty), saltlen);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                             (void *)(infolen > 0 ? info : empty), infolen);
    *p = OSSL_PARAM_construct_end();
    if (ctx == NULL || EVP_KDF_derive(ctx, out, outlen, params) != 1)
        hp__crypto_fatal("hkdf-sha256");
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
}

char *hp_random_token(const char *prefix, size_t nchars)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    /* 248 = 4 * 62: bytes at or above it are thrown away, so each of the 62
     * characters is drawn from exactly four byte values. */
    const unsigned limit = 4 * (sizeof(alphabet) - 1);
    size_t plen = prefix != NULL ? strlen(prefix) : 0, o = 0;
    unsigned char pool[64];
    size_t avail = 0, at = 0;
    char *out;

    if (nchars > (size_t)-1 - plen - 1)
        hp__crypto_fatal("token generation (length too large)");
    out = hp_xmalloc(plen + nchars + 1);
    if (plen > 0)
        memcpy(out, prefix, plen);
    while (o < nchars) {
        unsigned char c;
        if (at == avail) {
            hp_rand_bytes(pool, sizeof(pool));
            avail = sizeof(pool);
            at = 0;
        }
        c = pool[at++];
        if (c < limit)
            out[plen + o++] = alphabet[c % (sizeof(alphabet) - 1)];
    }
    out[plen + nchars] = '\0';
    OPENSSL_cleanse(pool, sizeof(pool));
    return out;
}

/* ---- sealed secrets ---------------------------------------------------------- */

char *hp_secret_seal(const unsigned char key[32], const void *plaintext, size_t len)
{
    EVP_CIPHER_CTX *ctx;
    unsigned char *raw;
    size_t rawlen;
    int n = 0, fin = 0;
    char *b64, *out;

    if (len > (size_t)INT_MAX - HP__GCM_NONCE - HP__GCM_TAG)
        hp__crypto_fatal("secret sealing (input too large)");
    rawlen = HP__GCM_NONCE + len + HP__GCM_TAG;
    raw = hp_xmalloc(rawlen);
    hp_rand_bytes(raw, HP__GCM_NONCE);
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, HP__GCM_NONCE, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, key, raw) != 1 ||
        (len > 0 && EVP_EncryptUpdate(ctx, raw + HP__GCM_NONCE, &n,
                                      (const unsigned char *)plaintext, (int)len) != 1) ||
        EVP_EncryptFinal_ex(ctx, raw + HP__GCM_NONCE + n, &fin) != 1 ||
        (size_t)n + (size_t)fin != len ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, HP__GCM_TAG, raw + HP__GCM_NONCE + len) != 1)
        hp__crypto_fatal("aes-256-gcm encryption");
    EVP_CIPHER_CTX_free(ctx);
    b64 = hp_base64_encode(raw, rawlen);
    free(raw); /* nonce, ciphertext and tag are not secret */
    out = hp_xasprintf("%s%s", HP__SEAL_PREFIX, b64);
    free(b64);
    return out;
}

hp_err hp_secret_open(const unsigned char key[32], const char *sealed, unsigned char **out,
                      size_t *outlen)
{
    const size_t plen = sizeof(HP__SEAL_PREFIX) - 1;
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *raw = NULL, *pt = NULL;
    size_t cap, rawlen = 0, ctlen;
    int n = 0, fin = 0;
    hp_err rc = HP_ERR_INTERNAL;

    *out = NULL;
    if (outlen != NULL)
        *outlen = 0;
    if (sealed == NULL || strncmp(sealed, HP__SEAL_PREFIX, plen) != 0)
        return HP_ERR_INTERNAL;
    cap = strlen(sealed + plen) / 4 * 3;
    if (cap < HP__GCM_NONCE + HP__GCM_TAG || cap > (size_t)INT_MAX)
        return HP_ERR_INTERNAL;
    raw = hp_xmalloc(cap);
    if (hp_base64_decode(sealed + plen, raw, cap, &rawlen) != HP_OK ||
        rawlen < HP__GCM_NONCE + HP__GCM_TAG)
        goto out;
    ctlen = rawlen - HP__GCM_NONCE - HP__GCM_TAG;
    pt = hp_xmalloc(ctlen + 1);
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, HP__GCM_NONCE, NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, key, raw) != 1)
        goto out;
    if (ctlen > 0 && EVP_DecryptUpdate(ctx, pt, &n, raw + HP__GCM_NONCE, (int)ctlen) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, HP__GCM_TAG, raw + HP__GCM_NONCE + ctlen) !=
        1)
        goto out;
    /* Authentication happens here: a wrong key or any changed byte fails. */
    if (EVP_DecryptFinal_ex(ctx, pt + n, &fin) != 1 || (size_t)n + (size_t)fin != ctlen)
        goto out;
    pt[ctlen] = '\0';
    *out = pt;
    pt = NULL;
    if (outlen != NULL)
        *outlen = ctlen;
    rc = HP_OK;
out:
    if (pt != NULL) {
        OPENSSL_cleanse(pt, ctlen + 1);
        free(pt);
    }
    EVP_CIPHER_CTX_free(ctx);
    free(raw);
    return rc;
}

/* ---- passwords ------------------------------------------------------------------ */

char *hp_password_hash(const char *password)
{
    unsigned char salt[HP__ARGON2_SALT];
    size_t enclen;
    char *enc;

    if (password == NULL)
        return NULL;
    hp_rand_bytes(salt, sizeof(salt));
    enclen = argon2_encodedlen(HP__ARGON2_T, HP__ARGON2_M, HP__ARGON2_P, HP__ARGON2_SALT,
                               HP__ARGON2_HASH, Argon2_id);
    enc = hp_xmalloc(enclen);
    if (argon2id_hash_encoded(HP__ARGON2_T, HP__ARGON2_M, HP__ARGON2_P, password, strlen(password),
                              salt, sizeof(salt), HP__ARGON2_HASH, enc, enclen) != ARGON2_OK) {
        free(enc);
        return NULL;
    }
    return enc;
}

bool hp_password_verify(const char *encoded, const char *password)
{
    if (encoded == NULL || password == NULL)
        return false;
    return argon2id_verify(encoded, password, strlen(password)) == ARGON2_OK;
}
