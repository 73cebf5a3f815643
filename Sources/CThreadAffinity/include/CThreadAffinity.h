// CPU affinity for the compute pool's threads (glibc's _GNU_SOURCE calls, which Swift's Glibc
// module does not expose).
#ifndef C_THREAD_AFFINITY_H
#define C_THREAD_AFFINITY_H

/// Writes up to `max` CPU numbers the calling thread may run on into `cpus`; returns how many (0 on
/// error).
int c2f_allowed_cpus(int *cpus, int max);

/// Restricts the calling thread to `cpu`; 0 on success.
int c2f_pin_current_thread(int cpu);

/// Lets the calling thread run on the `n` CPUs in `cpus`; 0 on success.
int c2f_set_current_thread_cpus(const int *cpus, int n);

/// The CPU the calling thread runs on now (-1 if unknown).
int c2f_current_cpu(void);

#endif
