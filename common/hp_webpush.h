/*
 * hp_webpush: the cryptography of Web Push, all with OpenSSL — message
 * encryption with the "aes128gcm" content coding for a browser's
 * subscription (RFC 8291 over RFC 8188: ECDH on P-256 with a fresh sender
 * key, HKDF-SHA256, AES-128-GCM, one record), and VAPID (RFC 8292): the
 * installation's P-256 key pair and the ES256-signed JWT that proves it to a
 * push service. Sending the request (RFC 8030) is holdpoint-delivery's; this
 * module does no I/O and does not log. Any thread.
 */
#ifndef HP_WEBPUSH_H
#define HP_WEBPUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hp_err.h"

/* An uncompressed P-256 point: 0x04 || X || Y. */
#define HP_WEBPUSH_KEY_LEN  65
#define HP_WEBPUSH_AUTH_LEN 16
#define HP_WEBPUSH_SALT_LEN 16
/* Record size written in the header; one record carries the whole message. */
#define HP_WEBPUSH_RS 4096
/* Longest plaintext one record holds: rs - 16 (tag) - 1 (delimiter). */
#define HP_WEBPUSH_PLAINTEXT_MAX (HP_WEBPUSH_RS - 17)

/* Encrypts plaintext for the subscription whose keys are p256dh (the
 * browser's public key) and auth (its 16-byte secret), both base64url as
 * the browser's PushSubscription gives them. *out (heap, caller frees) gets
 * the request body: salt(16) || rs(4) || idlen(1) || sender key(65) ||
 * ciphertext. HP_ERR_INVALID_PAYLOAD when a key does not decode or is not a
 * point on the curve, or the plaintext is longer than
 * HP_WEBPUSH_PLAINTEXT_MAX. */
HP_MUSTCHECK hp_err hp_webpush_encrypt(const char *p256dh, const char *auth, const void *plaintext,
                                       size_t len, unsigned char **out, size_t *outlen);

/* The same with every random input given (test vectors): the browser's key
 * and secret as bytes, the salt, and the sender's key pair (as_private: the
 * 32-byte scalar, as_public: its point). */
HP_MUSTCHECK hp_err hp_webpush_encrypt_with(const unsigned char ua_public[HP_WEBPUSH_KEY_LEN],
                                            const unsigned char auth[HP_WEBPUSH_AUTH_LEN],
                                            const unsigned char salt[HP_WEBPUSH_SALT_LEN],
                                            const unsigned char as_private[32],
                                            const unsigned char as_public[HP_WEBPUSH_KEY_LEN],
                                            const void *plaintext, size_t len, unsigned char **out,
                                            size_t *outlen);

/* True when p256dh (base64url) is an uncompressed P-256 point on the curve
 * and auth (base64url) is 16 bytes: a subscription's keys worth storing. */
bool hp_webpush_keys_ok(const char *p256dh, const char *auth);

/* A VAPID key pair loaded for signing. */
typedef struct hp_webpush_vapid hp_webpush_vapid;

/* Makes a new VAPID key pair: *private_pem (PKCS#8 PEM, heap; seal it before
 * storing) and *public_b64 (the 65-byte point, base64url, heap: the
 * applicationServerKey browsers subscribe with). */
void hp_webpush_vapid_generate(char **private_pem, char **public_b64);

/* Loads a key pair from its PEM. HP_ERR_INVALID_PAYLOAD when the PEM is not
 * a P-256 private key. */
HP_MUSTCHECK hp_err hp_webpush_vapid_load(const char *private_pem, hp_webpush_vapid **out);
void hp_webpush_vapid_free(hp_webpush_vapid *v);
/* The public key, base64url (owned by v). */
const char *hp_webpush_vapid_public(const hp_webpush_vapid *v);

/* The push service's origin for an endpoint URL ("https://push.example.net"
 * or with a non-default port), the JWT's audience, into out.
 * HP_ERR_INVALID_PAYLOAD when endpoint is not an http(s) URL. */
HP_MUSTCHECK hp_err hp_webpush_audience(const char *endpoint, char *out, size_t cap);

/* The Authorization header value of RFC 8292 section 3:
 * "vapid t=<JWT>, k=<public key>", the JWT signed with ES256 over
 * {"aud": audience of endpoint, "exp": exp (Unix seconds), "sub": subject}.
 * *out is heap (caller frees). */
HP_MUSTCHECK hp_err hp_webpush_vapid_header(const hp_webpush_vapid *v, const char *endpoint,
                                            const char *subject, int64_t exp, char **out);

#endif
