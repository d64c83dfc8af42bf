/*
 * The handle table. A handle is (dwLower = generation << 32 | slot + 1,
 * dwUpper = kind tag). A slot's generation changes each time it is freed,
 * so a stale or double-freed handle no longer matches; a forged one fails
 * the range, kind or generation check. Lookups take a reference under the
 * table lock, so an object outlives any call that found it even if another
 * thread deletes its handle meanwhile.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define KIND_TAG(kind) ((ULONG_PTR)0x53505800u | (ULONG_PTR)(kind)) /* "SPX" + kind */
#define MAX_SLOTS      (1u << 24)

typedef struct slot {
    uint32_t gen;
    int kind; /* 0 = free */
    void *obj;
    uint32_t next_free;
} slot;

static struct {
    pthread_mutex_t lock;
    slot *slots;
    uint32_t n, cap;
    uint32_t free_head; /* index + 1; 0 = none */
} T = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, 0};

static void obj_ref(int kind, void *obj)
{
    if (kind == SSPX_OBJ_CRED)
        sspx_cred_ref(obj);
    else if (kind == SSPX_OBJ_CTX)
        sspx_ctx_ref(obj);
    else
        atomic_fetch_add(&((sspx_token *)obj)->refs, 1);
}

sspx_status sspx_handle_new(int kind, void *obj, SecHandle *out)
{
    uint32_t i;
    pthread_mutex_lock(&T.lock);
    if (T.free_head) {
        i = T.free_head - 1;
        T.free_head = T.slots[i].next_free;
    } else {
        if (T.n == T.cap) {
            uint32_t nc = T.cap ? T.cap * 2 : 64;
            slot *ns;
            if (nc > MAX_SLOTS || !(ns = realloc(T.slots, nc * sizeof(*ns)))) {
                pthread_mutex_unlock(&T.lock);
                BAIL(SSPX_ERR_NO_MEMORY);
            }
            memset(ns + T.cap, 0, (nc - T.cap) * sizeof(*ns));
            T.slots = ns;
            T.cap = nc;
        }
        i = T.n++;
    }
    T.slots[i].kind = kind;
    T.slots[i].obj = obj;
    T.slots[i].next_free = 0;
    out->dwLower = (ULONG_PTR)((uint64_t)T.slots[i].gen << 32 | (i + 1));
    out->dwUpper = KIND_TAG(kind);
    pthread_mutex_unlock(&T.lock);
    return SEC_E_OK;
}

/* Find the slot of a live handle of `kind`; call with the lock held. */
static slot *find(const SecHandle *h, int kind, enum sspx_err *err)
{
    uint64_t lo;
    uint32_t i, gen;
    *err = SSPX_ERR_INVALID_HANDLE;
    if (!h)
        return NULL;
    lo = (uint64_t)h->dwLower;
    i = (uint32_t)lo;
    gen = (uint32_t)(lo >> 32);
    if (i == 0 || i > T.n)
        return NULL;
    slot *s = &T.slots[i - 1];
    if (s->kind == 0 || s->gen != gen)
        return NULL;
    if (s->kind != kind || h->dwUpper != KIND_TAG(kind)) {
        *err = SSPX_ERR_WRONG_HANDLE_KIND;
        return NULL;
    }
    return s;
}

/* Look up a live handle; with `release`, also retire it (the generation
 * moves on and the slot is freed), handing the table's reference over.
 * Without, take a new reference for the caller. */
static sspx_status lookup(const SecHandle *h, int kind, void **obj, bool release)
{
    enum sspx_err err;
    pthread_mutex_lock(&T.lock);
    slot *s = find(h, kind, &err);
    if (!s) {
        pthread_mutex_unlock(&T.lock);
        return SSPX_ERROR(err);
    }
    *obj = s->obj;
    if (release) {
        s->obj = NULL;
        s->kind = 0;
        s->gen++;
        s->next_free = T.free_head;
        T.free_head = (uint32_t)(s - T.slots) + 1;
    } else {
        obj_ref(kind, s->obj);
    }
    pthread_mutex_unlock(&T.lock);
    return SEC_E_OK;
}

sspx_status sspx_handle_get(const SecHandle *h, int kind, void **obj)
{
    return lookup(h, kind, obj, false);
}

sspx_status sspx_handle_release(const SecHandle *h, int kind, void **obj)
{
    return lookup(h, kind, obj, true);
}
