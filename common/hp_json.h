/*
 * hp_json: json-c helpers shared by the API, the workers and the CLI:
 * strict parsing with UTF-8 validation and a depth limit, typed getters, and
 * the canonical serialisation used for idempotency hashing.
 */
#ifndef HP_JSON_H
#define HP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "hp_err.h"

/* Parses exactly one JSON value from buf[0..len) (trailing whitespace allowed,
 * anything else is an error) into *out (new reference, caller puts). Rejects
 * invalid UTF-8 and nesting deeper than 32. HP_ERR_INVALID_PAYLOAD with a short
 * reason on failure. */
HP_MUSTCHECK hp_err hp_json_parse(const char *buf, size_t len, json_object **out, char *err,
                                  size_t errcap);

/* Canonical text of v: object keys sorted by byte order, no insignificant
 * whitespace, strings escaped the json-c way with '/' not escaped. Returns a
 * heap string (caller frees). Equal values give equal text. */
char *hp_json_canonical(json_object *v);

/* Borrowed member lookups; NULL when absent or of another type. */
const char *hp_json_str(json_object *obj, const char *key);
json_object *hp_json_obj(json_object *obj, const char *key);
json_object *hp_json_arr(json_object *obj, const char *key);
/* True and *out set when key holds an integer (or an integral double). */
bool hp_json_int(json_object *obj, const char *key, int64_t *out);
/* True when key is present (even as null). */
bool hp_json_has(json_object *obj, const char *key);

/* Adds key: value, or key: null when value is NULL. */
void hp_json_set_str(json_object *obj, const char *key, const char *value);
/* Adds key: RFC 3339 time from µs since epoch, or null when t_us < 0. */
void hp_json_set_time(json_object *obj, const char *key, int64_t t_us);

/* Serialises v without whitespace and with '/' not escaped; the returned
 * pointer is owned by v (valid until v is changed or put). */
const char *hp_json_text(json_object *v);

#endif
