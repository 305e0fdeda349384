// Compiles flight_hal_resources.h as C++ (warnings as errors): the header must be usable from C++ engines.
#include "flight_hal_resources.h"

static_assert(sizeof(fhr_handle) == 8, "fhr_handle is 64 bits");
static_assert(FHR_INVALID_ARGUMENT == 254, "status codes are ResourceStatus values");

extern "C" fhr_status fhr_header_cxx_probe(fhr_manager* manager)
{
    fhr_handle handle = FHR_NULL_HANDLE;
    return fhr_acquire(manager, FHR_TYPE_MEMORY, 64, 0, FHR_FLAG_NONE, FHR_MODE_NON_BLOCKING, 0, nullptr, &handle);
}
