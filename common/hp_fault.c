/*
 * hp_fault: fault points for tests; see hp_fault.h. The known points are
 * listed here so a misspelt HOLDPOINT_FAULTS entry is refused at start
 * instead of silently never firing.
 */
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "hp_fault.h"
#include "hp_str.h"

typedef enum { HP__OFF = 0, HP__CRASH, HP__ERROR } hp__action;

/* Every HP_FAULT name in the code, with whether its caller has an error path
 * (docs/internals/faults.md says where and why). */
static const struct {
    const char *name;
    bool can_error;
} hp__points[] = {
    {"delivery.after_claim", true}, /* jobs claimed and leased, nothing sent yet */
    {"delivery.after_send", false}, /* a response received, its outcome not recorded */
    {"decide.after_commit", false}, /* a decision committed (one statement), not yet published */
    {"expiry.after_commit", false}, /* a batch expired and committed, not yet published */
};

#define HP__NPOINTS (sizeof(hp__points) / sizeof(hp__points[0]))

static struct {
    hp__action action;
    long at; /* fire on this hit (1-based) */
    _Atomic long hits;
} hp__armed[HP__NPOINTS];

static int hp__find(const char *name, size_t n)
{
    for (size_t i = 0; i < HP__NPOINTS; i++)
        if (strlen(hp__points[i].name) == n && strncmp(hp__points[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

hp_err hp_fault_init(const char *spec, char *err, size_t errcap)
{
    for (size_t i = 0; i < HP__NPOINTS; i++) {
        hp__armed[i].action = HP__OFF;
        hp__armed[i].at = 0;
        atomic_store(&hp__armed[i].hits, 0);
    }
    if (spec == NULL || spec[0] == '\0')
        return HP_OK;
#ifndef HP_TESTING
    hp_err_set(err, errcap, "HOLDPOINT_FAULTS: fault points exist only in test builds");
    return HP_ERR_CONFIG;
#else
    for (const char *p = spec; *p != '\0';) {
        size_t len = strcspn(p, ","), nlen = strcspn(p, "=");
        const char *act, *at;
        long long n = 1;
        int i;

        if (nlen >= len || (i = hp__find(p, nlen)) < 0) {
            hp_err_set(err, errcap,
                       "HOLDPOINT_FAULTS: \"%.*s\" is not name=crash|error[@n] with a known "
                       "point (docs/internals/faults.md)",
                       (int)len, p);
            return HP_ERR_CONFIG;
        }
        act = p + nlen + 1;
        at = memchr(act, '@', (size_t)(p + len - act));
        {
            size_t alen = (size_t)((at ? at : p + len) - act);
            char num[24];
            if (alen == 5 && strncmp(act, "crash", 5) == 0)
                hp__armed[i].action = HP__CRASH;
            else if (alen == 5 && strncmp(act, "error", 5) == 0 && hp__points[i].can_error)
                hp__armed[i].action = HP__ERROR;
            else
                goto bad;
            if (at != NULL) {
                size_t k = (size_t)(p + len - at - 1);
                if (k == 0 || k >= sizeof(num))
                    goto bad;
                memcpy(num, at + 1, k);
                num[k] = '\0';
                if (!hp_parse_ll(num, 1, 1000000000LL, &n))
                    goto bad;
            }
        }
        hp__armed[i].at = (long)n;
        p += len;
        if (*p == ',')
            p++;
        continue;
    bad:
        hp_err_set(err, errcap,
                   "HOLDPOINT_FAULTS: \"%.*s\" is not name=crash|error[@n] (error only where "
                   "the point has an error path)",
                   (int)len, p);
        return HP_ERR_CONFIG;
    }
    return HP_OK;
#endif
}

#ifdef HP_TESTING
bool hp_fault_hit(const char *name)
{
    int i = hp__find(name, strlen(name));
    long hit;

    if (i < 0 || hp__armed[i].action == HP__OFF)
        return false;
    hit = atomic_fetch_add(&hp__armed[i].hits, 1) + 1;
    if (hit != hp__armed[i].at)
        return false;
    if (hp__armed[i].action == HP__CRASH)
        raise(SIGKILL);
    return true;
}
#endif
