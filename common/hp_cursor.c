/*
 * hp_cursor: keyset cursor text; see hp_cursor.h.
 */
#include <string.h>

#include "hp_crypto.h"
#include "hp_cursor.h"
#include "hp_str.h"

void hp_cursor_encode(int64_t created_at, const char *id, char *out, size_t cap)
{
    (void)hp_fmt(out, cap, "%lld.%s", (long long)created_at, id);
}

bool hp_cursor_decode(const char *s, int64_t *created_at, char *id, size_t idcap)
{
    const char *dot = strchr(s, '.');
    char num[24];
    long long v;

    if (dot == NULL || dot == s || (size_t)(dot - s) >= sizeof(num) || idcap < HP_UUID_LEN + 1)
        return false;
    memcpy(num, s, (size_t)(dot - s));
    num[dot - s] = '\0';
    if (!hp_parse_ll(num, 0, 0x7fffffffffffffffLL, &v) || !hp_uuid_valid(dot + 1))
        return false;
    /* Only the exact text hp_cursor_encode writes (no leading zeros, signs
     * or upper-case hex): one position, one cursor. */
    {
        char again[HP_CURSOR_MAX];
        hp_cursor_encode(v, dot + 1, again, sizeof(again));
        if (strcmp(again, s) != 0 || strspn(dot + 1, "0123456789abcdef-") != HP_UUID_LEN)
            return false;
    }
    *created_at = v;
    hp_strlcpy(id, dot + 1, idcap);
    return true;
}
