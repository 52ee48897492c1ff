/*
 * cli_hook: `holdpoint hook <agent>`, the small client a coding agent runs
 * as its hook. It reads the agent's hook JSON on stdin, creates the approval
 * (seed 004's form, wait: block) with the renderer for that agent and event,
 * waits for a person, and prints the decision JSON the agent reads, ending
 * with the exit status that agent documents (hp_render_exit_code).
 *
 * It never allows on a failure and never hangs: unreadable stdin, a bad
 * configuration, a network failure, a non-2xx answer or no decision in time
 * all end in the configured default (HOLDPOINT_HOOK_DEFAULT: deny unless
 * set to ask — allow is refused) printed in the agent's format, and every
 * step is bounded by one deadline: the approval's timeout plus a margin for
 * the server to answer with the timeout default. The agent's own hook
 * timeout (written by `holdpoint hook install`) is longer still.
 *
 * Configuration: the environment first, then a KEY=VALUE file
 * (HOLDPOINT_HOOK_CONFIG, else $XDG_CONFIG_HOME/holdpoint/hook.env or
 * ~/.config/holdpoint/hook.env), read through the one configuration table.
 * The API key goes only into the Authorization header; it is never printed
 * or logged. See docs/integrations/.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"
#include "hp_buf.h"
#include "hp_hook.h"
#include "hp_json.h"
#include "hp_log.h"
#include "hp_mem.h"
#include "hp_str.h"
#include "hp_time.h"

/* Time the server needs after the approval's deadline to answer with the
 * timeout default (its own grace is 2 s), plus the network. */
#define HOOK_MARGIN_MS 8000
/* Largest hook input and answer read. */
#define HOOK_IO_MAX (1 << 20)

/* ---- configuration: environment, then the file ---------------------------- */

typedef struct hook_file {
    char *text; /* the file, its lines split in place */
    const char *keys[32];
    const char *vals[32];
    int n;
} hook_file;

static void hook__file_load(hook_file *f, const char *path)
{
    FILE *fp = path ? fopen(path, "r") : NULL;
    struct stat st;
    size_t len;
    char *line, *next;

    memset(f, 0, sizeof(*f));
    if (fp == NULL)
        return;
    if (fstat(fileno(fp), &st) == 0 && (st.st_mode & 077) != 0)
        hp_log_warn("the hook configuration file is readable by others; chmod 600 it", "path",
                    path);
    f->text = hp_xcalloc(1, HOOK_IO_MAX + 1);
    len = fread(f->text, 1, HOOK_IO_MAX, fp);
    fclose(fp);
    f->text[len] = '\0';
    for (line = f->text; line != NULL && *line != '\0' && f->n < 32; line = next) {
        char *eq, *v, *end;

        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        if (hp_str_startswith(line, "export "))
            line += 7;
        eq = strchr(line, '=');
        if (*line == '#' || eq == NULL || !hp_str_startswith(line, "HOLDPOINT_"))
            continue;
        *eq = '\0';
        v = eq + 1;
        end = v + strlen(v);
        while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (end - v >= 2 && (*v == '"' || *v == '\'') && end[-1] == *v) {
            end[-1] = '\0';
            v++;
        }
        f->keys[f->n] = line;
        f->vals[f->n++] = v;
    }
}

static const char *hook__getenv(const char *name, void *ctx)
{
    const hook_file *f = ctx;
    const char *v = hp_config_env(name);

    if (v != NULL)
        return v;
    for (int i = f->n - 1; i >= 0; i--)
        if (strcmp(f->keys[i], name) == 0)
            return f->vals[i];
    return NULL;
}

/* The configuration file's path: HOLDPOINT_HOOK_CONFIG, else the XDG one. */
static char *hook__config_path(void)
{
    const char *p = hp_config_env("HOLDPOINT_HOOK_CONFIG"), *xdg = hp_config_env("XDG_CONFIG_HOME"),
               *home = hp_config_env("HOME");

    if (p != NULL)
        return hp_xstrdup(p);
    if (xdg != NULL && xdg[0] == '/')
        return hp_xasprintf("%s/holdpoint/hook.env", xdg);
    if (home != NULL && home[0] == '/')
        return hp_xasprintf("%s/.config/holdpoint/hook.env", home);
    return NULL;
}

/* ---- I/O -------------------------------------------------------------------------- */

/* Reads stdin until EOF, the cap, or the deadline. */
static hp_err hook__read_stdin(int64_t deadline_ms, hp_buf *b, char *err, size_t errcap)
{
    char chunk[8192];

    for (;;) {
        int64_t left = deadline_ms - hp_time_mono_ms();
        struct pollfd p = {.fd = 0, .events = POLLIN};
        ssize_t n;
        int rc;

        if (left <= 0) {
            hp_err_set(err, errcap, "the hook input did not arrive in time");
            return HP_ERR_UNAVAILABLE;
        }
        rc = poll(&p, 1, (int)(left < 1000 ? left : 1000));
        if (rc < 0 && errno != EINTR) {
            hp_err_set(err, errcap, "could not read the hook input");
            return HP_ERR_INTERNAL;
        }
        if (rc <= 0)
            continue;
        n = read(0, chunk, sizeof(chunk));
        if (n == 0)
            return HP_OK;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            hp_err_set(err, errcap, "could not read the hook input");
            return HP_ERR_INTERNAL;
        }
        if (hp_buf_append(b, chunk, (size_t)n) != HP_OK) {
            hp_err_set(err, errcap, "the hook input is larger than 1 MiB");
            return HP_ERR_PAYLOAD_TOO_LARGE;
        }
    }
}

typedef struct hook_http {
    const hp_config *cfg;
    int64_t deadline_ms;
} hook_http;

static size_t hook__sink(char *p, size_t size, size_t n, void *ud)
{
    return hp_buf_append(ud, p, size * n) == HP_OK ? size * n : 0;
}

/* One request to the API, bounded by the deadline (and by cap_ms when
 * positive). *status 0 on a transport failure (err says why); the answer's
 * JSON in *out (NULL when it is not JSON). */
static void hook__request(const hook_http *h, const char *method, const char *path,
                          const char *body, long cap_ms, long *status, json_object **out, char *err,
                          size_t errcap)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hs = NULL;
    char *url = hp_xasprintf("%s%s", h->cfg->hook_url, path);
    char *auth = hp_xasprintf("Authorization: Bearer %s", h->cfg->hook_api_key);
    int64_t left = h->deadline_ms - hp_time_mono_ms();
    hp_buf b;
    CURLcode rc;

    *status = 0;
    *out = NULL;
    hp_buf_init(&b, HOOK_IO_MAX);
    if (cap_ms > 0 && cap_ms < left)
        left = cap_ms;
    if (c == NULL || left <= 0) {
        hp_err_set(err, errcap, "no time left");
        goto out;
    }
    hs = curl_slist_append(hs, auth);
    hs = curl_slist_append(hs, "Content-Type: application/json");
    hs = curl_slist_append(hs, "Accept: application/json");
    if (h->cfg->hook_agent_id != NULL) {
        char *agent = hp_xasprintf("X-Agent-Id: %s", h->cfg->hook_agent_id);
        hs = curl_slist_append(hs, agent);
        free(agent);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(left < 5000 ? left : 5000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "holdpoint-hook/1");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hook__sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        /* curl's fixed description, never its error buffer. */
        hp_err_set(err, errcap, "could not reach Holdpoint: %s", curl_easy_strerror(rc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (b.len > 0) {
        char perr[64];
        if (hp_json_parse(b.data, b.len, out, perr, sizeof(perr)) != HP_OK)
            *out = NULL;
    }
    if (*status < 200 || *status > 299) {
        const char *code = *out ? hp_json_str(*out, "error") : NULL;
        hp_err_set(err, errcap, "Holdpoint answered %ld%s%s", *status, code ? " " : "",
                   code ? code : "");
    }
out:
    hp_buf_free(&b);
    curl_slist_free_all(hs);
    if (c != NULL)
        curl_easy_cleanup(c);
    free(auth);
    free(url);
}

/* ---- the answer ---------------------------------------------------------------- */

/* The outcome of a resolved result, for the verdict. */
static void hook__render_in(json_object *res, hp_render_in *in)
{
    json_object *by = hp_json_obj(res, "resolved_by");
    json_object *td = json_object_object_get(res, "is_timeout_default");

    memset(in, 0, sizeof(*in));
    in->status = hp_json_str(res, "status");
    in->decision_key = hp_json_str(res, "decision_key");
    if (in->decision_key == NULL)
        in->decision_key = hp_json_str(res, "selected_option_value");
    in->decision_label = hp_json_str(res, "selected_option_label");
    in->custom_instruction = hp_json_str(res, "custom_instruction");
    in->is_timeout_default = td != NULL && json_object_get_boolean(td);
    in->decided_by = by ? hp_json_str(by, "name") : NULL;
}

/* Prints doc (one line) and returns the exit status. */
static int hook__print(json_object *doc, int status)
{
    puts(json_object_to_json_string_ext(doc,
                                        JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(stdout);
    return status;
}

/* Prints the decision of a resolved result in format. */
static int hook__decided(const char *format, json_object *res)
{
    hp_render_in in;
    hp_verdict v;
    json_object *payload = hp_json_obj(res, "response_payload"), *mine;
    int st;

    hook__render_in(res, &in);
    v = hp_render_verdict(&in);
    if (payload != NULL)
        return hook__print(payload, hp_render_exit_code(format, v));
    mine = hp_render(format, &in); /* a server without seed 004's members */
    st = hook__print(mine, hp_render_exit_code(format, v));
    json_object_put(mine);
    return st;
}

/* The configured default, never an allow, with why. */
static int hook__fallback(const char *agent, const char *format, hp_verdict v, const char *reason)
{
    char text[512];
    json_object *o;
    int st;

    (void)hp_fmt(text, sizeof(text), "Holdpoint: %s; %s by default", reason,
                 v == HP_VERDICT_ASK ? "asking" : "denied");
    hp_log_warn("hook fell back to its default", "agent", agent, "verdict", hp_verdict_name(v),
                "reason", reason);
    o = hp_render_verdict_json(format, v, text);
    st = hook__print(o, hp_render_exit_code(format, v));
    json_object_put(o);
    return st;
}

static bool hook__pending(json_object *res)
{
    const char *st = res ? hp_json_str(res, "status") : NULL;
    return st == NULL || strcmp(st, "pending") == 0;
}

/* ---- the command ---------------------------------------------------------------- */

static const char hook__usage[] =
    "usage: holdpoint hook <agent> [--event EVENT] [--timeout SECONDS] [--default deny|ask]\n"
    "       holdpoint hook install <agent> [options]   (holdpoint hook install --help)\n"
    "\n"
    "agents: claude-code, codex, cursor, copilot\n"
    "\n"
    "Reads the agent's hook JSON on stdin, asks a person through Holdpoint and prints\n"
    "the decision as that agent's hook JSON. Without a decision in time, or on any\n"
    "failure, prints the default (deny, or ask) — never an allow.\n"
    "Reads HOLDPOINT_URL, HOLDPOINT_API_KEY, HOLDPOINT_AGENT_ID,\n"
    "HOLDPOINT_HOOK_TIMEOUT_SECONDS and HOLDPOINT_HOOK_DEFAULT from the environment,\n"
    "then from ~/.config/holdpoint/hook.env (or HOLDPOINT_HOOK_CONFIG).\n";

int hp_cli_hook(int argc, char **argv)
{
    static hp_config cfg;
    const char *agent_arg = argc > 1 ? argv[1] : NULL, *event = NULL, *dflt = NULL, *format,
               *bad = NULL;
    long long timeout = 0;
    hp_hook_agent agent;
    hp_verdict fallback = HP_VERDICT_DENY;
    hook_file file;
    hook_http http;
    hp_hook_request req = {0};
    hp_buf in;
    json_object *input = NULL, *res = NULL;
    char *path, err[HP_ERRBUF], reason[HP_ERRBUF] = "";
    int64_t start = hp_time_mono_ms();
    long status = 0;
    int st;

    if (agent_arg != NULL && strcmp(agent_arg, "install") == 0)
        return hp_cli_hook_install(argc - 1, argv + 1);
    if (agent_arg == NULL || strcmp(agent_arg, "--help") == 0 || strcmp(agent_arg, "help") == 0 ||
        strcmp(agent_arg, "-h") == 0) {
        fputs(hook__usage, agent_arg ? stdout : stderr);
        return agent_arg ? HP_CLI_OK : HP_CLI_USAGE;
    }
    if (!hp_hook_agent_parse(agent_arg, &agent))
        return hp_cli_word_error("hook", "unknown agent", agent_arg);
    for (int i = 2; i < argc && bad == NULL; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v != NULL && strcmp(argv[i], "--event") == 0)
            event = v;
        else if (v != NULL && strcmp(argv[i], "--default") == 0)
            dflt = v;
        else if (v == NULL || strcmp(argv[i], "--timeout") != 0 ||
                 !hp_parse_ll(v, 5, 3600, &timeout))
            bad = argv[i];
    }
    /* Whatever happens now, the agent gets a decision in its format. */
    format = hp_hook_format(agent, event ? event : hp_hook_default_event(agent));
    if (format == NULL)
        return hp_cli_word_error("hook", "this agent's hook cannot gate event", event);
    if (bad != NULL || (dflt != NULL && strcmp(dflt, "deny") != 0 && strcmp(dflt, "ask") != 0)) {
        /* A broken hook command still denies (the agent may run it anyway). */
        (void)hp_cli_word_error("hook", "bad option (see holdpoint hook --help)", bad ? bad : dflt);
        return hook__fallback(agent_arg, format, HP_VERDICT_DENY, "the hook command is invalid");
    }

    path = hook__config_path();
    hook__file_load(&file, path);
    free(path);
    if (hp_config_load(HP_PROC_HOOK, hook__getenv, &file, &cfg, err, sizeof(err)) != HP_OK) {
        st = hook__fallback(agent_arg, format, fallback, err);
        free(file.text);
        return st;
    }
    if (dflt == NULL)
        dflt = cfg.hook_default;
    if (strcmp(dflt, "ask") == 0)
        fallback = HP_VERDICT_ASK;
    if (timeout == 0)
        timeout = cfg.hook_timeout_seconds;
    http.cfg = &cfg;
    http.deadline_ms = start + timeout * 1000 + HOOK_MARGIN_MS;

    hp_buf_init(&in, HOOK_IO_MAX);
    if (hook__read_stdin(http.deadline_ms, &in, err, sizeof(err)) != HP_OK) {
        st = hook__fallback(agent_arg, format, fallback, err);
        goto out;
    }
    if (hp_json_parse(in.data ? in.data : "", in.len, &input, reason, sizeof(reason)) != HP_OK) {
        st = hook__fallback(agent_arg, format, fallback, "the hook input is not JSON");
        goto out;
    }
    {
        hp_hook_opts opts = {.timeout_seconds = (int)timeout,
                             .on_timeout = fallback,
                             .event = event,
                             .wait_block = true};
        if (hp_hook_build(agent, input, &opts, &req, err, sizeof(err)) != HP_OK) {
            st = hook__fallback(agent_arg, format, fallback, err);
            goto out;
        }
        format = req.format;
    }
    if (cfg.hook_api_key == NULL) {
        st = hook__fallback(agent_arg, format, fallback, "HOLDPOINT_API_KEY is not set");
        goto out;
    }

    /* Ask; the server holds the request until the decision or the
     * approval's deadline, then answers its timeout default. */
    hook__request(&http, "POST", "/v1/approvals", hp_json_text(req.body), 0, &status, &res, err,
                  sizeof(err));
    if (status < 200 || status > 299 || res == NULL) {
        st = hook__fallback(agent_arg, format, fallback, err);
        goto out;
    }
    /* The server's wait may be capped below our timeout: keep asking. */
    while (hook__pending(res)) {
        const char *rid = hp_json_str(res, "request_id");
        int64_t left = http.deadline_ms - hp_time_mono_ms() - 1000;
        char *esc, *p;
        json_object *next = NULL;

        if (rid == NULL || left < 1000)
            break;
        esc = curl_easy_escape(NULL, rid, 0);
        p = hp_xasprintf("/v1/approvals/%s/result?wait=%lld", esc,
                         (long long)(left / 1000 < 55 ? left / 1000 : 55));
        curl_free(esc);
        hook__request(&http, "GET", p, NULL, 0, &status, &next, err, sizeof(err));
        free(p);
        if (status != 200 || next == NULL) {
            json_object_put(next);
            break;
        }
        if (hp_json_str(next, "request_id") == NULL)
            json_object_object_add(next, "request_id", json_object_new_string(rid));
        json_object_put(res);
        res = next;
    }
    if (hook__pending(res)) {
        /* Nobody decided in time: withdraw the question, then the default. */
        const char *rid = hp_json_str(res, "request_id");
        if (rid != NULL) {
            char *esc = curl_easy_escape(NULL, rid, 0);
            char *p = hp_xasprintf("/v1/approvals/%s/cancel", esc);
            json_object *ignored = NULL;
            char cerr[HP_ERRBUF];
            long cst = 0;
            http.deadline_ms = hp_time_mono_ms() + 2000;
            hook__request(&http, "POST", p, NULL, 2000, &cst, &ignored, cerr, sizeof(cerr));
            json_object_put(ignored);
            curl_free(esc);
            free(p);
        }
        hp_err_set(err, sizeof(err), "no decision within %lld s", timeout);
        st = hook__fallback(agent_arg, format, fallback, err);
        goto out;
    }
    st = hook__decided(format, res);
out:
    json_object_put(res);
    json_object_put(req.body);
    json_object_put(input);
    hp_buf_free(&in);
    free(file.text);
    return st;
}
