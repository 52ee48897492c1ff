/*
 * hp_str: bounded string helpers that replace the banned sprintf, strcpy,
 * strtok and atoi, plus UTF-8 helpers used by validation.
 */
#ifndef HP_STR_H
#define HP_STR_H

#include <stdbool.h>
#include <stddef.h>

#include "hp_err.h"

/* Copies src into dst (cap bytes), always NUL-terminated. Returns the length of
 * src; a value >= cap means truncation. */
size_t hp_strlcpy(char *dst, const char *src, size_t cap);

/* snprintf that returns false when the output did not fit (dst is still
 * NUL-terminated). */
bool hp_fmt(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Strict decimal parse of the whole string (optional leading '-'); false on
 * empty input, junk, or a value outside [min, max]. */
bool hp_parse_ll(const char *s, long long min, long long max, long long *out);

/* Number of Unicode code points in a UTF-8 string of len bytes, or -1 when
 * the bytes are not valid UTF-8 (overlongs, surrogates, truncation). */
long hp_utf8_len(const char *s, size_t len);

/* True when s is ASCII case-insensitively equal to t. */
bool hp_streq_ci(const char *s, const char *t);

/* True when s starts with prefix. */
bool hp_str_startswith(const char *s, const char *prefix);

#endif
