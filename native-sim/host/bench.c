/*
 * fhr_bench — acquire + release pairs from C through the public header, beside malloc/free in the same program.
 *
 *   fhr_bench [PAIRS] [PROFILE] [--short] [--profile NAME] [--only pooled|named|malloc] [--threads 1|2|both]
 *             [--runs R] [--warmup W]
 *   fhr_bench --library-base      (prints where libflight_hal_resources.so is loaded; for callgrind_pairs.sh)
 *
 * One pair is, for each operation (64 bytes, a pooled block size on every built-in profile):
 *   pooled  fhr_acquire (anonymous, FHR_TYPE_MEMORY, FHR_MODE_NON_BLOCKING) + fhr_resolve + touch one byte + fhr_release
 *   named   the same with a name taken in turn from 64 names per thread ("asset/0".."asset/63" for thread 0,
 *           "asset/64".."asset/127" for thread 1), all prepared before timing
 *   malloc  malloc(64) + touch one byte + free, the peer
 * Each thread (1, then 2 sharing one manager) does W warm-up pairs, waits for the others, then PAIRS timed pairs; the
 * time reported is wall time (CLOCK_MONOTONIC, first start to last finish) per pair per thread: the median of R runs
 * (and the best). "cpu %" is the threads' own CPU time (CLOCK_THREAD_CPUTIME_ID) over threads x wall time, median
 * over the runs: well below 100, something else had the cores and the row is not to be trusted. Every status is checked; afterwards every type's acquisitions and releases must have grown by exactly
 * the pairs done and nothing may be left live. Exits 1 on any failed check, 2 on bad arguments or setup.
 *
 * Defaults: 2,000,000 pairs per thread, 100,000 warm-up pairs, 5 runs, profile "desktop", all operations, 1 and 2
 * threads. --short (for CI): 5,000 pairs, 500 warm-up, 1 run — it only has to run and pass its checks.
 * The warm-up is a fixed count, so two runs of one operation with N and 2N pairs differ by exactly N pairs' work
 * (host/callgrind_pairs.sh counts instructions per pair that way).
 */
#define _POSIX_C_SOURCE 200809L

#include "flight_hal_resources.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAIR_SIZE 64
#define NAMES_PER_THREAD 64
#define MAX_THREADS 2
#define MAX_RUNS 101

enum operation { OP_MALLOC, OP_POOLED, OP_NAMED, OP_COUNT };

static const char* const op_labels[OP_COUNT] = {
    "malloc + touch + free",
    "pooled: acquire + resolve + touch + release",
    "named:  acquire + resolve + touch + release",
};
static const char* const op_keys[OP_COUNT] = { "malloc", "pooled", "named" };

/* Keeps the compiler from removing a malloc/free pair or a store it can prove unread. */
#if defined(__GNUC__)
#define ESCAPE(pointer) __asm__ __volatile__("" : : "r"(pointer) : "memory")
#else
static void* volatile g_sink;
#define ESCAPE(pointer) (g_sink = (pointer))
#endif

static fhr_manager* g_manager;
static char g_names[MAX_THREADS][NAMES_PER_THREAD][16];

/* The job the workers run next, set by main between the barriers. */
static struct
{
    enum operation op;
    int threads;          /* workers taking part: 1 or 2 */
    long pairs;
    long warmup;
    int quit;
} g_job;

static pthread_barrier_t g_start;    /* main + every worker: a job is ready */
static pthread_barrier_t g_go;       /* the 2 workers of a 2-thread job: warm-up done on both */
static pthread_barrier_t g_done;     /* main + every worker: the job is finished */

typedef struct worker_result
{
    struct timespec begin;
    struct timespec end;
    double cpu_seconds;   /* the thread's own CPU time over the timed pairs */
    long failures;
} worker_result;

static worker_result g_results[MAX_THREADS];

static double seconds(struct timespec t)
{
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* n pairs of one operation; returns the number of failed calls. malloc has its own loop; pooled and named share one. */
static long run_pairs(enum operation op, int thread, long n)
{
    long failures = 0;
    long i;
    fhr_handle handle;
    switch (op)
    {
    case OP_MALLOC:
        for (i = 0; i < n; i++)
        {
            unsigned char* bytes = (unsigned char*)malloc(PAIR_SIZE);
            if (bytes == NULL)
            {
                failures++;
                continue;
            }
            bytes[0] = (unsigned char)i;
            ESCAPE(bytes);
            free(bytes);
        }
        break;
    case OP_POOLED:
    case OP_NAMED: /* one loop: the named pair differs only in passing a name (a branch per pair, next to ~100 ns) */
        for (i = 0; i < n; i++)
        {
            unsigned char* bytes;
            const char* name = op == OP_NAMED ? g_names[thread][i % NAMES_PER_THREAD] : NULL;
            if (fhr_acquire(g_manager, FHR_TYPE_MEMORY, PAIR_SIZE, 0, FHR_FLAG_NONE, FHR_MODE_NON_BLOCKING, 0, name,
                            &handle) != FHR_OK)
            {
                failures++;
                continue;
            }
            bytes = (unsigned char*)fhr_resolve(g_manager, handle);
            if (bytes == NULL)
                failures++;
            else
            {
                bytes[0] = (unsigned char)i;
                ESCAPE(bytes);
            }
            if (fhr_release(g_manager, handle) != FHR_OK)
                failures++;
        }
        break;
    default:
        failures++;
        break;
    }
    return failures;
}

static void* worker(void* argument)
{
    int thread = (int)(intptr_t)argument;
    for (;;)
    {
        pthread_barrier_wait(&g_start);
        if (g_job.quit)
            return NULL;
        if (thread < g_job.threads)
        {
            worker_result* result = &g_results[thread];
            struct timespec cpu_begin, cpu_end;
            result->failures = run_pairs(g_job.op, thread, g_job.warmup);
            if (g_job.threads > 1)
                pthread_barrier_wait(&g_go);
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_begin);
            clock_gettime(CLOCK_MONOTONIC, &result->begin);
            result->failures += run_pairs(g_job.op, thread, g_job.pairs);
            clock_gettime(CLOCK_MONOTONIC, &result->end);
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_end);
            result->cpu_seconds = seconds(cpu_end) - seconds(cpu_begin);
        }
        pthread_barrier_wait(&g_done);
    }
}

/* Runs one job on the workers; returns wall ns per pair per thread, adds the failures to *failures and sets *on_cpu
 * to the share of the wall time the threads were running (below 1: the machine took a core away). */
static double run_job(enum operation op, int threads, long pairs, long warmup, long* failures, double* on_cpu)
{
    double begin = 0, end = 0, cpu = 0;
    int t;
    g_job.op = op;
    g_job.threads = threads;
    g_job.pairs = pairs;
    g_job.warmup = warmup;
    pthread_barrier_wait(&g_start);
    pthread_barrier_wait(&g_done);
    for (t = 0; t < threads; t++)
    {
        double b = seconds(g_results[t].begin), e = seconds(g_results[t].end);
        if (t == 0 || b < begin)
            begin = b;
        if (t == 0 || e > end)
            end = e;
        *failures += g_results[t].failures;
        cpu += g_results[t].cpu_seconds;
    }
    *on_cpu = end > begin ? cpu / ((end - begin) * threads) : 1;
    return (end - begin) * 1e9 / (double)pairs;
}

static int compare_doubles(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* Sorts the samples in place (so s[0] is then the best) and returns their median. */
static double median_of(double* s, long count)
{
    qsort(s, (size_t)count, sizeof(double), compare_doubles);
    return count % 2 ? s[count / 2] : (s[count / 2 - 1] + s[count / 2]) / 2;
}

/* Prints where libflight_hal_resources.so is loaded (from /proc/self/maps, Linux): lets callgrind_pairs.sh name the
 * library's functions from its symbol file when callgrind only has addresses. */
static int print_library_base(void)
{
    char line[512];
    FILE* maps = fopen("/proc/self/maps", "r");
    if (maps == NULL)
        return 2;
    while (fgets(line, sizeof line, maps) != NULL)
        if (strstr(line, "libflight_hal_resources.so") != NULL)
        {
            unsigned long start = 0, offset = 1;
            if (sscanf(line, "%lx-%*x %*s %lx", &start, &offset) == 2 && offset == 0)
            {
                printf("0x%lx\n", start);
                fclose(maps);
                return 0;
            }
        }
    fclose(maps);
    return 2;
}

static int usage(const char* message)
{
    fprintf(stderr, "fhr_bench: %s\n", message);
    fprintf(stderr, "usage: fhr_bench [PAIRS] [PROFILE] [--short] [--profile NAME] [--only pooled|named|malloc] "
                    "[--threads 1|2|both] [--runs R] [--warmup W]\n");
    return 2;
}

static int parse_count(const char* text, long minimum, long* out)
{
    char* end;
    long value = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || value < minimum)
        return 0;
    *out = value;
    return 1;
}

/* Sums acquisitions and releases over every type, and reports whether any type still holds bytes. */
static int totals(int64_t* acquisitions, int64_t* releases, int64_t* current)
{
    int32_t type;
    *acquisitions = *releases = *current = 0;
    for (type = FHR_TYPE_MEMORY; type <= FHR_TYPE_CUSTOM; type++)
    {
        fhr_stats stats;
        if (fhr_get_stats(g_manager, type, &stats) != FHR_OK)
            return 0;
        *acquisitions += stats.acquisitions;
        *releases += stats.releases;
        *current += stats.current_bytes;
    }
    return 1;
}

int main(int argc, char** argv)
{
    const char* profile = "desktop";
    long pairs = 2000000, warmup = 100000, runs = 5;
    int short_mode = 0, pairs_given = 0, warmup_given = 0, runs_given = 0;
    int selected[OP_COUNT] = { 1, 1, 1 };
    int thread_counts[2] = { 1, 2 }, thread_count_count = 2;
    double samples[OP_COUNT][MAX_THREADS][MAX_RUNS];
    double on_cpu[OP_COUNT][MAX_THREADS][MAX_RUNS];
    long failures = 0;
    int64_t acquisitions_before, releases_before, current, acquisitions_after, releases_after, live = -1;
    int64_t expected = 0;
    pthread_t workers[MAX_THREADS];
    fhr_pool_stats pool;
    fhr_status status;
    int i, op, t, run;

    for (i = 1; i < argc; i++)
    {
        const char* a = argv[i];
        if (strcmp(a, "--short") == 0)
            short_mode = 1;
        else if (strcmp(a, "--library-base") == 0)
            return print_library_base();
        else if (strcmp(a, "--profile") == 0 && i + 1 < argc)
            profile = argv[++i];
        else if (strcmp(a, "--runs") == 0 && i + 1 < argc)
        {
            if (!parse_count(argv[++i], 1, &runs) || runs > MAX_RUNS)
                return usage("--runs takes 1 to 101");
            runs_given = 1;
        }
        else if (strcmp(a, "--warmup") == 0 && i + 1 < argc)
        {
            if (!parse_count(argv[++i], 0, &warmup))
                return usage("--warmup takes a count >= 0");
            warmup_given = 1;
        }
        else if (strcmp(a, "--only") == 0 && i + 1 < argc)
        {
            const char* key = argv[++i];
            int found = 0;
            for (op = 0; op < OP_COUNT; op++)
            {
                selected[op] = strcmp(key, op_keys[op]) == 0;
                found |= selected[op];
            }
            if (!found)
                return usage("--only takes pooled, named or malloc");
        }
        else if (strcmp(a, "--threads") == 0 && i + 1 < argc)
        {
            const char* key = argv[++i];
            if (strcmp(key, "1") == 0 || strcmp(key, "2") == 0)
            {
                thread_counts[0] = key[0] - '0';
                thread_count_count = 1;
            }
            else if (strcmp(key, "both") != 0)
                return usage("--threads takes 1, 2 or both");
        }
        else if (a[0] >= '0' && a[0] <= '9')
        {
            if (!parse_count(a, 1, &pairs))
                return usage("PAIRS must be a count >= 1");
            pairs_given = 1;
        }
        else if (a[0] != '-')
            profile = a;
        else
            return usage("unknown option");
    }
    if (short_mode)
    {
        if (!pairs_given)
            pairs = 5000;
        if (!warmup_given)
            warmup = 500;
        if (!runs_given)
            runs = 1;
    }

    status = fhr_manager_create(profile, &g_manager);
    if (status != FHR_OK)
    {
        fprintf(stderr, "fhr_bench: fhr_manager_create(\"%s\") -> %s\n", profile, fhr_status_string(status));
        return 2;
    }
    status = fhr_get_pool_stats(g_manager, FHR_TYPE_MEMORY, PAIR_SIZE, &pool);
    if (status != FHR_OK)
    {
        fprintf(stderr, "fhr_bench: profile %s has no %d-byte Memory pool (%s)\n", profile, PAIR_SIZE,
                fhr_status_string(status));
        fhr_manager_destroy(g_manager);
        return 2;
    }
    for (t = 0; t < MAX_THREADS; t++)
        for (i = 0; i < NAMES_PER_THREAD; i++)
            sprintf(g_names[t][i], "asset/%d", t * NAMES_PER_THREAD + i);

    if (!totals(&acquisitions_before, &releases_before, &current))
    {
        fprintf(stderr, "fhr_bench: fhr_get_stats failed\n");
        return 2;
    }
    if (pthread_barrier_init(&g_start, NULL, MAX_THREADS + 1) != 0 || pthread_barrier_init(&g_go, NULL, 2) != 0
        || pthread_barrier_init(&g_done, NULL, MAX_THREADS + 1) != 0)
    {
        fprintf(stderr, "fhr_bench: pthread_barrier_init failed\n");
        return 2;
    }
    for (t = 0; t < MAX_THREADS; t++)
        if (pthread_create(&workers[t], NULL, worker, (void*)(intptr_t)t) != 0)
        {
            fprintf(stderr, "fhr_bench: pthread_create failed\n");
            return 2;
        }

    /* Runs interleaved (every operation and thread count once per round), so drift on a shared machine hits all. */
    for (run = 0; run < runs; run++)
        for (op = 0; op < OP_COUNT; op++)
        {
            if (!selected[op])
                continue;
            for (t = 0; t < thread_count_count; t++)
            {
                int threads = thread_counts[t];
                samples[op][threads - 1][run] = run_job((enum operation)op, threads, pairs, warmup, &failures,
                                                        &on_cpu[op][threads - 1][run]);
                if (op != OP_MALLOC)
                    expected += (int64_t)threads * (pairs + warmup);
            }
        }

    g_job.quit = 1;
    pthread_barrier_wait(&g_start);
    for (t = 0; t < MAX_THREADS; t++)
        pthread_join(workers[t], NULL);
    pthread_barrier_destroy(&g_start);
    pthread_barrier_destroy(&g_go);
    pthread_barrier_destroy(&g_done);

    printf("fhr_bench: profile %s, %d-byte pairs, %ld pairs per thread after %ld warm-up, %ld run%s (median, best)\n",
           profile, PAIR_SIZE, pairs, warmup, runs, runs == 1 ? "" : "s");
    printf("%-44s %7s %9s %9s %6s %9s\n", "operation", "threads", "ns/pair", "best", "cpu %", "x malloc");
    for (op = 0; op < OP_COUNT; op++)
    {
        if (!selected[op])
            continue;
        for (t = 0; t < thread_count_count; t++)
        {
            int threads = thread_counts[t];
            double* s = samples[op][threads - 1];
            double median = median_of(s, runs), cpu = median_of(on_cpu[op][threads - 1], runs);
            printf("%-44s %7d %9.1f %9.1f %6.0f", op_labels[op], threads, median, s[0], cpu * 100);
            if (selected[OP_MALLOC])
            {
                printf(" %9.2f", op == OP_MALLOC ? 1.0 : median / median_of(samples[OP_MALLOC][threads - 1], runs));
            }
            printf("\n");
        }
    }

    /* The library's own accounting must agree with the pairs done, and nothing may be left. */
    if (!totals(&acquisitions_after, &releases_after, &current) || fhr_live_count(g_manager, &live) != FHR_OK)
    {
        fprintf(stderr, "FAILED: fhr_get_stats or fhr_live_count after the runs\n");
        failures++;
    }
    else
    {
        if (acquisitions_after - acquisitions_before != expected || releases_after - releases_before != expected)
        {
            fprintf(stderr, "FAILED: %lld acquisitions and %lld releases counted, %lld pairs done\n",
                    (long long)(acquisitions_after - acquisitions_before),
                    (long long)(releases_after - releases_before), (long long)expected);
            failures++;
        }
        if (current != 0 || live != 0)
        {
            fprintf(stderr, "FAILED: %lld bytes and %lld handles still live\n", (long long)current, (long long)live);
            failures++;
        }
    }
    status = fhr_manager_destroy(g_manager);
    if (status != FHR_OK)
    {
        fprintf(stderr, "FAILED: fhr_manager_destroy -> %s\n", fhr_status_string(status));
        failures++;
    }
    if (failures != 0)
    {
        fprintf(stderr, "fhr_bench: %ld failed calls or checks\n", failures);
        return 1;
    }
    printf("fhr_bench: every status OK, %lld library pairs counted, nothing left live\n", (long long)expected);
    return 0;
}
