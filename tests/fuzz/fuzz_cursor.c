/*
 * Fuzz target: the keyset cursor decoder. Any text must decode or be
 * refused without a crash; whatever decodes must encode back to exactly the
 * same text, so two different cursors never name one position.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hp_crypto.h"
#include "hp_cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), id[HP_UUID_LEN + 1], again[HP_CURSOR_MAX];
    int64_t at;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (hp_cursor_decode(s, &at, id, sizeof(id))) {
        if (at < 0)
            abort();
        hp_cursor_encode(at, id, again, sizeof(again));
        if (strcmp(again, s) != 0)
            abort();
    }
    free(s);
    return 0;
}
