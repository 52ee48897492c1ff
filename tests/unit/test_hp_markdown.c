/*
 * Unit tests for hp_markdown: CommonMark renders as expected, raw HTML
 * (script, img onerror, inline tags) never reaches the output, links and
 * images keep only relative, http, https and mailto URLs however an unsafe
 * scheme is spelled (case, entities, percent escapes, tabs, leading
 * spaces), and text is escaped.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_markdown.h"
#include "hp_unit.h"

static char *render(const char *md)
{
    return hp_markdown_html(md, strlen(md));
}

/* True when html contains needle. */
static bool has(const char *html, const char *needle)
{
    return strstr(html, needle) != NULL;
}

static void test_basic(void)
{
    char *h = render("# Title\n\nSome *emphasis* and `code`.\n\n- one\n- two\n");
    CU_ASSERT_TRUE(has(h, "<h1>Title</h1>"));
    CU_ASSERT_TRUE(has(h, "<em>emphasis</em>"));
    CU_ASSERT_TRUE(has(h, "<code>code</code>"));
    CU_ASSERT_TRUE(has(h, "<li>two</li>"));
    free(h);
    h = render("");
    CU_ASSERT_STRING_EQUAL(h, "");
    free(h);
    h = hp_markdown_html("**bold** and more", 8); /* length, not NUL */
    CU_ASSERT_TRUE(has(h, "<strong>bold</strong>"));
    CU_ASSERT_FALSE(has(h, "more"));
    free(h);
}

static void test_raw_html_dropped(void)
{
    char *h = render("<script>alert(1)</script>\n\nHello <img src=x onerror=alert(1)> "
                     "<b onclick=\"x()\">b</b>\n\n<iframe src=\"https://evil.test\"></iframe>\n");
    CU_ASSERT_FALSE(has(h, "<script"));
    CU_ASSERT_FALSE(has(h, "<img"));
    CU_ASSERT_FALSE(has(h, "onerror"));
    CU_ASSERT_FALSE(has(h, "onclick"));
    CU_ASSERT_FALSE(has(h, "<iframe"));
    CU_ASSERT_FALSE(has(h, "<b "));
    CU_ASSERT_TRUE(has(h, "Hello"));
    free(h);
}

static void test_text_escaped(void)
{
    char *h = render("a < b && c > \"d\"\n\n```\n<script>x</script>\n```\n");
    CU_ASSERT_TRUE(has(h, "a &lt; b &amp;&amp; c &gt; &quot;d&quot;"));
    CU_ASSERT_TRUE(has(h, "&lt;script&gt;x&lt;/script&gt;"));
    CU_ASSERT_FALSE(has(h, "<script"));
    free(h);
}

/* True when every href and src value in html is empty or safe. */
static bool attrs_safe(const char *html)
{
    static const char *const names[] = {"href=\"", "src=\"", NULL};
    for (size_t i = 0; names[i] != NULL; i++) {
        for (const char *p = strstr(html, names[i]); p != NULL; p = strstr(p + 1, names[i])) {
            const char *v = p + strlen(names[i]);
            size_t n = strcspn(v, "\"");
            char buf[256];
            if (n >= sizeof(buf))
                return false;
            memcpy(buf, v, n);
            buf[n] = '\0';
            if (!hp_markdown_url_safe(buf))
                return false;
        }
    }
    return true;
}

static void test_links(void)
{
    static const char *const blanked[] = {
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](<java\tscript:alert(1)>)",
        "[x](vbscript:msgbox)",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](data:image/png;base64,iVBORw0KGgo=)",
        "[x](file:///etc/passwd)",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
    };
    for (size_t i = 0; i < sizeof(blanked) / sizeof(blanked[0]); i++) {
        char *h = render(blanked[i]);
        CU_ASSERT_TRUE(has(h, "href=\"\"") || has(h, "src=\"\""));
        CU_ASSERT_TRUE(attrs_safe(h));
        free(h);
    }
    /* Percent-escaped, the scheme is no scheme: a relative URL. */
    char *rel = render("[x](java%09script:alert(1))");
    CU_ASSERT_TRUE(attrs_safe(rel));
    CU_ASSERT_TRUE(has(rel, "href=\"java%09script"));
    free(rel);
    char *h = render("[site](https://example.com/a?b=1) [mail](mailto:a@b.c) [rel](/app/history) "
                     "[frag](#top) <https://example.org>");
    CU_ASSERT_TRUE(has(h, "href=\"https://example.com/a?b=1\""));
    CU_ASSERT_TRUE(has(h, "href=\"mailto:a@b.c\""));
    CU_ASSERT_TRUE(has(h, "href=\"/app/history\""));
    CU_ASSERT_TRUE(has(h, "href=\"#top\""));
    CU_ASSERT_TRUE(has(h, "href=\"https://example.org\""));
    free(h);
}

static void test_url_safe(void)
{
    CU_ASSERT_TRUE(hp_markdown_url_safe("https://a.b"));
    CU_ASSERT_TRUE(hp_markdown_url_safe("HTTP://a.b"));
    CU_ASSERT_TRUE(hp_markdown_url_safe("mailto:x@y"));
    CU_ASSERT_TRUE(hp_markdown_url_safe("relative/path:with-colon"));
    CU_ASSERT_TRUE(hp_markdown_url_safe("?q=a:b"));
    CU_ASSERT_TRUE(hp_markdown_url_safe("#a:b"));
    CU_ASSERT_TRUE(hp_markdown_url_safe("./x:y"));
    CU_ASSERT_TRUE(hp_markdown_url_safe(""));
    CU_ASSERT_FALSE(hp_markdown_url_safe("javascript:x"));
    CU_ASSERT_FALSE(hp_markdown_url_safe("  javascript:x"));
    CU_ASSERT_FALSE(hp_markdown_url_safe("java\nscript:x"));
    CU_ASSERT_FALSE(hp_markdown_url_safe("\x01javascript:x"));
    CU_ASSERT_FALSE(hp_markdown_url_safe("data:text/html,x"));
    CU_ASSERT_FALSE(hp_markdown_url_safe("ftp://x"));
    CU_ASSERT_FALSE(hp_markdown_url_safe("averyveryverylongschemename:x"));
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"basic", test_basic},
        {"raw_html_dropped", test_raw_html_dropped},
        {"text_escaped", test_text_escaped},
        {"links", test_links},
        {"url_safe", test_url_safe},
        {NULL, NULL},
    };
    return hp_unit_main("hp_markdown", tests);
}
