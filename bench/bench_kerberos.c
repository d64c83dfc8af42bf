/*
 * bench_kerberos: server-side cost of the Kerberos and Negotiate packages
 * against Heimdal's own GSS-API acceptor on the same tokens, and the rate of
 * full in-process Negotiate (Kerberos, mutual) handshakes. Starts a
 * throwaway Heimdal realm (tests/realm/realm.py) itself. See bench/README.md.
 *
 * Usage: bench_kerberos SOURCE_DIR [--rounds R] [--tokens N] [--seconds S]
 *                                  [--profile N]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <gssapi/gssapi_spnego.h>
#include <krb5.h>
#include <openssl/crypto.h>

#include "packages/kerberos/krb_rcache.h"
#include "sspx/sspi.h"
#include "sspx/sspx.h"
#include "wire/spnego_msg.h"

/* noipa: no inlining and no identical-code folding (run_sspx_krb_accepts and
 * run_sspx_nego_accepts have the same body but must stay two functions for
 * callgrind's --toggle-collect) */
#define NOINLINE __attribute__((noipa))

#define GSS_TARGET "HTTP@localhost" /* GSS host-based form of realm_fixture.h's TARGET */
#define MAX_ROUNDS 21
#define TOK_MAX    8192

/* the flags of every client: integrity + confidentiality; mutual auth only
 * in the full handshakes */
#define ISC_FLAGS (ISC_REQ_INTEGRITY | ISC_REQ_CONFIDENTIALITY)
#define ASC_FLAGS (ASC_REQ_INTEGRITY | ASC_REQ_CONFIDENTIALITY)
#define GSS_FLAGS (GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG)

static struct {
    int rounds;
    long tokens;    /* distinct AP-REQs / NegTokenInits per set */
    double seconds; /* target time of one handshake measurement */
    long profile;   /* --profile N: N tokens through each accept loop once, then exit */
    long chunk;     /* tokens per interleaved chunk of the accept passes */
} opt = {5, 4000, 0.25, 0, 200};

/* ------------------------------------------------------------------ timing */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct stat3 {
    double med, min, max;
} stat3;

static stat3 stats(const double *v, int n)
{
    double s[MAX_ROUNDS];
    stat3 r;
    memcpy(s, v, (size_t)n * sizeof(double));
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    r.med = (n % 2) ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    r.min = s[0];
    r.max = s[n - 1];
    return r;
}

/* ------------------------------------------------------------------ realm */

/* the C tests' realm fixture: realm.py as a child, its env set, stopped at exit */
#define REALM_TMP_PREFIX "/tmp/sspx-bench-krb-XXXXXX"
#include "realm_fixture.h"

/* -------------------------------------------------------------- GSS bits */

/* GSS_C_INQ_SSPI_SESSION_KEY (1.2.840.113554.1.2.2.5.5), not exported by
 * Heimdal: spelled out as in krb_gss.c */
static gss_OID_desc inq_sspi_session_key = {11,
                                            (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x05\x05"};

static void gss_print_err(const char *what, OM_uint32 maj, OM_uint32 min, gss_OID mech)
{
    OM_uint32 m2, mctx = 0;
    gss_buffer_desc b = GSS_C_EMPTY_BUFFER;
    fprintf(stderr, "%s: major 0x%08x minor %d", what, (unsigned)maj, (int)min);
    if (gss_display_status(&m2, maj, GSS_C_GSS_CODE, GSS_C_NO_OID, &mctx, &b) == GSS_S_COMPLETE) {
        fprintf(stderr, ": %.*s", (int)b.length, (const char *)b.value);
        gss_release_buffer(&m2, &b);
    }
    mctx = 0;
    if (min && gss_display_status(&m2, min, GSS_C_MECH_CODE, mech, &mctx, &b) == GSS_S_COMPLETE) {
        fprintf(stderr, "; %.*s", (int)b.length, (const char *)b.value);
        gss_release_buffer(&m2, &b);
    }
    fprintf(stderr, "\n");
}

static gss_name_t g_target = GSS_C_NO_NAME;

/* The acceptor credential Heimdal-alone uses: the same keytab, imported the
 * way the Kerberos package imports it (gss_krb5_import_cred). */
static int heimdal_acceptor(gss_cred_id_t *out)
{
    krb5_context k;
    krb5_keytab kt;
    OM_uint32 maj, min;
    if (krb5_init_context(&k) != 0)
        return -1;
    if (krb5_kt_resolve(k, keytab, &kt) != 0) {
        krb5_free_context(k);
        return -1;
    }
    maj = gss_krb5_import_cred(&min, NULL, NULL, kt, out);
    krb5_kt_close(k, kt);
    krb5_free_context(k);
    if (GSS_ERROR(maj)) {
        gss_print_err("gss_krb5_import_cred(keytab)", maj, min, GSS_KRB5_MECHANISM);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- token sets */

typedef struct tokset {
    uint8_t *buf; /* all tokens, back to back */
    size_t *off, *len;
    long n;
} tokset;

static void tokset_free(tokset *t)
{
    free(t->buf);
    free(t->off);
    free(t->len);
    memset(t, 0, sizeof(*t));
}

static int tokset_copy(const tokset *src, tokset *dst)
{
    size_t total = src->n ? src->off[src->n - 1] + src->len[src->n - 1] : 0;
    dst->n = src->n;
    dst->buf = malloc(total ? total : 1);
    dst->off = malloc((size_t)src->n * sizeof(size_t));
    dst->len = malloc((size_t)src->n * sizeof(size_t));
    if (!dst->buf || !dst->off || !dst->len)
        return -1;
    memcpy(dst->buf, src->buf, total);
    memcpy(dst->off, src->off, (size_t)src->n * sizeof(size_t));
    memcpy(dst->len, src->len, (size_t)src->n * sizeof(size_t));
    return 0;
}

/* N first tokens of Heimdal's initiator for `mech` (krb5: an AP-REQ, no
 * mutual auth; SPNEGO: a NegTokenInit with the optimistic AP-REQ), each from
 * its own context. The service ticket comes from alice's ccache. */
static int make_tokens(gss_OID mech, long n, tokset *t)
{
    size_t cap = (size_t)n * 1024, used = 0;
    memset(t, 0, sizeof(*t));
    t->buf = malloc(cap);
    t->off = malloc((size_t)n * sizeof(size_t));
    t->len = malloc((size_t)n * sizeof(size_t));
    if (!t->buf || !t->off || !t->len)
        return -1;
    for (long i = 0; i < n; i++) {
        gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
        gss_buffer_desc ob = GSS_C_EMPTY_BUFFER;
        OM_uint32 maj, min;
        maj =
            gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &ctx, g_target, mech, GSS_FLAGS, 0,
                                 GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, NULL, &ob, NULL, NULL);
        if (GSS_ERROR(maj) || ob.length == 0) {
            gss_print_err("gss_init_sec_context (token generation)", maj, min, mech);
            return -1;
        }
        if (used + ob.length > cap) {
            uint8_t *nb;
            cap = (cap + ob.length) * 2;
            nb = realloc(t->buf, cap);
            if (!nb)
                return -1;
            t->buf = nb;
        }
        memcpy(t->buf + used, ob.value, ob.length);
        t->off[i] = used;
        t->len[i] = ob.length;
        used += ob.length;
        t->n = i + 1;
        gss_release_buffer(&min, &ob);
        gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
    }
    return 0;
}

/* ------------------------------------------------------- accept loops */

static SECURITY_STATUS g_fail_st;
static long g_fail_i;
static OM_uint32 g_fail_maj, g_fail_min;

/* sspx: AcceptSecurityContext on a fresh context per token, then
 * DeleteSecurityContext; every token must give SEC_E_OK. */
static inline int sspx_accepts(CredHandle *cred, const tokset *t, long from, long to)
{
    static uint8_t out[TOK_MAX];
    for (long i = from; i < to; i++) {
        CtxtHandle ctx;
        SecBuffer ib = {(ULONG)t->len[i], SECBUFFER_TOKEN, t->buf + t->off[i]};
        SecBuffer ob = {sizeof(out), SECBUFFER_TOKEN, out};
        SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib}, od = {SECBUFFER_VERSION, 1, &ob};
        ULONG attr = 0;
        TimeStamp exp;
        SECURITY_STATUS st = AcceptSecurityContext(cred, NULL, &id, ASC_FLAGS, SECURITY_NATIVE_DREP,
                                                   &ctx, &od, &attr, &exp);
        if (st != SEC_E_OK) {
            if (st >= 0)
                DeleteSecurityContext(&ctx);
            g_fail_st = st;
            g_fail_i = i;
            return -1;
        }
        DeleteSecurityContext(&ctx);
    }
    return 0;
}

/* Heimdal alone: gss_accept_sec_context on a fresh context per token, then
 * gss_delete_sec_context. `more`: also what the Kerberos package asks of GSS
 * for every accept (source name + gss_display_name, ret_flags, time_rec, the
 * session key by OID), to split our overhead into "GSS calls the package
 * needs" and "sspx's own code". */
static inline int heimdal_accepts(gss_cred_id_t cred, const tokset *t, long from, long to, int more)
{
    for (long i = from; i < to; i++) {
        gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
        gss_buffer_desc in = {t->len[i], t->buf + t->off[i]}, ob = GSS_C_EMPTY_BUFFER;
        gss_name_t src = GSS_C_NO_NAME;
        OM_uint32 maj, min, flags = 0, time_rec = 0;
        maj = gss_accept_sec_context(&min, &ctx, cred, &in, GSS_C_NO_CHANNEL_BINDINGS,
                                     more ? &src : NULL, NULL, &ob, more ? &flags : NULL,
                                     more ? &time_rec : NULL, NULL);
        if (maj != GSS_S_COMPLETE) {
            g_fail_maj = maj;
            g_fail_min = min;
            g_fail_i = i;
            gss_release_buffer(&min, &ob);
            if (ctx != GSS_C_NO_CONTEXT)
                gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
            return -1;
        }
        gss_release_buffer(&min, &ob);
        if (more) {
            gss_buffer_desc nb = GSS_C_EMPTY_BUFFER;
            gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
            if (gss_display_name(&min, src, &nb, NULL) != GSS_S_COMPLETE)
                return -1;
            gss_release_buffer(&min, &nb);
            gss_release_name(&min, &src);
            if (gss_inquire_sec_context_by_oid(&min, ctx, &inq_sspi_session_key, &set) !=
                GSS_S_COMPLETE)
                return -1;
            gss_release_buffer_set(&min, &set);
        }
        gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
    }
    return 0;
}

/* one wrapper per measured loop, for callgrind --toggle-collect */
static NOINLINE int run_sspx_krb_accepts(CredHandle *cred, const tokset *t)
{
    return sspx_accepts(cred, t, 0, t->n);
}
static NOINLINE int run_sspx_nego_accepts(CredHandle *cred, const tokset *t)
{
    return sspx_accepts(cred, t, 0, t->n);
}
static NOINLINE int run_heimdal_krb_accepts(gss_cred_id_t cred, const tokset *t)
{
    return heimdal_accepts(cred, t, 0, t->n, 0);
}
static NOINLINE int run_heimdal_krb_accepts_more(gss_cred_id_t cred, const tokset *t)
{
    return heimdal_accepts(cred, t, 0, t->n, 1);
}
static NOINLINE int run_heimdal_spnego_accepts(gss_cred_id_t cred, const tokset *t)
{
    return heimdal_accepts(cred, t, 0, t->n, 0);
}

/* a range of a token set, for the interleaved timed passes */
static NOINLINE int run_sspx_range(CredHandle *cred, const tokset *t, long from, long to)
{
    return sspx_accepts(cred, t, from, to);
}
static NOINLINE int run_heimdal_range(gss_cred_id_t cred, const tokset *t, long from, long to,
                                      int more)
{
    return heimdal_accepts(cred, t, from, to, more);
}

/* the replay cache's own work, alone: the key (DER walk + SHA-256 of the
 * authenticator's cipher) and an insert into a fresh in-memory store */
static NOINLINE int run_replay_key(const tokset *t)
{
    uint8_t key[KRB_RC_KEY_LEN];
    for (long i = 0; i < t->n; i++)
        if (krb_apreq_replay_key(t->buf + t->off[i], t->len[i], key) != SEC_E_OK)
            return -1;
    return 0;
}

static uint8_t (*g_keys)[KRB_RC_KEY_LEN];

static NOINLINE int run_rcache_insert(krb_rcache *rc, long n)
{
    uint64_t now = 133000000000000000ull; /* a FILETIME; the store only compares */
    for (long i = 0; i < n; i++)
        if (rc->check_and_insert(rc, g_keys[i], now, now + 300ull * 10000000ull) != SEC_E_OK)
            return -1;
    return 0;
}

/* ---------------------------------------------------------- sspx creds */

static SECURITY_STATUS sspx_server_cred(const char *pkg, CredHandle *h)
{
    sspx_config *cfg = sspx_config_new();
    SECURITY_STATUS st;
    if (!cfg)
        return SEC_E_INSUFFICIENT_MEMORY;
    st = sspx_config_set(cfg, "keytab", keytab);
    /* each measured credential with a replay cache of its own: the Kerberos
     * and the Negotiate variant accept the same tokens (the default, one
     * cache shared by the credentials of a keytab, would call that a replay;
     * the work per accept is the same) */
    if (st == SEC_E_OK)
        st = sspx_config_set(cfg, "replay_cache", "credential");
    if (st == SEC_E_OK)
        st = AcquireCredentialsHandleA(NULL, (SEC_CHAR *)pkg, SECPKG_CRED_INBOUND, NULL, cfg, NULL,
                                       NULL, h, NULL);
    sspx_config_free(&cfg);
    return st;
}

static SECURITY_STATUS sspx_client_cred(const char *pkg, CredHandle *h)
{
    return AcquireCredentialsHandleA(NULL, (SEC_CHAR *)pkg, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL,
                                     NULL, h, NULL);
}

/* --------------------------------------------------------- handshakes */

typedef struct hs_arg {
    const char *pkg; /* sspx: "Negotiate" / "Kerberos"; NULL: Heimdal */
    gss_OID mech;    /* Heimdal: krb5 or SPNEGO */
    CredHandle ccred, scred;
    gss_cred_id_t gacc;
    int legs; /* tokens exchanged in the last handshake */
    const char *fail;
    long status;
} hs_arg;

/* sspx: ISC -> ASC -> ISC (mutual) until both are done; both contexts deleted */
static inline int sspx_handshake(hs_arg *a)
{
    static uint8_t t1[TOK_MAX], t2[TOK_MAX], t3[TOK_MAX];
    CtxtHandle cctx, sctx;
    ULONG cattr, sattr;
    TimeStamp exp;
    SecBuffer ob = {sizeof(t1), SECBUFFER_TOKEN, t1}, ib;
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob}, id = {SECBUFFER_VERSION, 1, &ib};
    SECURITY_STATUS st;
    const ULONG creq = ISC_FLAGS | ISC_REQ_MUTUAL_AUTH, sreq = ASC_FLAGS | ASC_REQ_MUTUAL_AUTH;

    st = InitializeSecurityContextA(&a->ccred, NULL, (SEC_CHAR *)TARGET, creq, 0,
                                    SECURITY_NATIVE_DREP, NULL, 0, &cctx, &od, &cattr, &exp);
    if (st != SEC_I_CONTINUE_NEEDED) {
        a->fail = "InitializeSecurityContext #1";
        a->status = st;
        if (st == SEC_E_OK)
            DeleteSecurityContext(&cctx);
        return -1;
    }
    ib = (SecBuffer){ob.cbBuffer, SECBUFFER_TOKEN, t1};
    ob = (SecBuffer){sizeof(t2), SECBUFFER_TOKEN, t2};
    st = AcceptSecurityContext(&a->scred, NULL, &id, sreq, SECURITY_NATIVE_DREP, &sctx, &od, &sattr,
                               &exp);
    if (st != SEC_E_OK) {
        a->fail = "AcceptSecurityContext";
        a->status = st;
        if (st >= 0)
            DeleteSecurityContext(&sctx);
        DeleteSecurityContext(&cctx);
        return -1;
    }
    ib = (SecBuffer){ob.cbBuffer, SECBUFFER_TOKEN, t2};
    ob = (SecBuffer){sizeof(t3), SECBUFFER_TOKEN, t3};
    st = InitializeSecurityContextA(&a->ccred, &cctx, (SEC_CHAR *)TARGET, creq, 0,
                                    SECURITY_NATIVE_DREP, &id, 0, &cctx, &od, &cattr, &exp);
    DeleteSecurityContext(&sctx);
    DeleteSecurityContext(&cctx);
    if (st != SEC_E_OK) {
        a->fail = "InitializeSecurityContext #2";
        a->status = st;
        return -1;
    }
    a->legs = 2;
    return 0;
}

/* Heimdal: init/accept alternately until both report COMPLETE (at most 6
 * legs: SPNEGO may add a MIC exchange) */
static inline int heimdal_handshake(hs_arg *a)
{
    gss_ctx_id_t cctx = GSS_C_NO_CONTEXT, sctx = GSS_C_NO_CONTEXT;
    gss_buffer_desc tok = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 cmaj = GSS_S_CONTINUE_NEEDED, smaj = GSS_S_CONTINUE_NEEDED, min;
    int legs = 0, rc = -1;
    for (int step = 0; step < 7; step++) {
        if (step % 2 == 0) {
            if (cmaj == GSS_S_COMPLETE)
                break;
            cmaj = gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &cctx, g_target, a->mech,
                                        GSS_FLAGS | GSS_C_MUTUAL_FLAG, 0, GSS_C_NO_CHANNEL_BINDINGS,
                                        step ? &tok : GSS_C_NO_BUFFER, NULL, &out, NULL, NULL);
            if (GSS_ERROR(cmaj)) {
                a->fail = "gss_init_sec_context";
                a->status = (long)cmaj;
                goto done;
            }
        } else {
            if (smaj == GSS_S_COMPLETE && out.length == 0)
                break;
            smaj = gss_accept_sec_context(&min, &sctx, a->gacc, &tok, GSS_C_NO_CHANNEL_BINDINGS,
                                          NULL, NULL, &out, NULL, NULL, NULL);
            if (GSS_ERROR(smaj)) {
                a->fail = "gss_accept_sec_context";
                a->status = (long)smaj;
                goto done;
            }
        }
        gss_release_buffer(&min, &tok);
        tok = out;
        out = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
        if (tok.length)
            legs++;
        if (tok.length == 0 && cmaj == GSS_S_COMPLETE && smaj == GSS_S_COMPLETE)
            break;
    }
    if (cmaj == GSS_S_COMPLETE && smaj == GSS_S_COMPLETE && tok.length == 0) {
        a->legs = legs;
        rc = 0;
    } else if (!a->fail) {
        a->fail = "did not complete";
    }
done:
    gss_release_buffer(&min, &tok);
    gss_release_buffer(&min, &out);
    if (cctx != GSS_C_NO_CONTEXT)
        gss_delete_sec_context(&min, &cctx, GSS_C_NO_BUFFER);
    if (sctx != GSS_C_NO_CONTEXT)
        gss_delete_sec_context(&min, &sctx, GSS_C_NO_BUFFER);
    return rc;
}

static NOINLINE int run_handshakes(hs_arg *a, long n)
{
    for (long i = 0; i < n; i++)
        if ((a->pkg ? sspx_handshake(a) : heimdal_handshake(a)) < 0)
            return -1;
    return 0;
}

static long calibrate_hs(hs_arg *a)
{
    long n = 4;
    for (;;) {
        uint64_t t0 = now_ns();
        if (run_handshakes(a, n) < 0)
            return -1;
        double el = (double)(now_ns() - t0) / 1e9;
        if (el >= 0.05) {
            double want = opt.seconds / el * (double)n;
            return want < 1 ? 1 : (long)want;
        }
        n *= 4;
    }
}

/* ------------------------------------------------------------ printing */

static void cpu_model(char *out, size_t cap)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    snprintf(out, cap, "unknown");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                p[strcspn(p, "\n")] = 0;
                snprintf(out, cap, "%s", p);
            }
            break;
        }
    }
    fclose(f);
}

static void loadavg(char *out, size_t cap)
{
    FILE *f = fopen("/proc/loadavg", "r");
    snprintf(out, cap, "?");
    if (!f)
        return;
    if (fgets(out, (int)cap, f))
        out[strcspn(out, "\n")] = 0;
    fclose(f);
}

static const char *pass(int ok)
{
    return ok ? "PASS" : "MISS";
}

/* dotted form of an OID's contents */
static void oid_str(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    unsigned long v = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && o + 24 < cap; i++) {
        v = (v << 7) | (p[i] & 0x7f);
        if (p[i] & 0x80)
            continue;
        if (o == 0)
            o += (size_t)snprintf(out, cap, "%lu.%lu", v < 80 ? v / 40 : 2,
                                  v < 80 ? v % 40 : v - 80);
        else
            o += (size_t)snprintf(out + o, cap - o, ".%lu", v);
        v = 0;
    }
}

static const char *oid_name(const char *dotted)
{
    if (!strcmp(dotted, "1.2.840.113554.1.2.2"))
        return "krb5";
    if (!strcmp(dotted, "1.2.840.48018.1.2.2"))
        return "MS krb5";
    if (!strcmp(dotted, "1.3.6.1.4.1.311.2.2.10"))
        return "NTLMSSP";
    return "?";
}

static void describe_negtokeninit(const uint8_t *tok, size_t len)
{
    spnego_init ti;
    char s[128];
    if (spnego_decode_init(tok, len, &ti) != SEC_E_OK) {
        printf("    (not decodable as a NegTokenInit)\n");
        return;
    }
    printf("    Heimdal's NegTokenInit: %zu B, mechTypes [", len);
    for (size_t i = 0; i < ti.nmechs; i++) {
        oid_str(ti.mechs[i].p, ti.mechs[i].len, s, sizeof(s));
        printf("%s%s (%s)", i ? ", " : "", s, oid_name(s));
    }
    printf("], mechToken %zu B%s%s\n", ti.mech_token.present ? ti.mech_token.len : 0,
           ti.has_req_flags ? ", reqFlags" : "", ti.mech_list_mic.present ? ", mechListMIC" : "");
}

typedef struct series {
    double v[MAX_ROUNDS];
} series;

static void row(const char *name, const series *s, int R, long n, const char *note)
{
    stat3 a = stats(s->v, R);
    printf("  %-46s %8.2f [%6.2f..%6.2f] %10.0f %7ld  %s\n", name, a.med / 1e3, a.min / 1e3,
           a.max / 1e3, 1e9 / a.med, n, note ? note : "");
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s SOURCE_DIR [--rounds R] [--tokens N] [--seconds S] [--profile N]\n"
            "  SOURCE_DIR    the sspx source tree (for tests/realm/realm.py)\n"
            "  --rounds R    rounds of every measurement; the median is reported (default 5)\n"
            "  --tokens N    distinct tokens per accept measurement (default 4000)\n"
            "  --seconds S   target duration of one handshake measurement (default 0.25)\n"
            "  --chunk C     tokens per interleaved chunk of the accept passes (default 200;\n"
            "                = --tokens: whole passes one after the other)\n"
            "  --profile N   N tokens once through each accept loop (run_sspx_krb_accepts,\n"
            "                run_heimdal_krb_accepts, run_heimdal_krb_accepts_more,\n"
            "                run_sspx_nego_accepts,\n"
            "                run_heimdal_spnego_accepts) and exit; for valgrind --tool=callgrind\n"
            "                --toggle-collect=run_sspx_krb_accepts ...\n",
            argv0);
}

static void fail_sspx(const char *what)
{
    fprintf(stderr, "%s: token %ld: status 0x%08x (%s)\n", what, g_fail_i, (unsigned)g_fail_st,
            sspx_last_error_string());
}

static void fail_heimdal(const char *what, gss_OID mech)
{
    char buf[160];
    snprintf(buf, sizeof(buf), "%s: token %ld", what, g_fail_i);
    gss_print_err(buf, g_fail_maj, g_fail_min, mech);
}

/* time one pass of an accept loop over a token set: ns per token into *v */
#define TIME_PASS(call, ntok, v, on_fail)                 \
    do {                                                  \
        uint64_t t0_ = now_ns();                          \
        if ((call) < 0) {                                 \
            on_fail;                                      \
            return 1;                                     \
        }                                                 \
        *(v) = (double)(now_ns() - t0_) / (double)(ntok); \
    } while (0)

int main(int argc, char **argv)
{
    const char *src = NULL;
    char cpu[256], load[128];
    uint64_t t_start = now_ns();
    OM_uint32 maj, min;
    int R;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            opt.rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tokens") && i + 1 < argc)
            opt.tokens = atol(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            opt.seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--chunk") && i + 1 < argc)
            opt.chunk = atol(argv[++i]);
        else if (!strcmp(argv[i], "--profile") && i + 1 < argc)
            opt.profile = atol(argv[++i]);
        else if (argv[i][0] != '-' && !src)
            src = argv[i];
        else {
            usage(argv[0]);
            return 2;
        }
    }
    if (opt.profile > 0) {
        opt.tokens = opt.profile;
        opt.rounds = 1;
    }
    if (!src || opt.rounds < 1 || opt.rounds > MAX_ROUNDS || opt.tokens < 16 || opt.seconds <= 0 ||
        opt.profile < 0 || opt.chunk < 1) {
        usage(argv[0]);
        return 2;
    }
    R = opt.rounds;
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (realm_start(src) != 0) {
        realm_stop();
        return 1;
    }
    atexit(realm_stop);

    cpu_model(cpu, sizeof(cpu));
    loadavg(load, sizeof(load));
    printf("sspx Kerberos / Negotiate benchmark\n");
    printf("  CPU:      %s (%ld online)\n", cpu, sysconf(_SC_NPROCESSORS_ONLN));
    printf("  sspx %s; Heimdal %s; %s\n", sspx_version(), heimdal_version,
           OpenSSL_version(OPENSSL_VERSION));
    printf("  load avg: %s (at start)\n", load);
    printf("  realm:    tests/realm/realm.py (throwaway KDC); service %s, keytab %s\n", TARGET,
           keytab);
    printf("  method:   %d rounds, median reported ([min..max]); accepts: one pass over %ld "
           "distinct tokens\n"
           "            per round and variant, interleaved in chunks of %ld (order rotating); "
           "handshakes calibrated to ~%.2f s\n",
           R, opt.tokens, opt.chunk, opt.seconds);

    /* ---- names, credentials */
    {
        gss_buffer_desc nb = {strlen(GSS_TARGET), (void *)GSS_TARGET};
        maj = gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE, &g_target);
        if (GSS_ERROR(maj)) {
            gss_print_err("gss_import_name", maj, min, GSS_C_NO_OID);
            return 1;
        }
    }
    gss_cred_id_t hcred = GSS_C_NO_CREDENTIAL;
    if (heimdal_acceptor(&hcred) < 0)
        return 1;

    /* ---- tokens: Heimdal's initiator, krb5 and SPNEGO; each implementation
     * gets its own copy */
    tokset krb_h, krb_s, sp_h, sp_s;
    uint64_t tg = now_ns();
    if (make_tokens(GSS_KRB5_MECHANISM, opt.tokens, &krb_h) < 0 ||
        make_tokens(GSS_SPNEGO_MECHANISM, opt.tokens, &sp_h) < 0 || tokset_copy(&krb_h, &krb_s) ||
        tokset_copy(&sp_h, &sp_s)) {
        fprintf(stderr, "token generation failed\n");
        return 1;
    }
    {
        size_t tot = 0;
        for (long i = 0; i < krb_h.n; i++)
            tot += krb_h.len[i];
        printf("  tokens:   %ld AP-REQs (Heimdal gss_init_sec_context, krb5 mech, INTEG|CONF, no "
               "mutual; ~%zu B each)\n"
               "            + %ld NegTokenInits (Heimdal's SPNEGO initiator, same flags), made "
               "in %.2f s\n",
               krb_h.n, tot / (size_t)krb_h.n, sp_h.n, (double)(now_ns() - tg) / 1e9);
        describe_negtokeninit(sp_h.buf, sp_h.len[0]);
    }

    /* ---- checks: every token accepted once by each side (this also warms
     * the keytab and the code paths); sspx with a throwaway credential */
    CredHandle chk;
    SECURITY_STATUS st;
    gss_cred_id_t hsp_cred = hcred;
    const char *hsp_how = "the gss_krb5_import_cred(keytab) credential";
    long nchk = opt.profile > 0 ? 16 : krb_s.n;
    st = sspx_server_cred("Kerberos", &chk);
    if (st != SEC_E_OK) {
        fprintf(stderr, "AcquireCredentialsHandle(Kerberos, inbound) = 0x%08x (%s)\n", (unsigned)st,
                sspx_last_error_string());
        return 1;
    }
    if (sspx_accepts(&chk, &krb_s, 0, nchk) < 0) {
        fail_sspx("sspx Kerberos accept (check)");
        return 1;
    }
    /* the same token again: our replay cache must refuse it */
    if (sspx_accepts(&chk, &krb_s, 0, 1) == 0 || g_fail_st != SEC_E_INVALID_TOKEN) {
        fprintf(stderr, "sspx: replayed AP-REQ was not refused (0x%08x)\n", (unsigned)g_fail_st);
        return 1;
    }
    FreeCredentialsHandle(&chk);
    if (heimdal_accepts(hcred, &krb_h, 0, nchk, 1) < 0 ||
        heimdal_accepts(hcred, &krb_h, 0, nchk, 0) < 0) {
        fail_heimdal("Heimdal krb5 accept (check)", GSS_KRB5_MECHANISM);
        return 1;
    }
    printf("  check:    all %ld AP-REQs accepted by both (sspx: SEC_E_OK, no AP-REP; Heimdal: "
           "GSS_S_COMPLETE);\n"
           "            sspx refuses a replay (SEC_E_INVALID_TOKEN); Heimdal 7.8 accepts the same "
           "token again (no replay cache)\n",
           nchk);
    st = sspx_server_cred("Negotiate", &chk);
    if (st != SEC_E_OK) {
        fprintf(stderr, "AcquireCredentialsHandle(Negotiate, inbound) = 0x%08x (%s)\n",
                (unsigned)st, sspx_last_error_string());
        return 1;
    }
    if (sspx_accepts(&chk, &sp_s, 0, nchk) < 0) {
        fail_sspx("sspx Negotiate accept (check)");
        return 1;
    }
    FreeCredentialsHandle(&chk);
    /* Heimdal's mechglue does not hand a krb5-only credential to its SPNEGO
     * acceptor (GSS_S_BAD_MECH, observed with 7.8): then a SPNEGO credential
     * from gss_acquire_cred (KRB5_KTNAME = the same keytab), then none. */
    if (heimdal_accepts(hsp_cred, &sp_h, 0, 1, 0) < 0) {
        gss_OID_set_desc spm = {1, GSS_SPNEGO_MECHANISM};
        gss_cred_id_t c = GSS_C_NO_CREDENTIAL;
        printf("            Heimdal SPNEGO accept with the gss_krb5_import_cred credential: major "
               "0x%08x (refused)\n",
               (unsigned)g_fail_maj);
        maj = gss_acquire_cred(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE, &spm, GSS_C_ACCEPT, &c, NULL,
                               NULL);
        if (!GSS_ERROR(maj) && heimdal_accepts(c, &sp_h, 0, 1, 0) == 0) {
            hsp_cred = c;
            hsp_how = "gss_acquire_cred(SPNEGO OID, GSS_C_ACCEPT), KRB5_KTNAME = the same keytab";
        } else {
            if (!GSS_ERROR(maj))
                gss_release_cred(&min, &c);
            hsp_cred = GSS_C_NO_CREDENTIAL;
            hsp_how = "GSS_C_NO_CREDENTIAL (default acceptor: KRB5_KTNAME = the same keytab)";
        }
    }
    if (heimdal_accepts(hsp_cred, &sp_h, 0, nchk, 0) < 0) {
        fail_heimdal("Heimdal SPNEGO accept (check)", GSS_SPNEGO_MECHANISM);
        return 1;
    }
    printf("            all %ld NegTokenInits accepted by both in one leg (sspx Negotiate: "
           "SEC_E_OK, accept-completed;\n"
           "            Heimdal SPNEGO: GSS_S_COMPLETE), Heimdal's acceptor credential: %s\n",
           nchk, hsp_how);

    /* ---- profile mode: each loop once, nothing else */
    if (opt.profile > 0) {
        CredHandle c1, c2;
        uint64_t t0;
        double us[4];
        if (sspx_server_cred("Kerberos", &c1) != SEC_E_OK ||
            sspx_server_cred("Negotiate", &c2) != SEC_E_OK)
            return 1;
        t0 = now_ns();
        if (run_sspx_krb_accepts(&c1, &krb_s) < 0)
            return fail_sspx("sspx Kerberos accept"), 1;
        us[0] = (double)(now_ns() - t0) / 1e3 / (double)opt.profile;
        t0 = now_ns();
        if (run_heimdal_krb_accepts(hcred, &krb_h) < 0)
            return fail_heimdal("Heimdal krb5 accept", GSS_KRB5_MECHANISM), 1;
        us[1] = (double)(now_ns() - t0) / 1e3 / (double)opt.profile;
        if (run_heimdal_krb_accepts_more(hcred, &krb_h) < 0)
            return fail_heimdal("Heimdal krb5 accept + name/key", GSS_KRB5_MECHANISM), 1;
        t0 = now_ns();
        if (run_sspx_nego_accepts(&c2, &sp_s) < 0)
            return fail_sspx("sspx Negotiate accept"), 1;
        us[2] = (double)(now_ns() - t0) / 1e3 / (double)opt.profile;
        t0 = now_ns();
        if (run_heimdal_spnego_accepts(hsp_cred, &sp_h) < 0)
            return fail_heimdal("Heimdal SPNEGO accept", GSS_SPNEGO_MECHANISM), 1;
        us[3] = (double)(now_ns() - t0) / 1e3 / (double)opt.profile;
        printf("profile: %ld tokens each; us/accept: sspx krb %.2f, Heimdal krb5 %.2f, sspx "
               "Negotiate %.2f, Heimdal SPNEGO %.2f\n",
               opt.profile, us[0], us[1], us[2], us[3]);
        FreeCredentialsHandle(&c1);
        FreeCredentialsHandle(&c2);
        return 0;
    }

    /* ---- handshake set-up and checks */
    hs_arg hn = {"Negotiate", NULL}, hk = {"Kerberos", NULL};
    hs_arg gsp = {NULL, GSS_SPNEGO_MECHANISM}, gkr = {NULL, GSS_KRB5_MECHANISM};
    hs_arg *hs[4] = {&hn, &hk, &gsp, &gkr};
    long hs_n[4];
    gsp.gacc = hsp_cred;
    gkr.gacc = hcred;
    for (int i = 0; i < 2; i++) {
        st = sspx_client_cred(hs[i]->pkg, &hs[i]->ccred);
        if (st == SEC_E_OK)
            st = sspx_server_cred(hs[i]->pkg, &hs[i]->scred);
        if (st != SEC_E_OK) {
            fprintf(stderr, "%s credentials: 0x%08x (%s)\n", hs[i]->pkg, (unsigned)st,
                    sspx_last_error_string());
            return 1;
        }
    }
    for (int i = 0; i < 4; i++) {
        hs_n[i] = calibrate_hs(hs[i]);
        if (hs_n[i] < 0) {
            fprintf(stderr, "%s handshake failed at %s: 0x%08lx\n",
                    hs[i]->pkg ? hs[i]->pkg : "Heimdal", hs[i]->fail, (unsigned long)hs[i]->status);
            return 1;
        }
    }
    printf("            handshakes (mutual): sspx Negotiate and Kerberos %d tokens; Heimdal "
           "SPNEGO %d, krb5 %d tokens\n\n",
           hn.legs, gsp.legs, gkr.legs);

    /* ---- replay key / store inputs */
    g_keys = malloc((size_t)krb_s.n * KRB_RC_KEY_LEN);
    if (!g_keys)
        return 1;
    for (long i = 0; i < krb_s.n; i++)
        if (krb_apreq_replay_key(krb_s.buf + krb_s.off[i], krb_s.len[i], g_keys[i]) != SEC_E_OK)
            return 1;

    /* ---- rounds */
    enum { A_SX, A_H, A_HM, A_KEY, A_RC, S_SX, S_H, M_COUNT };
    static series m[M_COUNT], hsm[4];
    for (int r = 0; r < R; r++) {
        CredHandle ck, cn;
        krb_rcache *rc;
        /* fresh sspx server credentials: empty replay caches (acquired
         * outside the timed loops) */
        if (sspx_server_cred("Kerberos", &ck) != SEC_E_OK ||
            sspx_server_cred("Negotiate", &cn) != SEC_E_OK || krb_rcache_mem_new(100000, &rc))
            return 1;
        /* the accept passes, interleaved in chunks of opt.chunk tokens: each
         * chunk goes through every variant back to back (the order rotating
         * from chunk to chunk), so that drift of a shared machine hits all
         * variants alike; per token = the variant's total time / N */
        double tot[M_COUNT] = {0};
        for (long c0 = 0, ci = 0; c0 < krb_s.n; c0 += opt.chunk, ci++) {
            long c1 = c0 + opt.chunk < krb_s.n ? c0 + opt.chunk : krb_s.n;
            for (int k = 0; k < 5; k++) {
                int v = (int)((k + ci + r) % 5);
                uint64_t t0 = now_ns();
                int rc_ = 0;
                switch (v) {
                case 0:
                    rc_ = run_sspx_range(&ck, &krb_s, c0, c1);
                    break;
                case 1:
                    rc_ = run_heimdal_range(hcred, &krb_h, c0, c1, 0);
                    break;
                case 2:
                    rc_ = run_heimdal_range(hcred, &krb_h, c0, c1, 1);
                    break;
                case 3:
                    rc_ = run_sspx_range(&cn, &sp_s, c0, c1);
                    break;
                default:
                    rc_ = run_heimdal_range(hsp_cred, &sp_h, c0, c1, 0);
                    break;
                }
                if (rc_ < 0) {
                    static const char *const what[5] = {
                        "sspx Kerberos accept", "Heimdal krb5 accept",
                        "Heimdal krb5 accept + name/key", "sspx Negotiate accept",
                        "Heimdal SPNEGO accept"};
                    if (v == 0 || v == 3)
                        fail_sspx(what[v]);
                    else
                        fail_heimdal(what[v], v == 4 ? GSS_SPNEGO_MECHANISM : GSS_KRB5_MECHANISM);
                    return 1;
                }
                tot[v == 0   ? A_SX
                    : v == 1 ? A_H
                    : v == 2 ? A_HM
                    : v == 3 ? S_SX
                             : S_H] += (double)(now_ns() - t0);
            }
        }
        m[A_SX].v[r] = tot[A_SX] / (double)krb_s.n;
        m[A_H].v[r] = tot[A_H] / (double)krb_s.n;
        m[A_HM].v[r] = tot[A_HM] / (double)krb_s.n;
        m[S_SX].v[r] = tot[S_SX] / (double)sp_s.n;
        m[S_H].v[r] = tot[S_H] / (double)sp_h.n;
        TIME_PASS(run_replay_key(&krb_s), krb_s.n, &m[A_KEY].v[r], (void)0);
        TIME_PASS(run_rcache_insert(rc, krb_s.n), krb_s.n, &m[A_RC].v[r], (void)0);
        rc->destroy(rc);
        FreeCredentialsHandle(&ck);
        FreeCredentialsHandle(&cn);
        for (int i = 0; i < 4; i++) {
            hs_arg *a = hs[(i + r) % 4];
            int j = (i + r) % 4;
            if (a->pkg) { /* a fresh server credential here too */
                FreeCredentialsHandle(&a->scred);
                if (sspx_server_cred(a->pkg, &a->scred) != SEC_E_OK)
                    return 1;
            }
            uint64_t t0 = now_ns();
            if (run_handshakes(a, hs_n[j]) < 0) {
                fprintf(stderr, "%s handshake failed at %s: 0x%08lx\n", a->pkg ? a->pkg : "Heimdal",
                        a->fail, (unsigned long)a->status);
                return 1;
            }
            hsm[j].v[r] = (double)(now_ns() - t0) / (double)hs_n[j];
        }
    }

    /* ---- tables */
    long N = krb_s.n;
    printf("1. Kerberos AP-REQ accept, server side, fresh context per token (median of %d "
           "rounds, [min..max])\n",
           R);
    printf("  %-46s %24s %10s %7s\n", "", "us per accept", "accepts/s", "tokens");
    row("sspx AcceptSecurityContext + Delete", &m[A_SX], R, N,
        "replay cache incl.; fresh cred/round");
    row("Heimdal gss_accept_sec_context + delete", &m[A_H], R, N, "the baseline");
    row("  informational: Heimdal + what sspx asks", &m[A_HM], R, N,
        "+ src name, display_name, session key");
    row("  informational: sspx replay key alone", &m[A_KEY], R, N,
        "DER walk + the authenticator cipher's ends");
    row("  informational: sspx replay cache insert", &m[A_RC], R, N, "fresh in-memory store");
    printf("\n2. SPNEGO accept: NegTokenInit with optimistic AP-REQ (Heimdal's SPNEGO initiator), "
           "one leg, fresh context per token\n");
    printf("  %-46s %24s %10s %7s\n", "", "us per accept", "accepts/s", "tokens");
    row("sspx Negotiate AcceptSecurityContext + Delete", &m[S_SX], R, sp_s.n, "fresh cred/round");
    row("Heimdal SPNEGO gss_accept_sec_context + del", &m[S_H], R, sp_h.n, "the baseline");
    printf("\n3. Full in-process handshakes, Kerberos, mutual auth (client + server, both "
           "contexts created and deleted)\n");
    printf("  %-46s %24s %10s %7s\n", "", "us per handshake", "hs/s", "iters");
    row("sspx Negotiate (ISC, ASC, ISC)", &hsm[0], R, hs_n[0], "SPNEGO over our Kerberos");
    row("  informational: sspx Kerberos package", &hsm[1], R, hs_n[1], "raw GSS-framed krb5");
    row("  informational: Heimdal SPNEGO", &hsm[2], R, hs_n[2], "gss_init/accept, SPNEGO OID");
    row("  informational: Heimdal krb5", &hsm[3], R, hs_n[3], "gss_init/accept, krb5 OID");

    double sx = stats(m[A_SX].v, R).med, h = stats(m[A_H].v, R).med;
    double hm = stats(m[A_HM].v, R).med;
    double nsx = stats(m[S_SX].v, R).med, nh = stats(m[S_H].v, R).med;
    printf("\nWhere the sspx Kerberos accept time goes (median us): %.2f = Heimdal accept %.2f "
           "+ GSS calls the package adds %.2f\n"
           "  + replay key %.2f + replay insert %.2f + the rest of sspx (handles, contexts, "
           "copies, names) %.2f\n",
           sx / 1e3, h / 1e3, (hm - h) / 1e3, stats(m[A_KEY].v, R).med / 1e3,
           stats(m[A_RC].v, R).med / 1e3,
           (sx - hm - stats(m[A_KEY].v, R).med - stats(m[A_RC].v, R).med) / 1e3);

    /* the target is checked on the median of the per-round ratios (both
     * sides of a ratio ran interleaved in the same round) */
    series q1, q2;
    for (int r = 0; r < R; r++) {
        q1.v[r] = m[A_SX].v[r] / m[A_H].v[r];
        q2.v[r] = m[S_SX].v[r] / m[S_H].v[r];
    }
    stat3 p1 = stats(q1.v, R), p2 = stats(q2.v, R);
    double o1 = (p1.med - 1) * 100, o2 = (p2.med - 1) * 100;
    printf("\nRatios (median of the per-round ratios [min..max]; ratio of the medians in "
           "brackets)\n");
    printf("  sspx Kerberos accept / Heimdal krb5 accept    %6.3f [%5.3f..%5.3f] (%5.3f)  "
           "overhead %+5.1f%%  target <= +5%%  %s\n",
           p1.med, p1.min, p1.max, sx / h, o1, pass(o1 <= 5.0));
    printf("  sspx Negotiate accept / Heimdal SPNEGO accept %6.3f [%5.3f..%5.3f] (%5.3f)  "
           "overhead %+5.1f%%  target <= +5%%  %s\n",
           p2.med, p2.min, p2.max, nsx / nh, o2, pass(o2 <= 5.0));
    printf("    informational: sspx Kerberos accept / Heimdal accept + name + session key %.3f "
           "(%+.1f%%)\n",
           sx / hm, (sx / hm - 1) * 100);
    printf("    informational: handshake rate sspx Negotiate / Heimdal SPNEGO %.2f; sspx "
           "Kerberos / Heimdal krb5 %.2f\n",
           stats(hsm[2].v, R).med / stats(hsm[0].v, R).med,
           stats(hsm[3].v, R).med / stats(hsm[1].v, R).med);
    loadavg(load, sizeof(load));
    printf("\n  total run time %.1f s; load avg at end: %s\n", (double)(now_ns() - t_start) / 1e9,
           load);

    for (int i = 0; i < 2; i++) {
        FreeCredentialsHandle(&hs[i]->ccred);
        FreeCredentialsHandle(&hs[i]->scred);
    }
    if (hsp_cred != hcred && hsp_cred != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&min, &hsp_cred);
    gss_release_cred(&min, &hcred);
    gss_release_name(&min, &g_target);
    tokset_free(&krb_h);
    tokset_free(&krb_s);
    tokset_free(&sp_h);
    tokset_free(&sp_s);
    free(g_keys);
    return 0;
}
