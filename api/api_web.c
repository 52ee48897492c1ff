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
#include "hp_json.h"
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

/* The service worker at a stable URL (/app/sw.js), revalidated on every
 * update check; Service-Worker-Allowed lets it take the scope /app, which
 * covers the inbox at /app itself as well as /app/... */
void api_web_sw(hp_req *req)
{
    static const char *const h[] = {"Cache-Control",
                                    "no-cache",
                                    "Service-Worker-Allowed",
                                    "/app",
                                    "Content-Security-Policy",
                                    API_WEB_CSP,
                                    "X-Content-Type-Options",
                                    "nosniff",
                                    NULL};
    const api_web_file *f = api__file("sw.js");

    api_send_raw(req, 200, f->type, f->data, f->len, h);
}

/* The web app manifest (installable PWA): the icons are this build's
 * assets. */
void api_web_manifest(hp_req *req)
{
    static const char *const h[] = {"Cache-Control", "no-cache", "X-Content-Type-Options",
                                    "nosniff", NULL};
    json_object *o = json_object_new_object(), *icons = json_object_new_array();
    static const char *const sizes[] = {"192", "512"};
    const char *text;

    hp_json_set_str(o, "name", "Holdpoint");
    hp_json_set_str(o, "short_name", "Holdpoint");
    hp_json_set_str(o, "description", "Decide what your agents ask, wherever you are.");
    hp_json_set_str(o, "id", "/app");
    hp_json_set_str(o, "start_url", "/app");
    hp_json_set_str(o, "scope", "/app");
    hp_json_set_str(o, "display", "standalone");
    hp_json_set_str(o, "background_color", "#f6f7f9");
    hp_json_set_str(o, "theme_color", "#1f6feb");
    for (size_t i = 0; i < 2; i++) {
        json_object *ic = json_object_new_object();
        json_object_object_add(
            ic, "src",
            json_object_new_string(
                hp_pool_printf(req->pool, "/app/assets/%s/icon-%s.png", api_web_hash, sizes[i])));
        json_object_object_add(
            ic, "sizes",
            json_object_new_string(hp_pool_printf(req->pool, "%sx%s", sizes[i], sizes[i])));
        hp_json_set_str(ic, "type", "image/png");
        hp_json_set_str(ic, "purpose", "any");
        json_object_array_add(icons, ic);
    }
    json_object_object_add(o, "icons", icons);
    text =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    api_send_raw(req, 200, "application/manifest+json", text, strlen(text), h);
    json_object_put(o);
}
