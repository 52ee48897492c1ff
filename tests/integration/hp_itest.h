/*
 * hp_itest: the harness every integration test program links.
 *
 * A program is a table of CUnit tests run by hp_it_main(). Before the first
 * test it checks the environment that `make test` provides (HP_BIN_DIR,
 * HP_RUN_DIR, HOLDPOINT_DATABASE_URL, HOLDPOINT_REDIS_URL,
 * HOLDPOINT_SECRET_KEY) and starts one holdpoint-api child on a free
 * 127.0.0.1 port (the "default" API); a missing variable or an API that does
 * not come up makes the program fail, never skip. Tests create their own
 * teams with `holdpoint admin bootstrap`, talk HTTP through libcurl, and look
 * at PostgreSQL through libpq. At the end every API the program started is
 * stopped with SIGTERM and must exit 0 (so an ASan or LSan report in the API
 * fails the program); its stderr stays in HP_RUN_DIR/api-*.log.
 *
 * Memory: everything the harness returns (responses, strings, teams, JSON) is
 * owned by the harness and freed when the current test ends; what is made
 * outside a test (in a program's setup) lives until the program ends. Tests
 * never free anything they got from here.
 *
 * Threads: only hp_it_parallel() runs requests concurrently; everything else,
 * including every assertion, runs on the test's own thread.
 */
#ifndef HP_ITEST_H
#define HP_ITEST_H

#include <stdbool.h>
#include <stddef.h>

#include <CUnit/CUnit.h>
#include <json-c/json.h>

/* ---- running a program ------------------------------------------------ */

typedef struct hp_it_test {
    const char *name;
    void (*fn)(void);
} hp_it_test;

/* Runs tests (terminated by {NULL, NULL}) as the CUnit suite `suite`. setup
 * runs after the default API is up and before the first test, teardown after
 * the last; either may be NULL and returns 0 on success. Returns the process
 * exit status: 0 only when every test ran and passed and every API exited
 * cleanly. */
int hp_it_main(const char *suite, const hp_it_test *tests, int (*setup)(void),
               int (*teardown)(void));

/* Extra environment for the default API (same form as hp_it_api_start's env);
 * call before hp_it_main. env must outlive the program. */
void hp_it_set_default_env(const char *const *env);

/* The value of a required environment variable (the program already checked
 * it at start). */
const char *hp_it_env(const char *name);

/* ---- memory ------------------------------------------------------------ */

/* printf into a harness-owned string. */
char *hp_it_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* unit repeated n times (harness-owned). */
char *hp_it_repeat(const char *unit, int n);
/* Hands p to the harness, which calls free_fn(p) when the scope ends. */
void *hp_it_track(void *p, void (*free_fn)(void *));

/* A unique token for names: "<pid>-<counter>-<random hex>". */
const char *hp_it_unique(void);

/* ---- API processes ----------------------------------------------------- */

typedef struct hp_it_api hp_it_api;

/* Starts holdpoint-api on a free 127.0.0.1 port with the test environment,
 * a small thread pool (HOLDPOINT_API_THREADS=160, HOLDPOINT_MAX_WAITERS=128,
 * unless env names them), plus env (NULL-terminated; "NAME=value" sets,
 * "NAME" alone unsets, so "HOLDPOINT_API_THREADS" alone gives the default) and
 * waits up to 10 s for GET /healthz to answer 200. name labels the log file.
 * Returns NULL (after printing the log's tail) when it does not come up.
 * The API stays up until hp_it_api_stop or the end of the program. */
hp_it_api *hp_it_api_start(const char *name, const char *const *env);

/* Sends SIGTERM, waits (SIGKILL after 30 s) and returns the exit status: the
 * code when it exited, 128 + signal when a signal ended it. Prints the log's
 * tail when the status is not 0. api is gone afterwards. */
int hp_it_api_stop(hp_it_api *api);

/* The API the program started before its first test. */
hp_it_api *hp_it_api_default(void);

/* "http://127.0.0.1:PORT" */
const char *hp_it_api_base(const hp_it_api *api);
/* The file that holds the API's stderr. */
const char *hp_it_api_log(const hp_it_api *api);
/* The port the API listens on at 127.0.0.1. */
int hp_it_api_port(const hp_it_api *api);
/* A TCP connection to 127.0.0.1:port, from the local address from (NULL:
 * any); -1 on failure. */
int hp_it_dial(int port, const char *from);

/* ---- the CLI ----------------------------------------------------------- */

/* Runs HP_BIN_DIR/holdpoint with args (NULL-terminated) and a 60 s bound.
 * Returns stdout parsed as JSON (harness-owned), or NULL when it is not JSON.
 * *status gets the exit status (128 + signal when killed); *out and *err
 * (when not NULL) get stdout and stderr as harness-owned strings. */
json_object *hp_it_cli(const char *const *args, int *status, char **out, char **err);
/* The same with env (as for hp_it_api_start: "NAME=value" sets, "NAME" alone
 * unsets) on top of the test environment. */
json_object *hp_it_cli_env(const char *const *args, const char *const *env, int *status, char **out,
                           char **err);
/* The same with input (NULL: /dev/null) on its stdin; input must fit a
 * pipe's buffer (64 KiB). */
json_object *hp_it_cli_input(const char *const *args, const char *const *env, const char *input,
                             int *status, char **out, char **err);

typedef struct hp_it_team {
    const char *team_id;
    const char *user_id;
    const char *user_token;
    const char *agent_id;
    const char *api_key;
    const char *webhook_secret;
    const char *team_name;
    const char *email;
    const char *user_name;
} hp_it_team;

/* Bootstraps a fresh team (unique name and email) with `holdpoint admin
 * bootstrap ... --json`, plus extra arguments (NULL-terminated or NULL, e.g.
 * {"--quota", "3", NULL}). Fails the test fatally when the command fails. */
const hp_it_team *hp_it_team_new_args(const char *const *extra);
const hp_it_team *hp_it_team_new(void);
/* The same with the team's, its first agent's and the owner's display names
 * given (each NULL for the unique test name), for pages people look at such
 * as the screenshots in docs/. The email stays unique. */
const hp_it_team *hp_it_team_new_named(const char *team, const char *agent, const char *user_name,
                                       const char *const *extra);

/* A copy of t that calls as agent_id with key (either may be NULL to keep
 * t's). */
const hp_it_team *hp_it_team_as(const hp_it_team *t, const char *agent_id, const char *key);

/* `holdpoint admin create-agent --team-id T --name <unique> [extra] --json`;
 * returns the new agent_id. Fails the test fatally on error. */
const char *hp_it_agent_new(const hp_it_team *t, const char *const *extra);

/* A new agent of t with a key of its own (hp_it_agent_new, then `holdpoint
 * admin create-key --agent-id`), as a view of t that calls as it. */
const hp_it_team *hp_it_team_agent(const hp_it_team *t);

/* `holdpoint admin <cmd> args... --json`: returns the JSON; fails the test
 * fatally when the exit status is not 0 or the output is not JSON. */
json_object *hp_it_admin(const char *const *args);

/* ---- HTTP -------------------------------------------------------------- */

enum {
    HP_IT_CHUNKED = 1,  /* send the body with Transfer-Encoding: chunked */
    HP_IT_EXPECT = 2,   /* keep curl's Expect: 100-continue for large bodies */
    HP_IT_NORECORD = 4, /* keep this response out of HP_IT_RECORD (the harness's start-up probes) */
};

typedef struct hp_it_req {
    const char *method;         /* "GET", "POST", ... */
    const char *path;           /* "/v1/approvals" */
    const char *const *headers; /* "Name: value", NULL-terminated, or NULL */
    const char *body;           /* NULL for none */
    size_t body_len;            /* bytes of body; 0 means strlen(body) */
    unsigned flags;             /* HP_IT_* */
    long timeout_ms;            /* 0 means 30000 */
} hp_it_req;

typedef struct hp_it_resp {
    long status; /* 0 when the transport failed (see error) */
    char *body;  /* NUL-terminated */
    size_t body_len;
    json_object *json; /* the body parsed, or NULL when it is not JSON */
    char *headers;     /* the final response's header block */
    double seconds;    /* total time */
    char error[256];   /* curl's message when status is 0 */
} hp_it_resp;

/* Sends req to api (the default API when NULL). Never NULL. */
hp_it_resp *hp_it_send(hp_it_api *api, const hp_it_req *req);
hp_it_resp *hp_it_http(hp_it_api *api, const char *method, const char *path,
                       const char *const *headers, const char *body);

/* The contract recorder: when HP_IT_RECORD names a file, appends one JSON
 * line {method, path (without the query), status, content_type, headers
 * (lower-cased names), body (text)} to it. hp_it_send calls it for every
 * response except transport failures and HP_IT_NORECORD requests; a test
 * that talks HTTP by other means may call it too. Thread-safe. */
void hp_it_record(const char *method, const char *path, long status, const char *content_type,
                  const char *headers, const char *body, size_t body_len);

/* Value of the response header name (case-insensitive), harness-owned, or
 * NULL. */
const char *hp_it_header(const hp_it_resp *r, const char *name);

/* Sends the n requests at once (one thread and one curl handle each, released
 * together by a barrier) and stores the responses in out[0..n-1]. */
void hp_it_parallel(hp_it_api *api, int n, const hp_it_req *reqs, hp_it_resp **out);

/* Header lists (harness-owned, NULL-terminated) for the usual forms. */
const char *const *hp_it_agent_headers(const hp_it_team *t, bool json_body);
const char *const *hp_it_user_headers(const hp_it_team *t, bool json_body);

/* Calls as t's agent (X-Agent-Id + X-Api-Key; Content-Type: application/json
 * when body is not NULL), or as t's user (Authorization: Bearer). */
hp_it_resp *hp_it_agent(const hp_it_team *t, const char *method, const char *path,
                        const char *body);
hp_it_resp *hp_it_agent_on(hp_it_api *api, const hp_it_team *t, const char *method,
                           const char *path, const char *body);
hp_it_resp *hp_it_user(const hp_it_team *t, const char *method, const char *path, const char *body);

/* A valid create body with the question q (and optional extra members, a
 * JSON fragment such as "\"request_id\":\"r1\"" or NULL). */
char *hp_it_create_body(const char *q, const char *extra);

/* POST /v1/approvals with hp_it_create_body(q, extra) as t; asserts 200 and
 * returns the response (fatal on failure). */
hp_it_resp *hp_it_create_ok(const hp_it_team *t, const char *q, const char *extra);

/* ---- metrics ------------------------------------------------------------ */

/* An unlabelled series of api's /metrics, or -1 when absent. */
double hp_it_gauge(hp_it_api *api, const char *name);
/* Waits up to ms for hp_it_gauge(api, name) to equal want (or, with
 * at_least, to reach it); prints the last value when it does not. */
bool hp_it_await_gauge(hp_it_api *api, const char *name, double want, bool at_least, long ms);

/* ---- SQL --------------------------------------------------------------- */

/* Runs sql with $1.. bound to the string params (NULL-terminated list) and
 * returns the first column of the first row as an integer; fails the test
 * and returns -1 on an error or no row. */
long long hp_it_sql_int(const char *sql, ...) __attribute__((sentinel));
/* The same for a text value: harness-owned, NULL for SQL null or an error. */
char *hp_it_sql_str(const char *sql, ...) __attribute__((sentinel));
/* Runs a statement; returns false (and fails the test) on error. */
bool hp_it_sql_exec(const char *sql, ...) __attribute__((sentinel));

/* ---- Redis --------------------------------------------------------------- */

/* Starts `redis-cli SUBSCRIBE channel` in the background for up to secs
 * seconds, writing what it receives to a file in HP_RUN_DIR, and returns the
 * file's path (harness-owned) once Redis has confirmed the subscription, so
 * nothing published after the call is missed. Fails the test fatally when
 * the confirmation does not come within 5 s. */
const char *hp_it_redis_subscribe(const char *channel, int secs);

/* How many lines of the file at path contain text (0 when it is missing). */
int hp_it_file_count(const char *path, const char *text);

/* ---- JSON and value helpers ------------------------------------------- */

/* Looks up a dotted path ("resolved_by.user_id", "items.0.request_id");
 * returns NULL when missing or null. *present (when not NULL) tells them
 * apart. */
json_object *hp_it_jget(json_object *o, const char *path, bool *present);
/* text parsed as JSON (harness-owned), or NULL when text is NULL or not JSON. */
json_object *hp_it_json(const char *text);
/* The compact JSON text of o (harness-owned); "(none)" for NULL. */
const char *hp_it_jtext(json_object *o);
/* Number of members of an object (or items of an array); -1 otherwise. */
int hp_it_jlen(json_object *o);

bool hp_it_is_uuid(const char *s);
/* Seconds since the epoch for an RFC 3339 UTC time with Z, or -1. */
double hp_it_time(const char *s);
/* Wall clock seconds (with fractions). */
double hp_it_now(void);
void hp_it_sleep_ms(long ms);

/* ---- assertions -------------------------------------------------------- */

/* Records a CUnit assertion with a message built from fmt (the message is
 * what a failure prints). Returns ok. */
bool hp_it__check(bool ok, const char *file, unsigned line, bool fatal, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
bool hp_it__status(const hp_it_resp *r, long want, const char *file, unsigned line, bool fatal);
bool hp_it__error(const hp_it_resp *r, long status, const char *code, const char *file,
                  unsigned line);
bool hp_it__issue(const hp_it_resp *r, const char *path, const char *code, const char *file,
                  unsigned line);
bool hp_it__jstr(json_object *o, const char *path, const char *want, const char *file,
                 unsigned line);
bool hp_it__jint(json_object *o, const char *path, long long want, const char *file, unsigned line);
bool hp_it__jbool(json_object *o, const char *path, bool want, const char *file, unsigned line);
bool hp_it__jnull(json_object *o, const char *path, const char *file, unsigned line);
bool hp_it__jmissing(json_object *o, const char *path, const char *file, unsigned line);

/* IT_CHECK(cond, fmt, ...): a plain assertion with a formatted message. */
#define IT_CHECK(cond, ...)       hp_it__check((cond), __FILE__, __LINE__, false, __VA_ARGS__)
#define IT_CHECK_FATAL(cond, ...) hp_it__check((cond), __FILE__, __LINE__, true, __VA_ARGS__)
/* The HTTP status (prints the body on a mismatch). */
#define IT_STATUS(r, want)       hp_it__status((r), (want), __FILE__, __LINE__, false)
#define IT_STATUS_FATAL(r, want) hp_it__status((r), (want), __FILE__, __LINE__, true)
/* An error answer: status, JSON body with error == code, a non-empty message,
 * request_id equal to the X-Request-Id header (except idempotency_conflict,
 * whose request_id is the caller's id), and a JSON content type. */
#define IT_ERROR(r, status, code) hp_it__error((r), (status), (code), __FILE__, __LINE__)
/* 400 invalid_payload whose issues hold one with this path (compact JSON
 * text such as "[\"options\",0,\"label\"]") and code. */
#define IT_ISSUE(r, path, code) hp_it__issue((r), (path), (code), __FILE__, __LINE__)
#define IT_JSTR(o, path, want)  hp_it__jstr((o), (path), (want), __FILE__, __LINE__)
#define IT_JINT(o, path, want)  hp_it__jint((o), (path), (want), __FILE__, __LINE__)
#define IT_JBOOL(o, path, want) hp_it__jbool((o), (path), (want), __FILE__, __LINE__)
/* The member is present with the value null. */
#define IT_JNULL(o, path) hp_it__jnull((o), (path), __FILE__, __LINE__)
/* The member is absent. */
#define IT_JMISSING(o, path) hp_it__jmissing((o), (path), __FILE__, __LINE__)

/* A JSON-string-safe copy of s for building bodies (harness-owned, without
 * the surrounding quotes). */
const char *hp_it_jesc(const char *s);

#endif
