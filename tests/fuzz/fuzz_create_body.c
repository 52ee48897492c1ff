/*
 * Fuzz target: the create-body parser and validator (hp_json_parse, then
 * hp_approval_parse_create with an agent's defaults and the outbound URL
 * policy, then the canonical payload of a valid body). Any input must give a
 * JSON error or a list of issues, never a crash, a leak or undefined
 * behaviour; a body that validates must have a canonical form whose hash is
 * the one the parser recorded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hp_approval.h"
#include "hp_crypto.h"
#include "hp_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hp_urlpolicy *policy;
    hp_agent_defaults d = {.timeout_seconds = 3600, .timeout_mode = "expire_no_action"};
    hp_approval_input in;
    json_object *body = NULL;
    char err[160];

    if (policy == NULL && hp_urlpolicy_new("", &policy, err, sizeof(err)) != HP_OK)
        abort();
    if (hp_json_parse((const char *)data, size, &body, err, sizeof(err)) != HP_OK)
        return 0;
    hp_issues *is = hp_issues_new();
    memset(&in, 0, sizeof(in));
    if (hp_approval_parse_create(body, &d, policy, &in, is)) {
        char *canon = hp_approval_canonical(&in);
        unsigned char h[32];
        hp_sha256(canon, strlen(canon), h);
        if (memcmp(h, in.hash, sizeof(h)) != 0)
            abort(); /* the idempotency hash must be the canonical text's */
        free(canon);
    } else {
        json_object *j = hp_issues_json(is);
        if (json_object_array_length(j) == 0)
            abort(); /* refused without saying why */
        json_object_put(j);
    }
    hp_approval_input_deinit(&in);
    hp_issues_free(is);
    json_object_put(body);
    return 0;
}
