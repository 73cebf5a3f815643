// nifti2_io.h includes <znzlib.h> with angle brackets; this forwarder makes it resolvable,
// because a C target's include/ folder is on the search path (a systemLibrary's is not).
#include <nifti/znzlib.h>
