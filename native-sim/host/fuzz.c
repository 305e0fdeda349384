/*
 * fhr_fuzz — random operations on the Flight.Hal.Resources C ABI, each checked against a shadow model kept in C.
 *
 *   fhr_fuzz [ops] [threads] [seed] [managers]   (defaults: 200000 operations, 4 threads, seed 1, 300 managers)
 *
 * Phase 1 (one thread, every profile in turn): acquire (pooled, region, GPU, audio, shareable, named, owned; NonBlocking
 *   and Emergency), release (also with the right and a wrong owner), share, find, resolve, stale and forged handles, bad
 *   input. Every status is predicted from the model where it is determined (a budget refusal exactly; a region refusal
 *   is allowed only when the budget admits the request, and must change nothing). Every resource's bytes are stamped
 *   with its own pattern and checked whenever it is touched and before it is freed, so overlapping memory is caught.
 *   After every 500 operations and at the end: per type, current bytes, acquisitions, releases and failures equal the
 *   model's, the live count equals the model's, and the last pressure level delivered to the callback is the level now.
 * Phase 2 (threads): each thread acquires, stamps, checks and releases its own resources; after the join the per-type
 *   totals and the live count equal the sum of the threads' models, and nothing is left once all are released.
 * Phase 3: managers (300 by default) created and destroyed in turn; handles kept from destroyed ones are refused by every later
 *   one (FHR_INVALID_HANDLE) and never resolve.
 * Phase 4: the asset cache (a 6 KiB cap, 12 keys, two of whose loaders fail): loads (hit or miss, predicted), releases
 *   (also of references released before), unload-unused, a load context used after its load, bad input; the loader
 *   stamps each key's bytes and every load checks them; every 100 operations the cache's resident bytes, entries and
 *   referenced entries, and the manager's bytes, equal the model's (least-recently-used eviction over the cap).
 *
 * Exits 0 when every check held, 1 otherwise. Built as C99 with warnings as errors; CI runs it plainly and under
 * valgrind's memcheck (with fewer operations).
 */
#include "flight_hal_resources.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPES 6
#define MAX_HANDLES 2048
#define MAX_MEMORIES 2048
#define MAX_STALE 512
#define NAMES 6
#define OWNERS 3

static int g_failures = 0;
static pthread_mutex_t g_report_lock = PTHREAD_MUTEX_INITIALIZER;

#define FAIL(...)                                                                                      \
    do                                                                                                 \
    {                                                                                                  \
        pthread_mutex_lock(&g_report_lock);                                                            \
        if (g_failures++ < 20)                                                                         \
        {                                                                                              \
            fprintf(stderr, "FAILED (%s:%d): ", __FILE__, __LINE__);                                  \
            fprintf(stderr, __VA_ARGS__);                                                              \
            fputc('\n', stderr);                                                                       \
        }                                                                                              \
        pthread_mutex_unlock(&g_report_lock);                                                          \
    } while (0)

#define EXPECT_STATUS(call, expected)                                                                  \
    do                                                                                                 \
    {                                                                                                  \
        fhr_status got_ = (call);                                                                      \
        if (got_ != (expected))                                                                        \
        {                                                                                              \
            FAIL("%s -> %d, expected %d (%s)", #call, (int)got_, (int)(expected), fhr_status_string(got_)); \
        }                                                                                              \
    } while (0)

static const char* const k_names[NAMES] = { "tex/hero", "tex/sky", "mesh/level", "snd/theme", "anim/run", "shader/water" };
static const char* const k_owners[OWNERS] = { "GraphicsDriver", "AudioDriver", "Streamer" };

/* ---- random numbers: xorshift64*, one state per thread ---------------------------------------------------------- */

static uint64_t next_random(uint64_t* state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ULL;
}

static int64_t random_between(uint64_t* state, int64_t low, int64_t high)
{
    return low + (int64_t)(next_random(state) % (uint64_t)(high - low + 1));
}

/* ---- stamped memory ------------------------------------------------------------------------------------------- */

static unsigned char stamp_byte(uint32_t stamp, int64_t offset)
{
    return (unsigned char)((stamp * 2654435761u) ^ (uint32_t)(offset * 31) ^ (uint32_t)(offset >> 8));
}

static void stamp(unsigned char* bytes, int64_t size, uint32_t value)
{
    int64_t i;
    for (i = 0; i < size; i++)
    {
        bytes[i] = stamp_byte(value, i);
    }
}

/* Checks the first and last bytes and a few in between (all of them when `full`). */
static int stamp_intact(const unsigned char* bytes, int64_t size, uint32_t value, int full)
{
    int64_t i;
    if (full)
    {
        for (i = 0; i < size; i++)
        {
            if (bytes[i] != stamp_byte(value, i))
            {
                return 0;
            }
        }

        return 1;
    }

    for (i = 0; i < 8; i++)
    {
        int64_t at = i == 0 ? 0 : i == 7 ? size - 1 : (size * i) / 7;
        if (bytes[at] != stamp_byte(value, at))
        {
            return 0;
        }
    }

    return 1;
}

/* ---- the shadow model of one manager ------------------------------------------------------------------------- */

typedef struct memory
{
    int64_t size;
    int32_t type;
    uint32_t stamp;
    int refs;       /* live handles to it; 0: free slot */
    int shareable;
} memory;

typedef struct handle
{
    fhr_handle value;
    int mem;        /* index in memories */
    int owner;      /* -1: none */
    int name;       /* -1: none */
} handle;

typedef struct model
{
    fhr_manager* manager;
    memory memories[MAX_MEMORIES];
    handle handles[MAX_HANDLES];
    int handle_count;
    fhr_handle stale[MAX_STALE];
    int stale_count;
    int stale_next;
    int64_t current[TYPES];
    int64_t acquisitions[TYPES];
    int64_t releases[TYPES];
    int64_t failures[TYPES];
    int64_t max[TYPES];
    int64_t reserved[TYPES];
    int last_pressure[TYPES];
    uint32_t next_stamp;
} model;

static void on_pressure(void* user, int32_t type, int32_t previous, int32_t current, int64_t current_bytes)
{
    model* m = (model*)user;
    (void)previous;
    (void)current_bytes;
    if (type >= 0 && type < TYPES)
    {
        m->last_pressure[type] = current; /* deliveries are serialised and coalesced: the last one is the level now */
    }
}

static int find_free_memory(model* m)
{
    int i;
    for (i = 0; i < MAX_MEMORIES; i++)
    {
        if (m->memories[i].refs == 0)
        {
            return i;
        }
    }

    return -1;
}

static void remember_stale(model* m, fhr_handle value)
{
    m->stale[m->stale_next] = value;
    m->stale_next = (m->stale_next + 1) % MAX_STALE;
    if (m->stale_count < MAX_STALE)
    {
        m->stale_count++;
    }
}

static void check_totals(model* m, const char* when)
{
    int t;
    int64_t live = -1;
    for (t = 0; t < TYPES; t++)
    {
        fhr_stats s;
        EXPECT_STATUS(fhr_get_stats(m->manager, t, &s), FHR_OK);
        if (s.current_bytes != m->current[t] || s.acquisitions != m->acquisitions[t] || s.releases != m->releases[t]
            || s.failures != m->failures[t])
        {
            FAIL("%s: type %d: current %lld/%lld acquisitions %lld/%lld releases %lld/%lld failures %lld/%lld (library/model)", when,
                 t, (long long)s.current_bytes, (long long)m->current[t], (long long)s.acquisitions, (long long)m->acquisitions[t],
                 (long long)s.releases, (long long)m->releases[t], (long long)s.failures, (long long)m->failures[t]);
        }

        if (s.pressure != m->last_pressure[t])
        {
            FAIL("%s: type %d: pressure %d, last delivered %d", when, t, s.pressure, m->last_pressure[t]);
        }
    }

    EXPECT_STATUS(fhr_live_count(m->manager, &live), FHR_OK);
    if (live != m->handle_count)
    {
        FAIL("%s: live count %lld, model %d", when, (long long)live, m->handle_count);
    }

    /* The JSON snapshot agrees with the model: its live handle count, fetched into a buffer of exactly the size. */
    {
        size_t needed = 0;
        char* json;
        const char* field;
        EXPECT_STATUS(fhr_snapshot_json(m->manager, NULL, 0, &needed), FHR_CAPACITY_EXCEEDED);
        json = (char*)malloc(needed);
        if (json != NULL)
        {
            EXPECT_STATUS(fhr_snapshot_json(m->manager, json, needed, &needed), FHR_OK);
            field = strstr(json, "\"liveHandles\": ");
            if (field == NULL || strtoll(field + 15, NULL, 10) != m->handle_count)
            {
                FAIL("%s: the snapshot's liveHandles %lld is not the model's %d", when, field == NULL ? -1LL : (long long)strtoll(field + 15, NULL, 10), m->handle_count);
            }

            free(json);
        }
    }
}

/* The region a request goes to, and its usable size (NOT_FOUND: the profile has none of that kind -> main RAM). */
static int64_t region_usable(model* m, uint32_t flags)
{
    int32_t kind = (flags & FHR_FLAG_GPU_ACCESSIBLE) ? FHR_REGION_VIDEO : (flags & FHR_FLAG_AUDIO_ACCESSIBLE) ? FHR_REGION_SOUND : FHR_REGION_MAIN;
    fhr_region_stats r;
    if (fhr_get_region_stats(m->manager, kind, &r) != FHR_OK)
    {
        EXPECT_STATUS(fhr_get_region_stats(m->manager, FHR_REGION_MAIN, &r), FHR_OK);
    }

    return r.capacity_bytes - r.reserved_bytes;
}

static void op_acquire(model* m, uint64_t* rng)
{
    static const int32_t types[] = { FHR_TYPE_MEMORY, FHR_TYPE_MEMORY, FHR_TYPE_MEMORY, FHR_TYPE_HARDWARE, FHR_TYPE_HARDWARE, FHR_TYPE_CUSTOM };
    int32_t type = types[random_between(rng, 0, 5)];
    int64_t roll = random_between(rng, 0, 99);
    int64_t size = roll < 55 ? random_between(rng, 1, 256)
                 : roll < 85 ? random_between(rng, 257, 16 * 1024)
                 : roll < 98 ? random_between(rng, 16 * 1024, 128 * 1024)
                             : random_between(rng, 128 * 1024, 3 * 1024 * 1024);
    uint32_t flags = FHR_FLAG_NONE;
    int32_t mode = random_between(rng, 0, 9) == 0 ? FHR_MODE_EMERGENCY : FHR_MODE_NON_BLOCKING;
    int name = random_between(rng, 0, 4) == 0 ? (int)random_between(rng, 0, NAMES - 1) : -1;
    int owner = random_between(rng, 0, 4) == 0 ? (int)random_between(rng, 0, OWNERS - 1) : -1;
    fhr_handle value = 42;
    fhr_status status;
    int admitted;
    int slot;

    if (random_between(rng, 0, 9) == 0)
    {
        flags |= FHR_FLAG_SHAREABLE;
    }

    if (type == FHR_TYPE_HARDWARE && random_between(rng, 0, 1) == 0)
    {
        flags |= FHR_FLAG_GPU_ACCESSIBLE;
    }
    else if (type == FHR_TYPE_CUSTOM && random_between(rng, 0, 3) == 0)
    {
        flags |= FHR_FLAG_AUDIO_ACCESSIBLE;
    }

    if (m->handle_count >= MAX_HANDLES - 1 || (slot = find_free_memory(m)) < 0)
    {
        return;
    }

    status = owner >= 0
        ? fhr_acquire_owned(m->manager, type, size, 0, flags, mode, 0, name >= 0 ? k_names[name] : NULL, k_owners[owner], &value)
        : fhr_acquire(m->manager, type, size, 0, flags, mode, 0, name >= 0 ? k_names[name] : NULL, &value);

    /* The budget decides exactly; past it, only the region (or the registry) may still refuse. */
    if (mode == FHR_MODE_EMERGENCY)
    {
        admitted = size <= m->max[type];
    }
    else
    {
        admitted = size <= m->max[type] - m->reserved[type] && m->current[type] + size <= m->max[type] - m->reserved[type];
    }

    if (status != FHR_OK)
    {
        m->failures[type]++;
        if (value != FHR_NULL_HANDLE)
        {
            FAIL("a refused acquire left *out = %llx", (unsigned long long)value);
        }

        if (!admitted && status != FHR_BUDGET_EXCEEDED && !(status == FHR_REGION_EXHAUSTED && size > region_usable(m, flags)))
        {
            FAIL("acquire of %lld bytes of type %d over budget -> %s", (long long)size, type, fhr_status_string(status));
        }

        if (admitted && status != FHR_REGION_EXHAUSTED && status != FHR_FRAGMENTED && status != FHR_CAPACITY_EXCEEDED
            && status != FHR_OUT_OF_MEMORY)
        {
            FAIL("acquire of %lld bytes of type %d within budget -> %s", (long long)size, type, fhr_status_string(status));
        }

        return;
    }

    if (!admitted)
    {
        FAIL("acquire of %lld bytes of type %d succeeded over budget (model %lld of %lld)", (long long)size, type,
             (long long)m->current[type], (long long)(m->max[type] - m->reserved[type]));
    }

    {
        unsigned char* bytes = (unsigned char*)fhr_resolve(m->manager, value);
        memory* mem = &m->memories[slot];
        handle* h = &m->handles[m->handle_count++];
        if (bytes == NULL)
        {
            FAIL("a new handle does not resolve");
            m->handle_count--;
            return;
        }

        mem->size = size;
        mem->type = type;
        mem->stamp = ++m->next_stamp;
        mem->refs = 1;
        mem->shareable = (flags & FHR_FLAG_SHAREABLE) != 0;
        stamp(bytes, size, mem->stamp);
        h->value = value;
        h->mem = slot;
        h->owner = owner;
        h->name = name;
        m->current[type] += size;
        m->acquisitions[type]++;
    }
}

static void forget_handle(model* m, int index)
{
    handle* h = &m->handles[index];
    memory* mem = &m->memories[h->mem];
    remember_stale(m, h->value);
    if (--mem->refs == 0)
    {
        m->current[mem->type] -= mem->size;
        m->releases[mem->type]++;
    }

    m->handles[index] = m->handles[--m->handle_count];
}

static void op_release(model* m, uint64_t* rng)
{
    int index;
    handle* h;
    memory* mem;
    unsigned char* bytes;
    int64_t how = random_between(rng, 0, 9);
    if (m->handle_count == 0)
    {
        return;
    }

    index = (int)random_between(rng, 0, m->handle_count - 1);
    h = &m->handles[index];
    mem = &m->memories[h->mem];
    bytes = (unsigned char*)fhr_resolve(m->manager, h->value);
    if (bytes == NULL || !stamp_intact(bytes, mem->size, mem->stamp, mem->refs == 1))
    {
        FAIL("memory of a live handle is %s before its release", bytes == NULL ? "unresolvable" : "damaged");
    }

    if (how < 2)
    {
        /* As some owner: the wrong one (or any owner for an unowned handle) is a sharing failure, and changes nothing. */
        int wrong = h->owner < 0 ? 0 : (h->owner + 1) % OWNERS;
        EXPECT_STATUS(fhr_release_owned(m->manager, h->value, k_owners[wrong]), FHR_SHARING_FAILURE);
        if (h->owner >= 0)
        {
            EXPECT_STATUS(fhr_release_owned(m->manager, h->value, k_owners[h->owner]), FHR_OK);
            forget_handle(m, index);
        }

        return;
    }

    EXPECT_STATUS(fhr_release(m->manager, h->value), FHR_OK);
    forget_handle(m, index);
}

static void op_share(model* m, uint64_t* rng)
{
    int index;
    int owner = (int)random_between(rng, 0, OWNERS - 1);
    fhr_handle copy = 7;
    fhr_status status;
    if (m->handle_count == 0 || m->handle_count >= MAX_HANDLES - 1)
    {
        return;
    }

    index = (int)random_between(rng, 0, m->handle_count - 1);
    status = fhr_share(m->manager, m->handles[index].value, k_owners[owner], &copy);
    if (!m->memories[m->handles[index].mem].shareable)
    {
        EXPECT_STATUS(status, FHR_SHARING_FAILURE);
        if (copy != FHR_NULL_HANDLE)
        {
            FAIL("a refused share left *out set");
        }

        return;
    }

    EXPECT_STATUS(status, FHR_OK);
    if (status == FHR_OK)
    {
        handle* h = &m->handles[m->handle_count++];
        *h = m->handles[index];
        h->value = copy;
        h->owner = owner;
        m->memories[h->mem].refs++;
        if (fhr_resolve(m->manager, copy) != fhr_resolve(m->manager, m->handles[index].value))
        {
            FAIL("a shared handle resolves elsewhere");
        }
    }
}

static void op_touch(model* m, uint64_t* rng)
{
    int index;
    memory* mem;
    unsigned char* bytes;
    void* address = NULL;
    int64_t size = 0;
    if (m->handle_count == 0)
    {
        return;
    }

    index = (int)random_between(rng, 0, m->handle_count - 1);
    mem = &m->memories[m->handles[index].mem];
    EXPECT_STATUS(fhr_resolve_ex(m->manager, m->handles[index].value, &address, &size), FHR_OK);
    bytes = (unsigned char*)address;
    if (bytes == NULL || size != mem->size || !stamp_intact(bytes, mem->size, mem->stamp, 0))
    {
        FAIL("a live handle resolves to %p (%lld bytes, model %lld) or its memory is damaged", address, (long long)size,
             (long long)mem->size);
        return;
    }

    /* Restamp (small ones: large ones keep their stamp, checked in full at release): a neighbour that overlapped would
     * now see its own pattern broken. */
    if (mem->size <= 64 * 1024)
    {
        mem->stamp = ++m->next_stamp;
        stamp(bytes, mem->size, mem->stamp);
    }
}

static void op_find(model* m, uint64_t* rng)
{
    int name = (int)random_between(rng, 0, NAMES - 1);
    fhr_handle found = 9;
    int live = 0;
    int i;
    fhr_status status = fhr_find(m->manager, k_names[name], &found);
    for (i = 0; i < m->handle_count; i++)
    {
        if (m->handles[i].name == name)
        {
            live++;
            if (m->handles[i].value == found)
            {
                live = -1000000; /* the returned handle is a live one with the name */
            }
        }
    }

    if (live == 0)
    {
        EXPECT_STATUS(status, FHR_NOT_FOUND);
        if (found != FHR_NULL_HANDLE)
        {
            FAIL("fhr_find NOT_FOUND left *out set");
        }
    }
    else if (status != FHR_OK || live > 0)
    {
        FAIL("fhr_find(%s) -> %s, handle %llx is not a live handle with that name", k_names[name], fhr_status_string(status),
             (unsigned long long)found);
    }
}

static void op_stale_and_forged(model* m, uint64_t* rng)
{
    fhr_handle forged = next_random(rng);
    int i;
    if (m->stale_count > 0)
    {
        fhr_handle stale = m->stale[random_between(rng, 0, m->stale_count - 1)];
        for (i = 0; i < m->handle_count; i++)
        {
            if (m->handles[i].value == stale)
            {
                FAIL("a released handle was issued again: %llx", (unsigned long long)stale);
            }
        }

        EXPECT_STATUS(fhr_release(m->manager, stale), FHR_STALE_HANDLE);
        if (fhr_resolve(m->manager, stale) != NULL)
        {
            FAIL("a stale handle resolves");
        }
    }

    for (i = 0; i < m->handle_count; i++)
    {
        if (m->handles[i].value == forged)
        {
            return; /* astronomically unlikely: a live handle */
        }
    }

    {
        fhr_status status = fhr_release(m->manager, forged);
        if (status != FHR_STALE_HANDLE && status != FHR_INVALID_HANDLE)
        {
            FAIL("a forged handle %llx -> %s", (unsigned long long)forged, fhr_status_string(status));
        }

        if (fhr_resolve(m->manager, forged) != NULL)
        {
            FAIL("a forged handle resolves");
        }
    }
}

static void op_bad_input(model* m, uint64_t* rng)
{
    fhr_handle out = 5;
    fhr_stats stats;
    switch (random_between(rng, 0, 10))
    {
        case 0: EXPECT_STATUS(fhr_acquire(m->manager, FHR_TYPE_MEMORY, 64, 0, 0, 0, 0, NULL, NULL), FHR_INVALID_ARGUMENT); break;
        case 1: EXPECT_STATUS(fhr_acquire(m->manager, 42, 64, 0, 0, 0, 0, NULL, &out), FHR_INVALID_ARGUMENT); break;
        case 2: EXPECT_STATUS(fhr_acquire(m->manager, FHR_TYPE_MEMORY, 0, 0, 0, 0, 0, NULL, &out), FHR_INVALID_ARGUMENT); break;
        case 3: EXPECT_STATUS(fhr_acquire(m->manager, FHR_TYPE_MEMORY, 64, 24, 0, 0, 0, NULL, &out), FHR_INVALID_ARGUMENT); break;
        case 4: EXPECT_STATUS(fhr_acquire(m->manager, FHR_TYPE_MEMORY, 64, 0, FHR_FLAG_SHAREABLE | FHR_FLAG_EXCLUSIVE, 0, 0, NULL, &out), FHR_INVALID_ARGUMENT); break;
        case 5: EXPECT_STATUS(fhr_acquire_owned(m->manager, FHR_TYPE_MEMORY, 64, 0, 0, 0, 0, NULL, NULL, &out), FHR_INVALID_ARGUMENT); break;
        case 6: EXPECT_STATUS(fhr_acquire(m->manager, FHR_TYPE_MEMORY, 64, 0, 0, 9, 0, NULL, &out), FHR_INVALID_ARGUMENT); break;
        case 7: EXPECT_STATUS(fhr_get_stats(m->manager, FHR_TYPE_MEMORY, NULL), FHR_INVALID_ARGUMENT); break;
        case 8: EXPECT_STATUS(fhr_get_stats(NULL, FHR_TYPE_MEMORY, &stats), FHR_INVALID_ARGUMENT); break;
        case 9:
        {
            char small[8] = { 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x' };
            size_t needed = 0;
            EXPECT_STATUS(fhr_snapshot_json(m->manager, small, sizeof small, &needed), FHR_CAPACITY_EXCEEDED);
            EXPECT_STATUS(fhr_snapshot_json(m->manager, NULL, 0, NULL), FHR_INVALID_ARGUMENT);
            if (needed <= sizeof small || small[0] != 'x')
            {
                FAIL("a small snapshot buffer: needed %zu, buffer touched", needed);
            }

            break;
        }
        default: EXPECT_STATUS(fhr_share(m->manager, FHR_NULL_HANDLE, "x", &out), FHR_INVALID_HANDLE); break;
    }
}

static void run_single(const char* profile, long ops, uint64_t seed)
{
    static model m; /* large: keep it off the stack */
    long op;
    int t;
    int64_t registration = 0;
    uint64_t rng = seed * 0x9E3779B97F4A7C15ULL + 1;
    memset(&m, 0, sizeof m);
    if (fhr_manager_create(profile, &m.manager) != FHR_OK)
    {
        FAIL("cannot create a %s manager", profile);
        return;
    }

    EXPECT_STATUS(fhr_set_budget(m.manager, FHR_TYPE_CUSTOM, 2 * 1024 * 1024, 256 * 1024), FHR_OK);
    for (t = 0; t < TYPES; t++)
    {
        EXPECT_STATUS(fhr_get_budget(m.manager, t, &m.max[t], &m.reserved[t]), FHR_OK);
    }

    EXPECT_STATUS(fhr_register_pressure_callback(m.manager, on_pressure, &m, &registration), FHR_OK);
    for (op = 1; op <= ops; op++)
    {
        int64_t roll = random_between(&rng, 0, 99);
        if (roll < 36) op_acquire(&m, &rng);
        else if (roll < 66) op_release(&m, &rng);
        else if (roll < 72) op_share(&m, &rng);
        else if (roll < 86) op_touch(&m, &rng);
        else if (roll < 91) op_find(&m, &rng);
        else if (roll < 97) op_stale_and_forged(&m, &rng);
        else op_bad_input(&m, &rng);

        if (op % 500 == 0)
        {
            check_totals(&m, profile);
        }
    }

    check_totals(&m, profile);
    while (m.handle_count > 0)
    {
        EXPECT_STATUS(fhr_release(m.manager, m.handles[0].value), FHR_OK);
        forget_handle(&m, 0);
    }

    check_totals(&m, profile);
    for (t = 0; t < TYPES; t++)
    {
        if (m.current[t] != 0)
        {
            FAIL("%s: type %d holds %lld bytes after everything was released", profile, t, (long long)m.current[t]);
        }
    }

    EXPECT_STATUS(fhr_unregister_callback(m.manager, registration), FHR_OK);
    EXPECT_STATUS(fhr_manager_destroy(m.manager), FHR_OK);
}

/* ---- phase 2: threads ----------------------------------------------------------------------------------------- */

typedef struct worker
{
    fhr_manager* manager;
    long ops;
    uint64_t seed;
    fhr_handle handles[256];
    int64_t sizes[256];
    int32_t types[256];
    uint32_t stamps[256];
    int count;
    int64_t held[TYPES];
    int64_t acquisitions[TYPES];
    int64_t releases[TYPES];
} worker;

static void* run_worker(void* argument)
{
    worker* w = (worker*)argument;
    uint64_t rng = w->seed;
    long op;
    for (op = 0; op < w->ops; op++)
    {
        if (w->count < 256 && (w->count == 0 || random_between(&rng, 0, 1) == 0))
        {
            int32_t type = random_between(&rng, 0, 2) == 0 ? FHR_TYPE_CUSTOM : FHR_TYPE_MEMORY;
            int64_t size = random_between(&rng, 0, 3) == 0 ? random_between(&rng, 257, 32 * 1024) : random_between(&rng, 1, 256);
            fhr_handle h = FHR_NULL_HANDLE;
            if (fhr_acquire(w->manager, type, size, 0, 0, FHR_MODE_NON_BLOCKING, 0, NULL, &h) == FHR_OK)
            {
                unsigned char* bytes = (unsigned char*)fhr_resolve(w->manager, h);
                if (bytes == NULL)
                {
                    FAIL("thread: a new handle does not resolve");
                    continue;
                }

                w->handles[w->count] = h;
                w->sizes[w->count] = size;
                w->types[w->count] = type;
                w->stamps[w->count] = (uint32_t)next_random(&rng);
                stamp(bytes, size, w->stamps[w->count]);
                w->count++;
                w->held[type] += size;
                w->acquisitions[type]++;
            }
        }
        else if (w->count > 0)
        {
            int i = (int)random_between(&rng, 0, w->count - 1);
            unsigned char* bytes = (unsigned char*)fhr_resolve(w->manager, w->handles[i]);
            if (bytes == NULL || !stamp_intact(bytes, w->sizes[i], w->stamps[i], 1))
            {
                FAIL("thread: memory of a live handle is %s", bytes == NULL ? "unresolvable" : "damaged");
            }

            EXPECT_STATUS(fhr_release(w->manager, w->handles[i]), FHR_OK);
            EXPECT_STATUS(fhr_release(w->manager, w->handles[i]), FHR_STALE_HANDLE);
            w->held[w->types[i]] -= w->sizes[i];
            w->releases[w->types[i]]++;
            w->count--;
            w->handles[i] = w->handles[w->count];
            w->sizes[i] = w->sizes[w->count];
            w->types[i] = w->types[w->count];
            w->stamps[i] = w->stamps[w->count];
        }
    }

    return NULL;
}

static void run_threads(int threads, long ops, uint64_t seed)
{
    fhr_manager* manager = NULL;
    worker* workers = (worker*)calloc((size_t)threads, sizeof(worker));
    pthread_t* ids = (pthread_t*)calloc((size_t)threads, sizeof(pthread_t));
    int i;
    int t;
    int64_t live = -1;
    if (workers == NULL || ids == NULL || fhr_manager_create("desktop", &manager) != FHR_OK)
    {
        FAIL("cannot set up the threaded run");
        free(workers);
        free(ids);
        return;
    }

    EXPECT_STATUS(fhr_set_budget(manager, FHR_TYPE_CUSTOM, (int64_t)1 << 40, 0), FHR_OK);
    for (i = 0; i < threads; i++)
    {
        workers[i].manager = manager;
        workers[i].ops = ops;
        workers[i].seed = seed * 7919 + (uint64_t)i + 1;
        pthread_create(&ids[i], NULL, run_worker, &workers[i]);
    }

    for (i = 0; i < threads; i++)
    {
        pthread_join(ids[i], NULL);
    }

    for (t = 0; t < TYPES; t++)
    {
        fhr_stats s;
        int64_t held = 0;
        int64_t acquisitions = 0;
        int64_t releases = 0;
        for (i = 0; i < threads; i++)
        {
            held += workers[i].held[t];
            acquisitions += workers[i].acquisitions[t];
            releases += workers[i].releases[t];
        }

        EXPECT_STATUS(fhr_get_stats(manager, t, &s), FHR_OK);
        if (s.current_bytes != held || s.acquisitions != acquisitions || s.releases != releases)
        {
            FAIL("threads: type %d: current %lld/%lld acquisitions %lld/%lld releases %lld/%lld (library/threads)", t,
                 (long long)s.current_bytes, (long long)held, (long long)s.acquisitions, (long long)acquisitions,
                 (long long)s.releases, (long long)releases);
        }
    }

    EXPECT_STATUS(fhr_live_count(manager, &live), FHR_OK);
    {
        int64_t count = 0;
        for (i = 0; i < threads; i++)
        {
            count += workers[i].count;
        }

        if (live != count)
        {
            FAIL("threads: live count %lld, threads hold %lld", (long long)live, (long long)count);
        }
    }

    for (i = 0; i < threads; i++)
    {
        while (workers[i].count > 0)
        {
            EXPECT_STATUS(fhr_release(manager, workers[i].handles[--workers[i].count]), FHR_OK);
        }
    }

    for (t = 0; t < TYPES; t++)
    {
        fhr_stats s;
        EXPECT_STATUS(fhr_get_stats(manager, t, &s), FHR_OK);
        if (s.current_bytes != 0)
        {
            FAIL("threads: type %d holds %lld bytes after everything was released", t, (long long)s.current_bytes);
        }
    }

    EXPECT_STATUS(fhr_live_count(manager, &live), FHR_OK);
    if (live != 0)
    {
        FAIL("threads: %lld live after everything was released", (long long)live);
    }

    EXPECT_STATUS(fhr_manager_destroy(manager), FHR_OK);
    free(workers);
    free(ids);
}

/* ---- phase 3: handles of destroyed managers ------------------------------------------------------------------ */

static void run_issuer_reuse(int managers)
{
    fhr_handle kept[128];
    int kept_count = 0;
    int i;
    int k;
    for (i = 0; i < managers; i++)
    {
        fhr_manager* manager = NULL;
        fhr_handle pooled = FHR_NULL_HANDLE;
        fhr_handle named = FHR_NULL_HANDLE;
        fhr_stats s;
        if (fhr_manager_create("dreamcast", &manager) != FHR_OK)
        {
            FAIL("cannot create manager %d", i);
            return;
        }

        EXPECT_STATUS(fhr_acquire(manager, FHR_TYPE_MEMORY, 64, 0, 0, FHR_MODE_NON_BLOCKING, 0, NULL, &pooled), FHR_OK);
        EXPECT_STATUS(fhr_acquire(manager, FHR_TYPE_MEMORY, 64, 0, 0, FHR_MODE_NON_BLOCKING, 0, "named", &named), FHR_OK);
        for (k = 0; k < kept_count; k++)
        {
            EXPECT_STATUS(fhr_release(manager, kept[k]), FHR_INVALID_HANDLE);
            if (fhr_resolve(manager, kept[k]) != NULL)
            {
                FAIL("a handle of a destroyed manager resolves in manager %d", i);
            }
        }

        EXPECT_STATUS(fhr_get_stats(manager, FHR_TYPE_MEMORY, &s), FHR_OK);
        if (s.current_bytes != 128)
        {
            FAIL("manager %d: %lld bytes after refusing old handles", i, (long long)s.current_bytes);
        }

        if (i % 5 == 0 && kept_count < 126)
        {
            kept[kept_count++] = pooled;
            kept[kept_count++] = named;
        }

        EXPECT_STATUS(fhr_manager_destroy(manager), FHR_OK);
        EXPECT_STATUS(fhr_release(manager, pooled), FHR_INVALID_HANDLE); /* the destroyed manager itself */
    }
}

/* ---- Phase 4: the asset cache ----------------------------------------------------------------------------------- */

#define CACHE_KEYS 12
#define CACHE_REFS 64

typedef struct cache_model
{
    fhr_manager* manager;
    fhr_cache* cache;
    int loaded[CACHE_KEYS];     /* resident */
    int count[CACHE_KEYS];      /* strong references */
    long long tick[CACHE_KEYS]; /* last access */
    long long clock;
    fhr_cache_ref refs[CACHE_REFS];
    int ref_key[CACHE_REFS];
    int ref_live[CACHE_REFS];   /* 0: released already (kept to be released again) */
    int ref_count;
    int loader_calls;
    long long unused_unloads;   /* entries unloaded by fhr_cache_unload_unused (the rest of the evictions are the cap's) */
    fhr_load_context* last_context;
} cache_model;

static int64_t cache_size(int key) { return 1024 * (1 + key % 4); }

static const int64_t k_cache_cap = 6 * 1024;

/* Acquires the key's bytes and stamps them; keys 10 and 11 fail (the second after acquiring). */
static fhr_status cache_loader(void* user, fhr_load_context* context, const char* key)
{
    cache_model* m = (cache_model*)user;
    int k = atoi(key + 1);
    fhr_handle memory = FHR_NULL_HANDLE;
    fhr_status status;
    m->loader_calls++;
    m->last_context = context;
    if (k == 10)
    {
        return FHR_NOT_FOUND;
    }

    status = fhr_load_acquire(context, FHR_TYPE_CUSTOM, cache_size(k), 0, 0, &memory);
    if (status != FHR_OK)
    {
        return status;
    }

    stamp((unsigned char*)fhr_resolve(m->manager, memory), cache_size(k), (uint32_t)(0xC0DE + k));
    return k == 11 ? FHR_INTERNAL_ERROR : FHR_OK;
}

static void cache_evict_over_cap(cache_model* m)
{
    for (;;)
    {
        int64_t resident = 0;
        int victim = -1;
        int k;
        for (k = 0; k < CACHE_KEYS; k++)
        {
            if (m->loaded[k])
            {
                resident += cache_size(k);
                if (m->count[k] == 0 && (victim < 0 || m->tick[k] < m->tick[victim]))
                {
                    victim = k;
                }
            }
        }

        if (resident <= k_cache_cap || victim < 0)
        {
            return;
        }

        m->loaded[victim] = 0;
    }
}

static void cache_check(cache_model* m, long op)
{
    fhr_cache_stats s;
    fhr_stats custom;
    int64_t resident = 0;
    int entries = 0;
    int referenced = 0;
    int k;
    for (k = 0; k < CACHE_KEYS; k++)
    {
        if (m->loaded[k])
        {
            resident += cache_size(k);
            entries++;
            referenced += m->count[k] > 0;
        }
    }

    EXPECT_STATUS(fhr_cache_get_stats(m->cache, &s), FHR_OK);
    EXPECT_STATUS(fhr_get_stats(m->manager, FHR_TYPE_CUSTOM, &custom), FHR_OK);
    if (s.resident_bytes != resident || s.entries != entries || s.referenced != referenced || custom.current_bytes != resident)
    {
        FAIL("cache op %ld: %lld resident bytes, %d entries, %d referenced, manager %lld; the model says %lld, %d, %d", op,
             (long long)s.resident_bytes, s.entries, s.referenced, (long long)custom.current_bytes, (long long)resident,
             entries, referenced);
    }
}

static void run_cache(long ops, uint64_t seed)
{
    cache_model m;
    uint64_t rng = seed * 7919 + 17;
    long op;
    memset(&m, 0, sizeof m);
    if (fhr_manager_create("dreamcast", &m.manager) != FHR_OK || fhr_cache_create(m.manager, "fuzz", k_cache_cap, &m.cache) != FHR_OK)
    {
        FAIL("cannot create the cache");
        return;
    }

    for (op = 0; op < ops; op++)
    {
        int choice = (int)random_between(&rng, 0, 99);
        int live = 0;
        int r;
        for (r = 0; r < m.ref_count; r++)
        {
            live += m.ref_live[r];
        }

        if (choice < 45 && live >= 4)
        {
            choice = 45 + (int)random_between(&rng, 0, 39); /* a few references at a time, so entries become evictable */
        }

        if (choice < 45 && m.ref_count < CACHE_REFS)
        {
            int k = (int)random_between(&rng, 0, CACHE_KEYS - 1);
            char key[8];
            fhr_cache_ref ref = 0;
            int calls = m.loader_calls;
            int hit = m.loaded[k];
            fhr_status expected = hit || k < 10 ? FHR_OK : k == 10 ? FHR_NOT_FOUND : FHR_INTERNAL_ERROR;
            snprintf(key, sizeof key, "k%d", k);
            EXPECT_STATUS(fhr_cache_load(m.cache, key, FHR_PRIORITY_NORMAL, cache_loader, &m, &ref), expected);
            if ((m.loader_calls != calls) != !hit)
            {
                FAIL("cache op %ld: key %d %s but the loader ran %d time(s)", op, k, hit ? "resident" : "not resident", m.loader_calls - calls);
            }

            if (expected == FHR_OK)
            {
                fhr_handle memory = FHR_NULL_HANDLE;
                unsigned char* bytes;
                EXPECT_STATUS(fhr_cache_resource(m.cache, ref, 0, &memory), FHR_OK);
                bytes = (unsigned char*)fhr_resolve(m.manager, memory);
                if (bytes == NULL || !stamp_intact(bytes, cache_size(k), (uint32_t)(0xC0DE + k), 1))
                {
                    FAIL("cache op %ld: key %d's bytes are not its own", op, k);
                }

                m.loaded[k] = 1;
                m.count[k]++;
                m.tick[k] = ++m.clock;
                m.refs[m.ref_count] = ref;
                m.ref_key[m.ref_count] = k;
                m.ref_live[m.ref_count] = 1;
                m.ref_count++;
                cache_evict_over_cap(&m);
            }
            else if (ref != 0)
            {
                FAIL("cache op %ld: a failed load gave a reference", op);
            }
        }
        else if (choice < 85 && m.ref_count > 0)
        {
            int i = (int)random_between(&rng, 0, m.ref_count - 1);
            int k;
            if (!m.ref_live[i] && live > 0 && random_between(&rng, 0, 4) > 0)
            {
                for (i = 0; !m.ref_live[i]; i++)
                {
                } /* mostly an outstanding reference; sometimes one released already */
            }

            k = m.ref_key[i];
            EXPECT_STATUS(fhr_cache_release(m.cache, m.refs[i]), m.ref_live[i] ? FHR_OK : FHR_STALE_HANDLE);
            if (m.ref_live[i])
            {
                m.ref_live[i] = 0;
                m.tick[k] = ++m.clock;
                if (--m.count[k] == 0)
                {
                    cache_evict_over_cap(&m);
                }
            }

            if (!m.ref_live[i] && random_between(&rng, 0, 3) == 0)
            {
                m.refs[i] = m.refs[m.ref_count - 1]; /* forget it (a released copy is sometimes kept) */
                m.ref_key[i] = m.ref_key[m.ref_count - 1];
                m.ref_live[i] = m.ref_live[m.ref_count - 1];
                m.ref_count--;
            }
        }
        else if (choice < 90)
        {
            int64_t freed = -1;
            int64_t expected = 0;
            int k;
            for (k = 0; k < CACHE_KEYS; k++)
            {
                if (m.loaded[k] && m.count[k] == 0)
                {
                    expected += cache_size(k);
                    m.loaded[k] = 0;
                    m.unused_unloads++;
                }
            }

            EXPECT_STATUS(fhr_cache_unload_unused(m.cache, &freed), FHR_OK);
            if (freed != expected)
            {
                FAIL("cache op %ld: unload-unused freed %lld, the model says %lld", op, (long long)freed, (long long)expected);
            }
        }
        else
        {
            fhr_handle late = FHR_NULL_HANDLE;
            fhr_cache_ref none = 1;
            if (m.last_context != NULL)
            {
                EXPECT_STATUS(fhr_load_acquire(m.last_context, FHR_TYPE_CUSTOM, 64, 0, 0, &late), FHR_INVALID_HANDLE);
            }

            EXPECT_STATUS(fhr_cache_load(m.cache, NULL, 1, cache_loader, &m, &none), FHR_INVALID_ARGUMENT);
            EXPECT_STATUS(fhr_cache_load(m.cache, "k1", 1, NULL, &m, &none), FHR_INVALID_ARGUMENT);
            EXPECT_STATUS(fhr_cache_release(m.cache, 0), FHR_STALE_HANDLE);
            EXPECT_STATUS(fhr_cache_release((fhr_cache*)(uintptr_t)0x7777770, 1), FHR_INVALID_HANDLE);
        }

        if (op % 100 == 0)
        {
            cache_check(&m, op);
        }
    }

    cache_check(&m, ops);
    {
        fhr_cache_stats s;
        EXPECT_STATUS(fhr_cache_get_stats(m.cache, &s), FHR_OK);
        long long over_cap = (long long)(s.evictions - m.unused_unloads);
        printf("fhr_fuzz: cache: %ld operations, %lld hits, %lld loads, %lld failed, %lld evicted over the cap\n", ops,
               (long long)s.hits, (long long)s.loads, (long long)s.load_failures, over_cap);
        if (over_cap < 10 || s.hits < 10 || s.load_failures < 10)
        {
            FAIL("the cache phase did not reach evictions, hits and failures");
        }
    }

    EXPECT_STATUS(fhr_manager_destroy(m.manager), FHR_OK); /* destroys the cache with it */
    EXPECT_STATUS(fhr_cache_destroy(m.cache), FHR_OK);
    EXPECT_STATUS(fhr_cache_destroy(m.cache), FHR_INVALID_HANDLE);
}

int main(int argc, char** argv)
{
    static const char* const profiles[] = { "dreamcast", "desktop", "psp", "ps2", "nds", "n64", "web" };
    long ops = argc > 1 ? atol(argv[1]) : 200000;
    int threads = argc > 2 ? atoi(argv[2]) : 4;
    uint64_t seed = argc > 3 ? (uint64_t)atoll(argv[3]) : 1;
    int managers = argc > 4 ? atoi(argv[4]) : 300;
    size_t p;
    if (ops < 1 || threads < 1 || threads > 64 || managers < 0)
    {
        fprintf(stderr, "usage: fhr_fuzz [ops >= 1] [threads 1..64] [seed] [managers >= 0]\n");
        return 2;
    }

    for (p = 0; p < sizeof profiles / sizeof profiles[0]; p++)
    {
        run_single(profiles[p], ops / (long)(sizeof profiles / sizeof profiles[0]), seed + p);
    }

    run_threads(threads, ops / threads, seed);
    run_issuer_reuse(managers);
    run_cache(ops / 10 + 1000, seed);
    printf("fhr_fuzz: %ld operations on %d profiles, %d threads, %d managers: %s (%d failed checks)\n", ops,
           (int)(sizeof profiles / sizeof profiles[0]), threads, managers, g_failures == 0 ? "ok" : "FAILED", g_failures);
    return g_failures == 0 ? 0 : 1;
}
