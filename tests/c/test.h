/* A tiny test harness: CHECK records a failure and goes on; each test file
 * is one executable whose exit status ctest reads. */
#ifndef SSPX_TEST_H
#define SSPX_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_failures, t_checks;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        t_checks++;                                                                  \
        if (!(cond)) {                                                               \
            t_failures++;                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_ST(expr, want)                                                                       \
    do {                                                                                           \
        long t_got_ = (long)(expr), t_want_ = (long)(want);                                        \
        t_checks++;                                                                                \
        if (t_got_ != t_want_) {                                                                   \
            t_failures++;                                                                          \
            fprintf(stderr, "%s:%d: %s = 0x%08lx, want 0x%08lx (%s)\n", __FILE__, __LINE__, #expr, \
                    (unsigned long)(uint32_t)t_got_, (unsigned long)(uint32_t)t_want_,             \
                    sspx_last_error_string());                                                     \
        }                                                                                          \
    } while (0)

#define CHECK_MEM(a, b, n)                                                                  \
    do {                                                                                    \
        t_checks++;                                                                         \
        if (memcmp((a), (b), (n)) != 0) {                                                   \
            t_failures++;                                                                   \
            fprintf(stderr, "%s:%d: bytes differ: %s vs %s\n", __FILE__, __LINE__, #a, #b); \
            t_dump("got ", (const uint8_t *)(a), (n));                                      \
            t_dump("want", (const uint8_t *)(b), (n));                                      \
        }                                                                                   \
    } while (0)

static inline void t_dump(const char *label, const uint8_t *p, size_t n)
{
    fprintf(stderr, "  %s: ", label);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%02x", p[i]);
    fprintf(stderr, "\n");
}

/* hex string (spaces allowed) -> bytes; returns the length */
static inline size_t t_hex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *h; h++) {
        int v;
        if (*h >= '0' && *h <= '9')
            v = *h - '0';
        else if (*h >= 'a' && *h <= 'f')
            v = *h - 'a' + 10;
        else if (*h >= 'A' && *h <= 'F')
            v = *h - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            if (n < cap)
                out[n] = (uint8_t)(hi << 4 | v);
            n++;
            hi = -1;
        }
    }
    return n;
}

#define RUN(fn)                                                          \
    do {                                                                 \
        int before_ = t_failures;                                        \
        fn();                                                            \
        printf("%s %s\n", t_failures == before_ ? "ok  " : "FAIL", #fn); \
    } while (0)

static inline int t_done(void)
{
    printf("%d checks, %d failed\n", t_checks, t_failures);
    return t_failures ? 1 : 0;
}

#endif
