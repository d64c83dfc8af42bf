/*
 * One table of every error sspx can report (errors.def), the result type
 * and the guard macros. A function that can fail returns sspx_status and the
 * compiler refuses to let the caller drop it.
 */
#ifndef SSPX_CORE_ERROR_H
#define SSPX_CORE_ERROR_H

#include "sspx/sspi.h"

#define SSPX_WUR      __attribute__((warn_unused_result))
#define SSPX_INTERNAL __attribute__((visibility("hidden")))

typedef SECURITY_STATUS sspx_status;

enum sspx_err {
    SSPX_ERR_NONE = 0,
#define SSPX_E(name, status, msg) name,
#include "errors.def"
#undef SSPX_E
    SSPX_ERR_COUNT
};

/* Record `err` as this thread's last error, at file:line; returns its status. */
SSPX_INTERNAL sspx_status sspx_err_set(enum sspx_err err, const char *file, int line);
SSPX_INTERNAL SECURITY_STATUS sspx_err_status(enum sspx_err err);
/* Attach what a library below said to the error just set (cleared by the
 * next sspx_err_set). */
SSPX_INTERNAL void sspx_err_detail(const char *text);

#define SSPX_ERROR(err) sspx_err_set((err), __FILE__, __LINE__)

/* Propagate a failure (negative status) from a callee. */
#define GUARD(expr)                     \
    do {                                \
        sspx_status guard_st_ = (expr); \
        if (guard_st_ < 0)              \
            return guard_st_;           \
    } while (0)

/* Same, but jump to `out:` with st set (single-exit functions). */
#define GUARD_GOTO(expr) \
    do {                 \
        st = (expr);     \
        if (st < 0)      \
            goto out;    \
    } while (0)

/* Fail with `err` unless cond holds. */
#define ENSURE(cond, err)           \
    do {                            \
        if (!(cond))                \
            return SSPX_ERROR(err); \
    } while (0)

#define ENSURE_GOTO(cond, err)    \
    do {                          \
        if (!(cond)) {            \
            st = SSPX_ERROR(err); \
            goto out;             \
        }                         \
    } while (0)

#define BAIL(err) return SSPX_ERROR(err)

#define BAIL_GOTO(err)        \
    do {                      \
        st = SSPX_ERROR(err); \
        goto out;             \
    } while (0)

#endif
