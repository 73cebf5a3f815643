// OpenBLAS cblas interface (Debian: /usr/include/x86_64-linux-gnu/openblas-pthread/ via pkg-config).
#include <cblas.h>
// glibc's mallopt (Swift's Glibc module does not export it): BufferPool fixes the mmap threshold.
#include <malloc.h>
