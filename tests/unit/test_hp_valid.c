/*
 * Unit tests for hp_valid: every issue code with its exact zod message and
 * path rendering (keys as strings, indexes as numbers), the absent/null
 * rules, lengths counted in code points, integral doubles accepted as
 * integers, and the collector itself (order kept, copies handed out).
 * Issues are compared as canonical JSON text, so keys appear as code,
 * message, path.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_json.h"
#include "hp_valid.h"
#include "hp_unit.h"

static json_object *body;
static hp_issues *is;

static void start(const char *text)
{
    char err[128];
    body = NULL;
    CU_ASSERT_EQUAL_FATAL(hp_json_parse(text, strlen(text), &body, err, sizeof(err)), HP_OK);
    is = hp_issues_new();
}

typedef struct want_issue {
    const char *path, *code, *message;
} want_issue;

/* Checks the collected issues, as canonical JSON text, against the n
 * expected ones in order, then resets. */
static void finish(const want_issue *w, size_t n)
{
    json_object *j = hp_issues_json(is);
    char *got = hp_json_canonical(j);
    char want[4096];
    size_t used = 1;

    want[0] = '[';
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(want + used, sizeof(want) - used,
                         "%s{\"code\":\"%s\",\"message\":\"%s\",\"path\":%s}", i ? "," : "",
                         w[i].code, w[i].message, w[i].path);
        CU_ASSERT_FATAL(k > 0 && (size_t)k < sizeof(want) - used - 1);
        used += (size_t)k;
    }
    want[used++] = ']';
    want[used] = '\0';
    if (strcmp(got, want) != 0)
        fprintf(stderr, "\n got: %s\nwant: %s\n", got, want);
    CU_ASSERT_STRING_EQUAL(got, want);
    free(got);
    json_object_put(j);
    hp_issues_free(is);
    json_object_put(body);
    is = NULL;
    body = NULL;
}

#define FINISH(...)                                                                                \
    do {                                                                                           \
        const want_issue w_[] = {__VA_ARGS__};                                                     \
        finish(w_, sizeof(w_) / sizeof(w_[0]));                                                    \
    } while (0)

static void test_paths(void)
{
    hp_path r = hp_path_root();
    hp_path p = hp_path_key(hp_path_index(hp_path_key(r, "options"), 1), "label");

    is = hp_issues_new();
    body = NULL;
    hp_issues_add(is, p, "too_big", "String must contain at most %d character(s)", 120);
    hp_issues_add(is, r, "custom", "whole body");
    hp_issues_add(is, hp_path_index(r, 0), "custom", "%s", "first");
    CU_ASSERT_EQUAL(hp_issues_count(is), 3);
    FINISH({"[\"options\",1,\"label\"]", "too_big", "String must contain at most 120 character(s)"},
           {"[]", "custom", "whole body"}, {"[0]", "custom", "first"});
}

static void test_path_limit(void)
{
    hp_path p = hp_path_root();
    for (int i = 0; i < HP_PATH_MAX + 3; i++)
        p = hp_path_index(p, i);
    CU_ASSERT_EQUAL(p.n, HP_PATH_MAX); /* cut, never overflows */
    CU_ASSERT_EQUAL(p.seg[HP_PATH_MAX - 1].index, HP_PATH_MAX - 1);
}

static void test_collector(void)
{
    json_object *first, *second;

    is = hp_issues_new();
    body = NULL;
    CU_ASSERT_EQUAL(hp_issues_count(is), 0);
    first = hp_issues_json(is);
    CU_ASSERT_STRING_EQUAL(hp_json_text(first), "[]");
    hp_issues_add(is, hp_path_root(), "custom", "a");
    second = hp_issues_json(is);
    /* The array handed out earlier does not change. */
    CU_ASSERT_EQUAL(json_object_array_length(first), 0);
    CU_ASSERT_EQUAL(json_object_array_length(second), 1);
    json_object_put(first);
    json_object_put(second);
    hp_issues_free(is);
    hp_issues_free(NULL);
}

static void test_type_names(void)
{
    json_object *o;
    start("{\"s\":\"\",\"i\":1,\"d\":1.5,\"b\":false,\"a\":[],\"o\":{},\"n\":null}");
    o = body;
    CU_ASSERT_STRING_EQUAL(hp_valid_type_name(json_object_object_get(o, "s")), "string");
    CU_ASSERT_STRING_EQUAL(hp_valid_type_name(json_object_object_get(o, "i")), "number");
    CU_ASSERT_STRING_EQUAL(hp_valid_type_name(json_object_object_get(o, "d")), "number");
    CU_ASSERT_STRING_EQUAL(hp_valid_type_name(json_object_object_get(o, "b")), "boolean");
    CU_ASSERT_STRING_EQUAL(hp_valid_type_name(json_object_object_get(o, "a")), "array");
    CU_ASSERT_STRING_EQUAL(hp_valid_type_name(json_object_object_get(o, "o")), "object");
    CU_ASSERT_STRING_EQUAL(hp_valid_type_name(json_object_object_get(o, "n")), "null");
    finish(NULL, 0);
}

static const hp_str_rule req = {true, false, 1, 3};

static void test_str_required(void)
{
    hp_path r = hp_path_root();

    start("{}");
    CU_ASSERT_PTR_NULL(hp_valid_str(is, r, body, "q", req));
    FINISH({"[\"q\"]", "invalid_type", "Required"});

    start("{\"q\":null}");
    CU_ASSERT_PTR_NULL(hp_valid_str(is, r, body, "q", req));
    FINISH({"[\"q\"]", "invalid_type", "Expected string, received null"});

    /* A parent that is not an object has no members. */
    is = hp_issues_new();
    body = NULL;
    CU_ASSERT_PTR_NULL(hp_valid_str(is, r, NULL, "q", req));
    FINISH({"[\"q\"]", "invalid_type", "Required"});
}

static void test_str_types(void)
{
    hp_path r = hp_path_root();

    start("{\"a\":1,\"b\":1.5,\"c\":true,\"d\":[],\"e\":{}}");
    hp_valid_str(is, r, body, "a", req);
    hp_valid_str(is, r, body, "b", req);
    hp_valid_str(is, r, body, "c", req);
    hp_valid_str(is, r, body, "d", req);
    hp_valid_str(is, r, body, "e", req);
    FINISH({"[\"a\"]", "invalid_type", "Expected string, received number"},
           {"[\"b\"]", "invalid_type", "Expected string, received number"},
           {"[\"c\"]", "invalid_type", "Expected string, received boolean"},
           {"[\"d\"]", "invalid_type", "Expected string, received array"},
           {"[\"e\"]", "invalid_type", "Expected string, received object"});
}

static void test_str_lengths(void)
{
    hp_path r = hp_path_key(hp_path_root(), "t");
    const char *s;

    /* Three code points in six bytes fit max 3; four do not. */
    start(
        "{\"t\":{\"ok\":\"\xc3\xa9\xc3\xa9\xc3\xa9\",\"long\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\","
        "\"emoji\":\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\",\"empty\":\"\"}}");
    s = hp_valid_str(is, r, json_object_object_get(body, "t"), "ok", req);
    CU_ASSERT_PTR_NOT_NULL(s);
    CU_ASSERT_PTR_NOT_NULL(hp_valid_str(is, r, json_object_object_get(body, "t"), "emoji", req));
    CU_ASSERT_PTR_NULL(hp_valid_str(is, r, json_object_object_get(body, "t"), "long", req));
    CU_ASSERT_PTR_NULL(hp_valid_str(is, r, json_object_object_get(body, "t"), "empty", req));
    FINISH({"[\"t\",\"long\"]", "too_big", "String must contain at most 3 character(s)"},
           {"[\"t\",\"empty\"]", "too_small", "String must contain at least 1 character(s)"});

    /* max 0 means unbounded; min 0 takes the empty string. */
    start(
        "{\"a\":\"\",\"b\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}");
    CU_ASSERT_PTR_NOT_NULL(
        hp_valid_str(is, hp_path_root(), body, "a", (hp_str_rule){true, false, 0, 0}));
    CU_ASSERT_PTR_NOT_NULL(
        hp_valid_str(is, hp_path_root(), body, "b", (hp_str_rule){true, false, 0, 0}));
    finish(NULL, 0);
}

static void test_str_nul(void)
{
    start("{\"a\":\"x\\u0000y\"}");
    CU_ASSERT_PTR_NULL(hp_valid_str(is, hp_path_root(), body, "a", req));
    FINISH({"[\"a\"]", "invalid_string", "String must not contain NUL characters"});
}

static void test_no_nul(void)
{
    start("{\"m\":{\"k\":\"a\\u0000\",\"ok\":\"b\",\"l\":[1,\"\\u0000\"]},\"n\":2}");
    CU_ASSERT_FALSE(hp_valid_no_nul(is, hp_path_root(), body));
    FINISH({"[\"m\",\"k\"]", "invalid_string", "String must not contain NUL characters"},
           {"[\"m\",\"l\",1]", "invalid_string", "String must not contain NUL characters"});
    start("{\"m\":{\"k\":\"a\",\"l\":[1,\"\\\\u0000\"]}}");
    CU_ASSERT_TRUE(hp_valid_no_nul(is, hp_path_root(), body));
    finish(NULL, 0);
}

static void test_str_optional(void)
{
    hp_path r = hp_path_root();
    const hp_str_rule opt = {false, false, 1, 3};
    const hp_str_rule nul = {false, true, 1, 3};

    start("{\"n\":null,\"v\":\"ab\"}");
    CU_ASSERT_PTR_NULL(hp_valid_str(is, r, body, "absent", opt));
    CU_ASSERT_PTR_NULL(hp_valid_str(is, r, body, "absent", nul));
    CU_ASSERT_PTR_NULL(hp_valid_str(is, r, body, "n", nul)); /* nullable: no issue */
    CU_ASSERT_STRING_EQUAL(hp_valid_str(is, r, body, "v", nul), "ab");
    CU_ASSERT_PTR_NULL(hp_valid_str(is, r, body, "n", opt)); /* optional is not nullable */
    FINISH({"[\"n\"]", "invalid_type", "Expected string, received null"});
}

static void test_int(void)
{
    hp_path r = hp_path_key(hp_path_root(), "timeout");
    int64_t v = -1;
    bool present = false;

    start("{\"a\":30,\"b\":30.0,\"c\":86400,\"d\":1e2}");
    CU_ASSERT_TRUE(hp_valid_int(is, r, body, "a", true, 30, 86400, &v, &present));
    CU_ASSERT_EQUAL(v, 30);
    CU_ASSERT_TRUE(present);
    CU_ASSERT_TRUE(hp_valid_int(is, r, body, "b", true, 30, 86400, &v, &present));
    CU_ASSERT_EQUAL(v, 30);
    CU_ASSERT_TRUE(hp_valid_int(is, r, body, "c", true, 30, 86400, &v, NULL));
    CU_ASSERT_EQUAL(v, 86400);
    CU_ASSERT_TRUE(hp_valid_int(is, r, body, "d", true, 30, 86400, &v, NULL));
    CU_ASSERT_EQUAL(v, 100);
    finish(NULL, 0);

    start("{\"lo\":29,\"hi\":86401,\"f\":30.5,\"s\":\"30\",\"b\":true,\"huge\":1e300,"
          "\"neg\":-1e300,\"u\":18446744073709551615,\"m\":-5}");
    v = 7;
    CU_ASSERT_FALSE(hp_valid_int(is, r, body, "lo", true, 30, 86400, &v, &present));
    CU_ASSERT_TRUE(present);
    hp_valid_int(is, r, body, "hi", true, 30, 86400, &v, NULL);
    hp_valid_int(is, r, body, "f", true, 30, 86400, &v, NULL);
    hp_valid_int(is, r, body, "s", true, 30, 86400, &v, NULL);
    hp_valid_int(is, r, body, "b", true, 30, 86400, &v, NULL);
    hp_valid_int(is, r, body, "huge", true, 30, 86400, &v, NULL);
    hp_valid_int(is, r, body, "neg", true, 30, 86400, &v, NULL);
    hp_valid_int(is, r, body, "u", true, 30, 86400, &v, NULL);
    hp_valid_int(is, r, body, "m", true, -3, 3, &v, NULL);
    CU_ASSERT_EQUAL(v, 7); /* untouched on failure */
    FINISH({"[\"timeout\",\"lo\"]", "too_small", "Number must be greater than or equal to 30"},
           {"[\"timeout\",\"hi\"]", "too_big", "Number must be less than or equal to 86400"},
           {"[\"timeout\",\"f\"]", "invalid_type", "Expected integer, received float"},
           {"[\"timeout\",\"s\"]", "invalid_type", "Expected number, received string"},
           {"[\"timeout\",\"b\"]", "invalid_type", "Expected number, received boolean"},
           {"[\"timeout\",\"huge\"]", "too_big", "Number must be less than or equal to 86400"},
           {"[\"timeout\",\"neg\"]", "too_small", "Number must be greater than or equal to 30"},
           {"[\"timeout\",\"u\"]", "too_big", "Number must be less than or equal to 86400"},
           {"[\"timeout\",\"m\"]", "too_small", "Number must be greater than or equal to -3"});
}

static void test_int_absent_null(void)
{
    hp_path r = hp_path_root();
    int64_t v = 7;
    bool present = true;

    start("{\"n\":null}");
    CU_ASSERT_FALSE(hp_valid_int(is, r, body, "x", false, 0, 10, &v, &present));
    CU_ASSERT_FALSE(present);
    present = true;
    CU_ASSERT_FALSE(hp_valid_int(is, r, body, "n", false, 0, 10, &v, &present));
    CU_ASSERT_FALSE(present); /* null counts as absent when optional */
    CU_ASSERT_EQUAL(v, 7);
    finish(NULL, 0);

    start("{\"n\":null}");
    CU_ASSERT_FALSE(hp_valid_int(is, r, body, "x", true, 0, 10, &v, &present));
    CU_ASSERT_FALSE(present);
    CU_ASSERT_FALSE(hp_valid_int(is, r, body, "n", true, 0, 10, &v, &present));
    FINISH({"[\"x\"]", "invalid_type", "Required"},
           {"[\"n\"]", "invalid_type", "Expected number, received null"});
}

static void test_bool(void)
{
    hp_path r = hp_path_root();
    bool b = false;

    start("{\"t\":true,\"f\":false,\"s\":\"true\",\"i\":1,\"n\":null}");
    CU_ASSERT_TRUE(hp_valid_bool(is, r, body, "t", true, &b));
    CU_ASSERT_TRUE(b);
    CU_ASSERT_TRUE(hp_valid_bool(is, r, body, "f", true, &b));
    CU_ASSERT_FALSE(b);
    b = true;
    CU_ASSERT_FALSE(hp_valid_bool(is, r, body, "absent", false, &b));
    CU_ASSERT_FALSE(hp_valid_bool(is, r, body, "n", false, &b));
    CU_ASSERT_TRUE(b); /* untouched */
    CU_ASSERT_FALSE(hp_valid_bool(is, r, body, "s", false, &b));
    CU_ASSERT_FALSE(hp_valid_bool(is, r, body, "i", false, &b));
    CU_ASSERT_FALSE(hp_valid_bool(is, r, body, "absent", true, &b));
    FINISH({"[\"s\"]", "invalid_type", "Expected boolean, received string"},
           {"[\"i\"]", "invalid_type", "Expected boolean, received number"},
           {"[\"absent\"]", "invalid_type", "Required"});
}

static void test_array(void)
{
    hp_path r = hp_path_root();

    start("{\"e\":[],\"one\":[1],\"five\":[1,2,3,4,5],\"o\":{},\"n\":null}");
    CU_ASSERT_PTR_NOT_NULL(hp_valid_array(is, r, body, "one", true, 1, 4));
    CU_ASSERT_PTR_NOT_NULL(hp_valid_array(is, r, body, "five", true, 0, 0)); /* unbounded */
    CU_ASSERT_PTR_NULL(hp_valid_array(is, r, body, "n", false, 1, 4));       /* as absent */
    CU_ASSERT_PTR_NULL(hp_valid_array(is, r, body, "e", true, 1, 4));
    CU_ASSERT_PTR_NULL(hp_valid_array(is, r, body, "five", true, 1, 4));
    CU_ASSERT_PTR_NULL(hp_valid_array(is, r, body, "o", true, 1, 4));
    CU_ASSERT_PTR_NULL(hp_valid_array(is, r, body, "absent", true, 1, 4));
    FINISH({"[\"e\"]", "too_small", "Array must contain at least 1 element(s)"},
           {"[\"five\"]", "too_big", "Array must contain at most 4 element(s)"},
           {"[\"o\"]", "invalid_type", "Expected array, received object"},
           {"[\"absent\"]", "invalid_type", "Required"});
}

static void test_object(void)
{
    hp_path r = hp_path_key(hp_path_root(), "callback");

    start("{\"o\":{\"k\":1},\"a\":[],\"s\":\"x\",\"n\":null}");
    CU_ASSERT_PTR_NOT_NULL(hp_valid_object(is, r, body, "o", true));
    CU_ASSERT_PTR_NULL(hp_valid_object(is, r, body, "n", false));
    CU_ASSERT_PTR_NULL(hp_valid_object(is, r, body, "a", false));
    CU_ASSERT_PTR_NULL(hp_valid_object(is, r, body, "s", false));
    CU_ASSERT_PTR_NULL(hp_valid_object(is, r, body, "n", true));
    FINISH({"[\"callback\",\"a\"]", "invalid_type", "Expected object, received array"},
           {"[\"callback\",\"s\"]", "invalid_type", "Expected object, received string"},
           {"[\"callback\",\"n\"]", "invalid_type", "Expected object, received null"});
}

static void test_is_object(void)
{
    json_object *arr = json_object_new_array();

    start("{\"k\":1}");
    CU_ASSERT_TRUE(hp_valid_is_object(is, hp_path_root(), body));
    CU_ASSERT_FALSE(hp_valid_is_object(is, hp_path_key(hp_path_root(), "x"), arr));
    CU_ASSERT_FALSE(hp_valid_is_object(is, hp_path_root(), NULL));
    json_object_put(arr);
    FINISH({"[\"x\"]", "invalid_type", "Expected object, received array"},
           {"[]", "invalid_type", "Expected object, received null"});
}

static void test_enum(void)
{
    static const char *const modes[] = {"expire_no_action", "expire_with_predefined_instruction",
                                        NULL};
    static const char *const ab[] = {"a", "b", NULL};
    hp_path r = hp_path_key(hp_path_root(), "timeout");

    start("{\"ok\":\"expire_with_predefined_instruction\",\"bad\":\"never\",\"num\":3,"
          "\"n\":null,\"x\":\"x\",\"prefix\":\"expire\"}");
    CU_ASSERT_EQUAL(hp_valid_enum(is, r, body, "ok", true, modes), 1);
    CU_ASSERT_EQUAL(hp_valid_enum(is, r, body, "absent", false, modes), -1);
    CU_ASSERT_EQUAL(hp_valid_enum(is, r, body, "n", false, modes), -1);
    CU_ASSERT_EQUAL(hp_valid_enum(is, r, body, "bad", true, modes), -1);
    CU_ASSERT_EQUAL(hp_valid_enum(is, r, body, "x", true, ab), -1);
    CU_ASSERT_EQUAL(hp_valid_enum(is, r, body, "prefix", true, modes), -1);
    CU_ASSERT_EQUAL(hp_valid_enum(is, r, body, "num", true, ab), -1);
    CU_ASSERT_EQUAL(hp_valid_enum(is, r, body, "absent", true, ab), -1);
    FINISH({"[\"timeout\",\"bad\"]", "invalid_enum_value",
            "Invalid enum value. Expected 'expire_no_action' | "
            "'expire_with_predefined_instruction', received 'never'"},
           {"[\"timeout\",\"x\"]", "invalid_enum_value",
            "Invalid enum value. Expected 'a' | 'b', received 'x'"},
           {"[\"timeout\",\"prefix\"]", "invalid_enum_value",
            "Invalid enum value. Expected 'expire_no_action' | "
            "'expire_with_predefined_instruction', received 'expire'"},
           {"[\"timeout\",\"num\"]", "invalid_type", "Expected 'a' | 'b', received number"},
           {"[\"timeout\",\"absent\"]", "invalid_type", "Required"});
}

static void test_http_token(void)
{
    static const char *const good[] = {"X-Trace", "a", "!#$%&'*+-.^_`|~09AZaz", NULL};
    static const char *const bad[] = {"", "X Trace", "X:Trace", "X\tT", "é", "a/b", "(x)", NULL};

    for (int i = 0; good[i] != NULL; i++)
        CU_ASSERT_TRUE(hp_valid_http_token(good[i]));
    for (int i = 0; bad[i] != NULL; i++)
        CU_ASSERT_FALSE(hp_valid_http_token(bad[i]));
    CU_ASSERT_FALSE(hp_valid_http_token(NULL));
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"paths", test_paths},
        {"path limit", test_path_limit},
        {"collector", test_collector},
        {"type names", test_type_names},
        {"is object", test_is_object},
        {"string required", test_str_required},
        {"string types", test_str_types},
        {"string lengths", test_str_lengths},
        {"string NUL", test_str_nul},
        {"no NUL anywhere", test_no_nul},
        {"string optional", test_str_optional},
        {"int", test_int},
        {"int absent and null", test_int_absent_null},
        {"bool", test_bool},
        {"array", test_array},
        {"object", test_object},
        {"enum", test_enum},
        {"http token", test_http_token},
        {NULL, NULL},
    };
    return hp_unit_main("hp_valid", tests);
}
