/*
 * golden: golden-file comparison for the unit tests. A golden file holds the
 * expected JSON of a test, pretty-printed for review; the comparison is of
 * canonical forms (sorted keys), so member order does not matter. Run a
 * test with HP_GOLDEN_UPDATE=1 to write its files from the current output
 * (then review the diff). Header-only, included by one test program each.
 */
#ifndef HP_TEST_GOLDEN_H
#define HP_TEST_GOLDEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <json-c/json.h>

#include "hp_json.h"

#ifndef HP_TEST_SOURCE_DIR
#error "HP_TEST_SOURCE_DIR must name the source tree"
#endif

/* The whole file at path (caller frees), or NULL. */
static char *golden_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf != NULL)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Asserts that got equals tests/unit/golden/<rel> (or writes it when
 * HP_GOLDEN_UPDATE=1). got is borrowed. */
static void golden_check(const char *rel, json_object *got)
{
    char path[1024], err[128];
    char *text, *want_c, *got_c;
    json_object *want = NULL;
    const char *update = getenv("HP_GOLDEN_UPDATE");

    snprintf(path, sizeof(path), "%s/tests/unit/golden/%s", HP_TEST_SOURCE_DIR, rel);
    if (update != NULL && strcmp(update, "1") == 0) {
        FILE *f = fopen(path, "wb");
        CU_ASSERT_FATAL(f != NULL);
        fputs(json_object_to_json_string_ext(got, JSON_C_TO_STRING_PRETTY |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE),
              f);
        fputc('\n', f);
        fclose(f);
        return;
    }
    text = golden_read(path);
    if (text == NULL) {
        fprintf(stderr, "\n  missing golden file %s (HP_GOLDEN_UPDATE=1 writes it)\n", path);
        CU_FAIL("missing golden file");
        return;
    }
    if (hp_json_parse(text, strlen(text), &want, err, sizeof(err)) != HP_OK) {
        fprintf(stderr, "\n  golden file %s is not JSON: %s\n", path, err);
        CU_FAIL("bad golden file");
        free(text);
        return;
    }
    want_c = hp_json_canonical(want);
    got_c = hp_json_canonical(got);
    if (strcmp(want_c, got_c) != 0) {
        fprintf(stderr, "\n  %s differs\n  want %s\n  got  %s\n", rel, want_c, got_c);
        CU_FAIL("output differs from its golden file");
    } else {
        CU_PASS("matches its golden file");
    }
    free(want_c);
    free(got_c);
    json_object_put(want);
    free(text);
}

#endif
