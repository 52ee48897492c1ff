/*
 * hp_time: clocks and RFC 3339 formatting. Wall time is microseconds since the
 * Unix epoch (what PostgreSQL stores); monotonic time is for deadlines.
 */
#ifndef HP_TIME_H
#define HP_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int64_t hp_time_now_us(void);  /* CLOCK_REALTIME */
int64_t hp_time_mono_ms(void); /* CLOCK_MONOTONIC */

/* Formats t (µs since epoch) as "2026-11-23T08:37:29.123Z" (millisecond
 * precision, UTC) into out; needs cap >= 32. */
void hp_time_rfc3339(int64_t t_us, char *out, size_t cap);

/* Parses RFC 3339 ("2026-11-23T08:37:29Z", optional fraction, 'Z' or ±hh:mm
 * offset) into µs since epoch; false on anything else. */
bool hp_time_parse_rfc3339(const char *s, int64_t *t_us);

/* Sleeps ms milliseconds (restarts after EINTR only if no stop was asked by
 * the caller's flag; pass NULL to ignore). */
void hp_time_sleep_ms(long ms, const volatile int *stop_flag);

#endif
