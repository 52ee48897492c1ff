/*
 * hp_str: the bounded string helpers that replace sprintf, strcpy, strtok and
 * atoi (banned in this tree), and the strict UTF-8 decoder that validation
 * uses to count code points. Nothing here allocates or locks; every function
 * is safe from any thread. Locale is never consulted: case folding and digit
 * tests are ASCII only, as HTTP and our configuration need.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hp_str.h"

size_t hp_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t len = strlen(src);

    if (cap > 0) {
        size_t n = len < cap - 1 ? len : cap - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

bool hp_fmt(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (dst == NULL || cap == 0)
        return false;
    va_start(ap, fmt);
    n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    if (n < 0) {
        dst[0] = '\0';
        return false;
    }
    return (size_t)n < cap;
}

bool hp_parse_ll(const char *s, long long min, long long max, long long *out)
{
    bool neg = false;
    /* Accumulate as a negative number: its range is one wider than the
     * positive one, so LLONG_MIN parses without overflow. */
    long long v = 0;
    const long long lim = -0x7fffffffffffffffLL - 1;

    if (s == NULL)
        return false;
    if (*s == '-') {
        neg = true;
        s++;
    }
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        int d;
        if (*s < '0' || *s > '9')
            return false;
        d = *s - '0';
        if (v < (lim + d) / 10)
            return false;
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == lim)
            return false;
        v = -v;
    }
    if (v < min || v > max)
        return false;
    if (out != NULL)
        *out = v;
    return true;
}

long hp_utf8_len(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    long n = 0;

    if (s == NULL)
        return len == 0 ? 0 : -1;
    while (i < len) {
        unsigned char c = p[i];
        unsigned long cp;
        size_t need;

        if (c < 0x80) {
            i++;
            n++;
            continue;
        }
        if (c < 0xC2) /* continuation byte, or C0/C1 (overlong 2-byte) */
            return -1;
        if (c < 0xE0) {
            need = 1;
            cp = c & 0x1Fu;
        } else if (c < 0xF0) {
            need = 2;
            cp = c & 0x0Fu;
        } else if (c < 0xF5) {
            need = 3;
            cp = c & 0x07u;
        } else {
            return -1; /* F5..FF would start code points beyond U+10FFFF */
        }
        if (len - i - 1 < need)
            return -1; /* truncated */
        for (size_t k = 1; k <= need; k++) {
            unsigned char cc = p[i + k];
            if ((cc & 0xC0u) != 0x80u)
                return -1;
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000))
            return -1; /* overlong */
        if (cp >= 0xD800 && cp <= 0xDFFF)
            return -1; /* UTF-16 surrogate */
        if (cp > 0x10FFFF)
            return -1;
        i += need + 1;
        n++;
    }
    return n;
}

static int hp__lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

bool hp_streq_ci(const char *s, const char *t)
{
    if (s == NULL || t == NULL)
        return s == t;
    for (; *s && *t; s++, t++)
        if (hp__lower((unsigned char)*s) != hp__lower((unsigned char)*t))
            return false;
    return *s == *t;
}

bool hp_str_startswith(const char *s, const char *prefix)
{
    if (s == NULL || prefix == NULL)
        return false;
    return strncmp(s, prefix, strlen(prefix)) == 0;
}
