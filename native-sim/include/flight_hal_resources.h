/*
 * flight_hal_resources.h — the C ABI of Flight.Hal.Resources (libflight_hal_resources.so, built with NativeAOT).
 *
 * A resource manager owns memory outside any garbage-collected heap under a platform profile's budgets, pools and
 * memory regions, and hands out 8-byte generational handles. A released (stale) handle is always detected: it resolves
 * to NULL and releasing it again returns FHR_STALE_HANDLE.
 *
 * Conventions
 *  - Every function but fhr_resolve and fhr_status_string returns an fhr_status. Its values are the managed
 *    ResourceStatus values and are never renumbered.
 *  - No managed exception ever crosses this boundary. A NULL pointer argument (other than the optional `name` of
 *    fhr_acquire and `profile` of fhr_manager_create), an unknown enum value or a string that is not valid UTF-8 returns
 *    FHR_INVALID_ARGUMENT; an unknown or destroyed manager returns FHR_INVALID_HANDLE; an unexpected failure inside
 *    returns FHR_INTERNAL_ERROR. Out-pointers are set (to 0 / FHR_NULL_HANDLE) on failure where the function says so.
 *  - Handles: a handle this manager issued and has since released is FHR_STALE_HANDLE; a null, forged (never issued)
 *    or foreign handle — one from another manager, also from a manager destroyed long ago — is FHR_INVALID_HANDLE.
 *    Neither touches anything.
 *  - Strings are UTF-8 and NUL-terminated; the library copies what it keeps. Names and owners seen before are looked
 *    up without allocating.
 *  - Cost: once warm, no call allocates on the library's managed heap (acquire, release, resolve, share, find, stats).
 *  - All functions are thread-safe, except that a manager must not be destroyed while another thread uses it. Any
 *    thread may call in; a thread that acquires and releases keeps no library state once it exits. A thread that
 *    waits (FHR_MODE_BLOCKING or FHR_MODE_TIMEOUT) gets a small wait structure from the .NET runtime inside the library
 *    (about 100 bytes), which the runtime frees at its next garbage collection after the thread exits;
 *    fhr_manager_destroy runs one, so nothing is left behind by exited threads once a manager is destroyed.
 *  - Callbacks run on the thread whose call triggered them (a pressure change caused while another thread is
 *    delivering pressure changes is delivered by that thread), outside every lock of the library, and may call back
 *    in. A pressure change caused inside a pressure callback is delivered after the callback returns, never by
 *    calling it again from within itself.
 *  - Limits: the process has 1,023 handle issuers (tables, pools, arenas). A manager takes one per pool and per region,
 *    plus two (plus one once it has used scopes): 12 on dreamcast, 9 on desktop, so about 78 dreamcast managers or
 *    100 desktop managers can be alive at once; fhr_manager_create beyond that returns FHR_CAPACITY_EXCEEDED.
 *
 * Compiles as C99 and as C++.
 */
#ifndef FLIGHT_HAL_RESOURCES_H
#define FLIGHT_HAL_RESOURCES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Types ------------------------------------------------------------------------------------------------------ */

/** A resource handle: generation (32 bits) | slot (22 bits) | issuer tag (10 bits). 0 is the null handle. */
typedef uint64_t fhr_handle;

/** The null handle: never valid. */
#define FHR_NULL_HANDLE ((fhr_handle)0)

/** An opaque manager. Pointers to it are ids, checked on every call: a bad one returns FHR_INVALID_HANDLE. */
typedef struct fhr_manager fhr_manager;

/** The outcome of every call (the values of the managed ResourceStatus). */
typedef int32_t fhr_status;

#define FHR_OK                 0   /* The operation completed. */
#define FHR_BUDGET_EXCEEDED    1   /* The type's budget is spent (even after reclamation). */
#define FHR_POOL_EXHAUSTED     2   /* A pool has no free block and may not grow. */
#define FHR_STALE_HANDLE       3   /* The handle was released since it was issued; nothing was touched. */
#define FHR_OUT_OF_MEMORY      4   /* The host allocator refused. */
#define FHR_NOT_FOUND          5   /* No such profile, name, pool, region or registration. */
#define FHR_SHARING_FAILURE    6   /* Not shareable, or the handle belongs to another owner. */
#define FHR_TIMEOUT            7   /* An FHR_MODE_TIMEOUT wait ran out. */
#define FHR_DEADLOCK           8   /* A blocking wait could never end (a wait-for cycle between owners). */
#define FHR_CAPACITY_EXCEEDED  9   /* The registry is full. */
#define FHR_INVALID_HANDLE     10  /* Null, forged or foreign handle, or an unknown manager; nothing was touched. */
#define FHR_REGION_EXHAUSTED   11  /* The memory region has too few free bytes (or the request is larger than it). */
#define FHR_FRAGMENTED         12  /* The region has the bytes, but not in one block. */
#define FHR_CORRUPTED          13  /* The memory-safety mode found overwritten guard bytes or released memory. */
#define FHR_INVALID_ARGUMENT   254 /* A NULL pointer, an unknown enum value, a bad size or alignment. */
#define FHR_INTERNAL_ERROR     255 /* An unexpected failure inside the library. */

/** Resource types: each has its own budget. */
typedef enum fhr_type
{
    FHR_TYPE_MEMORY = 0,        /* general memory: meshes, game state, scratch */
    FHR_TYPE_HARDWARE = 1,      /* device memory: textures, vertex and sound buffers */
    FHR_TYPE_PERFORMANCE = 2,
    FHR_TYPE_COMMUNICATION = 3,
    FHR_TYPE_PLATFORM = 4,
    FHR_TYPE_CUSTOM = 5
} fhr_type;

/** What to do when the budget or the region has no room now. */
typedef enum fhr_mode
{
    FHR_MODE_NON_BLOCKING = 0,  /* fail at once */
    FHR_MODE_BLOCKING = 1,      /* wait until a release makes room (FHR_DEADLOCK if it never could) */
    FHR_MODE_TIMEOUT = 2,       /* wait at most timeout_ms (negative: forever) */
    FHR_MODE_EMERGENCY = 3      /* use the reserve, then reclamation, then overrun the budget (counted); never the region */
} fhr_mode;

/** Request flags (combine with |). GPU_ACCESSIBLE goes to video RAM, AUDIO_ACCESSIBLE to sound RAM where the profile
 *  has them; SHAREABLE allows fhr_share. Refused with FHR_INVALID_ARGUMENT: SHAREABLE | EXCLUSIVE, GPU_ACCESSIBLE |
 *  AUDIO_ACCESSIBLE, and any bit not listed here. */
#define FHR_FLAG_NONE             0x000u
#define FHR_FLAG_SHAREABLE        0x001u
#define FHR_FLAG_EXCLUSIVE        0x002u
#define FHR_FLAG_PERSISTENT       0x004u
#define FHR_FLAG_CACHEABLE        0x008u
#define FHR_FLAG_GPU_ACCESSIBLE   0x010u
#define FHR_FLAG_DMA_CAPABLE      0x020u
#define FHR_FLAG_MEMORY_MAPPED    0x040u
#define FHR_FLAG_SYNCHRONIZED     0x080u
#define FHR_FLAG_AUDIO_ACCESSIBLE 0x100u

/** Pressure levels of a type against its budget. */
typedef enum fhr_pressure
{
    FHR_PRESSURE_NONE = 0,
    FHR_PRESSURE_LOW = 1,       /* >= 25 % */
    FHR_PRESSURE_MEDIUM = 2,    /* >= 50 % */
    FHR_PRESSURE_HIGH = 3,      /* >= the budget's warning percentage */
    FHR_PRESSURE_CRITICAL = 4   /* >= the budget's critical percentage */
} fhr_pressure;

/** Memory region kinds. */
typedef enum fhr_region_kind
{
    FHR_REGION_MAIN = 0,
    FHR_REGION_VIDEO = 1,
    FHR_REGION_SOUND = 2
} fhr_region_kind;

/** One type's accounting. Sizes and field offsets are fixed (checked by host/header_check.cpp and the library's tests):
 *  96 bytes. */
typedef struct fhr_stats
{
    int32_t type;                 /* fhr_type */
    int32_t pressure;             /* fhr_pressure */
    int64_t budget_max_bytes;
    int64_t budget_reserved_bytes;
    int64_t current_bytes;        /* equals the sum of the live resources' sizes whenever no call is in flight */
    int64_t peak_bytes;
    int64_t acquisitions;
    int64_t releases;
    int64_t failures;
    int64_t reserve_acquisitions; /* acquisitions that dipped into the reserve */
    int64_t emergency_overruns;   /* acquisitions that went past the budget */
    int64_t reclamations;         /* reclamation callbacks run */
    int64_t reclaimed_bytes;
} fhr_stats;

/** One memory region: 64 bytes. */
typedef struct fhr_region_stats
{
    int32_t kind;                 /* fhr_region_kind */
    int32_t allocations;
    int64_t capacity_bytes;
    int64_t reserved_bytes;
    int64_t used_bytes;
    int64_t peak_used_bytes;
    int64_t largest_free_block;
    int64_t failures;
    double fragmentation;         /* 1 - largest free block / free bytes */
} fhr_region_stats;

/** What one fhr_defragment did: 32 bytes. */
typedef struct fhr_defrag_stats
{
    int32_t moves;                /* resources moved */
    int32_t skipped;              /* left in place: pinned, not alignable where the free block is, or over the budget */
    int64_t bytes_moved;
    int64_t largest_free_block_before;
    int64_t largest_free_block_after;
} fhr_defrag_stats;

/** One pool: 40 bytes. */
typedef struct fhr_pool_stats
{
    int32_t type;
    int32_t block_size;
    int32_t total_blocks;
    int32_t used_blocks;
    int32_t free_blocks;
    int32_t peak_used_blocks;
    int32_t capacity_blocks;
    int32_t reserved;
    double efficiency;            /* used / total blocks */
} fhr_pool_stats;

/** A cache entry's eviction priority: lower goes first. */
typedef enum fhr_priority
{
    FHR_PRIORITY_LOW = 0,
    FHR_PRIORITY_NORMAL = 1,
    FHR_PRIORITY_HIGH = 2,
    FHR_PRIORITY_CRITICAL = 3
} fhr_priority;

/** One asset cache: 80 bytes. */
typedef struct fhr_cache_stats
{
    int32_t entries;              /* loading, referenced and unreferenced */
    int32_t referenced;
    int32_t unreferenced;         /* resident, evictable */
    int32_t loading;
    int64_t resident_bytes;
    int64_t hits;
    int64_t misses;
    int64_t loads;
    int64_t load_failures;
    int64_t evictions;            /* unreferenced entries unloaded: for the manager, past max_bytes, or unload-unused */
    int64_t forced_unloads;
    int64_t unloads;              /* every unload, for any reason */
} fhr_cache_stats;

/** An asset cache over a manager (opaque). */
typedef struct fhr_cache fhr_cache;

/** A load in progress, valid only inside its loader, on the loader's thread (opaque). */
typedef struct fhr_load_context fhr_load_context;

/** A strong reference to a loaded cache entry; 0 is null. Release each exactly once (a second release is
 *  FHR_STALE_HANDLE and changes nothing). */
typedef uint64_t fhr_cache_ref;

/** Loads `key`: acquires its memory with fhr_load_acquire (belonging to the entry, released when it is unloaded) and
 *  fills it. Returns FHR_OK, or any other status to fail the load (everything it acquired is released, and
 *  fhr_cache_load returns that status). May call fhr_cache_load for other keys (dependencies). */
typedef fhr_status (*fhr_cache_loader_fn)(void* user, fhr_load_context* context, const char* key);

/** Called once per pressure level change of any type. */
typedef void (*fhr_pressure_fn)(void* user, int32_t type, int32_t previous, int32_t current, int64_t current_bytes);

/** Asked to free `requested_bytes` of `type` (usually with fhr_release) before a request fails; returns the bytes freed. */
typedef int64_t (*fhr_reclaim_fn)(void* user, int32_t type, int64_t requested_bytes);

/* ---- Managers --------------------------------------------------------------------------------------------------- */

/** Creates a manager for a built-in profile ("dreamcast", "desktop", "web", "psp", "ps2", "nds", "n64",
 *  "n64-expansion"). The name is matched exactly, ignoring case: " dreamcast" or "dreamcast\n" is unknown.
 *  NULL picks the profile named by the environment variable FLIGHT_HAL_PROFILE when it is set (surrounding spaces
 *  ignored), else the host's own.
 *  FHR_NOT_FOUND for an unknown name (also one from FLIGHT_HAL_PROFILE); FHR_CAPACITY_EXCEEDED when too many managers
 *  are alive (see Limits above); *out is NULL on failure. */
fhr_status fhr_manager_create(const char* profile, fhr_manager** out);

/** Destroys a manager: every resource still alive is freed with it (check fhr_live_count first to find leaks). Its
 *  handles become FHR_INVALID_HANDLE for every later manager. Runs a garbage collection of the library's runtime, so
 *  state left by exited threads is returned too. */
fhr_status fhr_manager_destroy(fhr_manager* manager);

/** Replaces a type's budget. */
fhr_status fhr_set_budget(fhr_manager* manager, int32_t type, int64_t max_bytes, int64_t reserved_bytes);

/** Reads a type's budget. */
fhr_status fhr_get_budget(fhr_manager* manager, int32_t type, int64_t* max_bytes, int64_t* reserved_bytes);

/* ---- Resources -------------------------------------------------------------------------------------------------- */

/** Acquires `size` bytes (not cleared) of `type`, aligned to `alignment` (0 or a power of two up to 65536).
 *  `name` may be NULL (no name) but not "" (FHR_INVALID_ARGUMENT); `timeout_ms` counts only in FHR_MODE_TIMEOUT
 *  (negative: wait forever). *out is FHR_NULL_HANDLE on failure. A refused request changes nothing but the type's
 *  failure count: no acquisition counted, no pressure change, nothing held. */
fhr_status fhr_acquire(fhr_manager* manager, int32_t type, int64_t size, int32_t alignment, uint32_t flags,
                       int32_t mode, int32_t timeout_ms, const char* name, fhr_handle* out);

/** fhr_acquire for a named owner (for example "GraphicsDriver"): what fhr_share and deadlock detection reason about.
 *  `owner` must not be NULL or "" (FHR_INVALID_ARGUMENT). */
fhr_status fhr_acquire_owned(fhr_manager* manager, int32_t type, int64_t size, int32_t alignment, uint32_t flags,
                             int32_t mode, int32_t timeout_ms, const char* name, const char* owner, fhr_handle* out);

/** The first byte of a live resource, or NULL when the handle is stale, null, foreign or the manager unknown. */
void* fhr_resolve(fhr_manager* manager, fhr_handle handle);

/** The first byte and size of a live resource, with the reason when there is none. */
fhr_status fhr_resolve_ex(fhr_manager* manager, fhr_handle handle, void** address, int64_t* size);

/** Releases a handle; the memory goes back when the last owner's handle is released.
 *  FHR_STALE_HANDLE when released already (nothing happens). */
fhr_status fhr_release(fhr_manager* manager, fhr_handle handle);

/** Releases `owner`'s handle; FHR_SHARING_FAILURE when the handle is another owner's. `owner` must not be NULL or "". */
fhr_status fhr_release_owned(fhr_manager* manager, fhr_handle handle, const char* owner);

/** Gives `owner` its own handle to a resource acquired with FHR_FLAG_SHAREABLE; *out is FHR_NULL_HANDLE on failure.
 *  `owner` must not be NULL or "". */
fhr_status fhr_share(fhr_manager* manager, fhr_handle handle, const char* owner, fhr_handle* out);

/** Finds a live resource by name; FHR_NOT_FOUND when none; *out is FHR_NULL_HANDLE on failure. `name` must not be
 *  NULL or "". */
fhr_status fhr_find(fhr_manager* manager, const char* name, fhr_handle* out);

/* ---- Statistics ------------------------------------------------------------------------------------------------- */

/** A type's accounting. */
fhr_status fhr_get_stats(fhr_manager* manager, int32_t type, fhr_stats* out);

/** A region's use; FHR_NOT_FOUND when the profile has no region of that kind. */
fhr_status fhr_get_region_stats(fhr_manager* manager, int32_t kind, fhr_region_stats* out);

/** A pool's use; FHR_NOT_FOUND when there is no pool of that type and block size. */
fhr_status fhr_get_pool_stats(fhr_manager* manager, int32_t type, int32_t block_size, fhr_pool_stats* out);

/** Live handles (each owner of a shared resource counts once). */
fhr_status fhr_live_count(fhr_manager* manager, int64_t* out);

/* ---- Defragmentation ------------------------------------------------------------------------------------------- */

/** Compacts region `region` (fhr_region_kind; main memory when the profile has none of that kind): resources slide
 *  toward its start, at most about `max_bytes` bytes copied in this call, so its free bytes gather into one block.
 *  Every handle stays valid, but an address from fhr_resolve before the call is invalid after it if its resource moved:
 *  resolve again. Pinned resources never move; pool blocks and host-heap memory never move. A negative max_bytes,
 *  an unknown region or a NULL `out` is FHR_INVALID_ARGUMENT. */
fhr_status fhr_defragment(fhr_manager* manager, int32_t region, int64_t max_bytes, fhr_defrag_stats* out);

/** Pins a resource (its address is in use by the GPU or a DMA transfer): fhr_defragment leaves it in place until it is
 *  unpinned as many times. Any handle of shared memory pins it. FHR_STALE_HANDLE / FHR_INVALID_HANDLE as fhr_release. */
fhr_status fhr_pin(fhr_manager* manager, fhr_handle handle);

/** Undoes one fhr_pin; FHR_INVALID_ARGUMENT when the resource is not pinned. */
fhr_status fhr_unpin(fhr_manager* manager, fhr_handle handle);

/** The manager's whole state as JSON (UTF-8, NUL-terminated; the format is README "Diagnostics": version, profile,
 *  types, regions with free blocks by size, pools, owners, caches, the largest live resources). *needed receives the
 *  bytes it takes, the NUL included. When `capacity` is smaller (a size query: buffer NULL, capacity 0), returns
 *  FHR_CAPACITY_EXCEEDED and leaves the buffer untouched; the size may grow between two calls while resources are
 *  acquired, so retry with the new *needed. `needed` must not be NULL; `buffer` may be NULL only with capacity 0. */
fhr_status fhr_snapshot_json(fhr_manager* manager, char* buffer, size_t capacity, size_t* needed);

/* ---- Callbacks -------------------------------------------------------------------------------------------------- */

/** Registers a pressure callback; *registration identifies it for fhr_unregister_callback. */
fhr_status fhr_register_pressure_callback(fhr_manager* manager, fhr_pressure_fn callback, void* user,
                                          int64_t* registration);

/** Registers a reclamation callback for one type. */
fhr_status fhr_register_reclamation_callback(fhr_manager* manager, int32_t type, fhr_reclaim_fn callback, void* user,
                                             int64_t* registration);

/** Removes a registration; FHR_NOT_FOUND when unknown or removed already. */
fhr_status fhr_unregister_callback(fhr_manager* manager, int64_t registration);

/* ---- Asset cache ------------------------------------------------------------------------------------------------ */

/** Creates an asset cache over a manager: each key is loaded once, counted, kept resident while unreferenced, and
 *  evicted (lowest priority, then least recently used) when the manager needs room of a type it holds, when its
 *  resident bytes pass `max_bytes` (0: no cap), or on fhr_cache_unload_unused. Its memory is charged to the owner
 *  "cache:<name>". Destroying the manager destroys its caches. `name` must not be NULL or "". */
fhr_status fhr_cache_create(fhr_manager* manager, const char* name, int64_t max_bytes, fhr_cache** out);

/** Unloads every entry and destroys the cache; references still held become FHR_INVALID_HANDLE. */
fhr_status fhr_cache_destroy(fhr_cache* cache);

/** Returns a reference to `key`'s entry, calling `loader` (on this thread, inside this call) when it is not loaded.
 *  `priority` is an fhr_priority. A loader's failure status is returned as is; a key already
 *  being loaded by this thread's loaders (a cycle) is FHR_DEADLOCK. *out is 0 on failure. */
fhr_status fhr_cache_load(fhr_cache* cache, const char* key, int32_t priority, fhr_cache_loader_fn loader, void* user,
                          fhr_cache_ref* out);

/** Inside a loader: acquires memory for the entry being loaded (not waiting for room; a budget refusal first lets the
 *  manager's reclamation — this cache's among it — evict). FHR_INVALID_HANDLE for a context that is not the load running
 *  on this thread now. */
fhr_status fhr_load_acquire(fhr_load_context* context, int32_t type, int64_t size, int32_t alignment, uint32_t flags,
                            fhr_handle* out);

/** The `index`th resource the entry's loader acquired (resolve it with fhr_resolve on the cache's manager);
 *  FHR_NOT_FOUND past the last, FHR_STALE_HANDLE for a released reference or an unloaded entry. */
fhr_status fhr_cache_resource(fhr_cache* cache, fhr_cache_ref ref, int32_t index, fhr_handle* out);

/** Releases a reference: at zero the entry stays resident, unreferenced, until evicted. */
fhr_status fhr_cache_release(fhr_cache* cache, fhr_cache_ref ref);

/** Unloads every unreferenced entry; *freed (may be NULL) receives the bytes released. */
fhr_status fhr_cache_unload_unused(fhr_cache* cache, int64_t* freed);

/** The cache's figures. */
fhr_status fhr_cache_get_stats(fhr_cache* cache, fhr_cache_stats* out);

/** A constant description of a status ("BudgetExceeded: The resource type's budget is spent."), never NULL for any
 *  value; valid for the life of the process. */
const char* fhr_status_string(fhr_status status);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FLIGHT_HAL_RESOURCES_H */
