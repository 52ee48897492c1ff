/*
 * Fuzz target: the MCP server's era routing (hp_mcp_route_message) and the
 * modern result decoration. The input is up to three header lines
 * (MCP-Protocol-Version, Mcp-Method, Mcp-Name; an empty line is an absent
 * header) and then a JSON-RPC body. Whatever it is, routing must not crash
 * or leak, a refusal must be an HTTP 400 with one of the ladder's codes and
 * a message, and a request served as 2026-07-28 must name that revision in
 * its envelope and in MCP-Protocol-Version, with Mcp-Method equal to its
 * method.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hp_json.h"
#include "hp_mcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of *p (at most end) as a string, NULL when empty. */
static char *next_line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    char *s = NULL;

    if (n > 0 && memchr(*p, '\0', n) == NULL) {
        s = malloc(n + 1);
        if (s == NULL)
            abort();
        memcpy(s, *p, n);
        s[n] = '\0';
    }
    *p += nl ? n + 1 : n;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    char *hv = next_line(&p, end), *hm = next_line(&p, end), *hn = next_line(&p, end);
    hp_mcp_headers h = {hv, hm, hn};
    json_object *body = NULL;
    char err[128];
    hp_mcp_msg m;
    hp_mcp_route r;

    if (hp_json_parse(p, (size_t)(end - p), &body, err, sizeof(err)) != HP_OK)
        goto out;
    hp_mcp_classify(body, &m);
    if (m.kind != HP_MCP_MSG_REQUEST && m.kind != HP_MCP_MSG_NOTIFICATION)
        goto out;
    hp_mcp_route_message(&m, &h, &r);
    if (r.kind == HP_MCP_ROUTE_REJECT) {
        if (r.http_status != 400 || r.message[0] == '\0' ||
            (r.code != HP_MCP_HEADER_MISMATCH && r.code != HP_MCP_UNSUPPORTED_VERSION &&
             r.code != HP_MCP_INVALID_PARAMS))
            abort();
        json_object_put(hp_mcp_error(m.id, r.code, r.message, r.data));
    } else {
        if (r.data != NULL)
            abort();
        if (r.kind == HP_MCP_ROUTE_MODERN && m.kind == HP_MCP_MSG_REQUEST) {
            json_object *meta = json_object_object_get(m.params, "_meta");
            const char *v = hp_json_str(meta, HP_MCP_META_VERSION);
            if (v == NULL || strcmp(v, HP_MCP_MODERN_VERSION) != 0 || hv == NULL ||
                strcmp(hv, v) != 0 || hm == NULL || strcmp(hm, m.method) != 0)
                abort();
            json_object_put(
                hp_mcp_modern_result(hp_mcp_response(m.id, hp_mcp_tools_list()), m.method));
        }
    }
out:
    json_object_put(body);
    free(hv);
    free(hm);
    free(hn);
    return 0;
}
