/*
 * Unit tests for hp_crypto against published vectors: SHA-256 (FIPS 180-2
 * "abc", the empty string, the two-block message), HMAC-SHA256 (RFC 4231
 * test cases 1, 2, 3 and 6), base64 (RFC 4648 section 10) including every
 * malformed form the strict decoder refuses; UUID v7/v4 layout (version and
 * variant bits, timestamp) and v7 ordering within and across milliseconds;
 * token alphabet, length and rough uniformity; AES-256-GCM seal/open round
 * trips with tamper, wrong-key and truncation detection; argon2id hashing
 * parameters and verification; base64url (RFC 4648 section 5, unpadded)
 * and HKDF-SHA256 (RFC 5869 test cases 1 and 3); the per-thread cache of
 * id bits: no id repeats across threads and past many refills, and a
 * forked child makes ids other than its parent's.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "hp_crypto.h"
#include "hp_str.h"
#include "hp_time.h"
#include "hp_unit.h"

static void check_sha(const char *msg, size_t len, const char *want)
{
    char hex[65];
    hp_sha256_hex(msg, len, hex);
    CU_ASSERT_STRING_EQUAL(hex, want);
}

static void test_sha256(void)
{
    unsigned char d[32];

    check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_sha(NULL, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    hp_sha256("abc", 3, d);
    CU_ASSERT_EQUAL(d[0], 0xba);
    CU_ASSERT_EQUAL(d[31], 0xad);
}

static void check_hmac(const void *key, size_t keylen, const void *data, size_t len,
                       const char *want)
{
    unsigned char mac[32];
    char hex[65];
    hp_hmac_sha256(key, keylen, data, len, mac);
    hp_hex_encode(mac, sizeof(mac), hex);
    CU_ASSERT_STRING_EQUAL(hex, want);
}

static void test_hmac_rfc4231(void)
{
    unsigned char k1[20], k3[20], d3[50], k6[131];

    memset(k1, 0x0b, sizeof(k1));
    check_hmac(k1, sizeof(k1), "Hi There", 8,
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"); /* case 1 */
    check_hmac("Jefe", 4, "what do ya want for nothing?", 28,
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"); /* case 2 */
    memset(k3, 0xaa, sizeof(k3));
    memset(d3, 0xdd, sizeof(d3));
    check_hmac(k3, sizeof(k3), d3, sizeof(d3),
               "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"); /* case 3 */
    memset(k6, 0xaa, sizeof(k6));
    check_hmac(k6, sizeof(k6), "Test Using Larger Than Block-Size Key - Hash Key First", 54,
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"); /* case 6 */
    /* Empty key and message (not "reuse the previous key"). */
    check_hmac(NULL, 0, NULL, 0,
               "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_ct_equal_hex(void)
{
    char hex[9];
    const unsigned char b[4] = {0x00, 0x7f, 0x80, 0xff};

    CU_ASSERT_TRUE(hp_ct_equal("abcd", "abcd", 4));
    CU_ASSERT_FALSE(hp_ct_equal("abcd", "abce", 4));
    CU_ASSERT_FALSE(hp_ct_equal("xbcd", "abcd", 4));
    CU_ASSERT_TRUE(hp_ct_equal("a", "b", 0));
    hp_hex_encode(b, 4, hex);
    CU_ASSERT_STRING_EQUAL(hex, "007f80ff");
    hp_hex_encode(b, 0, hex);
    CU_ASSERT_STRING_EQUAL(hex, "");
}

static const struct {
    const char *raw, *b64;
} rfc4648[] = {{"", ""},
               {"f", "Zg=="},
               {"fo", "Zm8="},
               {"foo", "Zm9v"},
               {"foob", "Zm9vYg=="},
               {"fooba", "Zm9vYmE="},
               {"foobar", "Zm9vYmFy"}};

static void test_base64_rfc4648(void)
{
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        unsigned char out[16];
        size_t n = 99;
        char *e = hp_base64_encode(rfc4648[i].raw, strlen(rfc4648[i].raw));
        CU_ASSERT_STRING_EQUAL(e, rfc4648[i].b64);
        free(e);
        CU_ASSERT_EQUAL(hp_base64_decode(rfc4648[i].b64, out, sizeof(out), &n), HP_OK);
        CU_ASSERT_EQUAL(n, strlen(rfc4648[i].raw));
        CU_ASSERT_EQUAL(memcmp(out, rfc4648[i].raw, n), 0);
    }
}

static void test_base64_binary(void)
{
    unsigned char all[256], back[256];
    size_t n = 0;
    char *e;

    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    e = hp_base64_encode(all, sizeof(all));
    CU_ASSERT_EQUAL(strlen(e), 344);
    CU_ASSERT_EQUAL(hp_base64_decode(e, back, sizeof(back), &n), HP_OK);
    CU_ASSERT_EQUAL(n, 256);
    CU_ASSERT_EQUAL(memcmp(all, back, 256), 0);
    /* One byte short of room is refused, exact room is fine. */
    CU_ASSERT_EQUAL(hp_base64_decode(e, back, 255, &n), HP_ERR_INVALID_PAYLOAD);
    free(e);
    CU_ASSERT_EQUAL(hp_base64_decode("Zm9vYmE=", back, 5, &n), HP_OK);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_EQUAL(hp_base64_decode("Zm9vYmE=", back, 4, &n), HP_ERR_INVALID_PAYLOAD);
    /* The alphabet's last two characters. */
    CU_ASSERT_EQUAL(hp_base64_decode("+/+/", back, sizeof(back), &n), HP_OK);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(back[0], 0xfb);
    CU_ASSERT_EQUAL(back[1], 0xff);
    CU_ASSERT_EQUAL(back[2], 0xbf);
}

static void test_base64_refused(void)
{
    static const char *const bad[] = {"Zg=",              /* length not a multiple of 4 */
                                      "Zg",               /* padding missing */
                                      "Zm9vY",    "Z===", /* too much padding */
                                      "====",     "Zm9v====",
                                      "Zg==Zg==",           /* padding in the middle */
                                      "Zm=v",     "Zh==",   /* non-zero bits under the padding */
                                      "Zm9=",     "Zm9v\n", /* whitespace */
                                      " Zm9v",    "Zm9 v",
                                      "Zm9\tv",   "Zm-v", /* base64url alphabet */
                                      "Zm_v",     "Zm9v\x80\x80\x80\x80",
                                      NULL};
    unsigned char out[32];
    size_t n;

    for (int i = 0; bad[i] != NULL; i++) {
        hp_err rc = hp_base64_decode(bad[i], out, sizeof(out), &n);
        if (rc == HP_OK)
            fprintf(stderr, "\naccepted \"%s\"\n", bad[i]);
        CU_ASSERT_EQUAL(rc, HP_ERR_INVALID_PAYLOAD);
    }
    CU_ASSERT_EQUAL(hp_base64_decode(NULL, out, sizeof(out), &n), HP_ERR_INVALID_PAYLOAD);
}

static int hexval(char c)
{
    return c >= 'a' ? c - 'a' + 10 : c - '0';
}

/* The 48-bit millisecond timestamp of a v7 UUID. */
static int64_t v7_ms(const char *u)
{
    int64_t ms = 0;
    for (int i = 0; i < 13; i++)
        if (u[i] != '-')
            ms = ms * 16 + hexval(u[i]);
    return ms;
}

static void test_uuid_v7(void)
{
    char a[HP_UUID_LEN + 1], b[HP_UUID_LEN + 1];
    int64_t before = hp_time_now_us() / 1000, after;

    hp_uuid_v7(a);
    after = hp_time_now_us() / 1000;
    CU_ASSERT_EQUAL(strlen(a), 36);
    CU_ASSERT_TRUE(hp_uuid_valid(a));
    CU_ASSERT_EQUAL(a[14], '7');                   /* version */
    CU_ASSERT_PTR_NOT_NULL(strchr("89ab", a[19])); /* variant 10xx */
    CU_ASSERT(v7_ms(a) >= before && v7_ms(a) <= after + 1);
    CU_ASSERT_EQUAL(strspn(a, "0123456789abcdef-"), 36); /* lower case */

    /* Strictly increasing within a burst (same millisecond) ... */
    for (int i = 0; i < 2000; i++) {
        hp_uuid_v7(b);
        if (strcmp(a, b) >= 0) {
            fprintf(stderr, "\nnot increasing: %s then %s\n", a, b);
            CU_FAIL("v7 not increasing");
            break;
        }
        CU_ASSERT_EQUAL(b[14], '7');
        CU_ASSERT_PTR_NOT_NULL(strchr("89ab", b[19]));
        memcpy(a, b, sizeof(a));
    }
    /* ... and across milliseconds, with a later timestamp. */
    hp_time_sleep_ms(3, NULL);
    hp_uuid_v7(b);
    CU_ASSERT(strcmp(a, b) < 0);
    CU_ASSERT(v7_ms(b) > v7_ms(a));
}

static void test_uuid_v4(void)
{
    char a[HP_UUID_LEN + 1], b[HP_UUID_LEN + 1];

    hp_uuid_v4(a);
    hp_uuid_v4(b);
    CU_ASSERT_TRUE(hp_uuid_valid(a));
    CU_ASSERT_EQUAL(a[14], '4');
    CU_ASSERT_PTR_NOT_NULL(strchr("89ab", a[19]));
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

/* Ids from several threads at once, each thread past several refills of its
 * cache (256 bytes: 16 v4 ids): all distinct. */
#define IDS_THREADS 4
#define IDS_EACH    500

static char ids_made[IDS_THREADS * IDS_EACH][HP_UUID_LEN + 1];

static void *ids_thread(void *arg)
{
    int t = (int)(intptr_t)arg;

    for (int i = 0; i < IDS_EACH; i++) {
        if (i % 2 == 0)
            hp_uuid_v4(ids_made[t * IDS_EACH + i]);
        else
            hp_uuid_v7(ids_made[t * IDS_EACH + i]);
    }
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_ids_threads(void)
{
    pthread_t th[IDS_THREADS];
    int dups = 0, bad = 0;

    for (int t = 0; t < IDS_THREADS; t++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[t], NULL, ids_thread, (void *)(intptr_t)t), 0);
    for (int t = 0; t < IDS_THREADS; t++)
        pthread_join(th[t], NULL);
    qsort(ids_made, IDS_THREADS * IDS_EACH, sizeof(ids_made[0]), cmp_id);
    for (int i = 0; i < IDS_THREADS * IDS_EACH; i++) {
        bad += !hp_uuid_valid(ids_made[i]);
        dups += i > 0 && strcmp(ids_made[i - 1], ids_made[i]) == 0;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(dups, 0);
}

/* The cache is filled before the fork, so without the fork handler the child
 * would take the very bytes the parent takes next. */
static void test_ids_fork(void)
{
    char mine[HP_UUID_LEN + 1], theirs[HP_UUID_LEN + 1] = "";
    int fds[2];
    pid_t pid;
    int status = 0;

    hp_uuid_v4(mine); /* the cache now holds bits for the next ids */
    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        char id[HP_UUID_LEN + 1];
        hp_uuid_v4(id);
        _exit(write(fds[1], id, HP_UUID_LEN) == HP_UUID_LEN ? 0 : 1);
    }
    close(fds[1]);
    hp_uuid_v4(mine);
    CU_ASSERT_EQUAL(read(fds[0], theirs, HP_UUID_LEN), HP_UUID_LEN);
    close(fds[0]);
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_TRUE(hp_uuid_valid(theirs));
    CU_ASSERT_STRING_NOT_EQUAL(mine, theirs);
}

static void test_uuid_bytes(void)
{
    static const unsigned char want[16] = {0x01, 0x93, 0xaf, 0x10, 0x2b, 0x3c, 0x7d, 0x4e,
                                           0x8f, 0x90, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6};
    unsigned char b[16] = {0}, keep[16];
    char text[HP_UUID_LEN + 1], fresh[HP_UUID_LEN + 1];

    CU_ASSERT_TRUE(hp_uuid_to_bytes("0193af10-2b3c-7d4e-8f90-a1b2c3d4e5f6", b));
    CU_ASSERT_EQUAL(memcmp(b, want, 16), 0);
    hp_uuid_from_bytes(b, text);
    CU_ASSERT_STRING_EQUAL(text, "0193af10-2b3c-7d4e-8f90-a1b2c3d4e5f6");
    /* Upper case reads the same; text that is no UUID leaves out alone. */
    memset(b, 0, 16);
    CU_ASSERT_TRUE(hp_uuid_to_bytes("0193AF10-2B3C-7D4E-8F90-A1B2C3D4E5F6", b));
    CU_ASSERT_EQUAL(memcmp(b, want, 16), 0);
    memcpy(keep, b, 16);
    CU_ASSERT_FALSE(hp_uuid_to_bytes("0193af10-2b3c-7d4e-8f90-a1b2c3d4e5f", b));
    CU_ASSERT_FALSE(hp_uuid_to_bytes("0193af10-2b3c-7d4e-8f90-a1b2c3d4e5fg", b));
    CU_ASSERT_FALSE(hp_uuid_to_bytes("", b));
    CU_ASSERT_EQUAL(memcmp(b, keep, 16), 0);
    /* A round trip through bytes gives the same text. */
    hp_uuid_v7(fresh);
    CU_ASSERT_TRUE(hp_uuid_to_bytes(fresh, b));
    hp_uuid_from_bytes(b, text);
    CU_ASSERT_STRING_EQUAL(text, fresh);
}

static void test_uuid_valid(void)
{
    CU_ASSERT_TRUE(hp_uuid_valid("0193a000-0000-7000-8000-000000000001"));
    CU_ASSERT_TRUE(hp_uuid_valid("0193A000-ABCD-7EF0-8000-00000000000F"));
    CU_ASSERT_FALSE(hp_uuid_valid("0193a000-0000-7000-8000-00000000000"));   /* short */
    CU_ASSERT_FALSE(hp_uuid_valid("0193a000-0000-7000-8000-0000000000011")); /* long */
    CU_ASSERT_FALSE(hp_uuid_valid("0193a0000-000-7000-8000-000000000001"));  /* hyphen moved */
    CU_ASSERT_FALSE(hp_uuid_valid("0193a000-0000-7000-8000-00000000000g"));
    CU_ASSERT_FALSE(hp_uuid_valid("{0193a000-0000-7000-8000-000000000001}"));
    CU_ASSERT_FALSE(hp_uuid_valid("0193a00000007000800000000000000001"));
    CU_ASSERT_FALSE(hp_uuid_valid(""));
    CU_ASSERT_FALSE(hp_uuid_valid(NULL));
}

static int alpha_index(char c)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

static void test_random_token(void)
{
    char *t = hp_random_token("hpk_", 32), *u;
    int counts[62] = {0}, outside = 0, lo = 1 << 30, hi = 0;

    CU_ASSERT_EQUAL(strlen(t), 36);
    CU_ASSERT_TRUE(hp_str_startswith(t, "hpk_"));
    for (size_t i = 4; t[i]; i++)
        CU_ASSERT(alpha_index(t[i]) >= 0);
    u = hp_random_token("hpk_", 32);
    CU_ASSERT_STRING_NOT_EQUAL(t, u);
    free(t);
    free(u);
    t = hp_random_token(NULL, 0);
    CU_ASSERT_STRING_EQUAL(t, "");
    free(t);
    t = hp_random_token("", 5);
    CU_ASSERT_EQUAL(strlen(t), 5);
    free(t);

    /* 62,000 characters: each of the 62 expected 1,000 times (sd ~31). The
     * bounds are > 9 sd away, so only a real bias trips them. */
    t = hp_random_token("", 62000);
    for (size_t i = 0; t[i]; i++) {
        int k = alpha_index(t[i]);
        if (k < 0)
            outside++;
        else
            counts[k]++;
    }
    free(t);
    CU_ASSERT_EQUAL(outside, 0);
    for (int k = 0; k < 62; k++) {
        lo = counts[k] < lo ? counts[k] : lo;
        hi = counts[k] > hi ? counts[k] : hi;
    }
    CU_ASSERT(lo > 700);
    CU_ASSERT(hi < 1300);
}

static const unsigned char key1[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                       12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                       23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void test_seal_round_trip(void)
{
    const char *msg = "whsec_this is the signing secret";
    char *s1 = hp_secret_seal(key1, msg, strlen(msg));
    char *s2 = hp_secret_seal(key1, msg, strlen(msg));
    unsigned char *out = NULL;
    size_t n = 0;

    CU_ASSERT_TRUE(hp_str_startswith(s1, "v1."));
    CU_ASSERT_STRING_NOT_EQUAL(s1, s2); /* fresh nonce each time */
    CU_ASSERT_PTR_NULL(strstr(s1, "signing"));
    CU_ASSERT_EQUAL(hp_secret_open(key1, s1, &out, &n), HP_OK);
    CU_ASSERT_EQUAL(n, strlen(msg));
    CU_ASSERT_STRING_EQUAL((char *)out, msg); /* NUL-terminated */
    free(out);
    CU_ASSERT_EQUAL(hp_secret_open(key1, s2, &out, &n), HP_OK);
    free(out);
    free(s1);
    free(s2);

    /* Empty and binary plaintexts. */
    s1 = hp_secret_seal(key1, "", 0);
    CU_ASSERT_EQUAL(hp_secret_open(key1, s1, &out, &n), HP_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(out[0], '\0');
    free(out);
    free(s1);
    s1 = hp_secret_seal(key1, "a\0b\xff", 4);
    CU_ASSERT_EQUAL(hp_secret_open(key1, s1, &out, &n), HP_OK);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_EQUAL(memcmp(out, "a\0b\xff", 4), 0);
    free(out);
    free(s1);
}

static void test_seal_tamper(void)
{
    const char *msg = "secret value";
    char *s = hp_secret_seal(key1, msg, strlen(msg));
    unsigned char raw[128], key2[32];
    size_t rawlen = 0, n;
    unsigned char *out;
    int undetected = 0;

    CU_ASSERT_EQUAL_FATAL(hp_base64_decode(s + 3, raw, sizeof(raw), &rawlen), HP_OK);
    CU_ASSERT_EQUAL(rawlen, 12 + strlen(msg) + 16);
    /* Flip one bit in every byte in turn: nonce, ciphertext and tag. */
    for (size_t i = 0; i < rawlen; i++) {
        char *b64, *t;
        raw[i] ^= 0x01;
        b64 = hp_base64_encode(raw, rawlen);
        t = malloc(strlen(b64) + 4);
        memcpy(t, "v1.", 3);
        memcpy(t + 3, b64, strlen(b64) + 1);
        out = (unsigned char *)"untouched";
        if (hp_secret_open(key1, t, &out, &n) == HP_OK) {
            undetected++;
            free(out);
        } else {
            CU_ASSERT_PTR_NULL(out);
        }
        free(t);
        free(b64);
        raw[i] ^= 0x01;
    }
    CU_ASSERT_EQUAL(undetected, 0);

    /* Wrong key. */
    memcpy(key2, key1, 32);
    key2[31] ^= 0x80;
    CU_ASSERT_EQUAL(hp_secret_open(key2, s, &out, &n), HP_ERR_INTERNAL);
    /* Truncated, wrong version, garbage. */
    s[strlen(s) - 4] = '\0';
    CU_ASSERT_EQUAL(hp_secret_open(key1, s, &out, &n), HP_ERR_INTERNAL);
    free(s);
    CU_ASSERT_EQUAL(hp_secret_open(key1, "v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &out, &n),
                    HP_ERR_INTERNAL);
    CU_ASSERT_EQUAL(hp_secret_open(key1, "v1.AAAA", &out, &n), HP_ERR_INTERNAL);
    CU_ASSERT_EQUAL(hp_secret_open(key1, "v1.not base64!", &out, &n), HP_ERR_INTERNAL);
    CU_ASSERT_EQUAL(hp_secret_open(key1, "", &out, &n), HP_ERR_INTERNAL);
    CU_ASSERT_EQUAL(hp_secret_open(key1, NULL, &out, &n), HP_ERR_INTERNAL);
}

static void test_password(void)
{
    char *h1 = hp_password_hash("correct horse battery staple");
    char *h2 = hp_password_hash("correct horse battery staple");

    CU_ASSERT_PTR_NOT_NULL_FATAL(h1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h2);
    CU_ASSERT_TRUE(hp_str_startswith(h1, "$argon2id$v=19$m=19456,t=2,p=1$"));
    CU_ASSERT_STRING_NOT_EQUAL(h1, h2); /* random salt */
    CU_ASSERT_TRUE(hp_password_verify(h1, "correct horse battery staple"));
    CU_ASSERT_TRUE(hp_password_verify(h2, "correct horse battery staple"));
    CU_ASSERT_FALSE(hp_password_verify(h1, "correct horse battery stapl"));
    CU_ASSERT_FALSE(hp_password_verify(h1, ""));
    CU_ASSERT_FALSE(hp_password_verify("not a phc string", "x"));
    CU_ASSERT_FALSE(hp_password_verify(NULL, "x"));
    CU_ASSERT_FALSE(hp_password_verify(h1, NULL));
    free(h1);
    free(h2);
    h1 = hp_password_hash("");
    CU_ASSERT_PTR_NOT_NULL_FATAL(h1);
    CU_ASSERT_TRUE(hp_password_verify(h1, ""));
    CU_ASSERT_FALSE(hp_password_verify(h1, " "));
    free(h1);
}

/* RFC 4648 section 10 in the URL alphabet without padding, and the forms
 * an unpadded base64url decoder must refuse. */
static void test_base64url(void)
{
    static const struct {
        const char *in, *out;
    } v[] = {{"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
             {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
    unsigned char buf[64], bin[] = {0xfb, 0xff, 0xbf, 0xfe};
    size_t n;
    char *e;

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        e = hp_base64url_encode(v[i].in, strlen(v[i].in));
        CU_ASSERT_STRING_EQUAL(e, v[i].out);
        free(e);
        CU_ASSERT_EQUAL(hp_base64url_decode(v[i].out, buf, sizeof(buf), &n), HP_OK);
        CU_ASSERT_EQUAL(n, strlen(v[i].in));
        CU_ASSERT_TRUE(memcmp(buf, v[i].in, n) == 0);
    }
    e = hp_base64url_encode(bin, sizeof(bin));
    CU_ASSERT_STRING_EQUAL(e, "-_-__g"); /* standard base64: +/+//g== */
    free(e);
    CU_ASSERT_EQUAL(hp_base64url_decode("-_-__g", buf, sizeof(buf), &n), HP_OK);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_TRUE(memcmp(buf, bin, 4) == 0);
    CU_ASSERT_EQUAL(hp_base64url_decode("+/+//g", buf, sizeof(buf), &n), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_base64url_decode("Zg==", buf, sizeof(buf), &n), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_base64url_decode("Zm9vY", buf, sizeof(buf), &n), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_base64url_decode("Zh", buf, sizeof(buf), &n), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_base64url_decode("Zm9v YmFy", buf, sizeof(buf), &n), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_base64url_decode("Zm9vYmFy", buf, 5, &n), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_base64url_decode(NULL, buf, sizeof(buf), &n), HP_ERR_INVALID_PAYLOAD);
}

/* RFC 5869 Appendix A test cases 1 and 3. */
static void test_hkdf_rfc5869(void)
{
    unsigned char ikm[22], salt[13], info[10], okm[42];
    char hex[85];

    memset(ikm, 0x0b, sizeof(ikm));
    for (int i = 0; i < 13; i++)
        salt[i] = (unsigned char)i;
    for (int i = 0; i < 10; i++)
        info[i] = (unsigned char)(0xf0 + i);
    hp_hkdf_sha256(salt, sizeof(salt), ikm, sizeof(ikm), info, sizeof(info), okm, sizeof(okm));
    hp_hex_encode(okm, sizeof(okm), hex);
    CU_ASSERT_STRING_EQUAL(hex, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                                "34007208d5b887185865");
    hp_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, okm, sizeof(okm));
    hp_hex_encode(okm, sizeof(okm), hex);
    CU_ASSERT_STRING_EQUAL(hex, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
                                "9d201395faa4b61a96c8");
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"sha256 vectors", test_sha256},
        {"hmac rfc4231", test_hmac_rfc4231},
        {"ct_equal and hex", test_ct_equal_hex},
        {"uuid bytes", test_uuid_bytes},
        {"base64 rfc4648", test_base64_rfc4648},
        {"base64 binary", test_base64_binary},
        {"base64 refused", test_base64_refused},
        {"uuid v7", test_uuid_v7},
        {"uuid v4", test_uuid_v4},
        {"ids from threads", test_ids_threads},
        {"ids after fork", test_ids_fork},
        {"uuid valid", test_uuid_valid},
        {"random token", test_random_token},
        {"seal round trip", test_seal_round_trip},
        {"seal tamper", test_seal_tamper},
        {"password", test_password},
        {"base64url", test_base64url},
        {"hkdf rfc5869", test_hkdf_rfc5869},
        {NULL, NULL},
    };
    return hp_unit_main("hp_crypto", tests);
}
