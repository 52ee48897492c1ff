/*
 * hp_err: status, wire and message lookups over the X-macro table in hp_err.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "hp_err.h"

static const struct {
    int status;
    const char *wire;
    const char *message;
} hp__err_table[] = {
#define HP__ERR_ROW(name, status, wire, message) {status, wire, message},
    HP_ERR_MAP(HP__ERR_ROW)
#undef HP__ERR_ROW
};

int hp_err_status(hp_err e)
{
    if ((int)e < 0 || e >= HP_ERR__COUNT)
        return 500;
    return hp__err_table[e].status;
}

const char *hp_err_wire(hp_err e)
{
    if ((int)e < 0 || e >= HP_ERR__COUNT)
        return "internal_error";
    return hp__err_table[e].wire;
}

const char *hp_err_message(hp_err e)
{
    if ((int)e < 0 || e >= HP_ERR__COUNT)
        return hp__err_table[HP_ERR_INTERNAL].message;
    return hp__err_table[e].message;
}

void hp_err_set(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    if (buf == NULL || cap == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}
