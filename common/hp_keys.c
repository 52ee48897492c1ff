/*
 * hp_keys: minting and parsing of API keys and user tokens. See hp_keys.h for
 * the format; nothing here touches the database or logs.
 */
#include <stdlib.h>
#include <string.h>

#include "hp_crypto.h"
#include "hp_keys.h"
#include "hp_str.h"

static const char *hp__key_tag(hp_key_kind kind)
{
    return kind == HP_KEY_USER ? "hpu_" : "hpk_";
}

static bool hp__alnum(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

void hp_key_mint(hp_key_kind kind, char out[HP_KEY_LEN + 1], char prefix[HP_KEY_PREFIX_LEN + 1])
{
    char *pub = hp_random_token("", 12);
    char *sec = hp_random_token("", 32); /* ~190 bits */

    (void)hp_fmt(out, HP_KEY_LEN + 1, "%s%s_%s", hp__key_tag(kind), pub, sec);
    hp_strlcpy(prefix, out, HP_KEY_PREFIX_LEN + 1);
    free(pub);
    free(sec);
}

bool hp_key_parse(hp_key_kind kind, const char *s, char prefix[HP_KEY_PREFIX_LEN + 1])
{
    if (s == NULL || strlen(s) != HP_KEY_LEN || !hp_str_startswith(s, hp__key_tag(kind)))
        return false;
    if (!hp__alnum(s + 4, 12) || s[HP_KEY_PREFIX_LEN] != '_' ||
        !hp__alnum(s + HP_KEY_PREFIX_LEN + 1, 32))
        return false;
    hp_strlcpy(prefix, s, HP_KEY_PREFIX_LEN + 1);
    return true;
}

bool hp_key_prefix_valid(hp_key_kind kind, const char *s)
{
    return s != NULL && strlen(s) == HP_KEY_PREFIX_LEN && hp_str_startswith(s, hp__key_tag(kind)) &&
           hp__alnum(s + 4, 12);
}

void hp_key_hash(const char *secret, unsigned char out[32])
{
    hp_sha256(secret, strlen(secret), out);
}

char *hp_key_webhook_secret_new(void)
{
    unsigned char raw[32];
    char *b64, *s;
    size_t n;

    hp_rand_bytes(raw, sizeof(raw));
    b64 = hp_base64_encode(raw, sizeof(raw));
    n = strlen(b64) + 7;
    s = malloc(n);
    if (s == NULL)
        abort();
    (void)hp_fmt(s, n, "whsec_%s", b64);
    free(b64);
    return s;
}
