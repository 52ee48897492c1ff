/*
 * Unit tests for hp_urlpolicy: seed 004's table of refused URL forms (each
 * refused with a reason), public URLs accepted, the allow list (hosts,
 * subdomains, IPs, CIDRs, bad entries), address rules including IPv4-mapped,
 * NAT64 and 6to4 forms, and the resolved check for IP literals. No network:
 * the only names resolved are the ones in /etc/hosts ("localhost").
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_urlpolicy.h"
#include "hp_unit.h"

static hp_urlpolicy *policy(const char *allow)
{
    hp_urlpolicy *p = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(hp_urlpolicy_new(allow, &p, err, sizeof(err)), HP_OK);
    return p;
}

static void refused(const hp_urlpolicy *p, const char *url)
{
    char why[256] = "";
    hp_err rc = hp_urlpolicy_check_url(p, url, why, sizeof(why));
    if (rc != HP_ERR_INVALID_PAYLOAD)
        fprintf(stderr, "\nnot refused: %s\n", url);
    CU_ASSERT_EQUAL(rc, HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT(why[0] != '\0');
}

static void accepted(const hp_urlpolicy *p, const char *url)
{
    char why[256] = "";
    hp_err rc = hp_urlpolicy_check_url(p, url, why, sizeof(why));
    if (rc != HP_OK)
        fprintf(stderr, "\nrefused: %s (%s)\n", url, why);
    CU_ASSERT_EQUAL(rc, HP_OK);
}

/* Seed 004: "rejects empty/invalid URLs, embedded credentials, invalid ports,
 * localhost and Docker-internal hosts, private/link-local/loopback/multicast/
 * unspecified IPs, local-only suffixes such as .localhost, .local, .internal,
 * .lan, .home, and single-label or all-numeric hostnames". */
static void test_seed004_table(void)
{
    hp_urlpolicy *p = policy(NULL);
    static const char *const bad[] = {
        /* empty / invalid / scheme */
        "", "not a url", "http://", "http:///path", "ftp://example.com/", "file:///etc/passwd",
        "gopher://example.com/", "javascript:alert(1)", "//example.com/", "http://exa mple.com/",
        "http://exa_mple.com/", "http://-example.com/", "http://example-.com/",
        "http://ex%41mple.com/", "http://example.com./",
        /* embedded credentials */
        "http://user:pass@example.com/", "https://user@example.com/", "http://:pw@example.com/",
        "http://@example.com/",
        /* invalid ports */
        "http://example.com:0/", "http://example.com:65536/", "http://example.com:99999/",
        "http://example.com:-1/", "http://example.com:abc/",
        /* localhost and Docker-internal hosts */
        "http://localhost/", "http://LOCALHOST:8080/", "http://localhost.localdomain/",
        "http://host.docker.internal/", "http://gateway.docker.internal/",
        "http://kubernetes.docker.internal/", "http://host.containers.internal/",
        "http://docker.for.mac.localhost/", "http://metadata.google.internal/",
        /* loopback */
        "http://127.0.0.1/", "http://127.1.2.3:8080/", "http://[::1]/", "http://[0:0:0:0:0:0:0:1]/",
        /* private */
        "http://10.0.0.1/", "http://172.16.0.1/", "http://172.31.255.255/", "http://192.168.1.1/",
        "http://100.64.0.1/", "http://[fc00::1]/", "http://[fd12:3456::1]/",
        /* link-local (cloud metadata) */
        "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://[fe80::1%25eth0]/",
        /* multicast */
        "http://224.0.0.1/", "http://239.255.255.250/", "http://[ff02::1]/",
        /* unspecified / this network */
        "http://0.0.0.0/", "http://0.1.2.3/", "http://[::]/",
        /* reserved / documentation / broadcast */
        "http://240.0.0.1/", "http://255.255.255.255/", "http://192.0.2.1/", "http://198.51.100.7/",
        "http://203.0.113.9/", "http://198.18.0.1/", "http://[2001:db8::1]/",
        /* IPv4 inside IPv6 */
        "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::ffff:10.0.0.1]/",
        "http://[::ffff:169.254.169.254]/", "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/",
        "http://[::127.0.0.1]/",
        /* all-numeric and disguised IPv4 */
        "http://2130706433/", "http://0x7f000001/", "http://0x7f.1/", "http://0177.0.0.1/",
        "http://127.1/", "http://017700000001/", "http://1.2.3.4.5/", "http://08.8.8.8/",
        "http://123/", "http://example.123/",
        /* local-only suffixes */
        "http://printer.localhost/", "http://nas.local/", "http://db.internal/",
        "http://router.lan/", "http://box.home/", "http://x.home.arpa/", "http://a.localdomain/",
        /* single-label */
        "http://intranet/", "http://metadata/", "https://router:8443/",
        /* forms curl reads with another host than a naive parse: the host
         * judged must be the host connected to (found by the fuzzer) */
        "http:/localhost://evil.example.com/", "http:localhost/", "http:/10.0.0.1/",
        "https:/tp://1.7.0tp:/tp://1..0.1/"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        refused(p, bad[i]);
    hp_urlpolicy_free(p);
}

static void test_public_accepted(void)
{
    hp_urlpolicy *p = policy("");

    accepted(p, "https://example.com/hooks/holdpoint");
    accepted(p, "http://hooks.example.com:8080/cb?x=1#frag");
    accepted(p, "https://EXAMPLE.com/");
    accepted(p, "https://n8n.my-company.io/webhook/abc");
    accepted(p, "http://8.8.8.8/");
    accepted(p, "https://93.184.216.34:443/");
    accepted(p, "http://[2606:4700:4700::1111]/");
    accepted(p, "http://1.example.com/");
    accepted(p, "http://xn--bcher-kva.example/");
    hp_urlpolicy_free(p);
}

static void test_listed(void)
{
    hp_urlpolicy *p = NULL;
    char err[128];

    CU_ASSERT_EQUAL_FATAL(
        hp_urlpolicy_new("127.0.0.1,10.1.0.0/16,fd00::/8,proxy.example", &p, err, sizeof(err)),
        HP_OK);
    CU_ASSERT_TRUE(hp_urlpolicy_listed(p, "127.0.0.1"));
    CU_ASSERT_TRUE(hp_urlpolicy_listed(p, "10.1.255.3"));
    CU_ASSERT_TRUE(hp_urlpolicy_listed(p, "fd00::5"));
    CU_ASSERT_FALSE(hp_urlpolicy_listed(p, "127.0.0.2"));
    CU_ASSERT_FALSE(hp_urlpolicy_listed(p, "10.2.0.1"));
    CU_ASSERT_FALSE(hp_urlpolicy_listed(p, "8.8.8.8"));       /* public is not listed */
    CU_ASSERT_FALSE(hp_urlpolicy_listed(p, "proxy.example")); /* names never match */
    CU_ASSERT_FALSE(hp_urlpolicy_listed(p, NULL));
    hp_urlpolicy_free(p);
    CU_ASSERT_FALSE(hp_urlpolicy_listed(NULL, "127.0.0.1"));
}

static void test_allow_list(void)
{
    hp_urlpolicy *p = policy(" 127.0.0.1 , 10.0.0.0/8,fd00::/8, hooks.internal ,*.corp.lan,::1");

    accepted(p, "http://127.0.0.1:8080/cb");
    refused(p, "http://127.0.0.2/");
    accepted(p, "http://10.1.2.3/");
    accepted(p, "http://[fd00::5]/");
    accepted(p, "http://[::1]:9/");
    accepted(p, "http://[::ffff:127.0.0.1]/"); /* judged by the IPv4 inside */
    accepted(p, "http://hooks.internal/");
    accepted(p, "http://HOOKS.internal:81/");
    refused(p, "http://other.internal/");
    accepted(p, "http://a.corp.lan/");
    accepted(p, "http://b.a.corp.lan/");
    refused(p, "http://corp.lan/");
    refused(p, "http://192.168.0.1/");
    /* The allow list never exempts the scheme, credentials or port rules. */
    refused(p, "ftp://127.0.0.1/");
    refused(p, "http://u:p@127.0.0.1/");
    refused(p, "http://127.0.0.1:0/");
    /* Numeric disguises stay refused even when the address is allowed. */
    refused(p, "http://2130706433/");
    refused(p, "http://127.1/");
    hp_urlpolicy_free(p);
}

static void test_bad_allow_entries(void)
{
    static const char *const bad[] = {"10.0.0.0/33", "::1/129",     "exa_mple.com",
                                      "-x.com",      "1.2.3.4/abc", "http://x.com"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hp_urlpolicy *p = NULL;
        char err[256] = "";
        CU_ASSERT_EQUAL(hp_urlpolicy_new(bad[i], &p, err, sizeof(err)), HP_ERR_CONFIG);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "HOLDPOINT_OUTBOUND_ALLOW"));
        CU_ASSERT_PTR_NULL(p);
    }
}

static hp_err check4(const hp_urlpolicy *p, const char *a)
{
    struct sockaddr_in sa;
    char why[128];
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET, a, &sa.sin_addr), 1);
    return hp_urlpolicy_check_addr(p, (struct sockaddr *)&sa, why, sizeof(why));
}

static hp_err check6(const hp_urlpolicy *p, const char *a)
{
    struct sockaddr_in6 sa;
    char why[128];
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET6, a, &sa.sin6_addr), 1);
    return hp_urlpolicy_check_addr(p, (struct sockaddr *)&sa, why, sizeof(why));
}

static void test_addresses(void)
{
    hp_urlpolicy *p = policy("192.168.7.0/24");

    CU_ASSERT_EQUAL(check4(p, "1.1.1.1"), HP_OK);
    CU_ASSERT_EQUAL(check4(p, "100.63.255.255"), HP_OK);
    CU_ASSERT_EQUAL(check4(p, "100.128.0.0"), HP_OK);
    CU_ASSERT_EQUAL(check4(p, "172.15.255.255"), HP_OK);
    CU_ASSERT_EQUAL(check4(p, "172.32.0.0"), HP_OK);
    CU_ASSERT_EQUAL(check4(p, "100.64.0.0"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check4(p, "100.127.255.255"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check4(p, "169.254.0.1"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check4(p, "0.255.255.255"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check4(p, "192.168.7.9"), HP_OK); /* allowed range */
    CU_ASSERT_EQUAL(check4(p, "192.168.8.9"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check6(p, "2606:4700:4700::1111"), HP_OK);
    CU_ASSERT_EQUAL(check6(p, "::ffff:1.1.1.1"), HP_OK);
    CU_ASSERT_EQUAL(check6(p, "::ffff:192.168.7.1"), HP_OK);
    CU_ASSERT_EQUAL(check6(p, "::ffff:192.168.8.1"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check6(p, "::1"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check6(p, "::"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check6(p, "fe80::abcd"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check6(p, "febf::1"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check6(p, "fc00::"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check6(p, "fdff:ffff::1"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check6(p, "ff05::2"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check6(p, "64:ff9b::a00:1"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check6(p, "64:ff9b::101:101"), HP_OK);
    CU_ASSERT_EQUAL(check6(p, "2002:a00:1::1"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check6(p, "2001:db8::1"), HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(check6(p, "2001:0::1"), HP_ERR_INVALID_PAYLOAD); /* Teredo */
    CU_ASSERT_EQUAL(check6(p, "4000::1"), HP_ERR_INVALID_PAYLOAD);   /* not 2000::/3 */
    hp_urlpolicy_free(p);
}

static void test_resolve_literal_and_pin(void)
{
    hp_urlpolicy *p = policy("127.0.0.1,localhost");
    hp_urlpolicy_target t;
    char why[256];

    CU_ASSERT_EQUAL(hp_urlpolicy_resolve(p, "http://127.0.0.1:8123/x", &t, why, sizeof(why)),
                    HP_OK);
    CU_ASSERT_TRUE(t.literal);
    CU_ASSERT_EQUAL(t.port, 8123);
    CU_ASSERT_STRING_EQUAL(t.resolve, "");
    /* An allowed name resolves from /etc/hosts and is pinned to what was
     * checked. */
    CU_ASSERT_EQUAL(hp_urlpolicy_resolve(p, "http://localhost:9/x", &t, why, sizeof(why)), HP_OK);
    CU_ASSERT_FALSE(t.literal);
    CU_ASSERT_TRUE(t.naddrs >= 1);
    CU_ASSERT_EQUAL(strncmp(t.resolve, "localhost:9:", 12), 0);
    hp_urlpolicy_free(p);

    /* Without the allow entry the same URL is refused before any lookup, and
     * a literal loopback is refused too. */
    p = policy(NULL);
    CU_ASSERT_EQUAL(hp_urlpolicy_resolve(p, "http://localhost:9/x", &t, why, sizeof(why)),
                    HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_EQUAL(hp_urlpolicy_resolve(p, "http://127.0.0.1:9/x", &t, why, sizeof(why)),
                    HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "loopback"));
    hp_urlpolicy_free(p);

    /* A host allowed by name but resolving to loopback is accepted only
     * because the name is listed; a listed range does not exempt a name's
     * other rules. */
    p = policy("127.0.0.0/8");
    CU_ASSERT_EQUAL(hp_urlpolicy_resolve(p, "http://localhost:9/x", &t, why, sizeof(why)),
                    HP_ERR_INVALID_PAYLOAD);
    hp_urlpolicy_free(p);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"seed 004 table of refused forms", test_seed004_table},
        {"public urls accepted", test_public_accepted},
        {"allow list", test_allow_list},
        {"listed addresses", test_listed},
        {"bad allow entries", test_bad_allow_entries},
        {"address rules", test_addresses},
        {"resolve literal and pin", test_resolve_literal_and_pin},
        {NULL, NULL},
    };
    return hp_unit_main("hp_urlpolicy", tests);
}
