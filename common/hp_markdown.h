/*
 * hp_markdown: CommonMark to HTML for people to read — an approval's
 * context_markdown on the decision page, and later e-mail bodies — rendered
 * with cmark in safe mode. Raw HTML (blocks and inline) never reaches the
 * output, and a link or image keeps its URL only when it is relative or
 * http, https or mailto; any other scheme (javascript:, vbscript:, data:,
 * file:, …, however it is spelled, escaped or padded) leaves an empty URL.
 * Text is escaped by cmark. Pure and thread-safe.
 */
#ifndef HP_MARKDOWN_H
#define HP_MARKDOWN_H

#include <stdbool.h>
#include <stddef.h>

/* The HTML of the CommonMark text md (len bytes; need not be
 * NUL-terminated). Returns a heap string (caller frees); "" for empty
 * input. Aborts only when memory runs out. */
char *hp_markdown_html(const char *md, size_t len);

/* True when url may stay in a link or image: no scheme (relative, fragment,
 * path) or one of http, https, mailto, compared case-insensitively after
 * ASCII whitespace and control characters are removed, as browsers do. */
bool hp_markdown_url_safe(const char *url);

#endif
