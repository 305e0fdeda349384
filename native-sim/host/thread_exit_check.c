/*
 * fhr_thread_exit_check — threads that come, use the library and exit must leave nothing behind.
 *
 *   fhr_thread_exit_check THREADS
 *
 * Starts THREADS threads one after another. Each acquires and releases pooled and named resources 100 times, then
 * waits once in FHR_MODE_TIMEOUT on a full budget (so the runtime's wait machinery is used), and exits. Then the manager
 * is destroyed. Run under valgrind with two different thread counts: the memory still in use at exit must not grow with
 * the number of threads (CI compares the two runs; see .ci/run).
 */
#include "flight_hal_resources.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static fhr_manager* g_manager;
static int g_failures;

static void* worker(void* argument)
{
    int i;
    fhr_handle handle;
    (void)argument;
    for (i = 0; i < 100; i++)
    {
        if (fhr_acquire(g_manager, FHR_TYPE_MEMORY, 64, 0, 0, FHR_MODE_NON_BLOCKING, 0, NULL, &handle) != FHR_OK
            || fhr_release(g_manager, handle) != FHR_OK
            || fhr_acquire(g_manager, FHR_TYPE_MEMORY, 2000, 0, 0, FHR_MODE_NON_BLOCKING, 0, "named", &handle) != FHR_OK
            || fhr_release(g_manager, handle) != FHR_OK)
        {
            g_failures++;
        }
    }

    if (fhr_acquire(g_manager, FHR_TYPE_CUSTOM, 1024, 0, 0, FHR_MODE_TIMEOUT, 5, NULL, &handle) != FHR_TIMEOUT)
    {
        g_failures++; /* the budget is full: this must wait, then time out */
    }

    return NULL;
}

int main(int argc, char** argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 8;
    int i;
    fhr_handle filler;
    if (threads < 1 || fhr_manager_create("dreamcast", &g_manager) != FHR_OK
        || fhr_set_budget(g_manager, FHR_TYPE_CUSTOM, 4096, 0) != FHR_OK
        || fhr_acquire(g_manager, FHR_TYPE_CUSTOM, 4096, 0, 0, FHR_MODE_NON_BLOCKING, 0, NULL, &filler) != FHR_OK)
    {
        fprintf(stderr, "fhr_thread_exit_check: setup failed\n");
        return 2;
    }

    for (i = 0; i < threads; i++)
    {
        pthread_t thread;
        if (pthread_create(&thread, NULL, worker, NULL) != 0 || pthread_join(thread, NULL) != 0)
        {
            g_failures++;
        }
    }

    if (fhr_manager_destroy(g_manager) != FHR_OK)
    {
        g_failures++;
    }

    printf("fhr_thread_exit_check: %d threads came and went: %s\n", threads, g_failures == 0 ? "ok" : "FAILED");
    return g_failures == 0 ? 0 : 1;
}
