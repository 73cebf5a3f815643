// OpenBLAS cblas interface (Debian: /usr/include/x86_64-linux-gnu/openblas-pthread/ via pkg-config).
#include <cblas.h>
