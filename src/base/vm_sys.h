/* vm_sys.h — process and machine resource readings (Linux /proc). */
#ifndef VM_SYS_H
#define VM_SYS_H

#include <stdint.h>

/* Resident set size of this process in bytes (0 if unknown). */
int64_t vm_sys_rss_bytes(void);
/* Peak resident set size of this process in bytes (VmHWM; 0 if unknown). */
int64_t vm_sys_peak_rss_bytes(void);
/* User + system CPU seconds used by this process so far. */
double vm_sys_cpu_seconds(void);
/* Online CPU cores (at least 1). */
int vm_sys_ncores(void);
/* MemAvailable of the machine in bytes (0 if unknown). */
int64_t vm_sys_mem_available_bytes(void);

#endif /* VM_SYS_H */
