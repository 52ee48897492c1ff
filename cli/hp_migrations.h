/*
 * The migrations compiled into the CLI from sql/NNN_*.sql, in order.
 */
#ifndef HP_MIGRATIONS_H
#define HP_MIGRATIONS_H

#include <stddef.h>

typedef struct hp_migration {
    const char *name; /* "001_init" */
    const char *sql;
} hp_migration;

extern const hp_migration hp_migrations[];
extern const size_t hp_migrations_count;

#endif
