/* The example in native-sim/README.md, built (as C and as C++) and run by CI so it cannot go stale. */
#include "flight_hal_resources.h"
#include <stdio.h>

int main(void) {
    fhr_manager* dc; fhr_handle tex;
    if (fhr_manager_create("dreamcast", &dc) != FHR_OK) return 1;
    fhr_status s = fhr_acquire(dc, FHR_TYPE_HARDWARE, 512 * 512 * 2, 32, FHR_FLAG_GPU_ACCESSIBLE,
                               FHR_MODE_NON_BLOCKING, 0, "title.tex", &tex);   /* lands in the 8 MiB PowerVR region */
    if (s != FHR_OK) { puts(fhr_status_string(s)); return 1; }
    unsigned short* texels = (unsigned short*)fhr_resolve(dc, tex); /* NULL once released */
    texels[0] = 0xF800;
    fhr_release(dc, tex);                             /* a second release returns FHR_STALE_HANDLE */
    return fhr_manager_destroy(dc);
}
