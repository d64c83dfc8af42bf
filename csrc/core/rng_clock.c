/* The random source and the clock, replaceable by tests (sspx.h). */
#include <stdatomic.h>
#include <time.h>

#include "core.h"
#include "crypto/crypto.h"

typedef struct rng_hook {
    sspx_rng_fn fn;
    void *ud;
} rng_hook;
typedef struct clock_hook {
    sspx_clock_fn fn;
    void *ud;
} clock_hook;

/* Set once by a test before use; read on every call. */
static rng_hook g_rng;
static clock_hook g_clock;
static pthread_mutex_t g_hook_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int g_hooked;

void sspx_test_set_rng(sspx_rng_fn rng, void *user_data)
{
    pthread_mutex_lock(&g_hook_lock);
    g_rng.fn = rng;
    g_rng.ud = user_data;
    atomic_store(&g_hooked, g_rng.fn || g_clock.fn);
    pthread_mutex_unlock(&g_hook_lock);
}

void sspx_test_set_clock(sspx_clock_fn clock, void *user_data)
{
    pthread_mutex_lock(&g_hook_lock);
    g_clock.fn = clock;
    g_clock.ud = user_data;
    atomic_store(&g_hooked, g_rng.fn || g_clock.fn);
    pthread_mutex_unlock(&g_hook_lock);
}

sspx_status sspx_random(uint8_t *out, size_t len)
{
    if (atomic_load_explicit(&g_hooked, memory_order_acquire)) {
        rng_hook h;
        pthread_mutex_lock(&g_hook_lock);
        h = g_rng;
        pthread_mutex_unlock(&g_hook_lock);
        if (h.fn) {
            ENSURE(h.fn(h.ud, out, len) == 0, SSPX_ERR_RNG);
            return SEC_E_OK;
        }
    }
    return sspx_crypto_random(out, len);
}

/* Seconds between 1601-01-01 and 1970-01-01. */
#define EPOCH_DIFF 11644473600ULL

uint64_t sspx_now_filetime(void)
{
    struct timespec ts;
    if (atomic_load_explicit(&g_hooked, memory_order_acquire)) {
        clock_hook h;
        pthread_mutex_lock(&g_hook_lock);
        h = g_clock;
        pthread_mutex_unlock(&g_hook_lock);
        if (h.fn)
            return h.fn(h.ud);
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_sec + EPOCH_DIFF) * SSPX_FILETIME_SECOND + (uint64_t)ts.tv_nsec / 100;
}
