/*
 * hp_ask: seed 000 validation and shapes over the approval model; see
 * hp_ask.h for the mapping of confirm, select and input onto options and
 * free text.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hp_ask.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_mem.h"
#include "hp_str.h"

static const char *const hp__types[] = {"confirm", "select", "input", NULL};

const char *hp_ask_type_name(hp_ask_type t)
{
    return (int)t >= 0 && t <= HP_ASK_INPUT ? hp__types[t] : "confirm";
}

static json_object *hp__option(const char *label, const char *value)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "label", json_object_new_string(label));
    json_object_object_add(o, "value", json_object_new_string(value));
    json_object_object_add(o, "is_default_on_timeout", json_object_new_boolean(0));
    return o;
}

/* True when s has something besides white space. */
static bool hp__not_blank(const char *s)
{
    for (; *s; s++)
        if (strchr(" \t\r\n", *s) == NULL)
            return true;
    return false;
}

/* options: required (2..6 distinct strings) for select, refused when not
 * empty for the other types. */
static void hp__parse_options(json_object *body, hp_ask_input *in, hp_issues *is)
{
    hp_path root = hp_path_root();
    hp_path at = hp_path_key(root, "options");
    json_object *arr;

    in->approval.options = json_object_new_array();
    if (in->type == HP_ASK_CONFIRM) {
        json_object_array_add(in->approval.options, hp__option("Yes", "yes"));
        json_object_array_add(in->approval.options, hp__option("No", "no"));
    }
    if (in->type != HP_ASK_SELECT) {
        arr = json_object_object_get(body, "options");
        if (arr != NULL &&
            !(json_object_is_type(arr, json_type_array) && json_object_array_length(arr) == 0))
            hp_issues_add(is, at, "custom", "options are only allowed with type \"select\"");
        return;
    }
    arr = hp_valid_array(is, root, body, "options", true, HP_ASK_OPTIONS_MIN, HP_ASK_OPTIONS_MAX);
    if (arr == NULL)
        return;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        hp_path oat = hp_path_index(at, (int)i);
        const char *s;
        long n;

        if (!json_object_is_type(v, json_type_string)) {
            hp_issues_add(is, oat, "invalid_type", "Expected string, received %s",
                          hp_valid_type_name(v));
            continue;
        }
        s = json_object_get_string(v);
        n = hp_utf8_len(s, (size_t)json_object_get_string_len(v));
        if (n < 0 || strlen(s) != (size_t)json_object_get_string_len(v)) {
            hp_issues_add(is, oat, "invalid_string", "Invalid string");
            continue;
        }
        if (!hp__not_blank(s)) {
            hp_issues_add(is, oat, "too_small", "An option must not be empty");
            continue;
        }
        if (n > HP_ASK_OPTION_MAX) {
            hp_issues_add(is, oat, "too_big", "String must contain at most %d character(s)",
                          HP_ASK_OPTION_MAX);
            continue;
        }
        for (size_t k = 0; k < i; k++) {
            json_object *prev = json_object_array_get_idx(arr, k);
            if (json_object_is_type(prev, json_type_string) &&
                strcmp(json_object_get_string(prev), s) == 0) {
                hp_issues_add(is, oat, "custom", "Options must be distinct");
                s = NULL;
                break;
            }
        }
        if (s != NULL)
            json_object_array_add(in->approval.options, hp__option(s, s));
    }
}

bool hp_ask_parse(json_object *body, const hp_urlpolicy *policy, bool default_wait,
                  int default_timeout, hp_ask_input *in, hp_issues *is)
{
    hp_path root = hp_path_root();
    hp_approval_input *a = &in->approval;
    int64_t n = 0;
    bool present = false;
    int t;
    char *canon;

    memset(in, 0, sizeof(*in));
    in->wait = default_wait;
    in->timeout_seconds = default_timeout;
    a->allow_custom_instruction = false;
    a->source = "ask";
    a->timeout_seconds = HP_ASK_OPEN_SECONDS;
    a->timeout_mode = "expire_no_action";
    if (!hp_valid_is_object(is, root, body)) {
        return false;
    }

    a->question = hp_valid_str(is, root, body, "question",
                               (hp_str_rule){true, false, 1, HP_APPROVAL_QUESTION_MAX});
    if (a->question != NULL && !hp__not_blank(a->question)) {
        hp_issues_add(is, hp_path_key(root, "question"), "too_small", "question must not be empty");
        a->question = NULL;
    }
    {
        size_t before = hp_issues_count(is);
        t = hp_valid_enum(is, root, body, "type", false, hp__types);
        in->type = t > 0 ? (hp_ask_type)t : HP_ASK_CONFIRM;
        a->allow_custom_instruction = in->type == HP_ASK_INPUT;
        if (hp_issues_count(is) == before)
            hp__parse_options(body, in, is); /* which options fit depends on the type */
        else
            in->approval.options = json_object_new_array();
    }
    a->context_markdown = hp_valid_str(is, root, body, "context",
                                       (hp_str_rule){false, true, 0, HP_APPROVAL_CONTEXT_MAX});
    if (a->context_markdown == NULL)
        a->context_markdown = "";
    a->agent_name = hp_valid_str(is, root, body, "agentName",
                                 (hp_str_rule){false, true, 1, HP_APPROVAL_ATTR_MAX});
    a->session_id = hp_valid_str(is, root, body, "sessionId",
                                 (hp_str_rule){false, true, 1, HP_APPROVAL_ATTR_MAX});
    a->callback_url =
        hp_valid_str(is, root, body, "callbackUrl", (hp_str_rule){false, true, 1, 2048});
    if (a->callback_url != NULL &&
        !hp_approval_callback_url_check(a->callback_url, policy, is,
                                        hp_path_key(root, "callbackUrl")))
        a->callback_url = NULL;
    (void)hp_valid_bool(is, root, body, "wait", false, &in->wait);
    if (hp_valid_int(is, root, body, "timeoutSeconds", false, 1, HP_ASK_WAIT_MAX, &n, &present))
        in->timeout_seconds = (int)n;
    if (hp_valid_int(is, root, body, "expiresInSeconds", false, HP_APPROVAL_TIMEOUT_MIN,
                     HP_APPROVAL_TIMEOUT_MAX, &n, &present))
        a->timeout_seconds = (int)n;

    a->metadata = json_object_new_object();
    json_object_object_add(a->metadata, "ask_type",
                           json_object_new_string(hp_ask_type_name(in->type)));
    if (hp_issues_count(is) > 0)
        return false;
    /* No request_id is ever supplied here, so the hash only fills the
     * column; it is computed like every other approval's. */
    canon = hp_approval_canonical(a);
    hp_sha256(canon, strlen(canon), a->hash);
    free(canon);
    return true;
}

void hp_ask_input_deinit(hp_ask_input *in)
{
    hp_approval_input_deinit(&in->approval);
}

bool hp_ask_is_question(const hp_approval_row *r)
{
    return r->source != NULL && strcmp(r->source, "ask") == 0;
}

const char *hp_ask_status(const hp_approval_row *r)
{
    if (strcmp(r->status, "selected_option") == 0 || strcmp(r->status, "custom_instruction") == 0)
        return "answered";
    return r->status; /* pending, expired, cancelled */
}

const char *hp_ask_value(const hp_approval_row *r)
{
    if (strcmp(r->status, "custom_instruction") == 0)
        return r->custom_instruction;
    if (strcmp(r->status, "selected_option") == 0 && r->options != NULL &&
        r->selected_option_index >= 0 &&
        (size_t)r->selected_option_index < json_object_array_length(r->options))
        return hp_json_str(json_object_array_get_idx(r->options, (size_t)r->selected_option_index),
                           "value");
    return NULL;
}

const char *hp_ask_type_of(const hp_approval_row *r)
{
    json_object *m = NULL;
    char err[64];
    const char *t = "confirm";

    if (r->metadata != NULL &&
        hp_json_parse(r->metadata, strlen(r->metadata), &m, err, sizeof(err)) == HP_OK) {
        const char *v = hp_json_str(m, "ask_type");
        for (int i = 0; v != NULL && hp__types[i] != NULL; i++)
            if (strcmp(v, hp__types[i]) == 0)
                t = hp__types[i];
    }
    json_object_put(m);
    return t;
}

json_object *hp_ask_state_json(const hp_approval_row *r, bool timed_out, const char *poll_url)
{
    json_object *o = json_object_new_object();
    const char *status = hp_ask_status(r);
    bool answered = strcmp(status, "answered") == 0;
    bool open = strcmp(status, "pending") == 0;

    hp_json_set_str(o, "correlationId", r->request_id);
    hp_json_set_str(o, "status", open && timed_out ? "timeout" : status);
    json_object_object_add(o, "answered", json_object_new_boolean(answered));
    if (answered) {
        hp_json_set_str(o, "value", hp_ask_value(r));
        hp_json_set_time(o, "answeredAt", r->resolved_at);
    }
    if (open && poll_url != NULL)
        hp_json_set_str(o, "pollUrl", poll_url);
    return o;
}

json_object *hp_ask_callback_json(const hp_approval_row *r)
{
    json_object *o;

    if (strcmp(hp_ask_status(r), "answered") != 0)
        return NULL;
    o = json_object_new_object();
    hp_json_set_str(o, "correlationId", r->request_id);
    hp_json_set_str(o, "answer", hp_ask_value(r));
    hp_json_set_time(o, "answeredAt", r->resolved_at);
    return o;
}

bool hp_ask_send_parse(json_object *body, hp_notif_message_input *in, hp_issues *is)
{
    hp_path root = hp_path_root();

    memset(in, 0, sizeof(*in));
    in->type = "info";
    in->source = "ask";
    in->buttons = json_object_new_array();
    if (!hp_valid_is_object(is, root, body)) {
        return false;
    }
    in->title =
        hp_valid_str(is, root, body, "title", (hp_str_rule){true, false, 1, HP_NOTIF_TITLE_MAX});
    if (in->title != NULL && !hp__not_blank(in->title)) {
        hp_issues_add(is, hp_path_key(root, "title"), "too_small", "title must not be empty");
        in->title = NULL;
    }
    in->message =
        hp_valid_str(is, root, body, "body", (hp_str_rule){false, true, 0, HP_NOTIF_MESSAGE_MAX});
    if (in->message == NULL)
        in->message = "";
    in->agent_name = hp_valid_str(is, root, body, "agentName",
                                  (hp_str_rule){false, true, 1, HP_APPROVAL_ATTR_MAX});
    in->session_id = hp_valid_str(is, root, body, "sessionId",
                                  (hp_str_rule){false, true, 1, HP_NOTIF_SESSION_ID_MAX});
    if (in->session_id != NULL && !hp_notif_session_id_ok(in->session_id)) {
        hp_issues_add(is, hp_path_key(root, "sessionId"), "invalid_string",
                      "sessionId must not contain control characters");
        in->session_id = NULL;
    }
    return hp_issues_count(is) == 0;
}

json_object *hp_ask_sent_json(const hp_notif_message *m)
{
    json_object *o = json_object_new_object();
    hp_json_set_str(o, "id", m->id);
    hp_json_set_time(o, "createdAt", m->created_at);
    return o;
}

char *hp_ask_poll_url(const char *public_url, const char *correlation_id)
{
    size_t n = strlen(public_url);
    char *id = curl_easy_escape(NULL, correlation_id, 0);
    char *url;

    if (id == NULL)
        abort(); /* out of memory, as hp_mem does */
    while (n > 0 && public_url[n - 1] == '/')
        n--;
    url = hp_xasprintf("%.*s" HP_ASK_BASE_PATH "/ask/%s", (int)n, public_url, id);
    curl_free(id);
    return url;
}
