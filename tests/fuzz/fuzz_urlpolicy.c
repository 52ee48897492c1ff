/*
 * Fuzz target: the outbound URL policy (seed 004's SSRF rules). Any URL must
 * be judged without a crash; a URL the create-time check accepts must be
 * http or https; and every 4- or 16-byte input, taken as an IPv4 or IPv6
 * address, must be judged too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "hp_urlpolicy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hp_urlpolicy *open_policy, *allow_policy;
    char reason[160], *url;

    if (open_policy == NULL &&
        (hp_urlpolicy_new("", &open_policy, reason, sizeof(reason)) != HP_OK ||
         hp_urlpolicy_new("10.0.0.0/8,hooks.internal,::1", &allow_policy, reason, sizeof(reason)) !=
             HP_OK))
        abort();
    url = malloc(size + 1);
    if (url == NULL)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    for (int i = 0; i < 2; i++) {
        const hp_urlpolicy *p = i == 0 ? open_policy : allow_policy;
        if (hp_urlpolicy_check_url(p, url, reason, sizeof(reason)) == HP_OK &&
            strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
            abort();
    }
    if (size == 4) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        memcpy(&a.sin_addr, data, 4);
        (void)hp_urlpolicy_check_addr(open_policy, (struct sockaddr *)&a, reason, sizeof(reason));
        (void)hp_urlpolicy_check_addr(allow_policy, (struct sockaddr *)&a, reason, sizeof(reason));
    } else if (size == 16) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6};
        memcpy(&a.sin6_addr, data, 16);
        (void)hp_urlpolicy_check_addr(open_policy, (struct sockaddr *)&a, reason, sizeof(reason));
        (void)hp_urlpolicy_check_addr(allow_policy, (struct sockaddr *)&a, reason, sizeof(reason));
    }
    free(url);
    return 0;
}
