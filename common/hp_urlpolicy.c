/*
 * hp_urlpolicy: seed 004's outbound URL rules. URLs are parsed with libcurl's
 * URL API, the same parser that later sends the request, so the host we check
 * is the host curl connects to. libcurl normalises numeric IPv4 forms
 * ("2130706433", "0x7f.1", "0177.0.0.1" all become "127.0.0.1"), so the host
 * as written is also cut out of the URL text and judged on its own: any
 * numeric form other than a canonical dotted quad is refused as an
 * all-numeric host name, whatever address it stands for.
 *
 * Address rules follow the IANA special-purpose registries: only globally
 * routable unicast is public. IPv4-mapped, NAT64 (64:ff9b::/96) and 6to4
 * addresses are judged by the IPv4 address inside them. This module does not
 * connect anywhere and does not log; the sender pins its connection with the
 * CURLOPT_RESOLVE entry built here.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hp_mem.h"
#include "hp_str.h"
#include "hp_urlpolicy.h"

typedef struct hp__net {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
} hp__net;

struct hp_urlpolicy {
    char **hosts; /* lower case; a leading "." matches every subdomain */
    size_t nhosts;
    hp__net *nets;
    size_t nnets;
};

/* ---- allow list --------------------------------------------------------- */

static char hp__lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Parses "1.2.3.4", "1.2.3.0/24", "::1", "fd00::/8" into *n. */
static bool hp__net_parse(const char *s, hp__net *n)
{
    char buf[64];
    char *slash;
    long long prefix = -1;

    if (hp_strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
        return false;
    slash = strchr(buf, '/');
    if (slash != NULL) {
        *slash = '\0';
        if (!hp_parse_ll(slash + 1, 0, 128, &prefix))
            return false;
    }
    memset(n, 0, sizeof(*n));
    if (inet_pton(AF_INET, buf, n->addr) == 1) {
        n->family = AF_INET;
        if (prefix > 32)
            return false;
        n->prefix = prefix < 0 ? 32 : (int)prefix;
        return true;
    }
    if (inet_pton(AF_INET6, buf, n->addr) == 1) {
        n->family = AF_INET6;
        n->prefix = prefix < 0 ? 128 : (int)prefix;
        return true;
    }
    return false;
}

/* True when the first prefix bits of a and b agree. */
static bool hp__prefix_eq(const unsigned char *a, const unsigned char *b, int prefix)
{
    int full = prefix / 8, rest = prefix % 8;

    if (memcmp(a, b, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

static bool hp__allowed_addr(const hp_urlpolicy *p, int family, const unsigned char *addr)
{
    for (size_t i = 0; p != NULL && i < p->nnets; i++)
        if (p->nets[i].family == family && hp__prefix_eq(p->nets[i].addr, addr, p->nets[i].prefix))
            return true;
    return false;
}

bool hp_urlpolicy_listed(const hp_urlpolicy *p, const char *ip)
{
    unsigned char a[16];

    if (ip == NULL)
        return false;
    if (inet_pton(AF_INET, ip, a) == 1)
        return hp__allowed_addr(p, AF_INET, a);
    return inet_pton(AF_INET6, ip, a) == 1 && hp__allowed_addr(p, AF_INET6, a);
}

/* host is lower case without a trailing dot. */
static bool hp__allowed_host(const hp_urlpolicy *p, const char *host)
{
    size_t hl = strlen(host);

    for (size_t i = 0; p != NULL && i < p->nhosts; i++) {
        const char *h = p->hosts[i];
        if (h[0] == '.') {
            size_t sl = strlen(h);
            if (hl > sl && strcmp(host + hl - sl, h) == 0)
                return true;
        } else if (strcmp(h, host) == 0) {
            return true;
        }
    }
    return false;
}

static bool hp__ldh_name(const char *s)
{
    size_t label = 0;

    if (*s == '\0' || strlen(s) > 253)
        return false;
    for (const char *c = s;; c++) {
        if (*c == '.' || *c == '\0') {
            if (label == 0 || label > 63 || c[-1] == '-')
                return false;
            if (*c == '\0')
                return true;
            label = 0;
            continue;
        }
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
            return false;
        if (label == 0 && *c == '-')
            return false;
        label++;
    }
}

hp_err hp_urlpolicy_new(const char *allow, hp_urlpolicy **out, char *err, size_t errcap)
{
    hp_urlpolicy *p = hp_xcalloc(1, sizeof(*p));
    const char *s = allow ? allow : "";

    while (*s != '\0') {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        char entry[256];
        size_t a = 0, b = n;

        while (a < b && (s[a] == ' ' || s[a] == '\t'))
            a++;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
            b--;
        if (b - a >= sizeof(entry)) {
            hp_err_set(err, errcap, "HOLDPOINT_OUTBOUND_ALLOW: entry too long");
            hp_urlpolicy_free(p);
            return HP_ERR_CONFIG;
        }
        if (b > a) {
            hp__net net;
            for (size_t i = 0; i < b - a; i++)
                entry[i] = hp__lower(s[a + i]);
            entry[b - a] = '\0';
            if (hp__net_parse(entry, &net)) {
                p->nets = hp_xrealloc(p->nets, (p->nnets + 1) * sizeof(*p->nets));
                p->nets[p->nnets++] = net;
            } else {
                /* "*.example.com" and ".example.com" both mean subdomains. */
                const char *h = entry[0] == '*' && entry[1] == '.' ? entry + 1 : entry;
                size_t hl = strlen(h);
                if (hl > 0 && h[hl - 1] == '.')
                    entry[(size_t)(h - entry) + hl - 1] = '\0';
                if (!hp__ldh_name(h[0] == '.' ? h + 1 : h)) {
                    hp_err_set(err, errcap,
                               "HOLDPOINT_OUTBOUND_ALLOW: \"%s\" is not a host name, IP address "
                               "or CIDR range",
                               entry);
                    hp_urlpolicy_free(p);
                    return HP_ERR_CONFIG;
                }
                p->hosts = hp_xrealloc(p->hosts, (p->nhosts + 1) * sizeof(*p->hosts));
                p->hosts[p->nhosts++] = hp_xstrdup(h);
            }
        }
        if (end == NULL)
            break;
        s = end + 1;
    }
    *out = p;
    return HP_OK;
}

void hp_urlpolicy_free(hp_urlpolicy *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nhosts; i++)
        free(p->hosts[i]);
    free(p->hosts);
    free(p->nets);
    free(p);
}

/* ---- address rules ------------------------------------------------------ */

typedef struct hp__range {
    const char *net;
    const char *why;
} hp__range;

/* Not public (IANA IPv4 Special-Purpose Address Registry). */
static const hp__range hp__v4_refused[] = {
    {"0.0.0.0/8", "an unspecified address"},       {"10.0.0.0/8", "a private address"},
    {"100.64.0.0/10", "a shared (CGNAT) address"}, {"127.0.0.0/8", "a loopback address"},
    {"169.254.0.0/16", "a link-local address"},    {"172.16.0.0/12", "a private address"},
    {"192.0.0.0/24", "a reserved address"},        {"192.0.2.0/24", "a reserved address"},
    {"192.88.99.0/24", "a reserved address"},      {"192.168.0.0/16", "a private address"},
    {"198.18.0.0/15", "a reserved address"},       {"198.51.100.0/24", "a reserved address"},
    {"203.0.113.0/24", "a reserved address"},      {"224.0.0.0/4", "a multicast address"},
    {"240.0.0.0/4", "a reserved address"},
};

/* Not public inside 2000::/3, plus the named ranges outside it. */
static const hp__range hp__v6_refused[] = {
    {"::/128", "an unspecified address"},  {"::1/128", "a loopback address"},
    {"fc00::/7", "a private address"},     {"fe80::/10", "a link-local address"},
    {"fec0::/10", "a site-local address"}, {"ff00::/8", "a multicast address"},
    {"2001::/23", "a reserved address"},   {"2001:db8::/32", "a reserved address"},
    {"3fff::/20", "a reserved address"},   {"100::/64", "a reserved address"},
};

static const char *hp__range_hit(const hp__range *t, size_t n, int family,
                                 const unsigned char *addr)
{
    for (size_t i = 0; i < n; i++) {
        hp__net net;
        if (hp__net_parse(t[i].net, &net) && net.family == family &&
            hp__prefix_eq(net.addr, addr, net.prefix))
            return t[i].why;
    }
    return NULL;
}

static hp_err hp__check_v4(const hp_urlpolicy *p, const unsigned char v4[4], char *reason,
                           size_t cap)
{
    const char *why;

    if (hp__allowed_addr(p, AF_INET, v4))
        return HP_OK;
    why = hp__range_hit(hp__v4_refused, sizeof(hp__v4_refused) / sizeof(hp__v4_refused[0]), AF_INET,
                        v4);
    if (why != NULL) {
        hp_err_set(reason, cap, "host is %s", why);
        return HP_ERR_INVALID_PAYLOAD;
    }
    return HP_OK;
}

static hp_err hp__check_v6(const hp_urlpolicy *p, const unsigned char v6[16], char *reason,
                           size_t cap)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    const char *why;

    if (hp__allowed_addr(p, AF_INET6, v6))
        return HP_OK;
    /* Addresses that carry an IPv4 address reach that IPv4 address. */
    if (memcmp(v6, mapped, 12) == 0 || memcmp(v6, nat64, 12) == 0)
        return hp__check_v4(p, v6 + 12, reason, cap);
    if (v6[0] == 0x20 && v6[1] == 0x02)
        return hp__check_v4(p, v6 + 2, reason, cap);
    why = hp__range_hit(hp__v6_refused, sizeof(hp__v6_refused) / sizeof(hp__v6_refused[0]),
                        AF_INET6, v6);
    if (why == NULL && (v6[0] & 0xe0) != 0x20)
        why = "a reserved address"; /* outside global unicast 2000::/3 */
    if (why != NULL) {
        hp_err_set(reason, cap, "host is %s", why);
        return HP_ERR_INVALID_PAYLOAD;
    }
    return HP_OK;
}

hp_err hp_urlpolicy_check_addr(const hp_urlpolicy *p, const struct sockaddr *sa, char *reason,
                               size_t cap)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return hp__check_v4(p, (const unsigned char *)&in->sin_addr, reason, cap);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return hp__check_v6(p, in6->sin6_addr.s6_addr, reason, cap);
    }
    hp_err_set(reason, cap, "host has an unsupported address family");
    return HP_ERR_INVALID_PAYLOAD;
}

/* ---- host name rules ---------------------------------------------------- */

/* Exact names that reach the local machine or its container host. */
static const char *const hp__names_refused[] = {
    "localhost",
    "localhost.localdomain",
    "host.docker.internal",
    "gateway.docker.internal",
    "kubernetes.docker.internal",
    "host.containers.internal",
    "host.lima.internal",
    "docker.for.mac.localhost",
    "docker.for.win.localhost",
    "docker.for.mac.host.internal",
    "metadata.google.internal",
    NULL,
};

/* Suffixes that only resolve inside a local network. */
static const char *const hp__suffixes_refused[] = {
    ".localhost", ".local",    ".internal", ".lan",     ".home", ".localdomain",
    ".home.arpa", ".intranet", ".corp",     ".private", NULL,
};

/* True for a label of only digits, or "0x" followed by hex digits. */
static bool hp__numeric_label(const char *s, size_t n)
{
    size_t i = 0;

    if (n == 0)
        return false;
    if (n >= 2 && s[0] == '0' && s[1] == 'x') {
        for (i = 2; i < n; i++)
            if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                return false;
        return true;
    }
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* True when host is exactly four decimal octets without leading zeros. */
static bool hp__dotted_quad(const char *host)
{
    int parts = 0;
    const char *s = host;

    while (parts < 4) {
        size_t n = 0;
        int v = 0;
        while (s[n] >= '0' && s[n] <= '9') {
            v = v * 10 + (s[n] - '0');
            if (++n > 3)
                return false;
        }
        if (n == 0 || v > 255 || (n > 1 && s[0] == '0'))
            return false;
        parts++;
        s += n;
        if (parts < 4) {
            if (*s != '.')
                return false;
            s++;
        }
    }
    return *s == '\0';
}

/* Cuts the host as written out of the URL text into out (lower case):
 * after "scheme://", before the path, without userinfo and port. */
static bool hp__raw_host(const char *url, char *out, size_t cap)
{
    const char *a, *e, *at;
    size_t n;

    /* Only the plain form "<scheme>://host": curl also accepts "http:/x"
     * and "http:x", and a host looked up after a later "://" would be
     * another host than the one curl connects to. */
    if (strncasecmp(url, "http://", 7) == 0)
        a = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        a = url + 8;
    else
        return false;
    e = a + strcspn(a, "/?#\\");
    at = NULL;
    for (const char *c = a; c < e; c++)
        if (*c == '@')
            at = c;
    if (at != NULL)
        a = at + 1;
    if (*a == '[') {
        const char *rb = memchr(a, ']', (size_t)(e - a));
        if (rb == NULL)
            return false;
        n = (size_t)(rb - a) + 1;
    } else {
        const char *colon = memchr(a, ':', (size_t)(e - a));
        n = (size_t)((colon ? colon : e) - a);
    }
    if (n == 0 || n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = hp__lower(a[i]);
    out[n] = '\0';
    return true;
}

/* The host name rules for a non-literal host (lower case). */
static hp_err hp__check_name(const hp_urlpolicy *p, const char *host, char *reason, size_t cap)
{
    size_t hl = strlen(host);

    if (hp__allowed_host(p, host))
        return HP_OK;
    if (!hp__ldh_name(host)) {
        hp_err_set(reason, cap, "host is not a valid host name");
        return HP_ERR_INVALID_PAYLOAD;
    }
    for (int i = 0; hp__names_refused[i] != NULL; i++)
        if (strcmp(host, hp__names_refused[i]) == 0) {
            hp_err_set(reason, cap, "host is a local or container-internal name");
            return HP_ERR_INVALID_PAYLOAD;
        }
    for (int i = 0; hp__suffixes_refused[i] != NULL; i++) {
        size_t sl = strlen(hp__suffixes_refused[i]);
        if (hl > sl && strcmp(host + hl - sl, hp__suffixes_refused[i]) == 0) {
            hp_err_set(reason, cap, "host has a local-only suffix (%s)", hp__suffixes_refused[i]);
            return HP_ERR_INVALID_PAYLOAD;
        }
    }
    if (strchr(host, '.') == NULL) {
        hp_err_set(reason, cap, "host is a single-label name");
        return HP_ERR_INVALID_PAYLOAD;
    }
    return HP_OK;
}

/* The whole syntactic check; fills host/port/literal of *t. */
static hp_err hp__check(const hp_urlpolicy *p, const char *url, hp_urlpolicy_target *t,
                        char *reason, size_t cap)
{
    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *pw = NULL, *zone = NULL;
    char raw[300];
    hp_err rc = HP_ERR_INVALID_PAYLOAD;
    long long portv = 0;

    memset(t, 0, sizeof(*t));
    if (url == NULL || url[0] == '\0') {
        hp_err_set(reason, cap, "url is empty");
        return rc;
    }
    if (strlen(url) > HP_URLPOLICY_URL_MAX) {
        hp_err_set(reason, cap, "url is longer than %d bytes", HP_URLPOLICY_URL_MAX);
        return rc;
    }
    for (const unsigned char *c = (const unsigned char *)url; *c; c++)
        if (*c <= 0x20 || *c >= 0x7f) {
            hp_err_set(reason, cap, "url contains spaces, control or non-ASCII characters");
            return rc;
        }
    u = curl_url();
    if (u == NULL) {
        hp_err_set(reason, cap, "out of memory");
        return HP_ERR_NOMEM;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        hp_err_set(reason, cap, "url is not valid");
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        hp_err_set(reason, cap, "url scheme must be http or https");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK) {
        hp_err_set(reason, cap, "url has embedded credentials");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK) {
        hp_err_set(reason, cap, "url has an ipv6 zone id");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
        if (!hp_parse_ll(port, 1, 65535, &portv)) {
            hp_err_set(reason, cap, "url port must be from 1 to 65535");
            goto out;
        }
    } else {
        portv = strcmp(scheme, "https") == 0 ? 443 : 80;
    }
    t->port = (int)portv;
    if (!hp__raw_host(url, raw, sizeof(raw)) || host[0] == '\0') {
        hp_err_set(reason, cap, "url has no valid host");
        goto out;
    }
    if (strchr(raw, '%') != NULL) {
        hp_err_set(reason, cap, "host must not be percent-encoded");
        goto out;
    }

    if (raw[0] == '[') {
        unsigned char v6[16];
        size_t hl = strlen(host);
        /* curl gives "[addr]"; keep the bare address. */
        if (hl < 3 || hl - 2 >= sizeof(t->host)) {
            hp_err_set(reason, cap, "host is not a valid ipv6 address");
            goto out;
        }
        memcpy(t->host, host + 1, hl - 2);
        t->host[hl - 2] = '\0';
        if (inet_pton(AF_INET6, t->host, v6) != 1) {
            hp_err_set(reason, cap, "host is not a valid ipv6 address");
            goto out;
        }
        t->literal = true;
        rc = hp__check_v6(p, v6, reason, cap);
        goto out;
    }

    /* A host made only of numeric labels is an address in disguise unless it
     * is the canonical dotted quad. */
    {
        bool numeric = true, last_numeric = false;
        const char *s = raw;
        size_t rl = strlen(raw);
        if (rl > 0 && raw[rl - 1] == '.') {
            hp_err_set(reason, cap, "host must not end with a dot");
            goto out;
        }
        while (*s != '\0') {
            size_t n = strcspn(s, ".");
            last_numeric = hp__numeric_label(s, n);
            numeric = numeric && last_numeric;
            s += n;
            if (*s == '.')
                s++;
        }
        if (numeric && hp__dotted_quad(raw)) {
            unsigned char v4[4];
            if (inet_pton(AF_INET, raw, v4) != 1) {
                hp_err_set(reason, cap, "host is not a valid ipv4 address");
                goto out;
            }
            hp_strlcpy(t->host, raw, sizeof(t->host));
            t->literal = true;
            rc = hp__check_v4(p, v4, reason, cap);
            goto out;
        }
        if (numeric) {
            hp_err_set(reason, cap, "host is an all-numeric name");
            goto out;
        }
        if (last_numeric) {
            hp_err_set(reason, cap, "host ends with a numeric label");
            goto out;
        }
    }
    /* The name judged must be the one curl connects to; a difference means
     * the text reads two ways. */
    if (!hp_streq_ci(raw, host)) {
        hp_err_set(reason, cap, "url host is ambiguous");
        goto out;
    }
    if (hp_strlcpy(t->host, raw, sizeof(t->host)) >= sizeof(t->host)) {
        hp_err_set(reason, cap, "host is not a valid host name");
        goto out;
    }
    rc = hp__check_name(p, t->host, reason, cap);

out:
    curl_free(zone);
    curl_free(pw);
    curl_free(user);
    curl_free(port);
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

hp_err hp_urlpolicy_check_url(const hp_urlpolicy *p, const char *url, char *reason, size_t cap)
{
    hp_urlpolicy_target t;
    return hp__check(p, url, &t, reason, cap);
}

hp_err hp_urlpolicy_resolve(const hp_urlpolicy *p, const char *url, hp_urlpolicy_target *out,
                            char *reason, size_t cap)
{
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    hp_err rc;
    int gai;
    bool host_allowed;
    size_t off;

    rc = hp__check(p, url, out, reason, cap);
    if (rc != HP_OK || out->literal)
        return rc;
    host_allowed = hp__allowed_host(p, out->host);
    out->name_allowed = host_allowed;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    (void)hp_fmt(portstr, sizeof(portstr), "%d", out->port);
    gai = getaddrinfo(out->host, portstr, &hints, &res);
    if (gai != 0 || res == NULL) {
        hp_err_set(reason, cap, "could not resolve host: %s",
                   gai != 0 ? gai_strerror(gai) : "no address");
        if (res != NULL)
            freeaddrinfo(res);
        return gai == EAI_NONAME ? HP_ERR_INVALID_PAYLOAD : HP_ERR_UNAVAILABLE;
    }
    /* Every address must pass: a name with one private address among public
     * ones would let the connection land on the private one. */
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        char text[48];
        const void *bin;
        bool dup = false;

        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        if (!host_allowed) {
            rc = hp_urlpolicy_check_addr(p, ai->ai_addr, reason, cap);
            if (rc != HP_OK) {
                hp_err_set(reason, cap, "host resolves to a refused address (%s)",
                           ai->ai_family == AF_INET ? "ipv4" : "ipv6");
                freeaddrinfo(res);
                return rc;
            }
        }
        bin = ai->ai_family == AF_INET
                  ? (const void *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr
                  : (const void *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)
                        ->sin6_addr;
        if (inet_ntop(ai->ai_family, bin, text, sizeof(text)) == NULL)
            continue;
        for (int i = 0; i < out->naddrs; i++)
            dup = dup || strcmp(out->addrs[i], text) == 0;
        if (!dup && out->naddrs < HP_URLPOLICY_ADDRS_MAX)
            hp_strlcpy(out->addrs[out->naddrs++], text, sizeof(out->addrs[0]));
    }
    freeaddrinfo(res);
    if (out->naddrs == 0) {
        hp_err_set(reason, cap, "could not resolve host: no usable address");
        return HP_ERR_UNAVAILABLE;
    }
    (void)hp_fmt(out->resolve, sizeof(out->resolve), "%s:%d:", out->host, out->port);
    off = strlen(out->resolve);
    for (int i = 0; i < out->naddrs; i++) {
        bool v6 = strchr(out->addrs[i], ':') != NULL;
        (void)hp_fmt(out->resolve + off, sizeof(out->resolve) - off, "%s%s%s%s", i ? "," : "",
                     v6 ? "[" : "", out->addrs[i], v6 ? "]" : "");
        off = strlen(out->resolve);
    }
    return HP_OK;
}
