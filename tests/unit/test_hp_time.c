/*
 * Unit tests for hp_time: RFC 3339 formatting against known instants
 * (including before 1970 and leap days), strict parsing with fractions and
 * offsets, rejection of every malformed or out-of-range field, format/parse
 * round trips, the two clocks, and hp_time_sleep_ms with and without a stop
 * flag when a signal interrupts it.
 */
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include <CUnit/Basic.h>

#include "hp_time.h"
#include "hp_unit.h"

static void check_fmt(int64_t t, const char *want)
{
    char out[32];
    hp_time_rfc3339(t, out, sizeof(out));
    if (strcmp(out, want) != 0)
        fprintf(stderr, "\n%lld: got %s, want %s\n", (long long)t, out, want);
    CU_ASSERT_STRING_EQUAL(out, want);
}

static void test_format(void)
{
    check_fmt(0, "1970-01-01T00:00:00.000Z");
    check_fmt(1795423049000000, "2026-11-23T08:37:29.000Z");
    check_fmt(1795423049123456, "2026-11-23T08:37:29.123Z"); /* truncated to ms */
    check_fmt(1795423049999999, "2026-11-23T08:37:29.999Z");
    check_fmt(1763887100000000, "2025-11-23T08:38:20.000Z");
    check_fmt(951782400000000, "2000-02-29T00:00:00.000Z");
    check_fmt(1483228799000000, "2016-12-31T23:59:59.000Z");
    check_fmt(-1, "1969-12-31T23:59:59.999Z");
    check_fmt(-1000, "1969-12-31T23:59:59.999Z");
    check_fmt(-1001, "1969-12-31T23:59:59.998Z");
    check_fmt(-2203891200000000, "1900-03-01T00:00:00.000Z");
    check_fmt(-62135596800000000, "0001-01-01T00:00:00.000Z");
    check_fmt(253402300799999000, "9999-12-31T23:59:59.999Z");
}

static void test_format_small_buffer(void)
{
    char out[11];
    hp_time_rfc3339(0, out, sizeof(out));
    CU_ASSERT_STRING_EQUAL(out, "1970-01-01"); /* truncated, still terminated */
}

static void check_parse(const char *s, int64_t want)
{
    int64_t t = -12345;
    bool ok = hp_time_parse_rfc3339(s, &t);
    if (!ok || t != want)
        fprintf(stderr, "\n%s: ok=%d got %lld, want %lld\n", s, ok, (long long)t, (long long)want);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(t, want);
}

static void test_parse(void)
{
    check_parse("2026-11-23T08:37:29Z", 1795423049000000);
    check_parse("2026-11-23T08:37:29.123Z", 1795423049123000);
    check_parse("2026-11-23T08:37:29.5Z", 1795423049500000);
    check_parse("2026-11-23T08:37:29.123456Z", 1795423049123456);
    check_parse("2026-11-23T08:37:29.123456789Z", 1795423049123456); /* beyond µs cut */
    check_parse("2026-11-23t08:37:29z", 1795423049000000);
    check_parse("2000-02-29T00:00:00Z", 951782400000000);
    check_parse("1970-01-01T00:00:00Z", 0);
    check_parse("1969-12-31T23:59:59.999Z", -1000);
    check_parse("0001-01-01T00:00:00Z", -62135596800000000);
}

static void test_parse_offsets(void)
{
    check_parse("2026-11-23T10:37:29+02:00", 1795423049000000);
    check_parse("2026-11-23T03:07:29-05:30", 1795423049000000);
    check_parse("2026-11-23T08:37:29+00:00", 1795423049000000);
    check_parse("2026-11-23T08:37:29-00:00", 1795423049000000);
    check_parse("2026-11-24T08:36:29+23:59", 1795423049000000);
    check_parse("2026-11-23T10:37:29.250+02:00", 1795423049250000);
    check_parse("1970-01-01T00:00:00+01:00", -3600000000);
}

static void test_parse_leap_second(void)
{
    /* As PostgreSQL does, :60 becomes the first second of the next minute. */
    check_parse("2016-12-31T23:59:60Z", 1483228800000000);
}

static void test_parse_rejects(void)
{
    static const char *const bad[] = {"",
                                      "2026-11-23",
                                      "2026-11-23T08:37:29",      /* no offset */
                                      "2026-11-23 08:37:29Z",     /* space separator */
                                      "2026-11-23T08:37Z",        /* no seconds */
                                      "2026-11-23T08:37:29.Z",    /* empty fraction */
                                      "2026-11-23T08:37:29,5Z",   /* comma fraction */
                                      "2026-11-23T08:37:29+0200", /* offset without colon */
                                      "2026-11-23T08:37:29+02",   /* offset without minutes */
                                      "2026-11-23T08:37:29+2:00",
                                      "2026-11-23T08:37:29+24:00", /* offset hour */
                                      "2026-11-23T08:37:29+02:60", /* offset minute */
                                      "2026-11-23T08:37:29ZZ",     /* trailing junk */
                                      "2026-11-23T08:37:29Z ",
                                      " 2026-11-23T08:37:29Z",
                                      "26-11-23T08:37:29Z",
                                      "2026-1-23T08:37:29Z",
                                      "2026-11-3T08:37:29Z",
                                      "2026-13-01T00:00:00Z", /* month */
                                      "2026-00-01T00:00:00Z",
                                      "2026-11-00T00:00:00Z", /* day */
                                      "2026-11-31T00:00:00Z", /* November has 30 days */
                                      "2026-02-29T00:00:00Z", /* not a leap year */
                                      "1900-02-29T00:00:00Z", /* century, not leap */
                                      "2024-02-30T00:00:00Z",
                                      "2026-11-23T24:00:00Z", /* hour */
                                      "2026-11-23T08:60:00Z", /* minute */
                                      "2026-11-23T08:37:61Z", /* second */
                                      "2026-11-23T8:37:29Z",
                                      "2026-11-23T08:37:29.12a3Z",
                                      "+2026-11-23T08:37:29Z",
                                      "2026/11/23T08:37:29Z",
                                      "2026-11-23T08-37-29Z",
                                      "now",
                                      NULL};
    int64_t t;

    for (int i = 0; bad[i] != NULL; i++) {
        bool ok = hp_time_parse_rfc3339(bad[i], &t);
        if (ok)
            fprintf(stderr, "\naccepted: \"%s\"\n", bad[i]);
        CU_ASSERT_FALSE(ok);
    }
    CU_ASSERT_FALSE(hp_time_parse_rfc3339(NULL, &t));
    CU_ASSERT_TRUE(hp_time_parse_rfc3339("2024-02-29T00:00:00Z", &t)); /* a leap year */
}

static void test_round_trip(void)
{
    /* Millisecond instants survive format then parse, across eras. */
    static const int64_t ts[] = {0,
                                 1,
                                 999,
                                 -999,
                                 1795423049123000,
                                 -2203891200001000,
                                 4102444799999000, /* 2099-12-31T23:59:59.999 */
                                 951868799999000};
    char buf[32];
    int64_t back, now;

    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        int64_t ms_floor = ts[i] - ((ts[i] % 1000) + 1000) % 1000;
        hp_time_rfc3339(ts[i], buf, sizeof(buf));
        CU_ASSERT_TRUE(hp_time_parse_rfc3339(buf, &back));
        CU_ASSERT_EQUAL(back, ms_floor);
    }
    now = hp_time_now_us();
    hp_time_rfc3339(now, buf, sizeof(buf));
    CU_ASSERT_TRUE(hp_time_parse_rfc3339(buf, &back));
    CU_ASSERT_EQUAL(back, now - now % 1000);
}

static void test_clocks(void)
{
    int64_t a = hp_time_now_us(), m1 = hp_time_mono_ms(), m2;

    CU_ASSERT(a > 1700000000000000LL); /* after 2023 */
    CU_ASSERT(a < 4102444800000000LL); /* before 2100 */
    hp_time_sleep_ms(20, NULL);
    m2 = hp_time_mono_ms();
    CU_ASSERT(m2 - m1 >= 20);
    CU_ASSERT(m2 - m1 < 2000);
    CU_ASSERT(hp_time_now_us() >= a);
}

static volatile int stop_flag;
static volatile int alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
    stop_flag = 1;
}

static void arm_timer(long ms)
{
    struct itimerval it;
    memset(&it, 0, sizeof(it));
    it.it_value.tv_sec = ms / 1000;
    it.it_value.tv_usec = (ms % 1000) * 1000;
    CU_ASSERT_FATAL(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

static void test_sleep_interrupt(void)
{
    struct sigaction sa;
    int64_t t0, dt;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    CU_ASSERT_FATAL(sigaction(SIGALRM, &sa, NULL) == 0);

    /* With a flag: the signal sets it and the sleep ends early. */
    stop_flag = 0;
    alarms = 0;
    arm_timer(30);
    t0 = hp_time_mono_ms();
    hp_time_sleep_ms(5000, &stop_flag);
    dt = hp_time_mono_ms() - t0;
    CU_ASSERT_EQUAL(alarms, 1);
    CU_ASSERT(dt >= 20 && dt < 2000);

    /* Without a flag: the sleep resumes and lasts its full length. */
    alarms = 0;
    arm_timer(20);
    t0 = hp_time_mono_ms();
    hp_time_sleep_ms(150, NULL);
    dt = hp_time_mono_ms() - t0;
    CU_ASSERT_EQUAL(alarms, 1);
    CU_ASSERT(dt >= 150);

    /* A flag already set: no sleep at all. */
    stop_flag = 1;
    t0 = hp_time_mono_ms();
    hp_time_sleep_ms(5000, &stop_flag);
    CU_ASSERT(hp_time_mono_ms() - t0 < 1000);
    hp_time_sleep_ms(0, NULL);
    hp_time_sleep_ms(-5, NULL);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"format", test_format},
        {"format small buffer", test_format_small_buffer},
        {"parse", test_parse},
        {"parse offsets", test_parse_offsets},
        {"parse leap second", test_parse_leap_second},
        {"parse rejects", test_parse_rejects},
        {"round trip", test_round_trip},
        {"clocks", test_clocks},
        {"sleep interrupted", test_sleep_interrupt},
        {NULL, NULL},
    };
    return hp_unit_main("hp_time", tests);
}
