/*
 * hp_approval: the pure half of the approval model — seed 003 validation,
 * the timeout merge, the canonical idempotency payload and the wire shapes.
 * Nothing here touches the database; see hp_approval_ops.c for transitions.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hp_approval.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_mem.h"
#include "hp_render.h"
#include "hp_str.h"

static const char *const hp__timeout_modes[] = {"expire_no_action",
                                                "expire_with_predefined_instruction", NULL};

bool hp_approval_url_ok(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = false;

    if (u == NULL)
        return false;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        ok = (hp_streq_ci(scheme, "http") || hp_streq_ci(scheme, "https")) && host[0] != '\0';
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

bool hp_approval_callback_url_check(const char *url, const hp_urlpolicy *policy, hp_issues *is,
                                    hp_path at)
{
    char reason[160];

    if (!hp_approval_url_ok(url)) {
        hp_issues_add(is, at, "invalid_string", "Invalid url");
        return false;
    }
    if (policy != NULL && hp_urlpolicy_check_url(policy, url, reason, sizeof(reason)) != HP_OK) {
        hp_issues_add(is, at, "custom", "Callback URL is not allowed: %s", reason);
        return false;
    }
    return true;
}

static void hp__parse_options(json_object *body, hp_approval_input *in, hp_issues *is)
{
    hp_path root = hp_path_root();
    json_object *arr = hp_valid_array(is, root, body, "options", true, 1, HP_APPROVAL_OPTIONS_MAX);
    hp_path at = hp_path_key(root, "options");

    if (arr == NULL)
        return;
    in->options = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        hp_path oat = hp_path_index(at, (int)i);
        const char *label, *value;
        bool dflt = false;

        if (!hp_valid_is_object(is, oat, o)) {
            continue;
        }
        label =
            hp_valid_str(is, oat, o, "label", (hp_str_rule){true, false, 1, HP_APPROVAL_LABEL_MAX});
        value =
            hp_valid_str(is, oat, o, "value", (hp_str_rule){true, false, 0, HP_APPROVAL_VALUE_MAX});
        (void)hp_valid_bool(is, oat, o, "is_default_on_timeout", false, &dflt);
        if (label && value) {
            json_object *n = json_object_new_object();
            json_object_object_add(n, "label", json_object_new_string(label));
            json_object_object_add(n, "value", json_object_new_string(value));
            json_object_object_add(n, "is_default_on_timeout", json_object_new_boolean(dflt));
            json_object_array_add(in->options, n);
        }
    }
}

static void hp__parse_timeout(json_object *body, const hp_agent_defaults *d, hp_approval_input *in,
                              hp_issues *is)
{
    hp_path root = hp_path_root();
    hp_path at = hp_path_key(root, "timeout");
    json_object *t = hp_valid_object(is, root, body, "timeout", false);
    int64_t secs = d->timeout_seconds;
    bool present = false;
    int mode_idx;

    in->timeout_mode = d->timeout_mode;
    in->predefined_instruction = d->timeout_instruction;
    if (t != NULL) {
        (void)hp_valid_int(is, at, t, "expires_in_seconds", false, HP_APPROVAL_TIMEOUT_MIN,
                           HP_APPROVAL_TIMEOUT_MAX, &secs, &present);
        mode_idx = hp_valid_enum(is, at, t, "mode", false, hp__timeout_modes);
        if (mode_idx >= 0)
            in->timeout_mode = hp__timeout_modes[mode_idx];
        if (hp_json_has(t, "predefined_instruction")) {
            json_object *v = json_object_object_get(t, "predefined_instruction");
            if (v == NULL) {
                in->predefined_instruction = NULL; /* explicit null clears the default */
            } else {
                in->predefined_instruction =
                    hp_valid_str(is, at, t, "predefined_instruction",
                                 (hp_str_rule){false, true, 0, HP_APPROVAL_INSTRUCTION_MAX});
            }
        }
    }
    /* The merged timeout must be complete and consistent (seed 003); the
     * agent's own defaults are kept valid by the agents table's checks. */
    in->timeout_seconds = (int)secs;
    if (in->timeout_mode == NULL) {
        hp_issues_add(is, hp_path_key(at, "mode"), "invalid_type", "Required");
    } else if (strcmp(in->timeout_mode, "expire_with_predefined_instruction") == 0 &&
               (in->predefined_instruction == NULL || in->predefined_instruction[0] == '\0')) {
        hp_issues_add(is, hp_path_key(at, "predefined_instruction"), "custom",
                      "predefined_instruction is required when mode is "
                      "expire_with_predefined_instruction");
    }
}

static void hp__parse_callback(json_object *body, const hp_urlpolicy *policy, hp_approval_input *in,
                               hp_issues *is)
{
    hp_path root = hp_path_root();
    hp_path at = hp_path_key(root, "callback");
    json_object *cb = hp_valid_object(is, root, body, "callback", false);
    json_object *h;

    if (cb == NULL)
        return;
    in->callback_url = hp_valid_str(is, at, cb, "url", (hp_str_rule){true, false, 1, 2048});
    if (in->callback_url &&
        !hp_approval_callback_url_check(in->callback_url, policy, is, hp_path_key(at, "url")))
        in->callback_url = NULL;
    h = hp_valid_object(is, at, cb, "headers", false);
    if (h == NULL)
        return;
    hp_path hat = hp_path_key(at, "headers");
    json_object_object_foreach(h, name, val)
    {
        hp_path kat = hp_path_key(hat, name);
        if (!json_object_is_type(val, json_type_string)) {
            hp_issues_add(is, kat, "invalid_type", "Expected string, received %s",
                          hp_valid_type_name(val));
        } else if (!hp_valid_http_token(name)) {
            hp_issues_add(is, kat, "custom", "Invalid header name");
        } else if (strpbrk(json_object_get_string(val), "\r\n") != NULL ||
                   json_object_get_string_len(val) > 4096) {
            hp_issues_add(is, kat, "custom", "Invalid header value");
        }
    }
    in->callback_headers = json_object_get(h);
}

/* Seed 004's decisions: 1..4 {key, label, is_default_on_timeout} become
 * options with value = key. Keys must be distinct (they name the outcome). */
static void hp__parse_decisions(json_object *body, hp_approval_input *in, hp_issues *is)
{
    hp_path root = hp_path_root();
    json_object *arr =
        hp_valid_array(is, root, body, "decisions", true, 1, HP_APPROVAL_OPTIONS_MAX);
    hp_path at = hp_path_key(root, "decisions");

    if (arr == NULL)
        return;
    in->options = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        hp_path oat = hp_path_index(at, (int)i);
        const char *key, *label;
        bool dflt = false;

        if (!hp_valid_is_object(is, oat, o)) {
            continue;
        }
        key = hp_valid_str(is, oat, o, "key", (hp_str_rule){true, false, 1, HP_APPROVAL_VALUE_MAX});
        label =
            hp_valid_str(is, oat, o, "label", (hp_str_rule){true, false, 1, HP_APPROVAL_LABEL_MAX});
        (void)hp_valid_bool(is, oat, o, "is_default_on_timeout", false, &dflt);
        for (size_t k = 0; key != NULL && k < json_object_array_length(in->options); k++)
            if (strcmp(hp_json_str(json_object_array_get_idx(in->options, k), "value"), key) == 0) {
                hp_issues_add(is, hp_path_key(oat, "key"), "custom",
                              "decision keys must be distinct");
                key = NULL;
            }
        if (key && label) {
            json_object *n = json_object_new_object();
            json_object_object_add(n, "label", json_object_new_string(label));
            json_object_object_add(n, "value", json_object_new_string(key));
            json_object_object_add(n, "is_default_on_timeout", json_object_new_boolean(dflt));
            json_object_array_add(in->options, n);
        }
    }
}

/* Seed 004's hook attribution (event, tool_name, command) is kept in the
 * metadata reviewers see, beside the caller's own metadata members. */
static void hp__parse_attribution(json_object *body, hp_approval_input *in, hp_issues *is)
{
    static const struct {
        const char *key;
        size_t max;
    } attrs[] = {{"event", 100}, {"tool_name", HP_APPROVAL_ATTR_MAX}, {"command", 4000}};
    hp_path root = hp_path_root();
    json_object *merged = NULL;

    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        const char *v =
            hp_valid_str(is, root, body, attrs[i].key, (hp_str_rule){false, true, 1, attrs[i].max});
        if (v == NULL)
            continue;
        if (merged == NULL) {
            merged = json_object_new_object();
            if (in->metadata != NULL) {
                json_object_object_foreach(in->metadata, k, mv)
                {
                    json_object_object_add(merged, k, json_object_get(mv));
                }
            }
        }
        json_object_object_add(merged, attrs[i].key, json_object_new_string(v));
    }
    if (merged != NULL) {
        json_object_put(in->metadata);
        in->metadata = merged;
    }
}

static bool hp__str_eq(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

bool hp_agent_defaults_equal(const hp_agent_defaults *a, const hp_agent_defaults *b)
{
    return a->timeout_seconds == b->timeout_seconds &&
           hp__str_eq(a->timeout_mode, b->timeout_mode) &&
           hp__str_eq(a->timeout_instruction, b->timeout_instruction);
}

bool hp_approval_parse_create(json_object *body, const hp_agent_defaults *d,
                              const hp_urlpolicy *policy, hp_approval_input *in, hp_issues *is)
{
    hp_path root = hp_path_root();
    bool form004;
    char *canon;

    memset(in, 0, sizeof(*in));
    in->allow_custom_instruction = true;
    in->response_format = "raw";
    in->source = "v1";
    if (!hp_valid_is_object(is, root, body)) {
        return false;
    }
    /* A body with decisions and no options is seed 004's form. */
    form004 = hp_json_has(body, "decisions") && !hp_json_has(body, "options");
    if (hp_json_has(body, "decisions") && hp_json_has(body, "options"))
        hp_issues_add(is, hp_path_key(root, "decisions"), "custom",
                      "send options (seed 003) or decisions (seed 004), not both");

    /* request_id: omitted, null or blank means "assign one" (seed 003). */
    {
        json_object *v = json_object_object_get(body, "request_id");
        if (v != NULL && json_object_is_type(v, json_type_string) &&
            json_object_get_string_len(v) == 0) {
            in->request_id = NULL;
        } else {
            in->request_id =
                hp_valid_str(is, root, body, "request_id",
                             (hp_str_rule){false, true, 1, HP_APPROVAL_REQUEST_ID_MAX});
            if (in->request_id != NULL) {
                const char *p = in->request_id;
                while (*p == ' ' || *p == '\t')
                    p++;
                if (*p == '\0')
                    in->request_id = NULL;
            }
        }
    }
    in->correlation_id = hp_valid_str(is, root, body, "correlation_id",
                                      (hp_str_rule){false, true, 0, HP_APPROVAL_CORRELATION_MAX});
    if (form004) {
        const char *message;
        in->source = "v1_decisions";
        in->question = hp_valid_str(is, root, body, "title",
                                    (hp_str_rule){true, false, 1, HP_APPROVAL_QUESTION_MAX});
        message = hp_valid_str(is, root, body, "message",
                               (hp_str_rule){false, true, 0, HP_APPROVAL_CONTEXT_MAX});
        in->context_markdown = message != NULL ? message : "";
        hp__parse_decisions(body, in, is);
    } else {
        in->question = hp_valid_str(is, root, body, "question",
                                    (hp_str_rule){true, false, 1, HP_APPROVAL_QUESTION_MAX});
        in->context_markdown = hp_valid_str(is, root, body, "context_markdown",
                                            (hp_str_rule){true, false, 0, HP_APPROVAL_CONTEXT_MAX});
        hp__parse_options(body, in, is);
    }
    in->notification_summary = hp_valid_str(is, root, body, "notification_summary",
                                            (hp_str_rule){false, true, 0, HP_APPROVAL_SUMMARY_MAX});
    hp__parse_timeout(body, d, in, is);
    if (form004) {
        int64_t secs = 0;
        bool present = false;
        if (hp_valid_int(is, root, body, "timeout_seconds", false, HP_APPROVAL_TIMEOUT_004_MIN,
                         HP_APPROVAL_TIMEOUT_MAX, &secs, &present))
            in->timeout_seconds = (int)secs;
    }
    hp__parse_callback(body, policy, in, is);
    (void)hp_valid_bool(is, root, body, "allow_custom_instruction", false,
                        &in->allow_custom_instruction);
    in->session_id = hp_valid_str(is, root, body, "session_id",
                                  (hp_str_rule){false, true, 1, HP_APPROVAL_ATTR_MAX});
    if (in->session_id != NULL)
        for (const char *p = in->session_id; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                hp_issues_add(is, hp_path_key(root, "session_id"), "invalid_string",
                              "session_id must not contain control characters");
                in->session_id = NULL;
                break;
            }
    in->agent_name = hp_valid_str(is, root, body, "agent_name",
                                  (hp_str_rule){false, true, 1, HP_APPROVAL_ATTR_MAX});
    {
        json_object *m = hp_valid_object(is, root, body, "metadata", false);
        in->metadata = m ? json_object_get(m) : NULL;
    }
    hp__parse_attribution(body, in, is);
    {
        int f = hp_valid_enum(is, root, body, "response_format", false, hp_render_formats);
        if (f >= 0)
            in->response_format = hp_render_formats[f];
    }

    if (hp_issues_count(is) > 0)
        return false;
    canon = hp_approval_canonical(in);
    hp_sha256(canon, strlen(canon), in->hash);
    free(canon);
    return true;
}

void hp_approval_input_deinit(hp_approval_input *in)
{
    json_object_put(in->options);
    json_object_put(in->callback_headers);
    json_object_put(in->metadata);
    in->options = in->callback_headers = in->metadata = NULL;
}

char *hp_approval_canonical(const hp_approval_input *in)
{
    json_object *o = json_object_new_object();
    json_object *t = json_object_new_object();
    json_object *cb = NULL;
    char *s;

    hp_json_set_str(o, "question", in->question);
    hp_json_set_str(o, "context_markdown", in->context_markdown);
    json_object_object_add(o, "options", json_object_get(in->options));
    json_object_object_add(t, "expires_in_seconds", json_object_new_int(in->timeout_seconds));
    hp_json_set_str(t, "mode", in->timeout_mode);
    hp_json_set_str(t, "predefined_instruction", in->predefined_instruction);
    json_object_object_add(o, "timeout", t);
    if (in->callback_url != NULL) {
        cb = json_object_new_object();
        hp_json_set_str(cb, "url", in->callback_url);
        json_object_object_add(cb, "headers",
                               in->callback_headers ? json_object_get(in->callback_headers)
                                                    : json_object_new_object());
    }
    json_object_object_add(o, "callback", cb);
    /* Only a renderer changes what the caller gets back; "raw" stays out so
     * the hashes of seed 003 creates are what they always were. */
    if (in->response_format != NULL && strcmp(in->response_format, "raw") != 0)
        hp_json_set_str(o, "response_format", in->response_format);
    s = hp_json_canonical(o);
    json_object_put(o);
    return s;
}

/* ---- rendering ---------------------------------------------------------- */

static json_object *hp__option_at(const hp_approval_row *r, int idx)
{
    if (r->options == NULL || idx < 0 || (size_t)idx >= json_object_array_length(r->options))
        return NULL;
    return json_object_array_get_idx(r->options, (size_t)idx);
}

static json_object *hp__parse_text(const char *text)
{
    json_object *v = NULL;
    char err[64];
    if (text == NULL || hp_json_parse(text, strlen(text), &v, err, sizeof(err)) != HP_OK)
        return NULL;
    return v;
}

/* {user_id, name} of the deciding user, or NULL (JSON null) when nobody
 * decided (expired, cancelled, pending). */
static json_object *hp__resolved_by(const hp_approval_row *r)
{
    json_object *by;

    if (r->resolved_by_user_id == NULL)
        return NULL;
    by = json_object_new_object();
    hp_json_set_str(by, "user_id", r->resolved_by_user_id);
    hp_json_set_str(by, "name", r->resolved_by_name);
    return by;
}

bool hp_approval_is_004(const hp_approval_row *r)
{
    return (r->source != NULL && strcmp(r->source, "v1_decisions") == 0) ||
           (r->response_format != NULL && strcmp(r->response_format, "raw") != 0);
}

void hp_approval_render_in(const hp_approval_row *r, hp_render_in *in)
{
    json_object *opt = hp__option_at(r, r->selected_option_index);

    memset(in, 0, sizeof(*in));
    in->status = r->status;
    in->decision_key = opt ? hp_json_str(opt, "value") : NULL;
    in->decision_label = opt ? hp_json_str(opt, "label") : NULL;
    in->custom_instruction = r->custom_instruction;
    in->is_timeout_default = r->is_timeout_default;
    in->decided_by = r->resolved_by_name;
}

/* Seed 004's members of a closed approval's result: the notification, the
 * decision's key, the timeout flag and the outcome rendered for the hook. */
static void hp__result_004(const hp_approval_row *r, json_object *opt, json_object *o)
{
    const char *format = r->response_format ? r->response_format : "raw";
    hp_render_in in;

    hp_approval_render_in(r, &in);
    hp_json_set_str(o, "notification_id", r->id);
    hp_json_set_str(o, "decision_key", opt ? hp_json_str(opt, "value") : NULL);
    if (!json_object_object_get_ex(o, "is_timeout_default", NULL))
        json_object_object_add(o, "is_timeout_default",
                               json_object_new_boolean(r->is_timeout_default));
    hp_json_set_str(o, "response_format", format);
    json_object_object_add(o, "response_payload", hp_render(format, &in));
}

json_object *hp_approval_result_json(const hp_approval_row *r)
{
    json_object *o = json_object_new_object();
    json_object *opt;

    hp_json_set_str(o, "request_id", r->request_id);
    if (strcmp(r->status, "pending") == 0) {
        hp_json_set_str(o, "status", r->status);
        return o;
    }
    hp_json_set_str(o, "approval_id", r->id);
    hp_json_set_str(o, "agent_id", r->agent_id);
    hp_json_set_str(o, "correlation_id", r->correlation_id);
    hp_json_set_str(o, "status", r->status);
    opt = hp__option_at(r, r->selected_option_index);
    if (opt != NULL) {
        json_object_object_add(o, "selected_option_index",
                               json_object_new_int(r->selected_option_index));
        hp_json_set_str(o, "selected_option_label", hp_json_str(opt, "label"));
        hp_json_set_str(o, "selected_option_value", hp_json_str(opt, "value"));
    } else {
        json_object_object_add(o, "selected_option_index", NULL);
        json_object_object_add(o, "selected_option_label", NULL);
        json_object_object_add(o, "selected_option_value", NULL);
    }
    hp_json_set_str(o, "custom_instruction", r->custom_instruction);
    json_object_object_add(o, "resolved_by", hp__resolved_by(r));
    hp_json_set_time(o, "resolved_at", r->resolved_at);
    if (strcmp(r->status, "expired") == 0) {
        hp_json_set_str(o, "timeout_mode", r->timeout_mode);
        hp_json_set_str(o, "predefined_instruction",
                        strcmp(r->timeout_mode, "expire_with_predefined_instruction") == 0
                            ? r->predefined_instruction
                            : NULL);
        json_object_object_add(o, "is_timeout_default",
                               json_object_new_boolean(r->is_timeout_default));
    }
    if (hp_approval_is_004(r))
        hp__result_004(r, opt, o);
    return o;
}

json_object *hp_approval_meta_json(const hp_approval_row *r)
{
    json_object *o = json_object_new_object();

    hp_json_set_str(o, "approval_id", r->id);
    hp_json_set_str(o, "request_id", r->request_id);
    hp_json_set_str(o, "agent_id", r->agent_id);
    hp_json_set_str(o, "correlation_id", r->correlation_id);
    hp_json_set_str(o, "status", r->status);
    hp_json_set_str(o, "question", r->question);
    hp_json_set_str(o, "session_id", r->session_id);
    hp_json_set_time(o, "created_at", r->created_at);
    hp_json_set_time(o, "expires_at", r->expires_at);
    hp_json_set_time(o, "resolved_at", r->resolved_at);
    hp_json_set_str(o, "result_delivery_status", r->result_delivery_status);
    hp_json_set_str(o, "result_delivery_error", r->result_delivery_error);
    return o;
}

json_object *hp_approval_review_json(const hp_approval_row *r)
{
    json_object *o = json_object_new_object();
    json_object *opts = json_object_new_array();
    size_t n = r->options ? json_object_array_length(r->options) : 0;

    hp_json_set_str(o, "approval_id", r->id);
    hp_json_set_str(o, "request_id", r->request_id);
    hp_json_set_str(o, "agent_id", r->agent_id);
    hp_json_set_str(o, "agent_name", r->agent_name ? r->agent_name : r->agent_display_name);
    hp_json_set_str(o, "question", r->question);
    hp_json_set_str(o, "context_markdown", r->context_markdown);
    hp_json_set_str(o, "notification_summary", r->notification_summary);
    for (size_t i = 0; i < n; i++) {
        json_object *src = json_object_array_get_idx(r->options, i);
        json_object *d = json_object_new_object();
        json_object *flag = json_object_object_get(src, "is_default_on_timeout");
        json_object_object_add(d, "index", json_object_new_int((int)i));
        hp_json_set_str(d, "label", hp_json_str(src, "label"));
        hp_json_set_str(d, "value", hp_json_str(src, "value"));
        json_object_object_add(d, "is_default_on_timeout",
                               json_object_new_boolean(flag && json_object_get_boolean(flag)));
        json_object_array_add(opts, d);
    }
    json_object_object_add(o, "options", opts);
    json_object_object_add(o, "allow_custom_instruction",
                           json_object_new_boolean(r->allow_custom_instruction));
    hp_json_set_str(o, "status", r->status);
    hp_json_set_str(o, "session_id", r->session_id);
    json_object_object_add(o, "metadata", hp__parse_text(r->metadata));
    hp_json_set_time(o, "created_at", r->created_at);
    hp_json_set_time(o, "expires_at", r->expires_at);
    hp_json_set_time(o, "resolved_at", r->resolved_at);
    json_object_object_add(o, "resolved_by", hp__resolved_by(r));
    json_object_object_add(
        o, "selected_option_index",
        r->selected_option_index >= 0 ? json_object_new_int(r->selected_option_index) : NULL);
    hp_json_set_str(o, "custom_instruction", r->custom_instruction);
    return o;
}
