/*
 * hp_urlpolicy: the outbound URL rules of seed 004 (SSRF protection) for
 * every URL Holdpoint sends a request to — callbacks now, webhooks and
 * channel notifications later.
 *
 * Two entry points. hp_urlpolicy_check_url is syntactic and cheap: the API
 * calls it when a URL is stored (create time). hp_urlpolicy_resolve is what a
 * sender calls right before connecting: it runs the same checks, resolves
 * the host, checks every address, and returns a CURLOPT_RESOLVE entry that
 * pins the connection to the checked addresses so a DNS answer that changes
 * between check and connect (rebinding) cannot reach a private address.
 *
 * An allow list (HOLDPOINT_OUTBOUND_ALLOW: comma-separated host names, IP
 * addresses or CIDR ranges) exempts matches: a listed host name skips the
 * name rules and all its addresses are accepted; an address inside a listed
 * IP or range is accepted even when private. A policy is immutable after
 * hp_urlpolicy_new and may be shared by threads. Nothing here logs.
 */
#ifndef HP_URLPOLICY_H
#define HP_URLPOLICY_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/socket.h>

#include "hp_err.h"

typedef struct hp_urlpolicy hp_urlpolicy;

/* Longest URL accepted (bytes). */
#define HP_URLPOLICY_URL_MAX 2048
/* Addresses pinned per host (CURLOPT_RESOLVE accepts a list). */
#define HP_URLPOLICY_ADDRS_MAX 4

/* Parses allow (NULL or "" = nothing allowed beyond public addresses) into
 * *out, a heap policy the caller frees with hp_urlpolicy_free. HP_ERR_CONFIG
 * with the bad entry named in err when an entry is neither a host name, an
 * IP address nor a CIDR range. Pure; any process. */
HP_MUSTCHECK hp_err hp_urlpolicy_new(const char *allow, hp_urlpolicy **out, char *err,
                                     size_t errcap);
/* NULL is fine. */
void hp_urlpolicy_free(hp_urlpolicy *p);

/* The syntactic check for create time: http or https, a valid host name or
 * IP literal, no embedded credentials, a valid port, not a local-only or
 * Docker-internal name, not a single-label or all-numeric name (decimal,
 * octal and hex IPv4 forms such as http://2130706433/ count as all-numeric),
 * and an IP literal only when public or allowed. HP_OK when the URL may be
 * stored; HP_ERR_INVALID_PAYLOAD with a short reason ("host is a private
 * address") otherwise. Pure, never blocks; any process, any thread. */
HP_MUSTCHECK hp_err hp_urlpolicy_check_url(const hp_urlpolicy *p, const char *url, char *reason,
                                           size_t cap);

/* Checks one address (AF_INET or AF_INET6, an IPv4-mapped IPv6 address is
 * judged by its IPv4 part): HP_OK when public or inside an allowed IP/range,
 * HP_ERR_INVALID_PAYLOAD with a reason otherwise. Pure. */
HP_MUSTCHECK hp_err hp_urlpolicy_check_addr(const hp_urlpolicy *p, const struct sockaddr *sa,
                                            char *reason, size_t cap);

/* True when ip (an address in text form) is inside one of the list's IP
 * addresses or CIDR ranges; host names in the list never match. Used for
 * lists of addresses that are not outbound rules (HOLDPOINT_TRUSTED_PROXIES).
 * Pure. */
bool hp_urlpolicy_listed(const hp_urlpolicy *p, const char *ip);

/* Where a checked request may go. */
typedef struct hp_urlpolicy_target {
    char host[256];    /* host as libcurl normalised it (IPv6 without brackets) */
    int port;          /* explicit or the scheme's default */
    bool literal;      /* the host is an IP literal: nothing to resolve or pin */
    bool name_allowed; /* the host name is on the allow list (any address) */
    int naddrs;        /* checked addresses (0 when literal) */
    char addrs[HP_URLPOLICY_ADDRS_MAX][48];
    /* "host:port:addr[,addr…]" for CURLOPT_RESOLVE; "" when literal. */
    char resolve[512];
} hp_urlpolicy_target;

/* The delivery-time check: hp_urlpolicy_check_url, then getaddrinfo on the
 * host and hp_urlpolicy_check_addr on EVERY address returned (one refused
 * address refuses the URL), filling *out. The caller must then set
 * CURLOPT_RESOLVE to a list holding out->resolve (when not literal),
 * CURLOPT_PROTOCOLS_STR "http,https", CURLOPT_FOLLOWLOCATION 0 and no proxy.
 * Errors: HP_ERR_INVALID_PAYLOAD (refused by policy: permanent) and
 * HP_ERR_UNAVAILABLE (the name did not resolve: may be retried), each with a
 * short reason. Blocks on DNS; any thread. */
HP_MUSTCHECK hp_err hp_urlpolicy_resolve(const hp_urlpolicy *p, const char *url,
                                         hp_urlpolicy_target *out, char *reason, size_t cap);

#endif
