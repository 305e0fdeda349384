// Compiles flight_hal_resources.h as C++ (warnings as errors): the header must be usable from C++ engines. The layout of
// every struct is pinned here; the library's tests read these static_asserts and check the managed structs against them
// (tests/Flight.Hal.Resources.Tests/Native/NativeLayoutTests.cs), so the two sides cannot drift apart.
#include "flight_hal_resources.h"

#include <cstddef>

static_assert(sizeof(fhr_handle) == 8, "fhr_handle is 64 bits");
static_assert(FHR_INVALID_ARGUMENT == 254, "status codes are ResourceStatus values");

static_assert(sizeof(fhr_stats) == 96, "fhr_stats size");
static_assert(offsetof(fhr_stats, type) == 0, "fhr_stats.type");
static_assert(offsetof(fhr_stats, pressure) == 4, "fhr_stats.pressure");
static_assert(offsetof(fhr_stats, budget_max_bytes) == 8, "fhr_stats.budget_max_bytes");
static_assert(offsetof(fhr_stats, budget_reserved_bytes) == 16, "fhr_stats.budget_reserved_bytes");
static_assert(offsetof(fhr_stats, current_bytes) == 24, "fhr_stats.current_bytes");
static_assert(offsetof(fhr_stats, peak_bytes) == 32, "fhr_stats.peak_bytes");
static_assert(offsetof(fhr_stats, acquisitions) == 40, "fhr_stats.acquisitions");
static_assert(offsetof(fhr_stats, releases) == 48, "fhr_stats.releases");
static_assert(offsetof(fhr_stats, failures) == 56, "fhr_stats.failures");
static_assert(offsetof(fhr_stats, reserve_acquisitions) == 64, "fhr_stats.reserve_acquisitions");
static_assert(offsetof(fhr_stats, emergency_overruns) == 72, "fhr_stats.emergency_overruns");
static_assert(offsetof(fhr_stats, reclamations) == 80, "fhr_stats.reclamations");
static_assert(offsetof(fhr_stats, reclaimed_bytes) == 88, "fhr_stats.reclaimed_bytes");

static_assert(sizeof(fhr_region_stats) == 64, "fhr_region_stats size");
static_assert(offsetof(fhr_region_stats, kind) == 0, "fhr_region_stats.kind");
static_assert(offsetof(fhr_region_stats, allocations) == 4, "fhr_region_stats.allocations");
static_assert(offsetof(fhr_region_stats, capacity_bytes) == 8, "fhr_region_stats.capacity_bytes");
static_assert(offsetof(fhr_region_stats, reserved_bytes) == 16, "fhr_region_stats.reserved_bytes");
static_assert(offsetof(fhr_region_stats, used_bytes) == 24, "fhr_region_stats.used_bytes");
static_assert(offsetof(fhr_region_stats, peak_used_bytes) == 32, "fhr_region_stats.peak_used_bytes");
static_assert(offsetof(fhr_region_stats, largest_free_block) == 40, "fhr_region_stats.largest_free_block");
static_assert(offsetof(fhr_region_stats, failures) == 48, "fhr_region_stats.failures");
static_assert(offsetof(fhr_region_stats, fragmentation) == 56, "fhr_region_stats.fragmentation");

static_assert(sizeof(fhr_pool_stats) == 40, "fhr_pool_stats size");
static_assert(offsetof(fhr_pool_stats, type) == 0, "fhr_pool_stats.type");
static_assert(offsetof(fhr_pool_stats, block_size) == 4, "fhr_pool_stats.block_size");
static_assert(offsetof(fhr_pool_stats, total_blocks) == 8, "fhr_pool_stats.total_blocks");
static_assert(offsetof(fhr_pool_stats, used_blocks) == 12, "fhr_pool_stats.used_blocks");
static_assert(offsetof(fhr_pool_stats, free_blocks) == 16, "fhr_pool_stats.free_blocks");
static_assert(offsetof(fhr_pool_stats, peak_used_blocks) == 20, "fhr_pool_stats.peak_used_blocks");
static_assert(offsetof(fhr_pool_stats, capacity_blocks) == 24, "fhr_pool_stats.capacity_blocks");
static_assert(offsetof(fhr_pool_stats, reserved) == 28, "fhr_pool_stats.reserved");
static_assert(offsetof(fhr_pool_stats, efficiency) == 32, "fhr_pool_stats.efficiency");
static_assert(sizeof(fhr_cache_stats) == 80, "fhr_cache_stats size");
static_assert(offsetof(fhr_cache_stats, entries) == 0, "fhr_cache_stats.entries");
static_assert(offsetof(fhr_cache_stats, referenced) == 4, "fhr_cache_stats.referenced");
static_assert(offsetof(fhr_cache_stats, unreferenced) == 8, "fhr_cache_stats.unreferenced");
static_assert(offsetof(fhr_cache_stats, loading) == 12, "fhr_cache_stats.loading");
static_assert(offsetof(fhr_cache_stats, resident_bytes) == 16, "fhr_cache_stats.resident_bytes");
static_assert(offsetof(fhr_cache_stats, hits) == 24, "fhr_cache_stats.hits");
static_assert(offsetof(fhr_cache_stats, misses) == 32, "fhr_cache_stats.misses");
static_assert(offsetof(fhr_cache_stats, loads) == 40, "fhr_cache_stats.loads");
static_assert(offsetof(fhr_cache_stats, load_failures) == 48, "fhr_cache_stats.load_failures");
static_assert(offsetof(fhr_cache_stats, evictions) == 56, "fhr_cache_stats.evictions");
static_assert(offsetof(fhr_cache_stats, forced_unloads) == 64, "fhr_cache_stats.forced_unloads");
static_assert(offsetof(fhr_cache_stats, unloads) == 72, "fhr_cache_stats.unloads");
static_assert(sizeof(fhr_cache_ref) == 8, "fhr_cache_ref");

extern "C" fhr_status fhr_header_cxx_probe(fhr_manager* manager)
{
    fhr_handle handle = FHR_NULL_HANDLE;
    return fhr_acquire(manager, FHR_TYPE_MEMORY, 64, 0, FHR_FLAG_NONE, FHR_MODE_NON_BLOCKING, 0, nullptr, &handle);
}
