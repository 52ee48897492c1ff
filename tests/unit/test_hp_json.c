/*
 * Unit tests for hp_json: strict parsing (one value, trailing whitespace
 * only, strict UTF-8, depth 32, RFC 8259 numbers and literals, no silent
 * clamping), the canonical text used for idempotency hashes (key order
 * independence at every depth, byte-order key sorting, number normalisation,
 * unicode kept as UTF-8, '/' unescaped), the typed getters and the setters;
 * the tokener a thread keeps between parses starts each parse afresh (after
 * a refused document, a cut-off one, a deep one and a long one).
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_json.h"
#include "hp_unit.h"

static json_object *parse_ok(const char *text)
{
    json_object *v = NULL;
    char err[128] = "";
    hp_err rc = hp_json_parse(text, strlen(text), &v, err, sizeof(err));
    if (rc != HP_OK)
        fprintf(stderr, "\nrefused %s: %s\n", text, err);
    CU_ASSERT_EQUAL_FATAL(rc, HP_OK);
    return v;
}

static void expect_refused_n(const char *text, size_t len)
{
    json_object *v = (json_object *)1;
    char err[128] = "";
    hp_err rc = hp_json_parse(text, len, &v, err, sizeof(err));
    if (rc == HP_OK)
        fprintf(stderr, "\naccepted: %.*s\n", (int)len, text);
    CU_ASSERT_EQUAL(rc, HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT(strlen(err) > 0); /* a reason is always given */
}

static void expect_refused(const char *text)
{
    expect_refused_n(text, strlen(text));
}

/* Canonical text of the parsed input (caller frees). */
static char *canon(const char *text)
{
    json_object *v = parse_ok(text);
    char *s = hp_json_canonical(v);
    json_object_put(v);
    return s;
}

static void expect_canon(const char *text, const char *want)
{
    char *s = canon(text);
    if (strcmp(s, want) != 0)
        fprintf(stderr, "\ncanonical of %s: got %s, want %s\n", text, s, want);
    CU_ASSERT_STRING_EQUAL(s, want);
    free(s);
}

static void test_parse_ok(void)
{
    json_object *v;

    v = parse_ok("{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}");
    CU_ASSERT_TRUE(json_object_is_type(v, json_type_object));
    json_object_put(v);
    v = parse_ok("  [1, 2.5, -3e2]\r\n\t ");
    CU_ASSERT_EQUAL(json_object_array_length(v), 3);
    json_object_put(v);
    v = parse_ok("42"); /* a bare number at the very end of the input */
    CU_ASSERT_EQUAL(json_object_get_int(v), 42);
    json_object_put(v);
    v = parse_ok("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    json_object_put(v);
    v = parse_ok("\"\\u00e9\\ud83d\\ude00\"");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "\xc3\xa9\xf0\x9f\x98\x80");
    json_object_put(v);
    v = parse_ok("null");
    CU_ASSERT_PTR_NULL(v); /* json-c's null */
    v = parse_ok("9223372036854775807");
    CU_ASSERT_EQUAL(json_object_get_int64(v), INT64_MAX);
    json_object_put(v);
    v = parse_ok("-9223372036854775808");
    CU_ASSERT_EQUAL(json_object_get_int64(v), INT64_MIN);
    json_object_put(v);
}

static void test_parse_length_bounded(void)
{
    json_object *v = NULL;
    char err[64];
    /* Only len bytes are read: the rest of the buffer is not JSON. */
    CU_ASSERT_EQUAL(hp_json_parse("[1]garbage", 3, &v, err, sizeof(err)), HP_OK);
    CU_ASSERT_EQUAL(json_object_array_length(v), 1);
    json_object_put(v);
}

static void test_parse_refused(void)
{
    expect_refused("");
    expect_refused("   ");
    expect_refused("{} x");
    expect_refused("{}{}");
    expect_refused("[1] [2]");
    expect_refused("1 2");
    expect_refused("{\"a\":1");
    expect_refused("[1,2");
    expect_refused("\"abc");
    expect_refused("[1,]");
    expect_refused("{\"a\":1,}");
    expect_refused("{'a':1}");
    expect_refused("{a:1}");
    expect_refused("[01]");
    expect_refused("[-01]");
    expect_refused("[1.]");
    expect_refused("[.5]");
    expect_refused("[1e]");
    expect_refused("[+1]");
    expect_refused("[0x10]");
    expect_refused("NaN");
    expect_refused("[Infinity]");
    expect_refused("[-Infinity]");
    expect_refused("[nul]");
    expect_refused("[True]");
    expect_refused("[nulll]");
    expect_refused("[1e400]");              /* would overflow to infinity */
    expect_refused("18446744073709551616"); /* json-c would clamp */
    expect_refused("-9223372036854775809");
    expect_refused("\"tab\there\""); /* raw control character */
    expect_refused("\"\\x41\"");     /* bad escape */
    expect_refused("[1] /* comment */");
    expect_refused("// c\n[1]");
    expect_refused_n("[1]\0", 4);    /* NUL after the value */
    expect_refused_n("[1,\0 2]", 7); /* NUL inside */
    expect_refused_n("\"a\0b\"", 5);
    /* An escaped NUL in an object key (json-c would cut the key there). */
    expect_refused("{\"k\\u0000ey\":1}");
    expect_refused("{\"a\":{\"\\u0000\" \n : 1}}");
    expect_refused("[\"ok\",{\"h\":[{\"x\\u0000\":\"\"}]}]");
    /* In a value it keeps its length (hp_valid_no_nul refuses it). */
    json_object *v = parse_ok("{\"a\":\"x\\u0000y\"}");
    CU_ASSERT_EQUAL(json_object_get_string_len(json_object_object_get(v, "a")), 3);
    json_object_put(v);
    v = parse_ok("[\"\\u0000\", \":\"]");
    json_object_put(v);
    /* Not a NUL: an escaped backslash followed by text, and other escapes. */
    v = parse_ok("{\"\\\\u0000\":1}");
    json_object_put(v);
    v = parse_ok("\"\\\\u0000\"");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "\\u0000");
    json_object_put(v);
    v = parse_ok("\"\\u0001\\u0100\"");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "\x01\xc4\x80");
    json_object_put(v);
}

static void test_parse_utf8(void)
{
    expect_refused("\"\xc3\"");             /* truncated */
    expect_refused("\"\xc3(\"");            /* bad continuation */
    expect_refused("\"\xc0\xaf\"");         /* overlong '/' */
    expect_refused("\"\xe0\x80\xaf\"");     /* overlong, 3 bytes */
    expect_refused("\"\xed\xa0\x80\"");     /* surrogate U+D800 */
    expect_refused("\"\xf4\x90\x80\x80\""); /* U+110000 */
    expect_refused("\"\xff\"");
    expect_refused("\"\x80\"");
    expect_refused("{\"\xc3\":1}"); /* in a key too */
}

static void test_parse_depth(void)
{
    char doc[80];
    json_object *v = NULL;
    char err[64] = "";

    for (int n = 30; n <= 34; n++) {
        memset(doc, '[', (size_t)n);
        memset(doc + n, ']', (size_t)n);
        hp_err rc = hp_json_parse(doc, (size_t)(2 * n), &v, err, sizeof(err));
        CU_ASSERT_EQUAL(rc, n <= 32 ? HP_OK : HP_ERR_INVALID_PAYLOAD);
        json_object_put(v);
        v = NULL;
    }
}

/* A thread parses with the tokener it kept from its previous parse: nothing
 * of a refused, cut-off, deep or long document reaches the next one. */
static void test_parse_after_parse(void)
{
    static const char *const before[] = {"{\"a\": [1, 2", "{\"a\": tru", "[\"x\",]", "\"\xc3(\"",
                                         "{\"a\": 1} {",  "[[[[[[[[",    "\"abc"};
    size_t long_len = 64 * 1024;
    char *doc = malloc(long_len + 16);
    json_object *v;

    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
        expect_refused(before[i]);
        v = parse_ok("{\"k\": [true, null, \"s\"]}");
        CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
                               "{\"k\":[true,null,\"s\"]}");
        json_object_put(v);
    }
    /* 32 levels, then a flat value, then 33 levels: the depth counts afresh. */
    memset(doc, '[', 32);
    memset(doc + 32, ']', 32);
    doc[64] = '\0';
    json_object_put(parse_ok(doc));
    json_object_put(parse_ok("1"));
    memset(doc, '[', 33);
    memset(doc + 33, ']', 33);
    doc[66] = '\0';
    expect_refused(doc);
    /* A long string (the tokener is not kept after it), then a short one. */
    doc[0] = '"';
    memset(doc + 1, 'x', long_len);
    doc[long_len + 1] = '"';
    doc[long_len + 2] = '\0';
    v = parse_ok(doc);
    CU_ASSERT_EQUAL(json_object_get_string_len(v), (int)long_len);
    json_object_put(v);
    v = parse_ok("\"y\"");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "y");
    json_object_put(v);
    free(doc);
}

static void test_canonical_order(void)
{
    char *a = canon("{\"b\":1,\"a\":{\"y\":[{\"q\":1,\"p\":2}],\"x\":null},\"c\":\"s\"}");
    char *b = canon("{\"c\":\"s\",\"a\":{\"x\":null,\"y\":[{\"p\":2,\"q\":1}]},\"b\":1}");

    CU_ASSERT_STRING_EQUAL(a, b);
    CU_ASSERT_STRING_EQUAL(a, "{\"a\":{\"x\":null,\"y\":[{\"p\":2,\"q\":1}]},\"b\":1,\"c\":\"s\"}");
    free(a);
    free(b);
    /* Arrays keep their order. */
    expect_canon("[3,1,2]", "[3,1,2]");
    /* Byte order: upper case before lower case, UTF-8 after ASCII, prefixes first. */
    expect_canon("{\"b\":0,\"a\":0,\"B\":0,\"\xc3\xa9\":0,\"aa\":0,\"_\":0,\"1\":0}",
                 "{\"1\":0,\"B\":0,\"_\":0,\"a\":0,\"aa\":0,\"b\":0,\"\xc3\xa9\":0}");
    expect_canon("{}", "{}");
    expect_canon("[]", "[]");
    expect_canon("{\"a\":{}}", "{\"a\":{}}");
    expect_canon("null", "null");
}

static void test_canonical_numbers(void)
{
    expect_canon("[30,30.0,3e1,300e-1,-0.0,0]", "[30,30,30,30,0,0]");
    expect_canon("[0.1,0.10,1e-1]", "[0.1,0.1,0.1]");
    expect_canon("[1.5,-2.25,3.14159]", "[1.5,-2.25,3.14159]");
    expect_canon("[1e300]", "[1e+300]");
    expect_canon("[9007199254740993]", "[9007199254740993]"); /* integers stay exact */
    expect_canon("[18446744073709551615]", "[18446744073709551615]");
    expect_canon("{\"n\":1E2}", "{\"n\":100}");
}

static void test_canonical_strings(void)
{
    /* Unicode stays UTF-8 whichever way it was written. */
    expect_canon("[\"\\u00e9\\u20ac\\ud83d\\ude00\"]",
                 "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]");
    expect_canon("[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]",
                 "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]");
    /* '/' is not escaped; quotes, backslashes and controls are. */
    expect_canon("[\"a\\/b/c\"]", "[\"a/b/c\"]");
    expect_canon("[\"q\\\"b\\\\n\\n\\t\\u0001\"]", "[\"q\\\"b\\\\n\\n\\t\\u0001\"]");
    expect_canon("{\"k\\/ey\":\"v\"}", "{\"k/ey\":\"v\"}");
    expect_canon("[true,false,null]", "[true,false,null]");
}

static void test_canonical_built(void)
{
    /* Objects built in code canonicalise like parsed ones. */
    json_object *o = json_object_new_object();
    char *s;

    json_object_object_add(o, "z", json_object_new_double(2.0));
    json_object_object_add(o, "m", NULL);
    json_object_object_add(o, "a", json_object_new_string("https://x/y"));
    s = hp_json_canonical(o);
    CU_ASSERT_STRING_EQUAL(s, "{\"a\":\"https://x/y\",\"m\":null,\"z\":2}");
    free(s);
    /* The input is not changed. */
    CU_ASSERT_STRING_EQUAL(hp_json_text(o), "{\"z\":2.0,\"m\":null,\"a\":\"https://x/y\"}");
    json_object_put(o);
}

static void test_getters(void)
{
    json_object *o = parse_ok("{\"s\":\"str\",\"i\":30,\"d\":30.0,\"f\":30.5,\"q\":\"30\","
                              "\"n\":null,\"o\":{\"k\":1},\"a\":[1],\"b\":true,"
                              "\"big\":18446744073709551615,\"neg\":-7,\"e\":1e2}");
    int64_t x = -1;

    CU_ASSERT_STRING_EQUAL(hp_json_str(o, "s"), "str");
    CU_ASSERT_PTR_NULL(hp_json_str(o, "i"));
    CU_ASSERT_PTR_NULL(hp_json_str(o, "missing"));
    CU_ASSERT_PTR_NULL(hp_json_str(o, "n"));
    CU_ASSERT_PTR_NOT_NULL(hp_json_obj(o, "o"));
    CU_ASSERT_PTR_NULL(hp_json_obj(o, "a"));
    CU_ASSERT_PTR_NOT_NULL(hp_json_arr(o, "a"));
    CU_ASSERT_PTR_NULL(hp_json_arr(o, "o"));
    CU_ASSERT_PTR_NULL(hp_json_str(NULL, "s"));
    CU_ASSERT_PTR_NULL(hp_json_str(hp_json_arr(o, "a"), "s")); /* not an object */

    CU_ASSERT_TRUE(hp_json_int(o, "i", &x));
    CU_ASSERT_EQUAL(x, 30);
    x = -1;
    CU_ASSERT_TRUE(hp_json_int(o, "d", &x)); /* integral double */
    CU_ASSERT_EQUAL(x, 30);
    CU_ASSERT_TRUE(hp_json_int(o, "e", &x));
    CU_ASSERT_EQUAL(x, 100);
    CU_ASSERT_TRUE(hp_json_int(o, "neg", &x));
    CU_ASSERT_EQUAL(x, -7);
    x = 5;
    CU_ASSERT_FALSE(hp_json_int(o, "f", &x));
    CU_ASSERT_FALSE(hp_json_int(o, "q", &x));
    CU_ASSERT_FALSE(hp_json_int(o, "n", &x));
    CU_ASSERT_FALSE(hp_json_int(o, "b", &x));
    CU_ASSERT_FALSE(hp_json_int(o, "missing", &x));
    CU_ASSERT_FALSE(hp_json_int(o, "big", &x)); /* beyond int64 */
    CU_ASSERT_EQUAL(x, 5);

    CU_ASSERT_TRUE(hp_json_has(o, "n")); /* present as null */
    CU_ASSERT_TRUE(hp_json_has(o, "s"));
    CU_ASSERT_FALSE(hp_json_has(o, "missing"));
    CU_ASSERT_FALSE(hp_json_has(NULL, "s"));
    json_object_put(o);
}

static void test_setters_and_text(void)
{
    json_object *o = json_object_new_object();

    hp_json_set_str(o, "a", "x/y");
    hp_json_set_str(o, "b", NULL);
    hp_json_set_time(o, "t", 1795423049123456);
    hp_json_set_time(o, "u", -1);
    hp_json_set_time(o, "z", 0);
    CU_ASSERT_STRING_EQUAL(hp_json_text(o), "{\"a\":\"x/y\",\"b\":null,\"t\":\"2026-11-23T08:37:"
                                            "29.123Z\",\"u\":null,\"z\":\"1970-01-01T00:00:00."
                                            "000Z\"}");
    CU_ASSERT_TRUE(hp_json_has(o, "b"));
    json_object_put(o);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"parse ok", test_parse_ok},
        {"parse length bounded", test_parse_length_bounded},
        {"parse refused", test_parse_refused},
        {"parse utf8", test_parse_utf8},
        {"parse depth", test_parse_depth},
        {"parse after parse", test_parse_after_parse},
        {"canonical order", test_canonical_order},
        {"canonical numbers", test_canonical_numbers},
        {"canonical strings", test_canonical_strings},
        {"canonical built", test_canonical_built},
        {"getters", test_getters},
        {"setters and text", test_setters_and_text},
        {NULL, NULL},
    };
    return hp_unit_main("hp_json", tests);
}
