/*
 * `holdpoint migrate` on the database `make test` already migrated: run
 * again (twice, then three at once) it succeeds and applies nothing, and the
 * data stays. Also the CLI's documented exit statuses (docs/cli.md): 1 on a
 * failure, 2 on a usage error.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_itest.h"

#ifndef HP_ITEST_SOURCE_DIR
#error "HP_ITEST_SOURCE_DIR must name the source tree"
#endif

/* The newest migration's name ("002_job_attempts") from sql/. */
static const char *newest_migration(void)
{
    DIR *d = opendir(HP_ITEST_SOURCE_DIR "/sql");
    const char *best = NULL;
    struct dirent *e;
    if (d == NULL)
        return NULL;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 8 || strcmp(e->d_name + n - 4, ".sql") != 0 || e->d_name[0] < '0' ||
            e->d_name[0] > '9')
            continue;
        const char *name = hp_it_fmt("%.*s", (int)(n - 4), e->d_name);
        if (best == NULL || strcmp(name, best) > 0)
            best = name;
    }
    closedir(d);
    return best;
}

static void expect_nothing_applied(json_object *j, int status, const char *err, int line)
{
    const char *want = newest_migration();
    hp_it__check(status == 0, __FILE__, (unsigned)line, false, "migrate exited %d: %s", status,
                 err ? err : "");
    json_object *applied = hp_it_jget(j, "applied", NULL);
    hp_it__check(applied != NULL && json_object_is_type(applied, json_type_array) &&
                     json_object_array_length(applied) == 0,
                 __FILE__, (unsigned)line, false, "a repeated migrate applied %s", hp_it_jtext(j));
    hp_it__jstr(j, "current", want ? want : "(no sql/ files?)", __FILE__, (unsigned)line);
}

static void test_migrate_again(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *args[] = {"migrate", "--json", NULL};
    for (int i = 0; i < 2; i++) {
        int st;
        char *err;
        json_object *j = hp_it_cli(args, &st, NULL, &err);
        expect_nothing_applied(j, st, err, __LINE__);
    }
    /* Without --json it still succeeds. */
    const char *plain[] = {"migrate", NULL};
    int st;
    char *out;
    hp_it_cli(plain, &st, &out, NULL);
    IT_CHECK(st == 0, "migrate without --json exited %d", st);
    /* Data is untouched and the API still works. */
    IT_CHECK(hp_it_sql_int("select count(*) from teams where id = $1", t->team_id, NULL) == 1,
             "migrate lost a team");
    hp_it_create_ok(t, "After migrate?", NULL);
}

typedef struct {
    json_object *j;
    int status;
    char *err;
} mig_run;

static void *run_migrate(void *arg)
{
    mig_run *m = arg;
    const char *args[] = {"migrate", "--json", NULL};
    m->j = hp_it_cli(args, &m->status, NULL, &m->err);
    return NULL;
}

static void test_migrate_concurrently(void)
{
    enum { N = 3 };
    pthread_t th[N];
    mig_run runs[N];
    memset(runs, 0, sizeof(runs));
    for (int i = 0; i < N; i++)
        IT_CHECK_FATAL(pthread_create(&th[i], NULL, run_migrate, &runs[i]) == 0, "pthread_create");
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++)
        expect_nothing_applied(runs[i].j, runs[i].status, runs[i].err, __LINE__);
}

static void test_cli_exit_statuses(void)
{
    int st;
    char *err;

    /* Usage errors: 2. */
    const char *unknown[] = {"no-such-command", NULL};
    hp_it_cli(unknown, &st, NULL, &err);
    IT_CHECK(st == 2, "unknown command: want exit 2, got %d", st);
    const char *missing[] = {"admin", "create-key", "--json", NULL};
    hp_it_cli(missing, &st, NULL, &err);
    IT_CHECK(st == 2, "create-key without --team-id: want exit 2, got %d", st);
    const char *badquota[] = {
        "admin", "set-quota", "--team-id", "00000000-0000-4000-8000-000000000000", "--json", NULL};
    hp_it_cli(badquota, &st, NULL, &err);
    IT_CHECK(st == 2, "set-quota without --approvals/--unlimited: want exit 2, got %d", st);

    /* Failures: 1, with a JSON log line on stderr and nothing on stdout. */
    const char *noteam[] = {
        "admin", "create-agent", "--team-id", "00000000-0000-4000-8000-000000000000", "--name",
        "x",     "--json",       NULL};
    char *out;
    hp_it_cli(noteam, &st, &out, &err);
    IT_CHECK(st == 1, "create-agent for an unknown team: want exit 1, got %d", st);
    IT_CHECK(out != NULL && *out == '\0', "a failed command printed on stdout: %s", out);
    IT_CHECK(err != NULL && *err == '{', "errors go to stderr as JSON lines: %s", err);

    /* The same email twice is refused. */
    const hp_it_team *t = hp_it_team_new();
    const char *dup[] = {"admin",  "create-user", "--team-id",     t->team_id, "--email",
                         t->email, "--password",  "it-password-9", "--json",   NULL};
    hp_it_cli(dup, &st, NULL, &err);
    IT_CHECK(st == 1, "a duplicate email: want exit 1, got %d", st);
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"migrate_again", test_migrate_again},
        {"migrate_concurrently", test_migrate_concurrently},
        {"cli_exit_statuses", test_cli_exit_statuses},
        {NULL, NULL},
    };
    return hp_it_main("migrate", tests, NULL, NULL);
}
