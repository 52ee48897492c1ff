/*
 * hp_time: the two clocks and RFC 3339 text. Wall time is an int64 of
 * microseconds since the Unix epoch, the unit PostgreSQL's timestamptz uses,
 * so values move between SQL and JSON without rounding surprises; monotonic
 * milliseconds are for deadlines and durations only. Formatting always
 * writes UTC with exactly three fractional digits and 'Z'. Parsing accepts
 * the RFC 3339 date-time grammar only (section 5.6: 'T' or 't', optional
 * fraction, 'Z', 'z' or a numeric offset) and checks every field's range,
 * including the days of each month; fractions finer than a microsecond are
 * truncated. Civil-date arithmetic is done here (Howard Hinnant's algorithm),
 * not with timegm/TZ, so nothing depends on the process's time zone.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "hp_time.h"

int64_t hp_time_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t hp_time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t hp__days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void hp__civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Floor division and its remainder, for times before 1970. */
static int64_t hp__floordiv(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void hp_time_rfc3339(int64_t t_us, char *out, size_t cap)
{
    int64_t secs = hp__floordiv(t_us, 1000000);
    int64_t us = t_us - secs * 1000000;
    int64_t days = hp__floordiv(secs, 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    int m, d;

    if (out == NULL || cap == 0)
        return;
    hp__civil_from_days(days, &y, &m, &d);
    (void)snprintf(out, cap, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
                   (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)(us / 1000));
}

/* Reads exactly n digits at *p into *v and advances *p. */
static bool hp__digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        x = x * 10 + (c - '0');
    }
    *p += n;
    *v = x;
    return true;
}

static bool hp__leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int hp__mdays(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && hp__leap(y) ? 29 : days[m - 1];
}

bool hp_time_parse_rfc3339(const char *s, int64_t *t_us)
{
    const char *p = s;
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    int64_t frac = 0, t;

    if (s == NULL)
        return false;
    if (!hp__digits(&p, 4, &y) || *p++ != '-' || !hp__digits(&p, 2, &mo) || *p++ != '-' ||
        !hp__digits(&p, 2, &d))
        return false;
    if (*p != 'T' && *p != 't')
        return false;
    p++;
    if (!hp__digits(&p, 2, &h) || *p++ != ':' || !hp__digits(&p, 2, &mi) || *p++ != ':' ||
        !hp__digits(&p, 2, &sec))
        return false;
    if (*p == '.') {
        int64_t scale = 100000;
        p++;
        if (*p < '0' || *p > '9')
            return false;
        for (; *p >= '0' && *p <= '9'; p++) {
            frac += (*p - '0') * scale;
            scale /= 10;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
        if (!hp__digits(&p, 2, &oh) || *p++ != ':' || !hp__digits(&p, 2, &om))
            return false;
    } else {
        return false;
    }
    if (*p != '\0')
        return false;
    /* A leap second (:60) is accepted as RFC 3339 allows and, as PostgreSQL
     * does, lands on the next minute's first second. */
    if (mo < 1 || mo > 12 || d < 1 || d > hp__mdays(y, mo) || h > 23 || mi > 59 || sec > 60 ||
        oh > 23 || om > 59)
        return false;
    t = hp__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    t -= (int64_t)sign * (oh * 3600 + om * 60);
    if (t_us != NULL)
        *t_us = t * 1000000 + frac;
    return true;
}

void hp_time_sleep_ms(long ms, const volatile int *stop_flag)
{
    struct timespec req, rem;

    if (ms <= 0 || (stop_flag != NULL && *stop_flag))
        return;
    req.tv_sec = ms / 1000;
    req.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&req, &rem) != 0 && errno == EINTR) {
        if (stop_flag != NULL && *stop_flag)
            return;
        req = rem;
    }
}
