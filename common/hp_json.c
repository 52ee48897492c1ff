/*
 * hp_json: the json-c conventions every process shares. Parsing is strict
 * (JSON_TOKENER_STRICT, UTF-8 validated, depth at most 32) and takes exactly
 * one value: trailing bytes other than whitespace are refused, as are NULs
 * outside strings. json-c's strict mode still lets through things RFC 8259
 * forbids or that it would silently change, so two cheap passes frame it.
 * Before: the bytes are checked as strict UTF-8 (json-c's own check accepts
 * overlongs and surrogates), and every token outside strings is checked
 * against the RFC grammar (json-c takes "1.", NaN, Infinity and raw control
 * characters in strings, and cuts an object key at an escaped NUL, \u0000,
 * without a word: such a key is refused; a string value keeps its NUL and
 * length, and callers refuse it with hp_valid_no_nul), with plain integers
 * limited to what json-c stores exactly (INT64_MIN..UINT64_MAX; it clamps
 * beyond). After: doubles that overflowed
 * to infinity are refused.
 *
 * Canonical text, the input of idempotency hashes, is produced by copying
 * the value with object keys sorted by byte order at every level and numbers
 * normalised, then letting json-c print the copy without whitespace and
 * without escaping '/'. Number normalisation matters because json-c keeps a
 * parsed double's source text: 30, 30.0 and 3e1 must give the same text
 * ("30"), and 0.10 and 0.1 the same ("0.1"), so integral doubles print as
 * integers and other doubles with the shortest digits that read back to the
 * same value. Getters borrow; nothing here keeps state.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_err.h"
#include "hp_json.h"
#include "hp_mem.h"
#include "hp_str.h"
#include "hp_time.h"

#define HP__JSON_DEPTH      32
#define HP__JSON_TEXT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static bool hp__json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool hp__json_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* True when the n-digit decimal d[0..n) is at most the decimal limit. */
static bool hp__json_digits_le(const char *d, size_t n, const char *limit)
{
    size_t ln = strlen(limit);
    return n < ln || (n == ln && memcmp(d, limit, n) <= 0);
}

/* Checks the number token at buf[*i] against the RFC 8259 grammar (and a
 * plain integer against json-c's exact range) and advances *i past it. */
static bool hp__json_number(const char *buf, size_t len, size_t *i)
{
    size_t j = *i, start;
    bool neg = false, plain = true, fits;

    if (buf[j] == '-') {
        neg = true;
        j++;
    }
    start = j;
    if (j < len && buf[j] == '0') {
        j++;
    } else if (j < len && buf[j] >= '1' && buf[j] <= '9') {
        while (j < len && hp__json_digit(buf[j]))
            j++;
    } else {
        return false;
    }
    fits = hp__json_digits_le(buf + start, j - start,
                              neg ? "9223372036854775808" : "18446744073709551615");
    if (j < len && buf[j] == '.') {
        j++;
        if (j >= len || !hp__json_digit(buf[j]))
            return false;
        while (j < len && hp__json_digit(buf[j]))
            j++;
        plain = false;
    }
    if (j < len && (buf[j] == 'e' || buf[j] == 'E')) {
        j++;
        if (j < len && (buf[j] == '+' || buf[j] == '-'))
            j++;
        if (j >= len || !hp__json_digit(buf[j]))
            return false;
        while (j < len && hp__json_digit(buf[j]))
            j++;
        plain = false;
    }
    /* A number must end at a structural character, whitespace or the end. */
    if (j < len && (hp__json_digit(buf[j]) || buf[j] == '.' || buf[j] == '+' || buf[j] == '-' ||
                    (buf[j] >= 'a' && buf[j] <= 'z') || (buf[j] >= 'A' && buf[j] <= 'Z')))
        return false;
    *i = j;
    return !plain || fits;
}

/* The lexical pass described at the top: numbers and literals outside
 * strings, raw control characters inside them, and escaped NULs in object
 * keys. Structure and other escapes are left to json-c. */
static bool hp__json_tokens_ok(const char *buf, size_t len, char *err, size_t errcap)
{
    size_t i = 0;

    while (i < len) {
        char c = buf[i];
        if (c == '"') {
            size_t nul_at = len; /* where an escaped NUL is, if any */
            /* json-c's strict mode lets raw control characters through. */
            for (i++; i < len && buf[i] != '"'; i++) {
                if ((unsigned char)buf[i] < 0x20) {
                    hp_err_set(err, errcap, "control character in string at offset %zu", i);
                    return false;
                }
                if (buf[i] == '\\') {
                    if (len - i >= 6 && memcmp(buf + i + 1, "u0000", 5) == 0 && nul_at == len)
                        nul_at = i;
                    i++;
                }
            }
            i++;
            if (nul_at < len) {
                /* json-c would cut an object key at its NUL without a
                 * word; a value keeps its length (hp_valid_no_nul). */
                size_t k = i;
                while (k < len && hp__json_ws(buf[k]))
                    k++;
                if (k < len && buf[k] == ':') {
                    hp_err_set(err, errcap, "NUL (\\u0000) in an object key at offset %zu", nul_at);
                    return false;
                }
            }
        } else if (c == '-' || hp__json_digit(c)) {
            size_t at = i;
            if (!hp__json_number(buf, len, &i)) {
                hp_err_set(err, errcap, "invalid or out-of-range number at offset %zu", at);
                return false;
            }
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            size_t at = i, n;
            while (i < len &&
                   ((buf[i] >= 'a' && buf[i] <= 'z') || (buf[i] >= 'A' && buf[i] <= 'Z')))
                i++;
            n = i - at;
            if (!((n == 4 && memcmp(buf + at, "true", 4) == 0) ||
                  (n == 5 && memcmp(buf + at, "false", 5) == 0) ||
                  (n == 4 && memcmp(buf + at, "null", 4) == 0))) {
                hp_err_set(err, errcap, "invalid literal at offset %zu", at);
                return false;
            }
        } else {
            i++;
        }
    }
    return true;
}

/* True when no double in v is infinite (strtod overflow). Depth is bounded
 * by the parser's limit. */
static bool hp__json_finite(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_double:
        return isfinite(json_object_get_double(v));
    case json_type_array:
        for (size_t j = 0; j < json_object_array_length(v); j++)
            if (!hp__json_finite(json_object_array_get_idx(v, j)))
                return false;
        return true;
    case json_type_object: {
        json_object_object_foreach(v, k, val)
        {
            (void)k;
            if (!hp__json_finite(val))
                return false;
        }
        return true;
    }
    default:
        return true;
    }
}

/* Each thread keeps one tokener and resets it for the next parse. A tokener
 * made per parse allocated its 1 KiB parse stack each time, and an
 * allocation of that size has glibc consolidate its free lists first: about
 * 5 % of the API's user CPU on the create benchmark, all in
 * json_tokener_new_ex. A tokener that parsed a long document has grown its
 * buffer to the longest string in it, so it is freed rather than kept; the
 * key's destructor frees the kept one when its thread ends. */
#define HP__TOK_KEEP_MAX 4096

static pthread_key_t hp__tok_key;
static pthread_once_t hp__tok_once = PTHREAD_ONCE_INIT;

static void hp__tok_destroy(void *tok)
{
    json_tokener_free(tok);
}

static void hp__tok_key_init(void)
{
    if (pthread_key_create(&hp__tok_key, hp__tok_destroy) != 0)
        abort();
}

static json_tokener *hp__tok_take(void)
{
    json_tokener *tok;

    pthread_once(&hp__tok_once, hp__tok_key_init);
    tok = pthread_getspecific(hp__tok_key);
    if (tok != NULL) {
        (void)pthread_setspecific(hp__tok_key, NULL);
        json_tokener_reset(tok);
        return tok;
    }
    tok = json_tokener_new_ex(HP__JSON_DEPTH);
    if (tok == NULL)
        abort(); /* only on allocation failure, which aborts everywhere (hp_mem) */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    return tok;
}

static void hp__tok_give_back(json_tokener *tok, size_t len)
{
    if (len > HP__TOK_KEEP_MAX || pthread_setspecific(hp__tok_key, tok) != 0)
        json_tokener_free(tok);
}

hp_err hp_json_parse(const char *buf, size_t len, json_object **out, char *err, size_t errcap)
{
    json_tokener *tok;
    json_object *v;
    enum json_tokener_error jerr;
    size_t end;
    hp_err rc = HP_ERR_INVALID_PAYLOAD;

    *out = NULL;
    if (len > (size_t)0x7fffffff - 1) {
        hp_err_set(err, errcap, "document too large");
        return HP_ERR_INVALID_PAYLOAD;
    }
    if (len > 0 && hp_utf8_len(buf, len) < 0) {
        hp_err_set(err, errcap, "invalid UTF-8");
        return HP_ERR_INVALID_PAYLOAD;
    }
    if (!hp__json_tokens_ok(buf, len, err, errcap))
        return HP_ERR_INVALID_PAYLOAD;
    tok = hp__tok_take();
    v = json_tokener_parse_ex(tok, buf != NULL ? buf : "", (int)len);
    jerr = json_tokener_get_error(tok);
    if (v == NULL && jerr == json_tokener_continue) {
        /* A bare number (or an incomplete value) at the end of the input:
         * json-c waits for more, so tell it the input has ended. */
        v = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        end = len;
    } else {
        end = json_tokener_get_parse_end(tok);
    }
    if (jerr != json_tokener_success) { /* v is NULL for a JSON null too */
        hp_err_set(err, errcap, "%s",
                   jerr == json_tokener_continue ? "unexpected end of input"
                                                 : json_tokener_error_desc(jerr));
        goto out;
    }
    for (; end < len; end++) {
        if (!hp__json_ws(buf[end])) {
            hp_err_set(err, errcap, "unexpected data after the JSON value at offset %zu", end);
            goto out;
        }
    }
    if (!hp__json_finite(v)) {
        hp_err_set(err, errcap, "number out of range");
        goto out;
    }
    *out = v;
    v = NULL;
    rc = HP_OK;
out:
    json_object_put(v);
    hp__tok_give_back(tok, len);
    return rc;
}

/* ---- canonical form ------------------------------------------------------ */

static int hp__json_keycmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A double as canonical JSON: an integer when integral and exactly
 * representable as int64, otherwise the shortest %.Ng that reads back the
 * same. Non-finite values cannot come from parsing; json-c prints those. */
static json_object *hp__json_canon_double(double d)
{
    char buf[32];

    if (!isfinite(d))
        return json_object_new_double(d);
    if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        return json_object_new_int64((int64_t)d);
    for (int prec = 1; prec <= 17; prec++) {
        (void)snprintf(buf, sizeof(buf), "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return json_object_new_double_s(d, buf);
}

/* A new tree equal to v with sorted keys and normalised numbers. Scalars
 * other than doubles are shared by reference. */
static json_object *hp__json_canon_copy(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_object: {
        size_t n = (size_t)json_object_object_length(v), i = 0;
        const char **keys = hp_xcalloc(n ? n : 1, sizeof(*keys));
        json_object *o = json_object_new_object();

        json_object_object_foreach(v, k, val)
        {
            (void)val;
            keys[i++] = k;
        }
        qsort(keys, i, sizeof(*keys), hp__json_keycmp);
        for (size_t j = 0; j < i; j++)
            json_object_object_add(o, keys[j],
                                   hp__json_canon_copy(json_object_object_get(v, keys[j])));
        free(keys);
        return o;
    }
    case json_type_array: {
        size_t n = json_object_array_length(v);
        json_object *a = json_object_new_array_ext((int)(n ? n : 1));
        for (size_t j = 0; j < n; j++)
            json_object_array_add(a, hp__json_canon_copy(json_object_array_get_idx(v, j)));
        return a;
    }
    case json_type_double:
        return hp__json_canon_double(json_object_get_double(v));
    case json_type_null:
        return NULL;
    default:
        return json_object_get(v);
    }
}

char *hp_json_canonical(json_object *v)
{
    json_object *c = hp__json_canon_copy(v);
    char *s = hp_xstrdup(json_object_to_json_string_ext(c, HP__JSON_TEXT_FLAGS));
    json_object_put(c);
    return s;
}

const char *hp_json_text(json_object *v)
{
    return json_object_to_json_string_ext(v, HP__JSON_TEXT_FLAGS);
}

/* ---- getters and setters ------------------------------------------------- */

static json_object *hp__json_member(json_object *obj, const char *key, json_type type)
{
    json_object *v = NULL;

    if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
        !json_object_object_get_ex(obj, key, &v))
        return NULL;
    return json_object_is_type(v, type) ? v : NULL;
}

const char *hp_json_str(json_object *obj, const char *key)
{
    json_object *v = hp__json_member(obj, key, json_type_string);
    return v != NULL ? json_object_get_string(v) : NULL;
}

json_object *hp_json_obj(json_object *obj, const char *key)
{
    return hp__json_member(obj, key, json_type_object);
}

json_object *hp_json_arr(json_object *obj, const char *key)
{
    return hp__json_member(obj, key, json_type_array);
}

bool hp_json_int(json_object *obj, const char *key, int64_t *out)
{
    json_object *v = NULL;

    if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
        !json_object_object_get_ex(obj, key, &v) || v == NULL)
        return false;
    if (json_object_is_type(v, json_type_int)) {
        int64_t i = json_object_get_int64(v);
        /* json-c keeps values above INT64_MAX as uint64 and clamps here. */
        if (i == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX)
            return false;
        *out = i;
        return true;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 ||
            d >= 9223372036854775808.0)
            return false;
        *out = (int64_t)d;
        return true;
    }
    return false;
}

bool hp_json_has(json_object *obj, const char *key)
{
    return obj != NULL && json_object_is_type(obj, json_type_object) &&
           json_object_object_get_ex(obj, key, NULL);
}

void hp_json_set_str(json_object *obj, const char *key, const char *value)
{
    json_object_object_add(obj, key, value != NULL ? json_object_new_string(value) : NULL);
}

void hp_json_set_time(json_object *obj, const char *key, int64_t t_us)
{
    char ts[32];

    if (t_us < 0) {
        json_object_object_add(obj, key, NULL);
        return;
    }
    hp_time_rfc3339(t_us, ts, sizeof(ts));
    json_object_object_add(obj, key, json_object_new_string(ts));
}
