/*
 * fhr_host — a C engine simulator on the Flight.Hal.Resources C ABI.
 *
 * Runs a frame loop on the Dreamcast profile: each level loads textures into video RAM, sound banks into sound RAM,
 * meshes and game state into main RAM; every frame takes transient buffers and releases them; a vertex buffer is
 * shared between a graphics owner and an audio owner; level 2 streams meshes through the library's asset cache
 * (fhr_cache_*) until the Memory budget is under pressure, survives through the cache's evictions (the manager asks it
 * for room) and one Emergency acquisition; levels unload. Prints a summary per level and exits non-zero on any leak, accounting mismatch or ABI contract violation.
 */
#include "flight_hal_resources.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIB (1024LL)
#define MAX_ASSETS 64
#define FRAMES_PER_LEVEL 120
#define TRANSIENTS_PER_FRAME 8

static int g_failures = 0;

#define CHECK(call)                                                                                   \
    do                                                                                                \
    {                                                                                                 \
        fhr_status check_status_ = (call);                                                           \
        if (check_status_ != FHR_OK)                                                                  \
        {                                                                                             \
            fprintf(stderr, "%s:%d: %s -> %s\n", __FILE__, __LINE__, #call, fhr_status_string(check_status_)); \
            exit(2);                                                                                  \
        }                                                                                             \
    } while (0)

#define EXPECT(condition, message)                                                                    \
    do                                                                                                \
    {                                                                                                 \
        if (!(condition))                                                                             \
        {                                                                                             \
            fprintf(stderr, "FAILED: %s (%s:%d)\n", message, __FILE__, __LINE__);                     \
            g_failures++;                                                                             \
        }                                                                                             \
    } while (0)

typedef struct asset
{
    fhr_handle handle;
    int64_t size;
    int32_t type;
} asset;

/* Everything the game holds, so accounting can be checked against the library's figures. */
typedef struct game
{
    fhr_manager* manager;
    asset held[MAX_ASSETS];
    int held_count;
    fhr_cache* streams;            /* the library's asset cache: streamed meshes it may evict, least recently used first */
    int pressure_changes;
    int64_t evicted_bytes;
} game;

static const char* type_name(int32_t type)
{
    static const char* names[] = { "Memory", "Hardware", "Performance", "Communication", "Platform", "Custom" };
    return type >= 0 && type <= 5 ? names[type] : "?";
}

static const char* pressure_name(int32_t level)
{
    static const char* names[] = { "None", "Low", "Medium", "High", "Critical" };
    return level >= 0 && level <= 4 ? names[level] : "?";
}

/* Fills a resource with a pattern and checks it reads back, so the memory is really usable. */
static void touch(fhr_manager* manager, fhr_handle handle, int64_t size, unsigned char pattern)
{
    unsigned char* bytes = (unsigned char*)fhr_resolve(manager, handle);
    EXPECT(bytes != NULL, "a live handle resolves");
    if (bytes == NULL)
    {
        return;
    }

    memset(bytes, pattern, (size_t)size);
    EXPECT(bytes[0] == pattern && bytes[size - 1] == pattern, "memory reads back");
}

static fhr_handle load(game* g, int32_t type, int64_t size, uint32_t flags, const char* name)
{
    fhr_handle handle = FHR_NULL_HANDLE;
    CHECK(fhr_acquire(g->manager, type, size, 32, flags, FHR_MODE_NON_BLOCKING, 0, name, &handle));
    touch(g->manager, handle, size, 0x5A);
    g->held[g->held_count].handle = handle;
    g->held[g->held_count].size = size;
    g->held[g->held_count].type = type;
    g->held_count++;
    return handle;
}

static void on_pressure(void* user, int32_t type, int32_t previous, int32_t current, int64_t current_bytes)
{
    game* g = (game*)user;
    g->pressure_changes++;
    printf("    pressure %-8s %-8s -> %-8s at %lld KiB\n", type_name(type), pressure_name(previous), pressure_name(current),
           (long long)(current_bytes / KIB));
}

/* The asset cache's loader for a streamed mesh: acquires its memory for the entry and fills it. Runs inside
   fhr_cache_load, on this thread; the memory is the cache's until it evicts the mesh. */
static fhr_status load_stream(void* user, fhr_load_context* context, const char* key)
{
    game* g = (game*)user;
    fhr_handle mesh = FHR_NULL_HANDLE;
    fhr_status status = fhr_load_acquire(context, FHR_TYPE_MEMORY, 256 * KIB, 32, FHR_FLAG_CACHEABLE, &mesh);
    if (status != FHR_OK)
    {
        return status;
    }

    touch(g->manager, mesh, 256 * KIB, (unsigned char)strlen(key));
    return FHR_OK;
}

/* The library's current bytes per type must equal what the game holds, to the byte. */
static void check_accounting(game* g, const char* when)
{
    int64_t expected[6] = { 0, 0, 0, 0, 0, 0 };
    int i;
    for (i = 0; i < g->held_count; i++)
    {
        expected[g->held[i].type] += g->held[i].size;
    }

    if (g->streams != NULL)
    {
        fhr_cache_stats cached;
        CHECK(fhr_cache_get_stats(g->streams, &cached));
        expected[FHR_TYPE_MEMORY] += cached.resident_bytes; /* every streamed mesh is Memory */
    }

    for (i = 0; i < 6; i++)
    {
        fhr_stats stats;
        CHECK(fhr_get_stats(g->manager, i, &stats));
        if (stats.current_bytes != expected[i])
        {
            fprintf(stderr, "FAILED: %s: %s current %lld bytes, the game holds %lld\n", when, type_name(i),
                    (long long)stats.current_bytes, (long long)expected[i]);
            g_failures++;
        }
    }
}

static void print_summary(game* g, const char* level)
{
    static const char* regions[] = { "main", "video", "sound" };
    int t;
    int r;
    printf("  summary after %s (peaks since the start)\n", level);
    for (t = 0; t <= FHR_TYPE_HARDWARE; t++)
    {
        fhr_stats s;
        CHECK(fhr_get_stats(g->manager, t, &s));
        printf("    %-8s peak %6lld KiB of %6lld KiB budget, failures %lld, reclamations %lld, reserve %lld, overruns %lld\n",
               type_name(t), (long long)(s.peak_bytes / KIB), (long long)(s.budget_max_bytes / KIB), (long long)s.failures,
               (long long)s.reclamations, (long long)s.reserve_acquisitions, (long long)s.emergency_overruns);
    }

    for (r = FHR_REGION_MAIN; r <= FHR_REGION_SOUND; r++)
    {
        fhr_region_stats s;
        CHECK(fhr_get_region_stats(g->manager, r, &s));
        printf("    %-8s peak %6lld KiB of %6lld KiB, fragmentation %.3f\n", regions[r], (long long)(s.peak_used_bytes / KIB),
               (long long)(s.capacity_bytes / KIB), s.fragmentation);
    }
}

/* Transient per-frame buffers from the pools: taken, written and released every frame. */
static void run_frames(game* g, int frames)
{
    static const int64_t sizes[TRANSIENTS_PER_FRAME] = { 48, 64, 200, 256, 900, 1024, 3000, 4096 };
    int frame;
    for (frame = 0; frame < frames; frame++)
    {
        fhr_handle transient[TRANSIENTS_PER_FRAME];
        int i;
        for (i = 0; i < TRANSIENTS_PER_FRAME; i++)
        {
            CHECK(fhr_acquire(g->manager, FHR_TYPE_MEMORY, sizes[i], 0, FHR_FLAG_NONE, FHR_MODE_NON_BLOCKING, 0, NULL, &transient[i]));
            touch(g->manager, transient[i], sizes[i], (unsigned char)(frame + i));
        }

        for (i = TRANSIENTS_PER_FRAME - 1; i >= 0; i--)
        {
            CHECK(fhr_release(g->manager, transient[i]));
        }
    }
}

static void unload(game* g)
{
    int i;
    for (i = g->held_count - 1; i >= 0; i--)
    {
        CHECK(fhr_release(g->manager, g->held[i].handle));
    }

    if (g->streams != NULL)
    {
        CHECK(fhr_cache_destroy(g->streams)); /* unloads what it still holds */
        g->streams = NULL;
    }

    g->held_count = 0;
}

/* A vertex buffer the graphics driver creates and shares with the audio driver (a visualiser reads it). */
static void shared_vertex_buffer(game* g)
{
    fhr_handle graphics = FHR_NULL_HANDLE;
    fhr_handle audio = FHR_NULL_HANDLE;
    CHECK(fhr_acquire_owned(g->manager, FHR_TYPE_MEMORY, 96 * KIB, 32, FHR_FLAG_SHAREABLE, FHR_MODE_NON_BLOCKING, 0,
                            "level.vb", "GraphicsDriver", &graphics));
    touch(g->manager, graphics, 96 * KIB, 0x77);
    CHECK(fhr_share(g->manager, graphics, "AudioDriver", &audio));
    EXPECT(fhr_resolve(g->manager, audio) == fhr_resolve(g->manager, graphics), "both owners see the same memory");
    EXPECT(fhr_release_owned(g->manager, audio, "GraphicsDriver") == FHR_SHARING_FAILURE, "releasing another owner's handle is refused");

    run_frames(g, FRAMES_PER_LEVEL / 4);

    CHECK(fhr_release_owned(g->manager, graphics, "GraphicsDriver"));
    {
        unsigned char* bytes = (unsigned char*)fhr_resolve(g->manager, audio);
        EXPECT(bytes != NULL && bytes[0] == 0x77, "the audio driver's handle outlives the graphics driver's");
    }
    EXPECT(fhr_resolve(g->manager, graphics) == NULL, "the released handle resolves to nothing");
    CHECK(fhr_release_owned(g->manager, audio, "AudioDriver"));
}

/* Releases held[index] and forgets it. */
static void release_held(game* g, int index)
{
    CHECK(fhr_release(g->manager, g->held[index].handle));
    memmove(g->held + index, g->held + index + 1, (size_t)(g->held_count - index - 1) * sizeof(asset));
    g->held_count--;
}

static void level_title(game* g)
{
    int i;
    printf("level 1: title\n");
    for (i = 0; i < 4; i++)
    {
        load(g, FHR_TYPE_HARDWARE, 256 * KIB, FHR_FLAG_GPU_ACCESSIBLE, "title.tex");
    }

    load(g, FHR_TYPE_HARDWARE, 128 * KIB, FHR_FLAG_AUDIO_ACCESSIBLE, "title.bank");
    for (i = 0; i < 6; i++)
    {
        load(g, FHR_TYPE_MEMORY, 256 * KIB, FHR_FLAG_NONE, "title.mesh");
    }

    load(g, FHR_TYPE_MEMORY, 512 * KIB, FHR_FLAG_PERSISTENT, "game.state");
    shared_vertex_buffer(g);
    run_frames(g, FRAMES_PER_LEVEL);
    check_accounting(g, "level 1 loaded");
    print_summary(g, "level 1");
    unload(g);
}

/* The manager's JSON snapshot, as a debug overlay or a crash handler would take it: ask the size, then fetch. */
static void check_snapshot(game* g)
{
    size_t needed = 0;
    size_t again = 0;
    char small[16];
    char* json;
    memset(small, 'x', sizeof small);
    EXPECT(fhr_snapshot_json(g->manager, NULL, 0, &needed) == FHR_CAPACITY_EXCEEDED && needed > 1, "snapshot size query");
    EXPECT(fhr_snapshot_json(g->manager, small, sizeof small, &again) == FHR_CAPACITY_EXCEEDED && again == needed,
           "a small buffer is refused with the size needed");
    EXPECT(small[0] == 'x' && small[sizeof small - 1] == 'x', "a refused buffer is left untouched");
    json = (char*)malloc(needed);
    if (json == NULL)
    {
        EXPECT(0, "malloc for the snapshot");
        return;
    }

    CHECK(fhr_snapshot_json(g->manager, json, needed, &again));
    EXPECT(again == needed && strlen(json) == needed - 1, "the snapshot fills the buffer with its NUL");
    EXPECT(strstr(json, "\"version\": 1") != NULL && strstr(json, "\"profile\": \"dreamcast\"") != NULL,
           "the snapshot names its version and profile");
    EXPECT(strstr(json, "\"name\": \"docks.stream\"") != NULL, "the snapshot lists the cache");
    printf("  snapshot: %zu bytes of JSON\n", needed - 1);
    free(json);
}

/* Video RAM with holes: every other texture released. fhr_defragment moves the rest down so the free bytes are one
   block; every handle still names its own bytes (resolved again), and a pinned texture stays where it was. */
static void check_defragment(game* g)
{
    fhr_handle textures[8];
    fhr_defrag_stats stats;
    unsigned char* pinned_at;
    int i;
    for (i = 0; i < 8; i++)
    {
        CHECK(fhr_acquire(g->manager, FHR_TYPE_HARDWARE, 64 * KIB, 32, FHR_FLAG_GPU_ACCESSIBLE, FHR_MODE_NON_BLOCKING, 0, NULL, &textures[i]));
        memset(fhr_resolve(g->manager, textures[i]), 'a' + i, 64 * KIB);
    }

    for (i = 0; i < 8; i += 2)
    {
        CHECK(fhr_release(g->manager, textures[i]));
    }

    CHECK(fhr_pin(g->manager, textures[5]));
    pinned_at = (unsigned char*)fhr_resolve(g->manager, textures[5]);
    CHECK(fhr_defragment(g->manager, FHR_REGION_VIDEO, 1024 * KIB, &stats));
    EXPECT(stats.moves >= 2 && stats.bytes_moved >= 2 * 64 * KIB, "defragmentation moved textures");
    EXPECT(stats.skipped >= 1, "the pinned texture was left in place");
    EXPECT(stats.largest_free_block_after >= stats.largest_free_block_before, "the largest free block did not shrink");
    EXPECT((unsigned char*)fhr_resolve(g->manager, textures[5]) == pinned_at, "a pinned texture does not move");
    for (i = 1; i < 8; i += 2)
    {
        const unsigned char* bytes = (const unsigned char*)fhr_resolve(g->manager, textures[i]);
        EXPECT(bytes != NULL && bytes[0] == 'a' + i && bytes[64 * KIB - 1] == 'a' + i, "a moved texture keeps its bytes");
    }

    CHECK(fhr_unpin(g->manager, textures[5]));
    EXPECT(fhr_unpin(g->manager, textures[5]) == FHR_INVALID_ARGUMENT, "an unpin without its pin is refused");
    for (i = 1; i < 8; i += 2)
    {
        CHECK(fhr_release(g->manager, textures[i]));
    }

    EXPECT(fhr_pin(g->manager, textures[1]) == FHR_STALE_HANDLE, "a released texture cannot be pinned");
    printf("  defragment: %d moves, %lld bytes, largest free block %lld -> %lld\n", stats.moves, (long long)stats.bytes_moved,
           (long long)stats.largest_free_block_before, (long long)stats.largest_free_block_after);
}

static void level_docks(game* g)
{
    int i;
    int streamed = 0;
    int first_mesh;
    fhr_handle boss = FHR_NULL_HANDLE;
    fhr_stats before;
    fhr_stats after;
    printf("level 2: docks (streams until the Memory budget is under pressure)\n");
    for (i = 0; i < 6; i++)
    {
        load(g, FHR_TYPE_HARDWARE, 256 * KIB, FHR_FLAG_GPU_ACCESSIBLE, "docks.tex");
    }

    for (i = 0; i < 3; i++)
    {
        load(g, FHR_TYPE_HARDWARE, 192 * KIB, FHR_FLAG_AUDIO_ACCESSIBLE, "docks.bank");
    }

    first_mesh = g->held_count;
    for (i = 0; i < 10; i++)
    {
        load(g, FHR_TYPE_MEMORY, 512 * KIB, FHR_FLAG_NONE, "docks.mesh");
    }

    load(g, FHR_TYPE_MEMORY, 1024 * KIB, FHR_FLAG_PERSISTENT, "game.state");

    /* Stream 24 meshes of 256 KiB through the library's asset cache into the 8 MiB ordinary budget (6 MiB already
       used): each is loaded, used and released, staying resident until the budget fills; from then on each load's
       acquisition is met by the manager asking the cache to evict its least recently used mesh. Every few meshes the
       player looks back, and the mesh streamed just before is found in the cache without loading. */
    CHECK(fhr_cache_create(g->manager, "docks.stream", 0, &g->streams));
    CHECK(fhr_get_stats(g->manager, FHR_TYPE_MEMORY, &before));
    for (i = 0; i < 24; i++)
    {
        char key[32];
        fhr_cache_ref mesh = 0;
        fhr_handle memory = FHR_NULL_HANDLE;
        snprintf(key, sizeof key, "docks.stream.%d", i);
        CHECK(fhr_cache_load(g->streams, key, FHR_PRIORITY_NORMAL, load_stream, g, &mesh));
        CHECK(fhr_cache_resource(g->streams, mesh, 0, &memory));
        EXPECT(fhr_resolve(g->manager, memory) != NULL, "a cached mesh resolves while referenced");
        CHECK(fhr_cache_release(g->streams, mesh));
        EXPECT(fhr_cache_release(g->streams, mesh) == FHR_STALE_HANDLE, "a cache reference released twice is refused");
        if (i % 4 == 3)
        {
            snprintf(key, sizeof key, "docks.stream.%d", i - 1);
            CHECK(fhr_cache_load(g->streams, key, FHR_PRIORITY_NORMAL, load_stream, g, &mesh)); /* a hit */
            CHECK(fhr_cache_release(g->streams, mesh));
        }

        streamed++;
        run_frames(g, 2);
    }

    {
        fhr_cache_stats cached;
        CHECK(fhr_cache_get_stats(g->streams, &cached));
        EXPECT(cached.hits == 6 && cached.misses == 24, "looking back hits the cache; every new mesh is a miss");
        g->evicted_bytes += cached.evictions * 256 * KIB;
    }

    CHECK(fhr_get_stats(g->manager, FHR_TYPE_MEMORY, &after));
    EXPECT(after.reclamations > before.reclamations, "the manager asked for room");
    EXPECT(g->evicted_bytes > 0, "the cache evicted meshes to make room");
    EXPECT(after.failures == before.failures, "no stream request failed");
    check_snapshot(g); /* at the level's peak: the cache is full of streamed meshes */

    /* The boss arrives: the ordinary budget is full and nothing is cached that would make room for 1 MiB, so this
       one acquisition is an Emergency: it takes the reserve. */
    {
        fhr_handle refused = FHR_NULL_HANDLE;
        int64_t freed = 0;
        CHECK(fhr_cache_unload_unused(g->streams, &freed)); /* the docks are left behind */
        EXPECT(freed > 0, "the streamed meshes still cached are unloaded");
        EXPECT(fhr_acquire(g->manager, FHR_TYPE_MEMORY, 3 * 1024 * KIB, 32, FHR_FLAG_NONE, FHR_MODE_NON_BLOCKING, 0, "boss.mesh", &refused)
                   == FHR_BUDGET_EXCEEDED,
               "an ordinary request past the budget is refused");
        EXPECT(refused == FHR_NULL_HANDLE, "a refused request gives the null handle");
        CHECK(fhr_acquire(g->manager, FHR_TYPE_MEMORY, 3 * 1024 * KIB, 32, FHR_FLAG_NONE, FHR_MODE_EMERGENCY, 0, "boss.mesh", &boss));
        touch(g->manager, boss, 3 * 1024 * KIB, 0xB0);
        g->held[g->held_count].handle = boss;
        g->held[g->held_count].size = 3 * 1024 * KIB;
        g->held[g->held_count].type = FHR_TYPE_MEMORY;
        g->held_count++;
    }

    CHECK(fhr_get_stats(g->manager, FHR_TYPE_MEMORY, &after));
    EXPECT(after.reserve_acquisitions == before.reserve_acquisitions + 1, "exactly one acquisition used the reserve");
    printf("    streamed %d meshes through the asset cache, which evicted %lld KiB for room; boss mesh from the reserve\n", streamed,
           (long long)(g->evicted_bytes / KIB));

    /* The boss arena replaces the first dock sector: its four meshes go, and the budget is back under the ordinary limit. */
    for (i = 0; i < 4; i++)
    {
        release_held(g, first_mesh);
    }

    shared_vertex_buffer(g);
    run_frames(g, FRAMES_PER_LEVEL);
    check_accounting(g, "level 2 loaded");
    print_summary(g, "level 2");
    unload(g);
}

static void level_finale(game* g)
{
    int i;
    printf("level 3: finale\n");
    for (i = 0; i < 8; i++)
    {
        load(g, FHR_TYPE_HARDWARE, 128 * KIB + 48, FHR_FLAG_GPU_ACCESSIBLE, "finale.tex"); /* odd sizes: 32-byte units */
    }

    load(g, FHR_TYPE_HARDWARE, 300 * KIB, FHR_FLAG_AUDIO_ACCESSIBLE, "finale.bank");
    for (i = 0; i < 16; i++)
    {
        load(g, FHR_TYPE_MEMORY, 100 * KIB + i * 1000, FHR_FLAG_NONE, "finale.mesh");
    }

    shared_vertex_buffer(g);
    run_frames(g, FRAMES_PER_LEVEL);
    check_accounting(g, "level 3 loaded");
    print_summary(g, "level 3");
    unload(g);
}

/* The ABI's promises for bad input: a status, never a crash. */
static void check_bad_input(game* g)
{
    fhr_manager* none = NULL;
    fhr_handle handle = FHR_NULL_HANDLE;
    fhr_handle stale = FHR_NULL_HANDLE;
    fhr_stats stats;
    int64_t count = 0;
    size_t needed = 0;

    EXPECT(fhr_manager_create("amiga", &none) == FHR_NOT_FOUND && none == NULL, "unknown profile");
    EXPECT(fhr_manager_create("dreamcast", NULL) == FHR_INVALID_ARGUMENT, "NULL out pointer");
    EXPECT(fhr_acquire(NULL, FHR_TYPE_MEMORY, 64, 0, 0, 0, 0, NULL, &handle) == FHR_INVALID_ARGUMENT, "NULL manager");
    EXPECT(fhr_acquire((fhr_manager*)(uintptr_t)0xDEAD0, FHR_TYPE_MEMORY, 64, 0, 0, 0, 0, NULL, &handle) == FHR_INVALID_HANDLE,
           "bogus manager pointer");
    EXPECT(fhr_acquire(g->manager, 42, 64, 0, 0, 0, 0, NULL, &handle) == FHR_INVALID_ARGUMENT, "unknown type");
    EXPECT(fhr_acquire(g->manager, FHR_TYPE_MEMORY, 64, 0, 0, 9, 0, NULL, &handle) == FHR_INVALID_ARGUMENT, "unknown mode");
    EXPECT(fhr_acquire(g->manager, FHR_TYPE_MEMORY, 64, 0, 0x8000u, 0, 0, NULL, &handle) == FHR_INVALID_ARGUMENT, "unknown flag");
    EXPECT(fhr_acquire(g->manager, FHR_TYPE_MEMORY, 0, 0, 0, 0, 0, NULL, &handle) == FHR_INVALID_ARGUMENT, "zero size");
    EXPECT(fhr_acquire(g->manager, FHR_TYPE_MEMORY, 64, 24, 0, 0, 0, NULL, &handle) == FHR_INVALID_ARGUMENT, "bad alignment");
    EXPECT(fhr_acquire(g->manager, FHR_TYPE_MEMORY, 64, 0, 0, 0, 0, NULL, NULL) == FHR_INVALID_ARGUMENT, "NULL handle out");
    EXPECT(fhr_acquire(g->manager, FHR_TYPE_CUSTOM, 1LL << 40, 0, 0, FHR_MODE_BLOCKING, 0, NULL, &handle) == FHR_REGION_EXHAUSTED,
           "an impossible request fails at once, even blocking");
    EXPECT(handle == FHR_NULL_HANDLE, "a failed acquire gives the null handle");

    CHECK(fhr_acquire(g->manager, FHR_TYPE_MEMORY, 64, 0, 0, 0, 0, NULL, &stale));
    CHECK(fhr_release(g->manager, stale));
    EXPECT(fhr_release(g->manager, stale) == FHR_STALE_HANDLE, "double release");
    EXPECT(fhr_resolve(g->manager, stale) == NULL, "a stale handle resolves to NULL");
    EXPECT(fhr_release(g->manager, FHR_NULL_HANDLE) == FHR_INVALID_HANDLE, "null handle");
    EXPECT(fhr_release(g->manager, 0x123456789ABCDEFULL) == FHR_INVALID_HANDLE, "forged handle");
    EXPECT(fhr_resolve(g->manager, 0x123456789ABCDEFULL) == NULL, "a forged handle resolves to NULL");
    EXPECT(fhr_get_stats(g->manager, -1, &stats) == FHR_INVALID_ARGUMENT, "unknown type in stats");
    EXPECT(fhr_get_stats(g->manager, FHR_TYPE_MEMORY, NULL) == FHR_INVALID_ARGUMENT, "NULL stats");
    EXPECT(fhr_live_count(g->manager, &count) == FHR_OK && count == 0, "nothing alive after the checks");
    EXPECT(fhr_unregister_callback(g->manager, 987654) == FHR_NOT_FOUND, "unknown registration");
    EXPECT(fhr_snapshot_json(g->manager, NULL, 0, NULL) == FHR_INVALID_ARGUMENT, "NULL size out in a snapshot");
    EXPECT(fhr_snapshot_json(g->manager, NULL, 64, &needed) == FHR_INVALID_ARGUMENT, "NULL buffer with a capacity");
    EXPECT(fhr_snapshot_json(NULL, NULL, 0, &needed) == FHR_INVALID_ARGUMENT, "NULL manager in a snapshot");
    {
        fhr_defrag_stats defrag;
        EXPECT(fhr_defragment(g->manager, FHR_REGION_VIDEO, 1024, NULL) == FHR_INVALID_ARGUMENT, "NULL defragment stats");
        EXPECT(fhr_defragment(g->manager, 9, 1024, &defrag) == FHR_INVALID_ARGUMENT, "unknown region to defragment");
        EXPECT(fhr_defragment(g->manager, FHR_REGION_VIDEO, -1, &defrag) == FHR_INVALID_ARGUMENT, "negative defragment budget");
        EXPECT(fhr_pin(g->manager, 0x123456789ABCDEFULL) == FHR_INVALID_HANDLE, "a forged handle cannot be pinned");
        EXPECT(fhr_pin(NULL, 1) == FHR_INVALID_ARGUMENT, "NULL manager to pin");
    }
    EXPECT(strlen(fhr_status_string(FHR_BUDGET_EXCEEDED)) > 0 && fhr_status_string(-7) != NULL, "status strings");
}

int main(void)
{
    game g;
    int64_t pressure_registration = 0;
    int64_t live = -1;
    int t;
    memset(&g, 0, sizeof g);

    CHECK(fhr_manager_create("dreamcast", &g.manager));
    CHECK(fhr_register_pressure_callback(g.manager, on_pressure, &g, &pressure_registration));

    check_bad_input(&g);
    level_title(&g);
    level_docks(&g);
    level_finale(&g);
    check_defragment(&g);

    CHECK(fhr_live_count(g.manager, &live));
    EXPECT(live == 0, "no resource is alive after the last level unloaded");
    for (t = 0; t <= FHR_TYPE_CUSTOM; t++)
    {
        fhr_stats s;
        CHECK(fhr_get_stats(g.manager, t, &s));
        EXPECT(s.current_bytes == 0, "every budget is back to zero");
        EXPECT(s.acquisitions == s.releases, "as many releases as acquisitions");
    }

    EXPECT(g.pressure_changes > 0, "pressure callbacks ran");
    CHECK(fhr_unregister_callback(g.manager, pressure_registration));
    CHECK(fhr_manager_destroy(g.manager));
    EXPECT(fhr_manager_destroy(g.manager) == FHR_INVALID_HANDLE, "a destroyed manager is refused");

    if (g_failures != 0)
    {
        printf("fhr_host: %d check(s) FAILED\n", g_failures);
        return 1;
    }

    printf("fhr_host: all levels ran; no leak, accounting exact\n");
    return 0;
}
