/*
 * hp_notif: the pure half of seed 004's sessions and messages — body
 * validation and the wire shapes. Nothing here touches the database; the
 * writes are in hp_notif_ops.c and the SQL in hp_store_notif.c.
 */
#include <stdlib.h>
#include <string.h>

#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_mem.h"
#include "hp_notif.h"
#include "hp_str.h"

static bool hp__type_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > HP_NOTIF_TYPE_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return false;
    return true;
}

bool hp_notif_session_id_ok(const char *s)
{
    long n;

    if (s == NULL)
        return false;
    n = hp_utf8_len(s, strlen(s));
    if (n < 1 || n > HP_NOTIF_SESSION_ID_MAX)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* session_id shared by messages and sessions: 1..200 printable code points. */
static const char *hp__session_id(hp_issues *is, json_object *body)
{
    hp_path root = hp_path_root();
    const char *s = hp_valid_str(is, root, body, "session_id",
                                 (hp_str_rule){false, true, 1, HP_NOTIF_SESSION_ID_MAX});
    if (s != NULL && !hp_notif_session_id_ok(s)) {
        hp_issues_add(is, hp_path_key(root, "session_id"), "invalid_string",
                      "session_id must not contain control characters");
        return NULL;
    }
    return s;
}

static json_object *hp__metadata(hp_issues *is, json_object *body)
{
    json_object *m = hp_valid_object(is, hp_path_root(), body, "metadata", false);
    return m ? json_object_get(m) : NULL;
}

bool hp_notif_message_parse(json_object *body, hp_notif_message_input *in, hp_issues *is)
{
    hp_path root = hp_path_root();
    json_object *arr;

    memset(in, 0, sizeof(*in));
    in->type = "info";
    in->message = "";
    in->source = "v1";
    if (!hp_valid_is_object(is, root, body)) {
        return false;
    }
    {
        const char *t =
            hp_valid_str(is, root, body, "type", (hp_str_rule){false, true, 1, HP_NOTIF_TYPE_MAX});
        if (t != NULL && !hp__type_ok(t))
            hp_issues_add(is, hp_path_key(root, "type"), "invalid_string",
                          "type must be a lower-case word (a-z, 0-9, '_' or '-')");
        else if (t != NULL)
            in->type = t;
    }
    in->title =
        hp_valid_str(is, root, body, "title", (hp_str_rule){true, false, 1, HP_NOTIF_TITLE_MAX});
    {
        const char *m = hp_valid_str(is, root, body, "message",
                                     (hp_str_rule){false, true, 0, HP_NOTIF_MESSAGE_MAX});
        if (m != NULL)
            in->message = m;
    }
    arr = hp_valid_array(is, root, body, "buttons", false, 0, HP_NOTIF_BUTTONS_MAX);
    in->buttons = json_object_new_array();
    for (size_t i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
        json_object *b = json_object_array_get_idx(arr, i);
        hp_path at = hp_path_index(hp_path_key(root, "buttons"), (int)i);
        const char *s;
        long cps;

        if (!json_object_is_type(b, json_type_string)) {
            hp_issues_add(is, at, "invalid_type", "Expected string, received %s",
                          hp_valid_type_name(b));
            continue;
        }
        s = json_object_get_string(b);
        cps = hp_utf8_len(s, (size_t)json_object_get_string_len(b));
        if (memchr(s, '\0', (size_t)json_object_get_string_len(b)) != NULL || cps < 0) {
            hp_issues_add(is, at, "invalid_string", "Invalid string");
        } else if (cps < 1) {
            hp_issues_add(is, at, "too_small", "String must contain at least 1 character(s)");
        } else if (cps > HP_NOTIF_BUTTON_MAX) {
            hp_issues_add(is, at, "too_big", "String must contain at most %d character(s)",
                          HP_NOTIF_BUTTON_MAX);
        } else {
            json_object_array_add(in->buttons, json_object_new_string(s));
        }
    }
    (void)hp_valid_bool(is, root, body, "allow_reply", false, &in->allow_reply);
    in->session_id = hp__session_id(is, body);
    in->parent_id = hp_valid_str(is, root, body, "parent_id", (hp_str_rule){false, true, 1, 64});
    if (in->parent_id != NULL && !hp_uuid_valid(in->parent_id)) {
        hp_issues_add(is, hp_path_key(root, "parent_id"), "invalid_string", "Invalid uuid");
        in->parent_id = NULL;
    }
    in->client_event_id = hp_valid_str(is, root, body, "client_event_id",
                                       (hp_str_rule){false, true, 1, HP_NOTIF_EVENT_ID_MAX});
    in->agent_name = hp_valid_str(is, root, body, "agent_name",
                                  (hp_str_rule){false, true, 1, HP_NOTIF_LABEL_MAX});
    in->metadata = hp__metadata(is, body);
    return hp_issues_count(is) == 0;
}

void hp_notif_message_input_deinit(hp_notif_message_input *in)
{
    json_object_put(in->buttons);
    json_object_put(in->metadata);
    in->buttons = in->metadata = NULL;
}

static json_object *hp__parse_text(const char *text)
{
    json_object *v = NULL;
    char err[64];
    if (text == NULL || hp_json_parse(text, strlen(text), &v, err, sizeof(err)) != HP_OK)
        return NULL;
    return v;
}

json_object *hp_notif_message_json(const hp_notif_message *m)
{
    json_object *o = json_object_new_object();

    hp_json_set_str(o, "id", m->id);
    hp_json_set_str(o, "notification_id", m->id);
    hp_json_set_str(o, "project_id", m->agent_id);
    hp_json_set_str(o, "project", m->project);
    hp_json_set_str(o, "session_id", m->session_id);
    hp_json_set_str(o, "parent_id", m->parent_id);
    hp_json_set_str(o, "type", m->type);
    hp_json_set_str(o, "title", m->title);
    hp_json_set_str(o, "message", m->message);
    json_object_object_add(o, "buttons",
                           m->buttons ? json_object_get(m->buttons) : json_object_new_array());
    json_object_object_add(o, "allow_reply", json_object_new_boolean(m->allow_reply));
    hp_json_set_str(o, "client_event_id", m->client_event_id);
    hp_json_set_str(o, "agent_name", m->agent_name);
    json_object_object_add(o, "metadata", hp__parse_text(m->metadata));
    hp_json_set_str(o, "source", m->source);
    hp_json_set_time(o, "created_at", m->created_at);
    return o;
}

bool hp_notif_session_parse(json_object *body, hp_notif_session_input *in, hp_issues *is)
{
    hp_path root = hp_path_root();

    memset(in, 0, sizeof(*in));
    if (body == NULL)
        return true; /* every member is optional; no body is an empty one */
    if (!hp_valid_is_object(is, root, body)) {
        return false;
    }
    in->id = hp__session_id(is, body);
    in->label =
        hp_valid_str(is, root, body, "label", (hp_str_rule){false, true, 1, HP_NOTIF_LABEL_MAX});
    in->client =
        hp_valid_str(is, root, body, "agent", (hp_str_rule){false, true, 1, HP_NOTIF_CLIENT_MAX});
    in->client_version = hp_valid_str(is, root, body, "agent_version",
                                      (hp_str_rule){false, true, 1, HP_NOTIF_CLIENT_MAX});
    in->metadata = hp__metadata(is, body);
    return hp_issues_count(is) == 0;
}

void hp_notif_session_input_deinit(hp_notif_session_input *in)
{
    json_object_put(in->metadata);
    in->metadata = NULL;
}

static void hp__count(json_object *o, const char *key, long long v)
{
    if (v >= 0)
        json_object_object_add(o, key, json_object_new_int64(v));
}

json_object *hp_notif_session_json(const hp_notif_session *s)
{
    json_object *o = json_object_new_object();

    hp_json_set_str(o, "id", s->id);
    hp_json_set_str(o, "project_id", s->agent_id);
    hp_json_set_str(o, "project", s->project);
    hp_json_set_str(o, "label", s->label);
    hp_json_set_str(o, "agent", s->client);
    hp_json_set_str(o, "agent_version", s->client_version);
    json_object_object_add(o, "metadata", hp__parse_text(s->metadata));
    json_object_object_add(o, "implicit", json_object_new_boolean(s->implicit));
    hp_json_set_str(o, "status", s->status);
    hp_json_set_str(o, "error", s->error);
    hp_json_set_time(o, "created_at", s->created_at);
    hp_json_set_time(o, "ended_at", s->ended_at);
    hp__count(o, "message_count", s->messages);
    hp__count(o, "approval_count", s->approvals);
    hp__count(o, "pending_response_count", s->responses_pending);
    return o;
}

json_object *hp_notif_tree_json(const hp_notif_node *nodes, int n)
{
    json_object *roots = json_object_new_array();
    json_object **objs = hp_xcalloc((size_t)(n > 0 ? n : 1), sizeof(*objs));

    for (int i = 0; i < n; i++) {
        const hp_notif_node *x = &nodes[i];
        json_object *o = json_object_new_object();
        int parent = -1;

        hp_json_set_str(o, "notification_id", x->id);
        hp_json_set_str(o, "kind", x->kind);
        hp_json_set_str(o, "type", x->type);
        hp_json_set_str(o, "title", x->title);
        hp_json_set_str(o, "status", x->status);
        hp_json_set_str(o, "parent_id", x->parent_id);
        hp_json_set_time(o, "created_at", x->created_at);
        json_object_object_add(o, "response_count", json_object_new_int64(x->responses));
        json_object_object_add(o, "children", json_object_new_array());
        objs[i] = o;
        /* Only an earlier node can be a parent, so the tree has no cycles. */
        for (int j = 0; x->parent_id != NULL && j < i && parent < 0; j++)
            if (strcmp(nodes[j].id, x->parent_id) == 0)
                parent = j;
        if (parent >= 0)
            json_object_array_add(json_object_object_get(objs[parent], "children"), o);
        else
            json_object_array_add(roots, o);
    }
    free(objs);
    return roots;
}
