/*
 * hp_valid: validation that collects every issue with its path, in the shape
 * of seed 003's 400 body: {"path": ["options", 0, "label"], "code": "too_big",
 * "message": "..."}. Codes follow the zod names that existing clients parse:
 * invalid_type (message "Required" when missing), too_small, too_big,
 * invalid_string, invalid_enum_value, custom.
 *
 * String lengths count Unicode code points. Pure; one collector per request.
 */
#ifndef HP_VALID_H
#define HP_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define HP_PATH_MAX 8

/* A path by value: segments are either a key (borrowed, must outlive the
 * issue call) or an array index (key == NULL). */
typedef struct hp_path {
    int n;
    struct {
        const char *key;
        int index;
    } seg[HP_PATH_MAX];
} hp_path;

hp_path hp_path_root(void);
hp_path hp_path_key(hp_path p, const char *key);
hp_path hp_path_index(hp_path p, int index);

typedef struct hp_issues hp_issues;

/* zod's name for the type of v ("string", "number", "boolean", "object",
 * "array", "null"), for "Expected X, received Y" messages. Static string. */
const char *hp_valid_type_name(json_object *v);

hp_issues *hp_issues_new(void);
void hp_issues_free(hp_issues *is);
/* Records an issue at path; message is printf-formatted. */
void hp_issues_add(hp_issues *is, hp_path at, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
size_t hp_issues_count(const hp_issues *is);
/* New reference to the JSON array of issues (caller puts). */
json_object *hp_issues_json(const hp_issues *is);

/* True when v is a JSON object; otherwise records zod's invalid_type issue
 * ("Expected object, received …") at path at and returns false. */
bool hp_valid_is_object(hp_issues *is, hp_path at, json_object *v);

/* Rules for a string member. max == 0 means no upper bound. */
typedef struct hp_str_rule {
    bool required; /* absent (or null when !nullable) is an issue */
    bool nullable; /* null accepted and returned as NULL without an issue (tell it
                      from absent with hp_json_has) */
    size_t min;    /* code points */
    size_t max;    /* code points */
} hp_str_rule;

/* Adds an "invalid_string" issue at the path of every string value in v
 * (at any depth) that holds a NUL: neither C strings nor PostgreSQL text
 * can keep one, so it would be cut short or fail to store. Returns true
 * when there is none. */
bool hp_valid_no_nul(hp_issues *is, hp_path at, json_object *v);

/* Validates parent[key] (parent at path `at`) and returns the borrowed string,
 * or NULL when absent, null or invalid (issues added as needed). null is an
 * issue unless rule.nullable, even when !required (zod's optional() does not
 * take null). Strings containing NUL are refused (invalid_string): PostgreSQL
 * text cannot store them. */
const char *hp_valid_str(hp_issues *is, hp_path at, json_object *parent, const char *key,
                         hp_str_rule rule);

/* Validates an integer member in [min, max]; an integral double (30.0) counts
 * as an integer, 30.5 or "30" do not. Returns true with *out set when present
 * and valid; *present says whether the key was there (null counts as absent
 * when !required). */
bool hp_valid_int(hp_issues *is, hp_path at, json_object *parent, const char *key, bool required,
                  int64_t min, int64_t max, int64_t *out, bool *present);

/* Validates a boolean member; returns true with *out set when present and valid.
 * null counts as absent when !required. */
bool hp_valid_bool(hp_issues *is, hp_path at, json_object *parent, const char *key, bool required,
                   bool *out);

/* Validates an array member with min..max items (max 0 = no bound); returns it
 * borrowed, or NULL. null counts as absent when !required. */
json_object *hp_valid_array(hp_issues *is, hp_path at, json_object *parent, const char *key,
                            bool required, size_t min_items, size_t max_items);

/* Validates an object member; returns it borrowed, or NULL. null counts as
 * absent when !required. */
json_object *hp_valid_object(hp_issues *is, hp_path at, json_object *parent, const char *key,
                             bool required);

/* Validates that a string member is one of the NULL-terminated values;
 * returns the index in values, or -1 when absent or invalid. null counts as
 * absent when !required. */
int hp_valid_enum(hp_issues *is, hp_path at, json_object *parent, const char *key, bool required,
                  const char *const *values);

/* True when s is an RFC 9110 token (1*tchar: letters, digits and
 * !#$%&'*+-.^_`|~), as an HTTP header name must be. Pure. */
bool hp_valid_http_token(const char *s);

#endif
