/*
 * hp_link: signed decision links. A token names one approval, optionally one
 * of its options (an action link: "Approve"), the channel and the member it
 * was sent to, and when it stops working (the approval's deadline). It is
 * HMAC-SHA256-signed with a key derived from HOLDPOINT_SECRET_KEY, so it can
 * be checked without a database row, and it is short enough for a URL path,
 * an ntfy action or a Slack button value. Whoever holds a token may decide
 * that approval (that option) until it expires; a GET of a link only ever
 * shows a page, deciding takes a POST. Pure; any thread; nothing logs.
 */
#ifndef HP_LINK_H
#define HP_LINK_H

#include <stdint.h>

#include "hp_crypto.h"
#include "hp_err.h"

/* Token length: base64url of 58 payload bytes (78) + "." + 16 MAC bytes (22). */
#define HP_LINK_TOKEN_LEN   101
#define HP_LINK_OPTIONS_MAX 255

typedef struct hp_link {
    char approval_id[HP_UUID_LEN + 1];
    int option_index;                 /* -1: a view link, the reviewer picks on the page */
    char channel_id[HP_UUID_LEN + 1]; /* "" when not sent through a channel */
    char user_id[HP_UUID_LEN + 1];    /* "" when not sent to one member */
    int64_t expires_at;               /* Unix seconds */
} hp_link;

/* The link key: HKDF-SHA256 of the secret key with the label
 * "holdpoint decision links v1", so the sealing key is never used to sign. */
void hp_link_key(const unsigned char secret_key[32], unsigned char key[32]);

/* Writes the token of l into out (HP_LINK_TOKEN_LEN + 1 bytes).
 * HP_ERR_INVALID_PAYLOAD when an id is not a UUID or the option index is out
 * of range. */
HP_MUSTCHECK hp_err hp_link_sign(const unsigned char key[32], const hp_link *l,
                                 char out[HP_LINK_TOKEN_LEN + 1]);

/* Checks token's signature (constant time) and reads it into *out.
 * HP_ERR_INVALID_PAYLOAD for anything malformed or tampered with. Expiry is
 * the caller's to compare (out->expires_at), so it can say "expired" rather
 * than "invalid". */
HP_MUSTCHECK hp_err hp_link_parse(const unsigned char key[32], const char *token, hp_link *out);

#endif
