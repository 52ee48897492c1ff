/*
 * hp_link: decision link tokens. The payload is binary and fixed-size:
 * version (1) || approval uuid (16) || option (1, 0xff = none) || channel uuid
 * (16, zero = none) || user uuid (16, zero = none) || expiry (8, big-endian
 * Unix seconds); the token is base64url(payload) "." base64url(first 16 bytes
 * of HMAC-SHA256(link key, payload)). 128 bits of MAC leave forgery out of
 * reach; the fixed layout leaves nothing to parse ambiguously.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hp_link.h"
#include "hp_mem.h"
#include "hp_str.h"

#define HP__LINK_VERSION 1
#define HP__LINK_PAYLOAD 58
#define HP__LINK_MAC     16

void hp_link_key(const unsigned char secret_key[32], unsigned char key[32])
{
    static const char info[] = "holdpoint decision links v1";
    hp_hkdf_sha256(NULL, 0, secret_key, 32, info, sizeof(info) - 1, key, 32);
}

/* "" (or NULL) is the zero UUID; otherwise a canonical UUID. */
static bool hp__uuid_bytes(const char *s, unsigned char out[16])
{
    memset(out, 0, 16);
    return s == NULL || s[0] == '\0' || hp_uuid_to_bytes(s, out);
}

static void hp__uuid_text(const unsigned char b[16], char out[HP_UUID_LEN + 1])
{
    static const unsigned char zero[16] = {0};

    if (memcmp(b, zero, 16) == 0)
        out[0] = '\0';
    else
        hp_uuid_from_bytes(b, out);
}

hp_err hp_link_sign(const unsigned char key[32], const hp_link *l, char out[HP_LINK_TOKEN_LEN + 1])
{
    unsigned char p[HP__LINK_PAYLOAD], mac[32];
    char *a, *b;
    uint64_t exp = (uint64_t)l->expires_at;

    out[0] = '\0';
    if (!hp_uuid_valid(l->approval_id) || l->option_index < -1 ||
        l->option_index >= HP_LINK_OPTIONS_MAX)
        return HP_ERR_INVALID_PAYLOAD;
    p[0] = HP__LINK_VERSION;
    if (!hp__uuid_bytes(l->approval_id, p + 1) || !hp__uuid_bytes(l->channel_id, p + 18) ||
        !hp__uuid_bytes(l->user_id, p + 34))
        return HP_ERR_INVALID_PAYLOAD;
    p[17] = l->option_index < 0 ? 0xff : (unsigned char)l->option_index;
    for (int i = 0; i < 8; i++)
        p[50 + i] = (unsigned char)(exp >> (56 - 8 * i));
    hp_hmac_sha256(key, 32, p, sizeof(p), mac);
    a = hp_base64url_encode(p, sizeof(p));
    b = hp_base64url_encode(mac, HP__LINK_MAC);
    (void)hp_fmt(out, HP_LINK_TOKEN_LEN + 1, "%s.%s", a, b);
    free(a);
    free(b);
    return HP_OK;
}

hp_err hp_link_parse(const unsigned char key[32], const char *token, hp_link *out)
{
    unsigned char p[HP__LINK_PAYLOAD + 1], mac[HP__LINK_MAC + 1], want[32];
    char part[HP_LINK_TOKEN_LEN + 1];
    const char *dot;
    size_t n = 0, m = 0;
    uint64_t exp = 0;

    memset(out, 0, sizeof(*out));
    if (token == NULL || strlen(token) != HP_LINK_TOKEN_LEN || (dot = strchr(token, '.')) == NULL ||
        (size_t)(dot - token) >= sizeof(part))
        return HP_ERR_INVALID_PAYLOAD;
    memcpy(part, token, (size_t)(dot - token));
    part[dot - token] = '\0';
    if (hp_base64url_decode(part, p, sizeof(p), &n) != HP_OK || n != HP__LINK_PAYLOAD ||
        hp_base64url_decode(dot + 1, mac, sizeof(mac), &m) != HP_OK || m != HP__LINK_MAC)
        return HP_ERR_INVALID_PAYLOAD;
    hp_hmac_sha256(key, 32, p, HP__LINK_PAYLOAD, want);
    if (!hp_ct_equal(want, mac, HP__LINK_MAC) || p[0] != HP__LINK_VERSION)
        return HP_ERR_INVALID_PAYLOAD;
    hp__uuid_text(p + 1, out->approval_id);
    if (out->approval_id[0] == '\0')
        return HP_ERR_INVALID_PAYLOAD;
    out->option_index = p[17] == 0xff ? -1 : p[17];
    hp__uuid_text(p + 18, out->channel_id);
    hp__uuid_text(p + 34, out->user_id);
    for (int i = 0; i < 8; i++)
        exp = exp << 8 | p[50 + i];
    out->expires_at = (int64_t)exp;
    return HP_OK;
}
