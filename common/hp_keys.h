/*
 * hp_keys: the format of API keys and user tokens, shared by the CLI (which
 * mints them) and the API (which checks them).
 *
 * A secret looks like "hpk_AbCdEfGh1234_<32 characters>" (API key) or
 * "hpu_..." (user token). The first 16 characters ("hpk_" + 12) are the public
 * prefix stored in clear for lookup; only the SHA-256 of the whole secret is
 * stored. The secret part carries ~190 bits of randomness, so a fast hash is
 * the right tool (argon2 is for low-entropy passwords). Pure; thread-safe.
 */
#ifndef HP_KEYS_H
#define HP_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#define HP_KEY_PREFIX_LEN 16 /* "hpk_" + 12 */
#define HP_KEY_LEN        49 /* prefix + "_" + 32 */

typedef enum { HP_KEY_API = 0, HP_KEY_USER = 1 } hp_key_kind;

/* Mints a new secret of the given kind into out[HP_KEY_LEN + 1] and its
 * public prefix into prefix[HP_KEY_PREFIX_LEN + 1]. */
void hp_key_mint(hp_key_kind kind, char out[HP_KEY_LEN + 1], char prefix[HP_KEY_PREFIX_LEN + 1]);

/* True when s has the exact shape of a secret of that kind; then the public
 * prefix is copied into prefix. */
bool hp_key_parse(hp_key_kind kind, const char *s, char prefix[HP_KEY_PREFIX_LEN + 1]);

/* True when s is exactly a public prefix of that kind ("hpk_" + 12
 * letters or digits), the part of a key that may be shown and logged. */
bool hp_key_prefix_valid(hp_key_kind kind, const char *s);

/* SHA-256 of the whole secret (what the database stores). */
void hp_key_hash(const char *secret, unsigned char out[32]);

/* A new webhook signing secret "whsec_<base64 of 32 random bytes>"; heap
 * string, caller frees. */
char *hp_key_webhook_secret_new(void);

#endif
