/*
 * api_web: serves the web app under /app (docs/webapp.md).
 *
 *   GET /app, /app/<page>           the HTML shell (no-cache): the pages are
 *                                   ES modules that call the JSON API
 *   GET /app/assets/<hash>/<file>   CSS and JS, cacheable forever: <hash>
 *                                   changes whenever any file does
 *
 * Every page and asset carries a strict Content-Security-Policy (scripts,
 * styles, images and connections from this origin only; no inline script or
 * style; no framing), X-Frame-Options, Referrer-Policy and
 * X-Content-Type-Options. An unknown page answers 404 with the shell, which
 * shows a "not found" page; an asset of another build answers 404.
 */
#include <string.h>

#include "api.h"
#include "api_web.h"
#include "hp_crypto.h"
#include "hp_str.h"

#define API_WEB_CSP                                                                                \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "connect-src 'self'; font-src 'none'; manifest-src 'self'; worker-src 'self'; "                \
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

/* The headers every page and asset carries, as name, value pairs. */
#define API_WEB_SECURITY_HEADERS                                                                   \
    "Content-Security-Policy", API_WEB_CSP, "X-Frame-Options", "DENY", "Referrer-Policy",          \
        "no-referrer", "X-Content-Type-Options", "nosniff"

static const char *const api__shell_headers[] = {
    "Cache-Control", "no-cache", API_WEB_SECURITY_HEADERS, "Cross-Origin-Opener-Policy",
    "same-origin",   NULL};

static const char *const api__asset_headers[] = {
    "Cache-Control", "public, max-age=31536000, immutable", API_WEB_SECURITY_HEADERS, NULL};

static const api_web_file *api__file(const char *name)
{
    for (size_t i = 0; i < api_web_files_count; i++)
        if (strcmp(api_web_files[i].name, name) == 0)
            return &api_web_files[i];
    return NULL;
}

/* The pages the app knows; anything else under /app is a 404 page. */
static bool api__known_page(const char *page)
{
    static const char *const pages[] = {"signin", "history", "settings", "password", NULL};

    if (page == NULL || page[0] == '\0')
        return true;
    for (size_t i = 0; pages[i] != NULL; i++)
        if (strcmp(page, pages[i]) == 0)
            return true;
    /* approvals/<uuid> */
    return hp_str_startswith(page, "approvals/") && hp_uuid_valid(page + strlen("approvals/"));
}

void api_web_shell(hp_req *req)
{
    const api_web_file *f = api__file("index.html");
    const char *page = req->param;

    if (page == NULL && strcmp(req->route, "/app/") == 0)
        page = "";
    api_send_raw(req, api__known_page(page) ? 200 : 404, f->type, f->data, f->len,
                 api__shell_headers);
}

void api_web_asset(hp_req *req)
{
    const char *p = req->param;
    size_t hl = strlen(api_web_hash);
    const api_web_file *f = NULL;

    if (strncmp(p, api_web_hash, hl) == 0 && p[hl] == '/' && strcmp(p + hl + 1, "index.html") != 0)
        f = api__file(p + hl + 1);
    if (f == NULL) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such asset in this build", NULL);
        return;
    }
    api_send_raw(req, 200, f->type, f->data, f->len, api__asset_headers);
}
