/*
 * Unit tests for hp_channel: each kind's settings split into clear config
 * and secret (with defaults filled in), list settings given as JSON arrays or
 * comma-separated strings, unknown settings and bad values refused with a
 * reason naming the setting and never echoing a secret, the outbound policy
 * applied to URLs and SMTP hosts, mail address and delay parsing.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <json-c/json.h>

#include "hp_channel.h"
#include "hp_unit.h"

static hp_urlpolicy *policy;

static hp_err prep(const char *kind, const char *json, json_object **cfg, json_object **sec,
                   char **shown, char *err)
{
    json_object *s = json_tokener_parse(json);
    hp_err rc = hp_channel_prepare(kind, s, policy, cfg, sec, shown, err, HP_ERRBUF);
    json_object_put(s);
    return rc;
}

static const char *get(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : NULL;
}

static void test_kinds(void)
{
    json_object *cfg, *sec;
    char *shown, err[HP_ERRBUF];

    CU_ASSERT_EQUAL_FATAL(prep("ntfy",
                               "{\"url\":\"https://ntfy.sh\",\"topic\":\"a_b-1\",\"token\":\"tk\","
                               "\"tags\":\"warning, robot\"}",
                               &cfg, &sec, &shown, err),
                          HP_OK);
    CU_ASSERT_STRING_EQUAL(get(cfg, "topic"), "a_b-1");
    CU_ASSERT_STRING_EQUAL(get(cfg, "priority"), "4");
    CU_ASSERT_EQUAL(json_object_array_length(json_object_object_get(cfg, "tags")), 2);
    CU_ASSERT_STRING_EQUAL(
        json_object_get_string(json_object_array_get_idx(json_object_object_get(cfg, "tags"), 1)),
        "robot");
    CU_ASSERT_PTR_NULL(get(cfg, "token"));
    CU_ASSERT_STRING_EQUAL(get(sec, "token"), "tk");
    CU_ASSERT_PTR_NULL(shown);
    json_object_put(cfg);
    json_object_put(sec);

    CU_ASSERT_EQUAL_FATAL(prep("email",
                               "{\"host\":\"smtp.example.com\",\"from\":\"a@example.com\","
                               "\"username\":\"u\",\"password\":\"pw\",\"to\":[\"b@example.com\"]}",
                               &cfg, &sec, &shown, err),
                          HP_OK);
    CU_ASSERT_STRING_EQUAL(get(cfg, "port"), "587");
    CU_ASSERT_STRING_EQUAL(get(cfg, "tls"), "starttls");
    CU_ASSERT_STRING_EQUAL(get(sec, "password"), "pw");
    CU_ASSERT_PTR_NULL(get(cfg, "password"));
    json_object_put(cfg);
    json_object_put(sec);

    CU_ASSERT_EQUAL_FATAL(
        prep("webhook", "{\"url\":\"https://example.com/h\"}", &cfg, &sec, &shown, err), HP_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(shown);
    CU_ASSERT_EQUAL(strncmp(shown, "whsec_", 6), 0);
    CU_ASSERT_STRING_EQUAL(get(sec, "secret"), shown);
    free(shown);
    json_object_put(cfg);
    json_object_put(sec);

    CU_ASSERT_EQUAL_FATAL(prep("slack", "{\"webhook_url\":\"https://hooks.slack.com/services/x\"}",
                               &cfg, &sec, &shown, err),
                          HP_OK);
    CU_ASSERT_STRING_EQUAL(get(cfg, "interactive"), "false");
    CU_ASSERT_PTR_NULL(get(cfg, "webhook_url"));
    CU_ASSERT_STRING_EQUAL(get(sec, "webhook_url"), "https://hooks.slack.com/services/x");
    json_object_put(cfg);
    json_object_put(sec);

    CU_ASSERT_EQUAL_FATAL(prep("webpush", "{}", &cfg, &sec, &shown, err), HP_OK);
    CU_ASSERT_PTR_NULL(sec);
    CU_ASSERT_EQUAL(json_object_array_length(json_object_object_get(cfg, "users")), 0);
    json_object_put(cfg);
}

static void refused(const char *kind, const char *json, const char *reason)
{
    json_object *cfg = NULL, *sec = NULL;
    char *shown = NULL, err[HP_ERRBUF] = "";

    CU_ASSERT_EQUAL(prep(kind, json, &cfg, &sec, &shown, err), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_PTR_NULL(sec);
    CU_ASSERT_PTR_NULL(shown);
    if (strstr(err, reason) == NULL)
        fprintf(stderr, "\nwanted \"%s\" in \"%s\"\n", reason, err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, reason));
}

static void test_refused(void)
{
    refused("ntfy", "{\"url\":\"https://ntfy.sh\"}", "topic: required");
    refused("ntfy", "{\"url\":\"ftp://ntfy.sh\",\"topic\":\"t\"}", "url: must be an http");
    refused("ntfy", "{\"url\":\"http://127.0.0.1/\",\"topic\":\"t\"}", "url: host is a loopback");
    refused("ntfy", "{\"url\":\"https://ntfy.sh\",\"topic\":\"t\",\"priority\":9}", "priority:");
    refused("ntfy", "{\"url\":\"https://ntfy.sh\",\"topic\":\"t\",\"tags\":[1]}", "tags:");
    refused("ntfy", "{\"url\":\"https://ntfy.sh\",\"topic\":\"t\",\"colour\":\"red\"}",
            "colour: not a setting of the ntfy kind");
    /* A refused Slack URL is a credential: the reason names the rule only. */
    refused("slack", "{\"webhook_url\":\"http://10.0.0.1/services/SECRETPART\"}",
            "webhook_url: host is a private address");
    refused("email", "{\"host\":\"smtp.example.com\",\"from\":\"a@example.com\",\"tls\":\"ssl\"}",
            "tls:");
    refused("email",
            "{\"host\":\"smtp.example.com\",\"from\":\"a@example.com\",\"password\":\"p\"}",
            "password: needs a username");
    refused("email", "{\"host\":\"bad host\",\"from\":\"a@example.com\"}", "host:");
    refused("email", "{\"host\":\"smtp.example.com\",\"from\":\"a@example.com\",\"port\":\"0\"}",
            "port:");
    refused("webpush", "{\"users\":[\"nope\"]}", "users: item 1 is not a user id");
    refused("pager", "{}", "kind:");
    refused("webhook", "[]", "settings: must be an object");
    {
        json_object *cfg, *sec;
        char *shown, err[HP_ERRBUF];
        CU_ASSERT_EQUAL(prep("slack", "{\"webhook_url\":\"http://10.0.0.1/services/SECRETPART\"}",
                             &cfg, &sec, &shown, err),
                        HP_ERR_INVALID_PAYLOAD);
        CU_ASSERT_PTR_NULL(strstr(err, "SECRETPART"));
    }
}

static void test_email_and_delay(void)
{
    int s = -1;
    char url[128];

    CU_ASSERT_TRUE(hp_channel_email_ok("a.b+c@example.co.uk"));
    CU_ASSERT_FALSE(hp_channel_email_ok("a@b@c"));
    CU_ASSERT_FALSE(hp_channel_email_ok("a b@c"));
    CU_ASSERT_FALSE(hp_channel_email_ok("a@b\r\nBcc: x@y"));
    CU_ASSERT_FALSE(hp_channel_email_ok("<a@b>"));
    CU_ASSERT_FALSE(hp_channel_email_ok("@b"));
    CU_ASSERT_FALSE(hp_channel_email_ok(NULL));
    CU_ASSERT_TRUE(hp_channel_delay_parse("15", &s) && s == 900);
    CU_ASSERT_TRUE(hp_channel_delay_parse("90s", &s) && s == 90);
    CU_ASSERT_TRUE(hp_channel_delay_parse("2h", &s) && s == 7200);
    CU_ASSERT_TRUE(hp_channel_delay_parse("7d", &s) && s == 604800);
    CU_ASSERT_TRUE(hp_channel_delay_parse("off", &s) && s == 0);
    CU_ASSERT_FALSE(hp_channel_delay_parse("8d", &s));
    CU_ASSERT_FALSE(hp_channel_delay_parse("1w", &s));
    CU_ASSERT_FALSE(hp_channel_delay_parse("-5", &s));
    CU_ASSERT_FALSE(hp_channel_delay_parse("", &s));
    CU_ASSERT_FALSE(hp_channel_delay_parse("s", &s));
    CU_ASSERT_TRUE(hp_channel_smtp_check_url("::1", 25, url, sizeof(url)));
    CU_ASSERT_STRING_EQUAL(url, "http://[::1]:25/");
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"kinds", test_kinds},
        {"refused", test_refused},
        {"email and delay", test_email_and_delay},
        {NULL, NULL},
    };
    char err[HP_ERRBUF];
    int rc;

    if (hp_urlpolicy_new("", &policy, err, sizeof(err)) != HP_OK)
        return 2;
    rc = hp_unit_main("hp_channel", tests);
    hp_urlpolicy_free(policy);
    return rc;
}
