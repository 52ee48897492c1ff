/*
 * hp_cursor: the keyset cursors of every list (agent approvals, reviewer
 * inbox, messages): "<created_at µs>.<uuid>", the position of the last row of
 * a page, so the next page reads strictly before it. The text is opaque to
 * clients but not secret: a tampered cursor either fails to decode (400) or
 * names another position in the caller's own, team-scoped list. Pure; any
 * thread.
 */
#ifndef HP_CURSOR_H
#define HP_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest cursor text, terminator included. */
#define HP_CURSOR_MAX 64

/* Writes the cursor of (created_at, id) into out (cap bytes, at least
 * HP_CURSOR_MAX for a whole one). */
void hp_cursor_encode(int64_t created_at, const char *id, char *out, size_t cap);

/* Decodes s: true with *created_at (≥ 0) and id (a UUID, idcap ≥ 37) set, or
 * false for anything that is not exactly a cursor hp_cursor_encode could
 * have written. */
bool hp_cursor_decode(const char *s, int64_t *created_at, char *id, size_t idcap);

#endif
