/*
 * hp_markdown: safe CommonMark rendering; see hp_markdown.h.
 *
 * cmark's own safe mode (the default since 0.29; CMARK_OPT_SAFE is passed
 * anyway for older libraries) drops raw HTML and blanks javascript:,
 * vbscript:, file: and most data: URLs, but keeps data: images. The walk
 * below is stricter and does not depend on the library's list: every link
 * and image URL is checked against an allow list of schemes.
 */
#include <stdlib.h>
#include <string.h>

#include <cmark.h>

#include "hp_markdown.h"
#include "hp_mem.h"
#include "hp_str.h"

bool hp_markdown_url_safe(const char *url)
{
    static const char *const allowed[] = {"http", "https", "mailto", NULL};
    char scheme[16];
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)url; *p != '\0'; p++) {
        unsigned char ch = *p;
        /* Browsers drop tabs and newlines anywhere and leading spaces and
         * controls; drop them all before looking for a scheme. */
        if (ch <= 0x20 || ch == 0x7f)
            continue;
        if (ch == ':') {
            scheme[n] = '\0';
            for (size_t i = 0; allowed[i] != NULL; i++)
                if (hp_streq_ci(scheme, allowed[i]))
                    return true;
            return false;
        }
        if (ch == '/' || ch == '?' || ch == '#')
            return true; /* a path, query or fragment before any ':' */
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (n > 0 && ((ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == '.'));
        if (!ok)
            return true; /* cannot be a scheme: a relative reference */
        if (n + 1 >= sizeof(scheme))
            return false; /* longer than any allowed scheme, and followed by more */
        scheme[n++] = (char)ch;
    }
    return true; /* no ':' at all */
}

char *hp_markdown_html(const char *md, size_t len)
{
    cmark_node *doc;
    cmark_iter *it;
    cmark_event_type ev;
    char *html, *out;

    /* cmark's allocator aborts when memory runs out, like ours. */
    doc = cmark_parse_document(md != NULL ? md : "", md != NULL ? len : 0, CMARK_OPT_DEFAULT);
    it = cmark_iter_new(doc);
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(node);
        if (ev != CMARK_EVENT_ENTER || (t != CMARK_NODE_LINK && t != CMARK_NODE_IMAGE))
            continue;
        const char *url = cmark_node_get_url(node);
        if (url != NULL && !hp_markdown_url_safe(url))
            cmark_node_set_url(node, "");
    }
    cmark_iter_free(it);
    html = cmark_render_html(doc, CMARK_OPT_SAFE);
    cmark_node_free(doc);
    /* cmark allocates with its own allocator (malloc by default); hand the
     * caller a string from ours. */
    out = hp_xstrdup(html != NULL ? html : "");
    free(html);
    return out;
}
