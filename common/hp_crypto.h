/*
 * hp_crypto: every cryptographic primitive Holdpoint uses, all from OpenSSL
 * (and libargon2 for passwords): randomness, UUIDs, SHA-256, HMAC-SHA256,
 * base64, constant-time compare, authenticated encryption of stored secrets.
 * Thread-safe; nothing here logs.
 */
#ifndef HP_CRYPTO_H
#define HP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hp_err.h"

#define HP_UUID_LEN 36 /* without NUL */

/* Fills buf with n cryptographically random bytes; aborts if the CSPRNG fails. */
void hp_rand_bytes(void *buf, size_t n);
/* Random bytes for ids that are shown, never for secrets: they may come from
 * a cache of the calling thread, so they are held in memory before use. */
void hp_rand_id_bytes(void *buf, size_t n);

/* Writes a new time-ordered UUID (version 7) into out[37]. */
void hp_uuid_v7(char out[HP_UUID_LEN + 1]);
/* Writes a random UUID (version 4) into out[37]. */
void hp_uuid_v4(char out[HP_UUID_LEN + 1]);
/* True when s is a canonical 8-4-4-4-12 hex UUID (either case). */
bool hp_uuid_valid(const char *s);
/* The 16 bytes of the UUID text s (either case); false (out untouched) when
 * s is not one (hp_uuid_valid). */
bool hp_uuid_to_bytes(const char *s, unsigned char out[16]);
/* The canonical lower-case text of 16 UUID bytes. */
void hp_uuid_from_bytes(const unsigned char b[16], char out[HP_UUID_LEN + 1]);

void hp_sha256(const void *data, size_t len, unsigned char out[32]);
/* Lower-case hex of SHA-256 into out[65]. */
void hp_sha256_hex(const void *data, size_t len, char out[65]);
void hp_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                    unsigned char out[32]);

/* Constant-time equality of two n-byte buffers. */
bool hp_ct_equal(const void *a, const void *b, size_t n);

/* Standard base64 with padding; returns a heap string (caller frees). */
char *hp_base64_encode(const void *data, size_t len);
/* Decodes standard base64 (padding required, no whitespace) into out (cap
 * bytes); HP_ERR_INVALID_PAYLOAD on bad input or when it does not fit. */
HP_MUSTCHECK hp_err hp_base64_decode(const char *s, unsigned char *out, size_t cap, size_t *outlen);
/* Lower-case hex; out needs 2*len+1 bytes. */
void hp_hex_encode(const void *data, size_t len, char *out);

/* base64url without padding (RFC 4648 section 5, as Web Push, JWTs and
 * decision links write it); returns a heap string (caller frees). */
char *hp_base64url_encode(const void *data, size_t len);
/* Decodes unpadded base64url into out (cap bytes); HP_ERR_INVALID_PAYLOAD on
 * a character outside the alphabet, padding, a length that is 1 mod 4,
 * non-zero trailing bits, or when it does not fit. */
HP_MUSTCHECK hp_err hp_base64url_decode(const char *s, unsigned char *out, size_t cap,
                                        size_t *outlen);

/* HKDF-SHA256 (RFC 5869): extract with salt (may be empty) from ikm, then
 * expand with info into out (outlen bytes, at most 255 * 32). */
void hp_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm, size_t ikmlen,
                    const void *info, size_t infolen, unsigned char *out, size_t outlen);

/* A random token: prefix followed by exactly nchars characters drawn
 * uniformly (no modulo bias) from [A-Za-z0-9]; returns a heap string (caller
 * frees). */
char *hp_random_token(const char *prefix, size_t nchars);

/* Encrypts plaintext with AES-256-GCM under key and returns a heap string
 * "v1.<base64(nonce(12) || ciphertext || tag(16))>" (caller frees). */
char *hp_secret_seal(const unsigned char key[32], const void *plaintext, size_t len);
/* Reverses hp_secret_seal; *out is a heap NUL-terminated buffer (caller frees).
 * HP_ERR_INTERNAL when the text is malformed or fails authentication. */
HP_MUSTCHECK hp_err hp_secret_open(const unsigned char key[32], const char *sealed,
                                   unsigned char **out, size_t *outlen);

/* argon2id hash in PHC string form; returns a heap string (caller frees) or
 * NULL when hashing fails. Slow on purpose (~tens of ms). */
char *hp_password_hash(const char *password);
/* True when password matches the PHC string. */
bool hp_password_verify(const char *encoded, const char *password);

#endif
