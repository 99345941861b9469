/* vm_time.h — clocks and timestamps. */
#ifndef VM_TIME_H
#define VM_TIME_H

#include <stdint.h>

/* Monotonic seconds since an arbitrary origin (for durations). */
double vm_time_mono(void);
/* Milliseconds since the Unix epoch (wall clock). */
int64_t vm_time_unix_ms(void);
/* Formats unix_ms as ISO-8601 UTC with milliseconds,
 * "2026-11-26T17:40:00.123Z" (24 chars + NUL). */
void vm_time_iso_utc(int64_t unix_ms, char out[32]);
/* Sleeps for the given seconds (fractions allowed). */
void vm_time_sleep(double seconds);

#endif /* VM_TIME_H */
