/*
 * Shared by the libFuzzer targets and gen_corpus.c: a deterministic random
 * source and clock, the server and client credentials the targets use, the
 * fixed channel bindings, and an in-process native-API handshake.
 *
 * Determinism: every target calls fz_reset() at the start of each input, so
 * an input gives the same run whatever ran before it. The random stream
 * starts with 01 23 45 67 89 ab cd ef, the ServerChallenge of MS-NLMP 4.2, so
 * the first CHALLENGE a server context makes carries that challenge: the
 * spec's example AUTHENTICATE messages (user "User", domain "Domain",
 * password "Password") and the AUTHENTICATE messages gen_corpus writes then
 * verify against a fuzz target's server, which lets the fuzzer reach the
 * code after the NTProofStr check (MIC, channel bindings, key exchange).
 */
#ifndef SSPX_FUZZ_COMMON_H
#define SSPX_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sspx/sspi.h"
#include "sspx/sspx.h"

#define FZ_UNUSED __attribute__((unused))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test (not of the input): abort so that
 * libFuzzer records the input as a crash. */
#define FZ_CHECK(cond)                                                                        \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* Setup that must work (credentials, the fixed first leg). */
#define FZ_MUST(expr)                                                                   \
    do {                                                                                \
        SECURITY_STATUS fz_st_ = (expr);                                                \
        if (fz_st_ < 0) {                                                               \
            fprintf(stderr, "%s:%d: %s failed: 0x%08x %s\n", __FILE__, __LINE__, #expr, \
                    (unsigned)fz_st_, sspx_last_error_string());                        \
            abort();                                                                    \
        }                                                                               \
    } while (0)

/* SSPX_FUZZ_VERBOSE=1 in the environment: the targets print each leg's
 * status (for checking what a seed reaches; slow, not for fuzzing). */
static int fz_verbose FZ_UNUSED = -1;
static inline void fz_log(const char *what, SECURITY_STATUS st)
{
    if (fz_verbose < 0)
        fz_verbose = getenv("SSPX_FUZZ_VERBOSE") != NULL;
    if (fz_verbose)
        fprintf(stderr, "  %s: %s%s%s\n", what, sspx_status_name(st) ? sspx_status_name(st) : "?",
                st < 0 ? " " : "", st < 0 ? sspx_last_error_string() : "");
}

/* ------------------------------------------------------- rng and clock */

/* 2024-01-01T00:00:00Z as a FILETIME */
#define FZ_NOW 133485408000000000ULL

static uint64_t fz_rng_pos FZ_UNUSED;
static uint64_t fz_clock_offset FZ_UNUSED;

static inline uint64_t fz_splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static inline int fz_rng(void *ud, uint8_t *out, size_t n)
{
    static const uint8_t first[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    (void)ud;
    for (size_t i = 0; i < n; i++, fz_rng_pos++)
        out[i] = fz_rng_pos < 8 ? first[fz_rng_pos]
                                : (uint8_t)(fz_splitmix(fz_rng_pos / 8) >> (8 * (fz_rng_pos % 8)));
    return 0;
}

static inline uint64_t fz_clock(void *ud)
{
    (void)ud;
    return FZ_NOW + fz_clock_offset;
}

/* Start of every input (and of every deterministic setup step). */
static inline void fz_reset(void)
{
    fz_rng_pos = 0;
    fz_clock_offset = 0;
}

static inline void fz_install_hooks(void)
{
    sspx_test_set_rng(fz_rng, NULL);
    sspx_test_set_clock(fz_clock, NULL);
    fz_reset();
}

/* ------------------------------------------------------------ the users */

#define FZ_USERS                                            \
    "# users of the fuzz targets' servers\n"                \
    "TESTDOM:bob:Passw0rd!\n"                               \
    "Domain:User:Password\n"                                \
    "*:alice:Secret1\n"                                     \
    "TESTDOM:hashed:{NT}8846f7eaee8fb117ad06bdd830b7586c\n" \
    "TESTDOM:nopass:\n"

/* The lookup callback of server credential 3. */
static inline int fz_lookup(void *ud, const char *user, const char *domain, sspx_secret *out)
{
    static const uint8_t hash[16] = {0x88, 0x46, 0xf7, 0xea, 0xee, 0x8f, 0xb1, 0x17,
                                     0xad, 0x06, 0xbd, 0xd8, 0x30, 0xb7, 0x58, 0x6c};
    (void)ud;
    (void)domain;
    if (!strcasecmp(user, "bob"))
        return sspx_secret_set_password(out, "Passw0rd!") == SEC_E_OK ? SSPX_LOOKUP_FOUND
                                                                      : SSPX_LOOKUP_NO_USER;
    if (!strcasecmp(user, "User"))
        return sspx_secret_set_password(out, "Password") == SEC_E_OK ? SSPX_LOOKUP_FOUND
                                                                     : SSPX_LOOKUP_NO_USER;
    if (!strcasecmp(user, "hashed"))
        return sspx_secret_set_nt_hash(out, hash, 16) == SEC_E_OK ? SSPX_LOOKUP_FOUND
                                                                  : SSPX_LOOKUP_NO_USER;
    if (!strcasecmp(user, "unavailable"))
        return SSPX_LOOKUP_UNAVAILABLE;
    if (!strcasecmp(user, "nosecret"))
        return SSPX_LOOKUP_FOUND; /* FOUND without a secret: treated as NO_USER */
    return SSPX_LOOKUP_NO_USER;
}

/* ---------------------------------------------------------- credentials */

/*
 * Server credentials:
 *   0  users file, channel bindings checked when supplied (the default)
 *   1  users file, allow_ntlmv1 + allow_lm (NTLMv1 and LM responses)
 *   2  users file, require_mic + channel_bindings=required + require_128
 *   3  lookup callback only, channel_bindings=never, challenge_max_age=60
 * Every name is set, so nothing depends on the host name.
 */
#define FZ_SERVER_CREDS 4

static inline void fz_server_cred(int variant, sspx_cred **out)
{
    sspx_config *cfg = sspx_config_new();
    char path[64] = "/tmp/sspx-fuzz-users-XXXXXX";
    int fd = -1;
    FZ_CHECK(cfg);
    FZ_MUST(sspx_config_set(cfg, "netbios_domain", "TESTDOM"));
    FZ_MUST(sspx_config_set(cfg, "netbios_computer", "SERVER"));
    FZ_MUST(sspx_config_set(cfg, "dns_domain", "testdom.test"));
    FZ_MUST(sspx_config_set(cfg, "dns_computer", "server.testdom.test"));
    if (variant != 3) {
        fd = mkstemp(path);
        FZ_CHECK(fd >= 0);
        FZ_CHECK(write(fd, FZ_USERS, strlen(FZ_USERS)) == (ssize_t)strlen(FZ_USERS));
        close(fd);
        FZ_MUST(sspx_config_set(cfg, "users_file", path));
    }
    switch (variant) {
    case 0:
        FZ_MUST(sspx_config_set(cfg, "channel_bindings", "when_supplied"));
        break;
    case 1:
        FZ_MUST(sspx_config_set(cfg, "allow_ntlmv1", "1"));
        FZ_MUST(sspx_config_set(cfg, "allow_lm", "1"));
        break;
    case 2:
        FZ_MUST(sspx_config_set(cfg, "require_mic", "yes"));
        FZ_MUST(sspx_config_set(cfg, "channel_bindings", "required"));
        FZ_MUST(sspx_config_set(cfg, "require_128", "true"));
        break;
    default:
        FZ_MUST(sspx_config_set_lookup(cfg, fz_lookup, NULL, NULL));
        FZ_MUST(sspx_config_set(cfg, "channel_bindings", "never"));
        FZ_MUST(sspx_config_set(cfg, "challenge_max_age", "60"));
        break;
    }
    FZ_MUST(sspx_cred_acquire("NTLM", SSPX_CRED_INBOUND, cfg, out));
    if (fd >= 0)
        unlink(path); /* loaded at acquisition */
    sspx_config_free(&cfg);
}

/* Client credentials: 0 = TESTDOM\bob (password), 1 = "Üser" with an NT
 * hash, no domain, a workstation name. */
static inline void fz_client_cred(int variant, sspx_cred **out)
{
    sspx_config *cfg = sspx_config_new();
    FZ_CHECK(cfg);
    if (variant == 0) {
        FZ_MUST(sspx_config_set(cfg, "user", "bob"));
        FZ_MUST(sspx_config_set(cfg, "domain", "TESTDOM"));
        FZ_MUST(sspx_config_set(cfg, "password", "Passw0rd!"));
    } else {
        FZ_MUST(sspx_config_set(cfg, "user", "\xc3\x9cser"));
        FZ_MUST(sspx_config_set(cfg, "nt_hash", "8846F7EAEE8FB117AD06BDD830B7586C"));
        FZ_MUST(sspx_config_set(cfg, "workstation", "WS01"));
    }
    FZ_MUST(sspx_cred_acquire("NTLM", SSPX_CRED_OUTBOUND, cfg, out));
    sspx_config_free(&cfg);
}

/* The client's request flags for every handshake the targets replay. */
#define FZ_CREQ \
    (ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT)
#define FZ_SREQ \
    (ASC_REQ_CONFIDENTIALITY | ASC_REQ_INTEGRITY | ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT)
#define FZ_TARGET "HTTP/server.testdom.test"

/* --------------------------------------------------- channel bindings */

/* A SEC_CHANNEL_BINDINGS blob as a TLS server would pass it:
 * application data "tls-server-end-point:" + a 32-byte hash. */
static inline size_t fz_cbt(uint8_t *buf, size_t cap)
{
    static const char prefix[] = "tls-server-end-point:";
    size_t plen = sizeof(prefix) - 1, alen = plen + 32;
    FZ_CHECK(cap >= 32 + alen);
    memset(buf, 0, 32);
    buf[24] = (uint8_t)alen; /* cbApplicationDataLength */
    buf[28] = 32;            /* dwApplicationDataOffset */
    memcpy(buf + 32, prefix, plen);
    for (size_t i = 0; i < 32; i++)
        buf[32 + plen + i] = (uint8_t)(0xa0 + i);
    return 32 + alen;
}

/* ------------------------------------------------------------ handshake */

typedef struct fz_hs {
    sspx_ctx *c, *s;
    sspx_buf tok[3]; /* NEGOTIATE, CHALLENGE, AUTHENTICATE */
    SECURITY_STATUS cst, sst;
} fz_hs;

static inline void fz_hs_free(fz_hs *h)
{
    sspx_ctx_free(&h->c);
    sspx_ctx_free(&h->s);
    for (int i = 0; i < 3; i++)
        sspx_buf_free(&h->tok[i]);
}

/*
 * A full native-API handshake. `mutate_challenge` (may be NULL) edits the
 * CHALLENGE before the client sees it (the server then fails the MIC, but the
 * client context is complete). With `server_too` = 0 the server's final leg
 * is skipped. Resets the rng first: the same arguments give the same bytes.
 */
static inline void fz_handshake(fz_hs *h, sspx_cred *cc, sspx_cred *sc, const uint8_t *ccbt,
                                size_t ccbt_len, const uint8_t *scbt, size_t scbt_len,
                                void (*mutate_challenge)(uint8_t *p, size_t len), int server_too)
{
    sspx_ctx_params cp, sp;
    memset(h, 0, sizeof(*h));
    memset(&cp, 0, sizeof(cp));
    memset(&sp, 0, sizeof(sp));
    fz_reset();
    cp.flags = FZ_CREQ;
    cp.target = FZ_TARGET;
    cp.channel_bindings = ccbt;
    cp.channel_bindings_len = ccbt_len;
    sp.flags = FZ_SREQ;
    sp.channel_bindings = scbt;
    sp.channel_bindings_len = scbt_len;
    FZ_MUST(sspx_ctx_new(cc, &cp, &h->c));
    FZ_MUST(sspx_ctx_new(sc, &sp, &h->s));
    h->cst = sspx_ctx_step(h->c, NULL, 0, &h->tok[0]);
    FZ_CHECK(h->cst == SEC_I_CONTINUE_NEEDED);
    h->sst = sspx_ctx_step(h->s, h->tok[0].data, h->tok[0].len, &h->tok[1]);
    FZ_CHECK(h->sst == SEC_I_CONTINUE_NEEDED);
    if (mutate_challenge)
        mutate_challenge(h->tok[1].data, h->tok[1].len);
    h->cst = sspx_ctx_step(h->c, h->tok[1].data, h->tok[1].len, &h->tok[2]);
    FZ_CHECK(h->cst == SEC_E_OK);
    if (server_too) {
        sspx_buf none;
        h->sst = sspx_ctx_step(h->s, h->tok[2].data, h->tok[2].len, &none);
        sspx_buf_free(&none);
    }
}

/* CHALLENGE edits for client contexts with other message-security flags
 * (NegotiateFlags is at offset 20). */
static inline void fz_clear_flag(uint8_t *p, size_t len, uint32_t bit)
{
    uint32_t f;
    FZ_CHECK(len >= 24);
    f = (uint32_t)p[20] | (uint32_t)p[21] << 8 | (uint32_t)p[22] << 16 | (uint32_t)p[23] << 24;
    f &= ~bit;
    for (int i = 0; i < 4; i++)
        p[20 + i] = (uint8_t)(f >> (8 * i));
}
static inline void fz_no_key_exch(uint8_t *p, size_t len)
{
    fz_clear_flag(p, len, 0x40000000u);
}
static inline void fz_no_ess(uint8_t *p, size_t len)
{
    fz_clear_flag(p, len, 0x00080000u);
}

/*
 * The contexts fuzz_ntlm_unseal feeds (variant = which one receives):
 *   0  server of a completed handshake (ESS + KEY_EXCH + SEAL): client -> server
 *   1  client of the same handshake: server -> client
 *   2  client with ESS, no KEY_EXCH
 *   3  client without ESS (CRC32 signatures, one RC4 key for both directions)
 * For 2 and 3 `peer` gets a twin of the receiving client (same keys).
 */
static inline void fz_sealed_ctx(int variant, sspx_cred *cc, sspx_cred *sc, sspx_ctx **recv,
                                 sspx_ctx **peer)
{
    fz_hs h;
    void (*mut)(uint8_t *, size_t) = variant == 2   ? fz_no_key_exch
                                     : variant == 3 ? fz_no_ess
                                                    : NULL;
    fz_handshake(&h, cc, sc, NULL, 0, NULL, 0, mut, variant < 2);
    if (variant < 2)
        FZ_CHECK(h.sst == SEC_E_OK);
    if (variant == 0) {
        *recv = h.s;
        *peer = h.c;
    } else {
        *recv = h.c;
        *peer = h.s;
    }
    h.c = h.s = NULL;
    if (variant >= 2) {
        fz_hs twin;
        sspx_ctx_free(peer);
        fz_handshake(&twin, cc, sc, NULL, 0, NULL, 0, mut, 0);
        *peer = twin.c;
        twin.c = NULL;
        fz_hs_free(&twin);
    }
    fz_hs_free(&h);
}

/* A heap copy of exactly n bytes, so that ASan sees reads past a slice. */
static inline uint8_t *fz_dup(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    FZ_CHECK(d);
    if (n)
        memcpy(d, p, n);
    return d;
}

#endif
