/*
 * hp_db: the libpq pool. Connections are opened lazily up to the pool size;
 * a waiter sleeps on a condition variable until one is released or the pool
 * timeout passes. Every statement runs asynchronously against a deadline the
 * client keeps (the pool timeout): past it the statement is cancelled with a
 * cancel request and its connection retired, and a TCP user timeout bounds a
 * lost network, so neither a slow statement, a lock wait, a dead server nor a
 * lost network holds a thread longer than that. Nothing travels as a startup
 * parameter, so the same connections work through PgBouncer in transaction
 * mode (see docs/internals/database.md).
 *
 * Statements are prepared transparently: with prepared statements on, the
 * first hp_db_exec of an SQL text on a connection prepares it under a name
 * derived from the text (so a name always means the same text, whichever
 * server connection a pooler picks), and later calls only bind and execute.
 * Behind a pooler that does not carry prepared statements across server
 * connections (PgBouncer < 1.21) the pool notices the first statement that
 * went missing, switches them off and answers from unnamed statements.
 *
 * Errors are returned for callers to map, never logged here; what this
 * module logs is what the server says on its own (NOTICE, WARNING, and the
 * FATAL it sends when it shuts a connection down), which would otherwise
 * reach stderr as raw text between the JSON log lines, and the pool's
 * prepared-statement decision, once.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hp_crypto.h"
#include "hp_db.h"
#include "hp_log.h"
#include "hp_mem.h"
#include "hp_str.h"
#include "hp_time.h"

/* How long a statement past its deadline may take to answer the cancel
 * request before its connection is given up for lost. */
#define HP__CANCEL_GRACE_MS 1000

/* Statements prepared per connection at most; SQL texts beyond them run
 * unnamed (a store module that builds many distinct texts does not grow a
 * server's memory without bound). */
#define HP__STMT_MAX 256
/* Bytes of SHA-256 of the SQL text that name its statement. */
#define HP__STMT_KEY 16

/* The pool's prepared-statement state: AUTO until its first connection
 * tells whether a pooler is in between. */
enum { HP__PREP_OFF = 0, HP__PREP_ON = 1, HP__PREP_UNDECIDED = 2 };

struct hp_dbconn {
    PGconn *pg;
    hp_db *db; /* NULL for a connection outside a pool */
    bool in_use;
    bool broken;
    int timeout_ms; /* statement deadline; 0 = none */
    bool timed_out; /* the last statement ran into its deadline */
    char sqlstate[6];
    int nstmts; /* statements prepared on pg */
    unsigned char (*stmts)[HP__STMT_KEY];
};

struct hp_db {
    char *url;
    int size;
    int timeout_ms;
    int in_use;
    atomic_int prepare;  /* HP__PREP_* */
    atomic_int prepared; /* statements prepared on open connections */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    hp_dbconn *conns; /* size slots; pg NULL until first use */
};

hp_db *hp_db_new(const char *url, int size, int timeout_ms)
{
    hp_db *db = hp_xcalloc(1, sizeof(*db));
    pthread_condattr_t ca;

    db->url = hp_xstrdup(url);
    db->size = size;
    db->timeout_ms = timeout_ms;
    db->conns = hp_xcalloc((size_t)size, sizeof(*db->conns));
    for (int i = 0; i < size; i++)
        db->conns[i].db = db;
    atomic_init(&db->prepare, HP__PREP_OFF);
    atomic_init(&db->prepared, 0);
    pthread_mutex_init(&db->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&db->cv, &ca);
    pthread_condattr_destroy(&ca);
    return db;
}

/* Closes c's connection; its prepared statements go with it. */
static void hp__close(hp_dbconn *c)
{
    if (c->pg != NULL)
        PQfinish(c->pg);
    c->pg = NULL;
    if (c->db != NULL && c->nstmts > 0)
        atomic_fetch_sub(&c->db->prepared, c->nstmts);
    c->nstmts = 0;
}

void hp_db_free(hp_db *db)
{
    if (db == NULL)
        return;
    for (int i = 0; i < db->size; i++) {
        hp__close(&db->conns[i]);
        free(db->conns[i].stmts);
    }
    pthread_cond_destroy(&db->cv);
    pthread_mutex_destroy(&db->mu);
    free(db->conns);
    free(db->url);
    free(db);
}

/* libpq's default notice receiver prints plain text on stderr; this one
 * writes a JSON log line instead, for every connection any process opens. */
static void hp__notice(void *arg, const PGresult *r)
{
    const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    hp_log_level level = HP_LOG_DEBUG;

    (void)arg;
    if (sev != NULL && (strcmp(sev, "WARNING") == 0 || strcmp(sev, "ERROR") == 0 ||
                        strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
        level = HP_LOG_WARN;
    else if (sev != NULL && (strcmp(sev, "NOTICE") == 0 || strcmp(sev, "INFO") == 0))
        level = HP_LOG_INFO;
    hp_log(level, "database notice", "severity", sev, "reason",
           PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY), "sqlstate",
           PQresultErrorField(r, PG_DIAG_SQLSTATE));
}

hp_err hp_db_connect(const char *url, int timeout_ms, PGconn **out, char *err, size_t errcap)
{
    char ct[16], tcp[16];
    int secs = timeout_ms / 1000;

    if (secs < 2)
        secs = 2; /* libpq treats 1 as 2 anyway */
    (void)hp_fmt(ct, sizeof(ct), "%d", secs);
    (void)hp_fmt(tcp, sizeof(tcp), "%d", timeout_ms);
    /* Only parameters every pooler accepts travel at startup (PgBouncer
     * refuses "options"); timeouts are the client's, see hp__await. The TCP
     * user timeout also bounds PQcancel's connection (libpq >= 15). */
    const char *keys[] = {"dbname",     "connect_timeout",  "tcp_user_timeout",
                          "keepalives", "application_name", NULL};
    const char *vals[] = {url, ct, tcp, "1", "holdpoint", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);

    if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
        const char *m = pg ? PQerrorMessage(pg) : "out of memory";
        size_t n = strcspn(m, "\n");
        hp_err_set(err, errcap, "could not connect to postgresql: %.*s", (int)n, m);
        if (pg)
            PQfinish(pg);
        return HP_ERR_UNAVAILABLE;
    }
    PQsetNoticeReceiver(pg, hp__notice, NULL);
    *out = pg;
    return HP_OK;
}

static void hp__deadline(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* ---- prepared statements ------------------------------------------------ */

bool hp_db_set_prepare(hp_db *db, const char *mode)
{
    int v;

    if (strcmp(mode, "on") == 0)
        v = HP__PREP_ON;
    else if (strcmp(mode, "auto") == 0)
        v = HP__PREP_UNDECIDED;
    else if (strcmp(mode, "off") == 0)
        v = HP__PREP_OFF;
    else
        return false;
    atomic_store(&db->prepare, v);
    return true;
}

/* The statement name for the SHA-256 digest d of its text. */
static void hp__stmt_name(const unsigned char *d, char out[HP_DB_STMT_NAME])
{
    static const char hex[] = "0123456789abcdef";

    memcpy(out, "hp_", 3);
    for (int i = 0; i < HP__STMT_KEY; i++) {
        out[3 + 2 * i] = hex[d[i] >> 4];
        out[4 + 2 * i] = hex[d[i] & 15];
    }
    out[3 + 2 * HP__STMT_KEY] = '\0';
}

void hp_db_stmt_name(const char *sql, char out[HP_DB_STMT_NAME])
{
    unsigned char d[32];

    hp_sha256(sql, strlen(sql), d);
    hp__stmt_name(d, out);
}

/* AUTO: prepared statements on a connection of its own, off through a
 * pooler (which may not carry them between server connections). Decided on
 * the pool's first connection, for all of them. */
static hp_err hp__prepare_decide(hp_db *db, hp_dbconn *c, char *err, size_t errcap)
{
    bool pooled = false;
    int undecided = HP__PREP_UNDECIDED;
    hp_err rc = hp_db_pooled(c->pg, db->timeout_ms, &pooled, err, errcap);

    if (rc != HP_OK) {
        c->broken = true;
        return rc;
    }
    if (atomic_compare_exchange_strong(&db->prepare, &undecided,
                                       pooled ? HP__PREP_OFF : HP__PREP_ON))
        hp_log_info(pooled ? "database reached through a pooler: prepared statements off"
                           : "database reached directly: prepared statements on");
    return HP_OK;
}

/* A prepared statement went missing or collided with another client's:
 * the server connections behind this pool are shared by a pooler that does
 * not carry prepared statements. Turns them off for the whole pool. */
static void hp__prepare_lost(hp_dbconn *c, const char *what)
{
    if (atomic_exchange(&c->db->prepare, HP__PREP_OFF) != HP__PREP_OFF)
        hp_log_warn("prepared statements do not survive the pooler in front of postgresql; "
                    "switched off (set HOLDPOINT_DB_PREPARED_STATEMENTS=off)",
                    "reason", what, "sqlstate", c->sqlstate);
}

/* The index of key among c's prepared statements, or -1. */
static int hp__stmt_find(const hp_dbconn *c, const unsigned char *key)
{
    for (int i = 0; i < c->nstmts; i++)
        if (memcmp(c->stmts[i], key, HP__STMT_KEY) == 0)
            return i;
    return -1;
}

hp_err hp_db_acquire(hp_db *db, hp_dbconn **out, char *err, size_t errcap)
{
    struct timespec deadline;
    hp_dbconn *c = NULL;
    hp_err rc;

    hp__deadline(&deadline, db->timeout_ms);
    pthread_mutex_lock(&db->mu);
    for (;;) {
        /* Prefer an open idle connection, then an empty slot. */
        for (int i = 0; i < db->size && c == NULL; i++)
            if (!db->conns[i].in_use && db->conns[i].pg != NULL)
                c = &db->conns[i];
        for (int i = 0; i < db->size && c == NULL; i++)
            if (!db->conns[i].in_use)
                c = &db->conns[i];
        if (c != NULL)
            break;
        if (pthread_cond_timedwait(&db->cv, &db->mu, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&db->mu);
            hp_err_set(err, errcap, "no database connection free within %d ms", db->timeout_ms);
            return HP_ERR_UNAVAILABLE;
        }
    }
    c->in_use = true;
    db->in_use++;
    pthread_mutex_unlock(&db->mu);

    /* Connect outside the lock so one slow server does not block releases.
     * An idle pooled connection never has anything to read: if its socket is
     * readable the server has closed it (restart, failover, idle kill), so
     * replace it now rather than fail the caller's first statement. Nothing
     * is ever re-sent, so no write can be applied twice. */
    if (c->pg != NULL && !c->broken && PQstatus(c->pg) == CONNECTION_OK) {
        struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN | POLLRDHUP};
        if (poll(&p, 1, 0) != 0)
            c->broken = true;
    }
    if (c->pg != NULL && (c->broken || PQstatus(c->pg) != CONNECTION_OK))
        hp__close(c);
    c->broken = false;
    c->timed_out = false;
    c->timeout_ms = db->timeout_ms;
    c->sqlstate[0] = '\0';
    if (c->pg == NULL) {
        rc = hp_db_connect(db->url, db->timeout_ms, &c->pg, err, errcap);
        if (rc == HP_OK && atomic_load(&db->prepare) == HP__PREP_UNDECIDED)
            rc = hp__prepare_decide(db, c, err, errcap);
        if (rc != HP_OK) {
            hp_db_release(db, c);
            return rc;
        }
    }
    *out = c;
    return HP_OK;
}

void hp_db_release(hp_db *db, hp_dbconn *c)
{
    if (c == NULL)
        return;
    if (c->pg != NULL && (c->broken || PQstatus(c->pg) != CONNECTION_OK ||
                          PQtransactionStatus(c->pg) != PQTRANS_IDLE))
        hp__close(c);
    pthread_mutex_lock(&db->mu);
    c->in_use = false;
    db->in_use--;
    pthread_cond_signal(&db->cv);
    pthread_mutex_unlock(&db->mu);
}

int hp_db_in_use(hp_db *db)
{
    int n;
    pthread_mutex_lock(&db->mu);
    n = db->in_use;
    pthread_mutex_unlock(&db->mu);
    return n;
}

int hp_db_size(hp_db *db)
{
    return db->size;
}

static double hp__gauge_in_use(void *db)
{
    return (double)hp_db_in_use(db);
}

static double hp__gauge_size(void *db)
{
    return (double)hp_db_size(db);
}

static double hp__gauge_prepared(void *arg)
{
    hp_db *db = arg;
    return atomic_load(&db->prepare) == HP__PREP_ON ? (double)atomic_load(&db->prepared) : 0;
}

void hp_db_metrics(hp_db *db, hp_metrics *m)
{
    hp_metrics_gauge_fn(m, "holdpoint_db_pool_in_use", "PostgreSQL connections borrowed.",
                        hp__gauge_in_use, db);
    hp_metrics_gauge_fn(m, "holdpoint_db_pool_size", "PostgreSQL pool size.", hp__gauge_size, db);
    hp_metrics_gauge_fn(m, "holdpoint_db_prepared_statements",
                        "Statements prepared on the pool's connections (0 while prepared "
                        "statements are off).",
                        hp__gauge_prepared, db);
}

PGconn *hp_dbconn_pg(hp_dbconn *c)
{
    return c->pg;
}

const char *hp_dbconn_sqlstate(hp_dbconn *c)
{
    return c->sqlstate;
}

void hp_dbconn_set_timeout(hp_dbconn *c, int timeout_ms)
{
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

/* Asks the server to cancel what pg is running. PQcancel opens its own short
 * connection (through a pooler, the pooler forwards it to the server the
 * statement runs on); its result is not needed, the statement's answer says
 * whether the cancel arrived in time. */
static void hp__cancel(PGconn *pg)
{
    char buf[256];
    PGcancel *cn = PQgetCancel(pg);

    if (cn != NULL) {
        (void)PQcancel(cn, buf, (int)sizeof(buf));
        PQfreeCancel(cn);
    }
}

/* Waits until a result of the command sent on c can be read without
 * blocking, keeping c's deadline: at the deadline the statement is cancelled
 * (c->timed_out), and when it has not answered HP__CANCEL_GRACE_MS later the
 * connection is given up (returns false, c->broken). */
static bool hp__wait_ready(hp_dbconn *c, int64_t *deadline)
{
    while (PQisBusy(c->pg)) {
        struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
        int wait = -1, n;

        if (*deadline >= 0) {
            int64_t left = *deadline - hp_time_mono_ms();
            if (left <= 0) {
                if (c->timed_out) {
                    c->broken = true;
                    return false;
                }
                hp__cancel(c->pg);
                c->timed_out = true;
                *deadline = hp_time_mono_ms() + HP__CANCEL_GRACE_MS;
                continue;
            }
            wait = left > 0x7fffffff ? 0x7fffffff : (int)left;
        }
        n = poll(&p, 1, wait);
        if (n < 0 && errno != EINTR) {
            c->broken = true;
            return false;
        }
        /* A failed read leaves the connection bad; PQgetResult reports it. */
        if (n > 0 && !PQconsumeInput(c->pg))
            return true;
    }
    return true;
}

/* Collects the results of the command just sent on c: the first error, else
 * the last result. NULL when the connection was given up. */
static PGresult *hp__await(hp_dbconn *c)
{
    int64_t deadline = c->timeout_ms > 0 ? hp_time_mono_ms() + c->timeout_ms : -1;
    PGresult *keep = NULL, *r;

    c->timed_out = false;
    for (;;) {
        if (!hp__wait_ready(c, &deadline)) {
            PQclear(keep);
            return NULL;
        }
        r = PQgetResult(c->pg);
        if (r == NULL)
            break;
        if (keep != NULL && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
            PQclear(r);
        } else {
            PQclear(keep);
            keep = r;
        }
    }
    /* A cancelled connection is not reused: a cancel request that arrived
     * late must not hit the next statement. */
    if (c->timed_out)
        c->broken = true;
    return keep;
}

/* Maps the outcome of a statement on c (r may be NULL) to an hp_err, fills
 * err and c->sqlstate, and hands a successful result to *res (or clears
 * it). */
static hp_err hp__outcome(hp_dbconn *c, PGresult *r, PGresult **res, char *err, size_t errcap)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    const char *state;

    if (res)
        *res = NULL;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
        c->sqlstate[0] = '\0';
        if (res)
            *res = r;
        else
            PQclear(r);
        return HP_OK;
    }
    state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    hp_strlcpy(c->sqlstate, state ? state : "", sizeof(c->sqlstate));
    if (c->timed_out) {
        hp_err_set(err, errcap, "database statement did not finish within %d ms%s", c->timeout_ms,
                   r == NULL ? " and did not answer its cancel request" : "; cancelled");
    } else {
        const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        if (m == NULL)
            m = PQerrorMessage(c->pg);
        size_t n = strcspn(m, "\n");
        hp_err_set(err, errcap, "database error %s: %.*s", state ? state : "(none)", (int)n, m);
    }
    PQclear(r);
    if (c->timed_out || PQstatus(c->pg) != CONNECTION_OK) {
        c->broken = true;
        return HP_ERR_UNAVAILABLE;
    }
    if (state != NULL) {
        if (strcmp(c->sqlstate, "23505") == 0)
            return HP_ERR_CONFLICT;
        /* 57014 query_canceled (the server's statement_timeout, when an
         * operator set one), 55P03 lock_not_available, class 08 connection
         * exceptions, 57P0x admin shutdown. */
        if (strcmp(c->sqlstate, "57014") == 0 || strcmp(c->sqlstate, "55P03") == 0 ||
            strncmp(c->sqlstate, "08", 2) == 0 || strncmp(c->sqlstate, "57P", 3) == 0) {
            c->broken = strncmp(c->sqlstate, "08", 2) == 0 || strncmp(c->sqlstate, "57P", 3) == 0;
            return HP_ERR_UNAVAILABLE;
        }
    } else {
        c->broken = true;
        return HP_ERR_UNAVAILABLE;
    }
    return HP_ERR_INTERNAL;
}

/* Runs sql as an unnamed statement. */
static hp_err hp__exec_unnamed(hp_dbconn *c, PGresult **res, const char *sql, int nparams,
                               const char *const *params, char *err, size_t errcap)
{
    PGresult *r = NULL;

    c->timed_out = false;
    if (PQsendQueryParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0))
        r = hp__await(c);
    return hp__outcome(c, r, res, err, errcap);
}

/* Whether a statement that failed on c before executing (a missing or
 * duplicate name, a stale plan) may run again unnamed: no transaction was
 * open (none was aborted) and the connection still answers. */
static bool hp__may_retry(hp_dbconn *c)
{
    return !c->timed_out && PQstatus(c->pg) == CONNECTION_OK &&
           PQtransactionStatus(c->pg) == PQTRANS_IDLE;
}

/* Runs sql under its named statement, preparing it first on this
 * connection. Sets *fallback when the caller should run it unnamed
 * instead (nothing ran). */
static hp_err hp__exec_prepared(hp_dbconn *c, PGresult **res, const char *sql, int nparams,
                                const char *const *params, bool *fallback, char *err, size_t errcap)
{
    char name[HP_DB_STMT_NAME];
    unsigned char d[32];
    PGresult *r = NULL;
    hp_err rc;

    *fallback = false;
    hp_sha256(sql, strlen(sql), d);
    if (hp__stmt_find(c, d) < 0) {
        if (c->nstmts >= HP__STMT_MAX) {
            *fallback = true;
            return HP_OK;
        }
        hp__stmt_name(d, name);
        c->timed_out = false;
        if (PQsendPrepare(c->pg, name, sql, nparams, NULL))
            r = hp__await(c);
        rc = hp__outcome(c, r, NULL, err, errcap);
        if (rc != HP_OK) {
            /* 42P05: the name exists on a server connection this one never
             * prepared it on, so a pooler shares server connections. The
             * name stands for the same text, but the next statement may
             * land where it does not exist: stop preparing. */
            if (strcmp(c->sqlstate, "42P05") == 0) {
                hp__prepare_lost(c, "a statement this connection never prepared already exists");
                *fallback = hp__may_retry(c);
                if (!*fallback)
                    rc = HP_ERR_UNAVAILABLE;
            }
            return rc;
        }
        if (c->stmts == NULL)
            c->stmts = hp_xcalloc(HP__STMT_MAX, sizeof(*c->stmts));
        memcpy(c->stmts[c->nstmts++], d, HP__STMT_KEY);
        atomic_fetch_add(&c->db->prepared, 1);
    }
    hp__stmt_name(d, name);
    c->timed_out = false;
    r = NULL;
    if (PQsendQueryPrepared(c->pg, name, nparams, params, NULL, NULL, 0))
        r = hp__await(c);
    rc = hp__outcome(c, r, res, err, errcap);
    if (rc == HP_OK)
        return rc;
    if (strcmp(c->sqlstate, "26000") == 0) {
        /* The statement is gone: the pooler moved this client to a server
         * connection that never saw it. */
        hp__prepare_lost(c, "a prepared statement went missing between transactions");
    } else if (strcmp(c->sqlstate, "0A000") == 0 && strstr(err, "cached plan") != NULL) {
        /* A migration changed the type of a column this statement returns.
         * The name cannot be prepared again on this connection, so retire
         * the connection; the next one prepares the new text. */
        c->broken = true;
    } else {
        return rc;
    }
    *fallback = hp__may_retry(c);
    return *fallback ? HP_OK : HP_ERR_UNAVAILABLE;
}

hp_err hp_db_exec(hp_dbconn *c, PGresult **res, const char *sql, int nparams,
                  const char *const *params, char *err, size_t errcap)
{
    if (c->db != NULL && atomic_load(&c->db->prepare) == HP__PREP_ON) {
        bool fallback = false;
        hp_err rc = hp__exec_prepared(c, res, sql, nparams, params, &fallback, err, errcap);
        if (!fallback)
            return rc;
    }
    return hp__exec_unnamed(c, res, sql, nparams, params, err, errcap);
}

hp_err hp_db_exec_script(hp_dbconn *c, const char *sql, char *err, size_t errcap)
{
    PGresult *r = NULL;

    c->timed_out = false;
    if (PQsendQuery(c->pg, sql))
        r = hp__await(c);
    return hp__outcome(c, r, NULL, err, errcap);
}

hp_err hp_db_pooled(PGconn *pg, int timeout_ms, bool *pooled, char *err, size_t errcap)
{
    hp_dbconn tmp = {.pg = pg, .timeout_ms = timeout_ms};
    PGresult *r = NULL;
    hp_err rc = hp_db_exec(&tmp, &r, "select pg_backend_pid()", 0, NULL, err, errcap);

    *pooled = false;
    if (rc == HP_OK)
        *pooled = hp_db_ll(r, 0, 0, -1) != (long long)PQbackendPID(pg);
    PQclear(r);
    return rc;
}

/* Transaction control has no plan to keep: always unnamed. */
hp_err hp_db_begin(hp_dbconn *c, char *err, size_t errcap)
{
    return hp__exec_unnamed(c, NULL, "BEGIN", 0, NULL, err, errcap);
}

hp_err hp_db_commit(hp_dbconn *c, char *err, size_t errcap)
{
    return hp__exec_unnamed(c, NULL, "COMMIT", 0, NULL, err, errcap);
}

hp_err hp_db_ping(hp_dbconn *c, char *err, size_t errcap)
{
    return hp_db_exec(c, NULL, "select 1", 0, NULL, err, errcap);
}

double hp_db_gauge(hp_db *db, hp_db_count_fn count)
{
    hp_dbconn *c = NULL;
    char err[HP_ERRBUF];
    long long n = 0;
    double v = NAN;

    if (hp_db_acquire(db, &c, err, sizeof(err)) != HP_OK)
        return v;
    if (count(c, &n, err, sizeof(err)) == HP_OK)
        v = (double)n;
    hp_db_release(db, c);
    return v;
}

bool hp_db_pg_alive(PGconn *pg)
{
    PGresult *r = PQexec(pg, "select 1");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok;
}

hp_err hp_db_finish(hp_dbconn *c, hp_err rc, char *err, size_t errcap)
{
    if (rc == HP_OK)
        rc = hp_db_commit(c, err, errcap);
    if (rc != HP_OK)
        hp_db_rollback(c);
    return rc;
}

hp_err hp_db_exists(hp_dbconn *c, const char *sql, int nparams, const char *const *params,
                    bool *found, char *err, size_t errcap)
{
    PGresult *r = NULL;
    hp_err rc = hp_db_exec(c, &r, sql, nparams, params, err, errcap);

    if (rc == HP_OK)
        *found = PQntuples(r) > 0;
    PQclear(r);
    return rc;
}

void hp_db_rollback(hp_dbconn *c)
{
    char err[HP_ERRBUF];

    /* A broken connection is closed at release, which rolls back. */
    if (c == NULL || c->pg == NULL || c->broken)
        return;
    if (PQtransactionStatus(c->pg) == PQTRANS_IDLE)
        return;
    if (hp__exec_unnamed(c, NULL, "ROLLBACK", 0, NULL, err, sizeof(err)) != HP_OK)
        c->broken = true;
}

const char *hp_db_val(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    return PQgetvalue(r, row, col);
}

bool hp_db_bool(const PGresult *r, int row, int col)
{
    const char *v = hp_db_val(r, row, col);
    return v != NULL && v[0] == 't';
}

static void hp__db_pqclear(void *r)
{
    PQclear(r);
}

void hp_db_keep(hp_pool *pool, PGresult *r)
{
    hp_pool_defer(pool, hp__db_pqclear, r);
}

void *hp_db_rows(hp_pool *pool, const PGresult *r, size_t size, int *n)
{
    *n = PQntuples(r);
    return hp_pool_alloc(pool, size * (size_t)(*n > 0 ? *n : 1)); /* zeroed */
}

void *hp_db_keep_rows(hp_pool *pool, PGresult *r, size_t size, int *n)
{
    hp_db_keep(pool, r);
    return hp_db_rows(pool, r, size, n);
}

void hp_db_row_copy(hp_pool *pool, const PGresult *r, int row, int col, int n, const char **out)
{
    size_t total = 0;
    char *p;

    for (int k = 0; k < n; k++)
        if (!PQgetisnull(r, row, col + k))
            total += (size_t)PQgetlength(r, row, col + k) + 1;
    p = total > 0 ? hp_pool_alloc(pool, total) : NULL;
    for (int k = 0; k < n; k++) {
        size_t len;
        if (PQgetisnull(r, row, col + k)) {
            out[k] = NULL;
            continue;
        }
        len = (size_t)PQgetlength(r, row, col + k);
        memcpy(p, PQgetvalue(r, row, col + k), len);
        p[len] = '\0';
        out[k] = p;
        p += len + 1;
    }
}

long long hp_db_ll(const PGresult *r, int row, int col, long long dflt)
{
    long long v;
    const char *s = hp_db_val(r, row, col);
    if (s == NULL || !hp_parse_ll(s, -0x7fffffffffffffffLL, 0x7fffffffffffffffLL, &v))
        return dflt;
    return v;
}
