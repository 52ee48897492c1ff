/*
 * Fuzz target: the Markdown renderer of the decision page and e-mails. For
 * any text, the HTML holds only the tags cmark itself writes (raw HTML is
 * replaced by a comment), and every href and src it writes is one that
 * hp_markdown_url_safe accepts: no javascript:, data: or other scheme gets
 * through, however the input spells, escapes or pads it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hp_markdown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The tags cmark's HTML renderer writes, each followed by '>' or ' '. */
static const char *const hp__fuzz_tags[] = {
    "p",   "/p",  "blockquote", "/blockquote", "ul",      "/ul", "ol",  "/ol", "li",
    "/li", "pre", "/pre",       "code",        "/code",   "h1",  "/h1", "h2",  "/h2",
    "h3",  "/h3", "h4",         "/h4",         "h5",      "/h5", "h6",  "/h6", "hr",
    "br",  "em",  "/em",        "strong",      "/strong", "a",   "/a",  "img", NULL,
};

/* The attributes cmark writes; href and src carry URLs. */
static const char *const hp__fuzz_attrs[] = {"href", "src", "title", "alt", "class", "start", NULL};

/* Checks one attribute list, from after the tag name to '>' or "/>":
 * each attribute is name="value" with a known name (cmark escapes '"' in
 * values), and each URL is one hp_markdown_url_safe accepts. Returns the
 * position after the tag. */
static const char *hp__fuzz_attributes(const char *p)
{
    for (;;) {
        const char *eq, *end;
        size_t i;
        char *value;

        if (p[0] == '>')
            return p + 1;
        if (p[0] == ' ' && p[1] == '/' && p[2] == '>')
            return p + 3;
        if (p[0] != ' ' || (eq = strchr(p, '=')) == NULL || eq[1] != '"' ||
            (end = strchr(eq + 2, '"')) == NULL)
            abort();
        for (i = 0; hp__fuzz_attrs[i] != NULL; i++)
            if (strlen(hp__fuzz_attrs[i]) == (size_t)(eq - p - 1) &&
                strncmp(p + 1, hp__fuzz_attrs[i], (size_t)(eq - p - 1)) == 0)
                break;
        if (hp__fuzz_attrs[i] == NULL)
            abort();
        if (i <= 1) {
            value = strndup(eq + 2, (size_t)(end - eq - 2));
            if (value == NULL)
                abort();
            if (!hp_markdown_url_safe(value))
                abort();
            free(value);
        }
        p = end + 1;
    }
}

/* Checks the tag at lt ('<') and returns the position after it. */
static const char *hp__fuzz_tag(const char *lt)
{
    static const char omitted[] = "<!-- raw HTML omitted -->";

    if (strncmp(lt, omitted, sizeof(omitted) - 1) == 0)
        return lt + sizeof(omitted) - 1;
    for (size_t i = 0; hp__fuzz_tags[i] != NULL; i++) {
        size_t n = strlen(hp__fuzz_tags[i]);
        if (strncmp(lt + 1, hp__fuzz_tags[i], n) == 0 && (lt[1 + n] == '>' || lt[1 + n] == ' '))
            return hp__fuzz_attributes(lt + 1 + n);
    }
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *html = hp_markdown_html((const char *)data, size);

    for (const char *p = strchr(html, '<'); p != NULL; p = strchr(p, '<'))
        p = hp__fuzz_tag(p);
    free(html);
    return 0;
}
