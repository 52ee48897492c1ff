/*
 * hp_valid: request validation that reports every problem at once, in the
 * issue shape zod produces ({"path": [...], "code": ..., "message": ...}),
 * because existing clients parse those codes and messages. The messages are
 * zod 3's default English texts, byte for byte: "Required" for a missing
 * member, "Expected string, received number" for a wrong type, "String must
 * contain at most 120 character(s)" and so on. Lengths count code points, as
 * JavaScript's string length would for text without astral characters.
 *
 * Absent and null: a missing required member is "Required". null is treated
 * as absent for optional non-string members (the callers' documented rule),
 * while a string member accepts null only when its rule says nullable.
 * The collector owns a json-c array of issues; paths borrow their keys, which
 * are copied into the array when an issue is added. One collector per request.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hp_mem.h"
#include "hp_str.h"
#include "hp_valid.h"

struct hp_issues {
    json_object *arr;
};

/* ---- paths ---------------------------------------------------------------- */

hp_path hp_path_root(void)
{
    hp_path p;
    memset(&p, 0, sizeof(p));
    return p;
}

hp_path hp_path_key(hp_path p, const char *key)
{
    if (p.n < HP_PATH_MAX) { /* deeper paths are cut: our bodies are shallow */
        p.seg[p.n].key = key;
        p.seg[p.n].index = 0;
        p.n++;
    }
    return p;
}

hp_path hp_path_index(hp_path p, int index)
{
    if (p.n < HP_PATH_MAX) {
        p.seg[p.n].key = NULL;
        p.seg[p.n].index = index;
        p.n++;
    }
    return p;
}

/* ---- the collector --------------------------------------------------------- */

hp_issues *hp_issues_new(void)
{
    hp_issues *is = hp_xmalloc(sizeof(*is));
    is->arr = json_object_new_array();
    return is;
}

void hp_issues_free(hp_issues *is)
{
    if (is == NULL)
        return;
    json_object_put(is->arr);
    free(is);
}

static void hp__issue_add(hp_issues *is, hp_path at, const char *code, char *message)
{
    json_object *o = json_object_new_object();
    json_object *path = json_object_new_array();

    for (int i = 0; i < at.n && i < HP_PATH_MAX; i++)
        json_object_array_add(path, at.seg[i].key != NULL ? json_object_new_string(at.seg[i].key)
                                                          : json_object_new_int(at.seg[i].index));
    json_object_object_add(o, "path", path);
    json_object_object_add(o, "code", json_object_new_string(code));
    json_object_object_add(o, "message", json_object_new_string(message));
    json_object_array_add(is->arr, o);
    free(message);
}

void hp_issues_add(hp_issues *is, hp_path at, const char *code, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = hp_xvasprintf(fmt, ap);
    va_end(ap);
    hp__issue_add(is, at, code, msg);
}

size_t hp_issues_count(const hp_issues *is)
{
    return json_object_array_length(is->arr);
}

json_object *hp_issues_json(const hp_issues *is)
{
    json_object *copy = NULL;

    /* A copy, so issues added later do not change what the caller holds. */
    if (json_object_deep_copy(is->arr, &copy, NULL) != 0)
        abort(); /* only on allocation failure, which aborts everywhere else too */
    return copy;
}

/* ---- member rules ---------------------------------------------------------- */

const char *hp_valid_type_name(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "boolean";
    case json_type_int:
    case json_type_double:
        return "number";
    case json_type_string:
        return "string";
    case json_type_array:
        return "array";
    case json_type_object:
        return "object";
    }
    return "unknown";
}

enum hp__member { HP__ABSENT, HP__NULL, HP__VALUE };

/* Looks key up in parent; a parent that is not an object has no members. */
static enum hp__member hp__get(json_object *parent, const char *key, json_object **v)
{
    *v = NULL;
    if (parent == NULL || !json_object_is_type(parent, json_type_object) ||
        !json_object_object_get_ex(parent, key, v))
        return HP__ABSENT;
    return *v == NULL ? HP__NULL : HP__VALUE;
}

static void hp__required(hp_issues *is, hp_path at)
{
    hp_issues_add(is, at, "invalid_type", "Required");
}

static void hp__wrong_type(hp_issues *is, hp_path at, const char *expected, json_object *v)
{
    hp_issues_add(is, at, "invalid_type", "Expected %s, received %s", expected,
                  hp_valid_type_name(v));
}

bool hp_valid_is_object(hp_issues *is, hp_path at, json_object *v)
{
    if (json_object_is_type(v, json_type_object))
        return true;
    hp__wrong_type(is, at, "object", v);
    return false;
}

/* Shared absent/null handling for members without a nullable rule. Returns
 * true when the caller should go on to check the value. */
static bool hp__present(hp_issues *is, hp_path at, enum hp__member m, bool required,
                        const char *expected, json_object *v)
{
    if (m == HP__ABSENT) {
        if (required)
            hp__required(is, at);
        return false;
    }
    if (m == HP__NULL) {
        if (required)
            hp__wrong_type(is, at, expected, v);
        return false;
    }
    return true;
}

const char *hp_valid_str(hp_issues *is, hp_path at, json_object *parent, const char *key,
                         hp_str_rule rule)
{
    json_object *v;
    enum hp__member m = hp__get(parent, key, &v);
    hp_path p = hp_path_key(at, key);
    const char *s;
    size_t bytes;
    long cps;

    if (m == HP__ABSENT) {
        if (rule.required)
            hp__required(is, p);
        return NULL;
    }
    if (m == HP__NULL) {
        if (!rule.nullable)
            hp__wrong_type(is, p, "string", v);
        return NULL;
    }
    if (!json_object_is_type(v, json_type_string)) {
        hp__wrong_type(is, p, "string", v);
        return NULL;
    }
    s = json_object_get_string(v);
    bytes = (size_t)json_object_get_string_len(v);
    if (memchr(s, '\0', bytes) != NULL) {
        hp_issues_add(is, p, "invalid_string", "String must not contain NUL characters");
        return NULL;
    }
    cps = hp_utf8_len(s, bytes);
    if (cps < 0) {
        hp_issues_add(is, p, "invalid_string", "Invalid UTF-8");
        return NULL;
    }
    if ((size_t)cps < rule.min) {
        hp_issues_add(is, p, "too_small", "String must contain at least %zu character(s)",
                      rule.min);
        return NULL;
    }
    if (rule.max > 0 && (size_t)cps > rule.max) {
        hp_issues_add(is, p, "too_big", "String must contain at most %zu character(s)", rule.max);
        return NULL;
    }
    return s;
}

bool hp_valid_int(hp_issues *is, hp_path at, json_object *parent, const char *key, bool required,
                  int64_t min, int64_t max, int64_t *out, bool *present)
{
    json_object *v;
    enum hp__member m = hp__get(parent, key, &v);
    hp_path p = hp_path_key(at, key);
    int64_t x;
    bool too_small = false, too_big = false;

    if (present != NULL)
        *present = m == HP__VALUE || (m == HP__NULL && required);
    if (!hp__present(is, p, m, required, "number", v))
        return false;
    if (json_object_is_type(v, json_type_int)) {
        x = json_object_get_int64(v);
        /* json-c keeps values above INT64_MAX as uint64 and clamps here. */
        if (x == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX)
            too_big = true;
    } else if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (!isfinite(d) || d != floor(d)) {
            hp_issues_add(is, p, "invalid_type", "Expected integer, received float");
            return false;
        }
        too_small = d < -9223372036854775808.0;
        too_big = d >= 9223372036854775808.0;
        x = too_small || too_big ? 0 : (int64_t)d;
    } else {
        hp__wrong_type(is, p, "number", v);
        return false;
    }
    if (too_small || (!too_big && x < min)) {
        hp_issues_add(is, p, "too_small", "Number must be greater than or equal to %" PRId64, min);
        return false;
    }
    if (too_big || x > max) {
        hp_issues_add(is, p, "too_big", "Number must be less than or equal to %" PRId64, max);
        return false;
    }
    if (out != NULL)
        *out = x;
    return true;
}

bool hp_valid_bool(hp_issues *is, hp_path at, json_object *parent, const char *key, bool required,
                   bool *out)
{
    json_object *v;
    enum hp__member m = hp__get(parent, key, &v);
    hp_path p = hp_path_key(at, key);

    if (!hp__present(is, p, m, required, "boolean", v))
        return false;
    if (!json_object_is_type(v, json_type_boolean)) {
        hp__wrong_type(is, p, "boolean", v);
        return false;
    }
    if (out != NULL)
        *out = json_object_get_boolean(v) != 0;
    return true;
}

json_object *hp_valid_array(hp_issues *is, hp_path at, json_object *parent, const char *key,
                            bool required, size_t min_items, size_t max_items)
{
    json_object *v;
    enum hp__member m = hp__get(parent, key, &v);
    hp_path p = hp_path_key(at, key);
    size_t n;

    if (!hp__present(is, p, m, required, "array", v))
        return NULL;
    if (!json_object_is_type(v, json_type_array)) {
        hp__wrong_type(is, p, "array", v);
        return NULL;
    }
    n = json_object_array_length(v);
    if (n < min_items) {
        hp_issues_add(is, p, "too_small", "Array must contain at least %zu element(s)", min_items);
        return NULL;
    }
    if (max_items > 0 && n > max_items) {
        hp_issues_add(is, p, "too_big", "Array must contain at most %zu element(s)", max_items);
        return NULL;
    }
    return v;
}

json_object *hp_valid_object(hp_issues *is, hp_path at, json_object *parent, const char *key,
                             bool required)
{
    json_object *v;
    enum hp__member m = hp__get(parent, key, &v);
    hp_path p = hp_path_key(at, key);

    if (!hp__present(is, p, m, required, "object", v) || !hp_valid_is_object(is, p, v))
        return NULL;
    return v;
}

/* zod's joinValues: 'a' | 'b' | 'c'. Heap string (caller frees). */
static char *hp__enum_list(const char *const *values)
{
    size_t len = 1;
    char *s, *w;

    for (size_t i = 0; values[i] != NULL; i++)
        len += strlen(values[i]) + 5;
    s = w = hp_xmalloc(len);
    *w = '\0';
    for (size_t i = 0; values[i] != NULL; i++) {
        size_t n = strlen(values[i]);
        if (i > 0) {
            memcpy(w, " | ", 3);
            w += 3;
        }
        *w++ = '\'';
        memcpy(w, values[i], n);
        w += n;
        *w++ = '\'';
        *w = '\0';
    }
    return s;
}

int hp_valid_enum(hp_issues *is, hp_path at, json_object *parent, const char *key, bool required,
                  const char *const *values)
{
    json_object *v;
    enum hp__member m = hp__get(parent, key, &v);
    hp_path p = hp_path_key(at, key);
    char *list;
    const char *s;

    if (m == HP__ABSENT || (m == HP__NULL && !required)) {
        if (m == HP__ABSENT && required)
            hp__required(is, p);
        return -1;
    }
    if (m == HP__VALUE && json_object_is_type(v, json_type_string)) {
        s = json_object_get_string(v);
        for (int i = 0; values[i] != NULL; i++)
            if (strlen(values[i]) == (size_t)json_object_get_string_len(v) &&
                strcmp(values[i], s) == 0)
                return i;
    }
    list = hp__enum_list(values);
    if (m == HP__VALUE && json_object_is_type(v, json_type_string))
        hp_issues_add(is, p, "invalid_enum_value", "Invalid enum value. Expected %s, received '%s'",
                      list, json_object_get_string(v));
    else
        hp__wrong_type(is, p, list, v); /* zod: "Expected 'a' | 'b', received number" */
    free(list);
    return -1;
}

bool hp_valid_http_token(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *s) != NULL))
            return false;
    return true;
}

bool hp_valid_no_nul(hp_issues *is, hp_path at, json_object *v)
{
    bool ok = true;

    switch (json_object_get_type(v)) {
    case json_type_string:
        if (memchr(json_object_get_string(v), '\0', (size_t)json_object_get_string_len(v)) !=
            NULL) {
            hp_issues_add(is, at, "invalid_string", "String must not contain NUL characters");
            ok = false;
        }
        break;
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++)
            ok &= hp_valid_no_nul(is, hp_path_index(at, (int)i), json_object_array_get_idx(v, i));
        break;
    case json_type_object: {
        json_object_object_foreach(v, k, val) ok &= hp_valid_no_nul(is, hp_path_key(at, k), val);
        break;
    }
    default:
        break;
    }
    return ok;
}
