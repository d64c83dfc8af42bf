/*
 * Shared by the Kerberos and Negotiate accept targets (fuzz_krb_accept.c,
 * fuzz_nego_accept.c) and the seed generator's client (gen_krb_corpus.c):
 * the committed Kerberos fixtures and Heimdal's clock.
 *
 * Fixtures, in tests/fuzz/krb/ (SSPX_FUZZ_KRB_DIR in the environment points
 * elsewhere; make_krb_corpus.py does that while it makes the seeds):
 *   service.keytab  the HTTP/localhost@TEST.LOCAL keys of the throwaway
 *                   realm the seeds were made in (random keys of a test-only
 *                   realm, no secret)
 *   krb5.conf       the library configuration the targets run with
 *                   (KRB5_CONFIG; no KDC is ever contacted)
 *   seed_time       Unix time the seeds' authenticators were made around
 *
 * Heimdal's clock: an acceptor refuses an authenticator more than the clock
 * skew (300 s) away from its own time, and a ticket past its end time. The
 * committed AP-REQs would then stop verifying minutes after they were made,
 * and every mutation of them would stop at the same early check. The targets
 * pin the time of Heimdal's GSS krb5 mechanism (gsskrb5_set_time_offset) to
 * seed_time, so the corpus keeps reaching the code after the decryption for
 * as long as the keys are in the keytab. sspx's own clock (the replay cache,
 * context expiry) is the one of fuzz_common.h, separately.
 */
#ifndef SSPX_FUZZ_KRB_COMMON_H
#define SSPX_FUZZ_KRB_COMMON_H

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <time.h>

#include "fuzz_common.h"

#ifndef SSPX_FUZZ_KRB_DIR
#error "SSPX_FUZZ_KRB_DIR (the fixture directory) is set by tests/fuzz/CMakeLists.txt"
#endif

#define FZK_PRINCIPAL "HTTP/localhost@TEST.LOCAL"

static char fzk_dir_buf[1024] FZ_UNUSED;
static long long fzk_seed_time FZ_UNUSED;
static int fzk_offset_set FZ_UNUSED;
static long long fzk_offset_target FZ_UNUSED;
static time_t fzk_offset_at FZ_UNUSED;

static inline const char *fzk_dir(void)
{
    const char *d = getenv("SSPX_FUZZ_KRB_DIR");
    return d && *d ? d : SSPX_FUZZ_KRB_DIR;
}

/* dir/name into fzk_dir_buf, with an optional prefix ("FILE:") */
static inline const char *fzk_path(const char *prefix, const char *name)
{
    int n = snprintf(fzk_dir_buf, sizeof(fzk_dir_buf), "%s%s/%s", prefix, fzk_dir(), name);
    FZ_CHECK(n > 0 && (size_t)n < sizeof(fzk_dir_buf));
    return fzk_dir_buf;
}

/*
 * Heimdal's time = seed_time + `late` seconds. Called at the start of every
 * input (cheap: Heimdal is only told again when the wanted offset changes,
 * i.e. about once a second), so a long campaign does not drift out of the
 * skew.
 */
static inline void fzk_pin_clock(long long late)
{
    time_t now = time(NULL);
    long long want = fzk_seed_time + late;
    if (fzk_offset_set && want == fzk_offset_target && now == fzk_offset_at)
        return;
    FZ_CHECK(gsskrb5_set_time_offset((int)(want - (long long)now)) == GSS_S_COMPLETE);
    fzk_offset_set = 1;
    fzk_offset_target = want;
    fzk_offset_at = now;
}

/* Before any krb5 context exists: our krb5.conf, the seed time, the clock. */
static inline void fzk_init(void)
{
    char line[64] = "";
    FILE *f;
    FZ_CHECK(setenv("KRB5_CONFIG", fzk_path("", "krb5.conf"), 1) == 0);
    unsetenv("KRB5_KTNAME");
    unsetenv("KRB5CCNAME");
    f = fopen(fzk_path("", "seed_time"), "r");
    if (!f) {
        fprintf(stderr, "fuzz: cannot read %s (SSPX_FUZZ_KRB_DIR)\n", fzk_dir_buf);
        abort();
    }
    FZ_CHECK(fgets(line, sizeof(line), f) != NULL);
    fclose(f);
    fzk_seed_time = strtoll(line, NULL, 10);
    FZ_CHECK(fzk_seed_time > 1600000000LL);
    fzk_pin_clock(0);
}

/* The keytab option of every inbound credential ("FILE:dir/service.keytab"). */
static inline void fzk_set_keytab(sspx_config *cfg)
{
    FZ_MUST(sspx_config_set(cfg, "keytab", fzk_path("FILE:", "service.keytab")));
}

#endif
