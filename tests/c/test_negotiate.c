/* The Negotiate package (SPNEGO): NTLM-only loops, raw NTLM, then Kerberos
 * and fallback against a throwaway Heimdal KDC (tests/realm), in one
 * process, through the SSPI entry points.
 *
 *   test_negotiate [SOURCE_DIR]   (default: the tree this file was compiled from)
 *
 * starts `/usr/bin/python3 SOURCE_DIR/tests/realm/realm.py start ...` as a
 * child, waits (bounded) for "# realm ready", takes KRB5_CONFIG,
 * KRB5CCNAME and KRB5_KTNAME from its env file, and stops it with SIGTERM.
 * A missing Heimdal KDC is a failure, not a skip. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "fixtures.h"
#include "packages/kerberos/krb_rcache.h"
#include "packages/negotiate/nego.h"
#include "packages/ntlm/ntlm.h"
#include "wire/spnego_msg.h"

#define REALM_TMP_PREFIX "/tmp/sspx-nego-XXXXXX"
#include "realm_fixture.h"

/* ---------------------------------------------------------------- helpers */

#define TOKMAX 65536
#define LEGS   8

static const char *users;

/* A tamper hook: may rewrite the token of leg `leg` (0 = the client's first). */
typedef void (*tamper_fn)(int leg, uint8_t *tok, ULONG *len);

typedef struct n_hs {
    CtxtHandle cctx, sctx;
    int have_c, have_s;
    SECURITY_STATUS cst, sst;
    ULONG cattr, sattr;
    uint8_t tok[LEGS][TOKMAX];
    ULONG len[LEGS];
    int nlegs;
} n_hs;

static void n_free(n_hs *h)
{
    if (h->have_c)
        DeleteSecurityContext(&h->cctx);
    if (h->have_s)
        DeleteSecurityContext(&h->sctx);
    h->have_c = h->have_s = 0;
}

/* Alternate client and server until both are done or one fails; returns
 * the first failure, or SEC_E_OK. */
static SECURITY_STATUS n_loop(n_hs *h, CredHandle *cc, CredHandle *sc, const char *target,
                              ULONG creq, tamper_fn tamper)
{
    int leg = 0;
    h->cst = h->sst = SEC_I_CONTINUE_NEEDED;
    for (;;) {
        SecBuffer ob, ib;
        SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob}, id = {SECBUFFER_VERSION, 1, &ib};
        if (leg >= LEGS)
            return SEC_E_INTERNAL_ERROR;
        /* client */
        if (h->cst == SEC_I_CONTINUE_NEEDED) {
            ob = (SecBuffer){TOKMAX, SECBUFFER_TOKEN, h->tok[leg]};
            if (leg > 0)
                ib = (SecBuffer){h->len[leg - 1], SECBUFFER_TOKEN, h->tok[leg - 1]};
            h->cst = InitializeSecurityContextA(
                h->have_c ? NULL : cc, h->have_c ? &h->cctx : NULL, (char *)target, creq, 0,
                SECURITY_NATIVE_DREP, leg > 0 ? &id : NULL, 0, &h->cctx, &od, &h->cattr, NULL);
            if (h->cst < 0)
                return h->cst;
            h->have_c = 1;
            h->len[leg] = ob.cbBuffer;
            if (tamper)
                tamper(leg, h->tok[leg], &h->len[leg]);
            h->nlegs = ++leg;
            if (h->cst == SEC_E_OK && h->len[leg - 1] == 0 && h->sst == SEC_E_OK)
                return SEC_E_OK;
        } else if (h->sst == SEC_E_OK) {
            return SEC_E_OK;
        }
        if (h->sst != SEC_I_CONTINUE_NEEDED) /* server done, client sent a last token */
            return SEC_E_INTERNAL_ERROR;
        /* server */
        ob = (SecBuffer){TOKMAX, SECBUFFER_TOKEN, h->tok[leg]};
        ib = (SecBuffer){h->len[leg - 1], SECBUFFER_TOKEN, h->tok[leg - 1]};
        h->sst = AcceptSecurityContext(h->have_s ? NULL : sc, h->have_s ? &h->sctx : NULL, &id, 0,
                                       SECURITY_NATIVE_DREP, &h->sctx, &od, &h->sattr, NULL);
        if (h->sst < 0)
            return h->sst;
        h->have_s = 1;
        h->len[leg] = ob.cbBuffer;
        if (tamper)
            tamper(leg, h->tok[leg], &h->len[leg]);
        h->nlegs = ++leg;
        if (h->sst == SEC_E_OK && h->cst == SEC_E_OK)
            return ob.cbBuffer ? SEC_E_INTERNAL_ERROR : SEC_E_OK; /* nobody to read it */
        if (h->sst == SEC_E_OK && h->len[leg - 1] == 0)
            return h->cst == SEC_E_OK ? SEC_E_OK : SEC_E_INTERNAL_ERROR;
    }
}

/* The negotiated package, through the package's own query hook (the core
 * answers SECPKG_ATTR_NEGOTIATION_INFO itself with the context's package). */
static void check_nego_info(CtxtHandle *h, const char *want)
{
    sspx_ctx *ctx = NULL;
    SecPkgContext_NegotiationInfoA ni;
    memset(&ni, 0, sizeof(ni));
    CHECK_ST(sspx_handle_get(h, SSPX_OBJ_CTX, (void **)&ctx), SEC_E_OK);
    if (!ctx)
        return;
    CHECK_ST(ctx->pkg->query(ctx, SECPKG_ATTR_NEGOTIATION_INFO, &ni), SEC_E_OK);
    CHECK(ni.PackageInfo && strcmp(ni.PackageInfo->Name, want) == 0);
    CHECK(ni.NegotiationState == SECPKG_NEGOTIATION_COMPLETE);
    if (ni.PackageInfo && strcmp(ni.PackageInfo->Name, want) != 0)
        fprintf(stderr, "  negotiated %s, want %s\n", ni.PackageInfo->Name, want);
    FreeContextBuffer(ni.PackageInfo);
    sspx_ctx_unref(ctx);
    /* the public entry points, A and W */
    {
        SecPkgContext_NegotiationInfoW nw;
        SecPkgContext_PackageInfoW pw;
        char name[32] = "";
        memset(&nw, 0, sizeof(nw));
        CHECK_ST(QueryContextAttributesA(h, SECPKG_ATTR_NEGOTIATION_INFO, &ni), SEC_E_OK);
        CHECK(ni.PackageInfo && strcmp(ni.PackageInfo->Name, want) == 0);
        FreeContextBuffer(ni.PackageInfo);
        CHECK_ST(QueryContextAttributesW(h, SECPKG_ATTR_NEGOTIATION_INFO, &nw), SEC_E_OK);
        for (size_t i = 0; nw.PackageInfo && nw.PackageInfo->Name[i] && i < sizeof(name) - 1; i++)
            name[i] = (char)nw.PackageInfo->Name[i];
        CHECK(strcmp(name, want) == 0 && nw.NegotiationState == SECPKG_NEGOTIATION_COMPLETE);
        CHECK(nw.PackageInfo && nw.PackageInfo->Comment && nw.PackageInfo->Comment[0]);
        FreeContextBuffer(nw.PackageInfo);
        /* SIZES: the chosen package's, A and W alike */
        {
            SecPkgContext_Sizes sa, sw;
            CHECK_ST(QueryContextAttributesA(h, SECPKG_ATTR_SIZES, &sa), SEC_E_OK);
            CHECK_ST(QueryContextAttributesW(h, SECPKG_ATTR_SIZES, &sw), SEC_E_OK);
            CHECK(memcmp(&sa, &sw, sizeof(sa)) == 0);
            CHECK(strcmp(want, "NTLM") != 0 || sa.cbMaxSignature == 16);
        }
        /* PACKAGE_INFO of a complete context: the package chosen, too */
        CHECK_ST(QueryContextAttributesW(h, SECPKG_ATTR_PACKAGE_INFO, &pw), SEC_E_OK);
        memset(name, 0, sizeof(name));
        for (size_t i = 0; pw.PackageInfo && pw.PackageInfo->Name[i] && i < sizeof(name) - 1; i++)
            name[i] = (char)pw.PackageInfo->Name[i];
        CHECK(strcmp(name, want) == 0);
        FreeContextBuffer(pw.PackageInfo);
    }
}

static void check_name(CtxtHandle *h, const char *want)
{
    SecPkgContext_NamesA n = {0};
    CHECK_ST(QueryContextAttributesA(h, SECPKG_ATTR_NAMES, &n), SEC_E_OK);
    CHECK(n.sUserName && strcmp(n.sUserName, want) == 0);
    if (n.sUserName && strcmp(n.sUserName, want) != 0)
        fprintf(stderr, "  name %s, want %s\n", n.sUserName, want);
    FreeContextBuffer(n.sUserName);
}

/* Sign and seal a few messages each way. */
static void messages(CtxtHandle *a, CtxtHandle *b)
{
    for (int i = 0; i < 4; i++) {
        CtxtHandle *from = i % 2 ? b : a, *to = i % 2 ? a : b;
        char msg[32], orig[32];
        uint8_t sig[128];
        ULONG qop = 0;
        snprintf(msg, sizeof(msg), "negotiate message %d", i);
        memcpy(orig, msg, sizeof(msg));
        SecBuffer sb[2] = {{sizeof(sig), SECBUFFER_TOKEN, sig},
                           {(ULONG)strlen(msg), SECBUFFER_DATA, msg}};
        SecBufferDesc sd = {SECBUFFER_VERSION, 2, sb};
        CHECK_ST(MakeSignature(from, 0, &sd, 0), SEC_E_OK);
        msg[0] ^= 1; /* altered: refused, and the receiver is unchanged */
        CHECK(VerifySignature(to, &sd, 0, &qop) == SEC_E_MESSAGE_ALTERED);
        msg[0] ^= 1;
        CHECK_ST(VerifySignature(to, &sd, 0, &qop), SEC_E_OK);
        sb[0].cbBuffer = sizeof(sig);
        CHECK_ST(EncryptMessage(from, 0, &sd, 0), SEC_E_OK);
        CHECK(memcmp(msg, orig, strlen(orig)) != 0);
        CHECK_ST(DecryptMessage(to, &sd, 0, &qop), SEC_E_OK);
        CHECK(memcmp(msg, orig, strlen(orig)) == 0);
    }
}

/* One detached 16-byte signature over a C string, and its check. */
static SECURITY_STATUS sign_one(CtxtHandle *h, char *msg, uint8_t sig[16])
{
    SecBuffer sb[2] = {{16, SECBUFFER_TOKEN, sig}, {(ULONG)strlen(msg), SECBUFFER_DATA, msg}};
    SecBufferDesc sd = {SECBUFFER_VERSION, 2, sb};
    return MakeSignature(h, 0, &sd, 0);
}

static SECURITY_STATUS verify_one(CtxtHandle *h, char *msg, uint8_t sig[16])
{
    ULONG qop = 0;
    SecBuffer sb[2] = {{16, SECBUFFER_TOKEN, sig}, {(ULONG)strlen(msg), SECBUFFER_DATA, msg}};
    SecBufferDesc sd = {SECBUFFER_VERSION, 2, sb};
    return VerifySignature(h, &sd, 0, &qop);
}

static SECURITY_STATUS n_cred(CredHandle *h, unsigned usage, const char *const *kv)
{
    sspx_config *cfg = sspx_config_new();
    SECURITY_STATUS st;
    for (; kv && kv[0]; kv += 2)
        if (sspx_config_set(cfg, kv[0], kv[1]) != SEC_E_OK)
            abort();
    st = AcquireCredentialsHandleA(NULL, "Negotiate", usage, NULL, cfg, NULL, NULL, h, NULL);
    sspx_config_free(&cfg);
    return st;
}

static const char *const SRV_NTLM[] = {
    "users_file", NULL, "netbios_domain", "TESTDOM", "netbios_computer", "SERVER", NULL};
static const char *const CLI_NTLM[] = {"user",      "bob",      "domain", "TESTDOM", "password",
                                       "Passw0rd!", "packages", "ntlm",   NULL};
/* one identity for both: bob@TEST.LOCAL in the realm, TEST.LOCAL:bob in the users file */
static const char *const CLI_BOTH[] = {"user",     "bob",      "domain", "TEST.LOCAL",
                                       "password", "Bob#Pw22", NULL};
/* a NetBIOS domain is no Kerberos realm: Kerberos cannot get a ticket */
static const char *const CLI_NOREALM[] = {"user",     "bob",       "domain", "TESTDOM",
                                          "password", "Passw0rd!", NULL};

static SECURITY_STATUS srv_cred(CredHandle *h, int ntlm, int krb)
{
    const char *kv[16];
    int n = 0;
    if (ntlm) {
        kv[n++] = "users_file";
        kv[n++] = users;
        kv[n++] = "netbios_domain";
        kv[n++] = "TESTDOM";
    }
    if (krb) {
        kv[n++] = "keytab";
        kv[n++] = keytab;
    }
    kv[n++] = "packages";
    kv[n++] = ntlm && krb ? "kerberos,ntlm" : ntlm ? "ntlm" : "kerberos";
    kv[n] = NULL;
    return n_cred(h, SECPKG_CRED_INBOUND, kv);
}

/* ------------------------------------------------------------------ tests */

static void package_listed(void)
{
    SecPkgInfoA *info = NULL;
    ULONG n = 0;
    int found = 0;
    CHECK_ST(EnumerateSecurityPackagesA(&n, &info), SEC_E_OK);
    CHECK(n >= 2 && strcmp(info[0].Name, "NTLM") == 0 &&
          strcmp(info[n - 1].Name, "Negotiate") == 0);
    for (ULONG i = 0; i < n; i++)
        if (strcmp(info[i].Name, "Negotiate") == 0) {
            found = 1;
            CHECK(strcmp(info[i].Comment, "Microsoft Package Negotiator") == 0);
            CHECK(info[i].wRPCID == 9);
            CHECK(info[i].cbMaxToken == 48256);
            CHECK(info[i].fCapabilities == 0x00083BB3);
        }
    CHECK(found);
    FreeContextBuffer(info);
}

static void credentials(void)
{
    CredHandle h;
    static const char *const bad_key[] = {"nonsense", "1", NULL};
    static const char *const bad_pk[] = {"user",     "bob",    "password", "x",
                                         "packages", "digest", NULL};
    static const char *const none[] = {"packages", "ntlm", NULL};
    CHECK_ST(n_cred(&h, SECPKG_CRED_OUTBOUND, bad_key), SEC_E_INVALID_PARAMETER);
    CHECK_ST(n_cred(&h, SECPKG_CRED_OUTBOUND, bad_pk), SEC_E_INVALID_PARAMETER);
    /* an outbound NTLM without identity, Kerberos excluded: nothing to offer */
    CHECK_ST(n_cred(&h, SECPKG_CRED_OUTBOUND, none), SEC_E_NO_CREDENTIALS);
}

/* NTLM inside SPNEGO, both ends ours, no Kerberos anywhere. */
static void ntlm_spnego(void)
{
    CredHandle sc, cc;
    static n_hs h;
    const char *srv[7];
    memcpy(srv, SRV_NTLM, sizeof(srv));
    srv[1] = users;
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_cred(&sc, SECPKG_CRED_INBOUND, srv), SEC_E_OK);
    CHECK_ST(n_cred(&cc, SECPKG_CRED_OUTBOUND, CLI_NTLM), SEC_E_OK);
    CHECK_ST(n_loop(&h, &cc, &sc, "HTTP/server.testdom", ISC_REQ_CONFIDENTIALITY, NULL), SEC_E_OK);
    /* init(NTLM NEGOTIATE), resp(CHALLENGE), resp(AUTH + MIC), resp(completed + MIC), then
     * the client's last call reads the server's MIC and sends nothing */
    CHECK(h.nlegs == 5 && h.len[4] == 0);
    for (int i = 0; i < h.nlegs && i < 4; i++) {
        spnego_token t;
        CHECK_ST(spnego_decode(h.tok[i], h.len[i], &t), SEC_E_OK);
        CHECK(t.kind == (i == 0 ? SPNEGO_NEG_TOKEN_INIT : SPNEGO_NEG_TOKEN_RESP));
        if (i == 0) {
            CHECK(t.init.framed && t.init.nmechs == 1 && t.init.mech_token.present);
            CHECK(der_oid_eq(&t.init.mechs[0], (const uint8_t *)SPNEGO_OID_NTLMSSP,
                             SPNEGO_OID_LEN(SPNEGO_OID_NTLMSSP)));
            CHECK(memcmp(t.init.mech_token.p, "NTLMSSP", 8) == 0);
        }
        if (i == 1) {
            CHECK(t.resp.neg_state == SPNEGO_ACCEPT_INCOMPLETE && t.resp.has_supported_mech);
            CHECK(t.resp.response_token.present &&
                  memcmp(t.resp.response_token.p, "NTLMSSP\0\2", 9) == 0);
        }
        if (i == 2)
            CHECK(t.resp.response_token.present && t.resp.mech_list_mic.present);
        if (i == 3)
            CHECK(t.resp.neg_state == SPNEGO_ACCEPT_COMPLETED && t.resp.mech_list_mic.present &&
                  !t.resp.response_token.present);
    }
    check_name(&h.sctx, "TESTDOM\\bob");
    check_nego_info(&h.sctx, "NTLM");
    check_nego_info(&h.cctx, "NTLM");
    {
        SecPkgContext_SessionKey a = {0}, b = {0};
        CHECK_ST(QueryContextAttributesA(&h.sctx, SECPKG_ATTR_SESSION_KEY, &a), SEC_E_OK);
        CHECK_ST(QueryContextAttributesA(&h.cctx, SECPKG_ATTR_SESSION_KEY, &b), SEC_E_OK);
        CHECK(a.SessionKeyLength == 16 && b.SessionKeyLength == 16 &&
              memcmp(a.SessionKey, b.SessionKey, 16) == 0);
        FreeContextBuffer(a.SessionKey);
        FreeContextBuffer(b.SessionKey);
    }
    messages(&h.cctx, &h.sctx);
    n_free(&h);

    /* wrong password: the NTLM verdict comes through */
    {
        static const char *const badpw[] = {"user",  "bob",      "domain", "TESTDOM", "password",
                                            "wrong", "packages", "ntlm",   NULL};
        CredHandle bc;
        memset(&h, 0, sizeof(h));
        CHECK_ST(n_cred(&bc, SECPKG_CRED_OUTBOUND, badpw), SEC_E_OK);
        CHECK_ST(n_loop(&h, &bc, &sc, "HTTP/server.testdom", 0, NULL), SEC_E_LOGON_DENIED);
        n_free(&h);
        FreeCredentialsHandle(&bc);
    }
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

/* Our NTLM client's raw tokens into a Negotiate server: answered raw. */
static void raw_ntlm(void)
{
    CredHandle sc, cc;
    static n_hs h;
    const char *srv[7];
    memcpy(srv, SRV_NTLM, sizeof(srv));
    srv[1] = users;
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_cred(&sc, SECPKG_CRED_INBOUND, srv), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    CHECK_ST(n_loop(&h, &cc, &sc, "HTTP/server.testdom", 0, NULL), SEC_E_OK);
    CHECK(h.nlegs == 4 && h.len[3] == 0); /* NEGOTIATE, CHALLENGE, AUTHENTICATE, (nothing) */
    CHECK(memcmp(h.tok[1], "NTLMSSP\0\2", 9) == 0);
    check_name(&h.sctx, "TESTDOM\\bob");
    check_nego_info(&h.sctx, "NTLM");
    { /* no SPNEGO, no mechListMIC: the first message is SeqNum 0 */
        uint8_t sig[16];
        char msg[] = "raw NTLM through Negotiate";
        CHECK_ST(sign_one(&h.sctx, msg, sig), SEC_E_OK);
        CHECK(sspx_get_le32(sig + 12) == 0);
        CHECK_ST(verify_one(&h.cctx, msg, sig), SEC_E_OK);
    }
    n_free(&h);
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

/* ------------------------------------- NTLM's reset after the mechListMIC */

/* The NTLM sub-context of a complete Negotiate context (a reference), or NULL. */
static sspx_ctx *ntlm_sub(CtxtHandle *h)
{
    sspx_ctx *ctx = NULL, *sub = NULL;
    if (sspx_handle_get(h, SSPX_OBJ_CTX, (void **)&ctx) != SEC_E_OK)
        return NULL;
    nego_ctx *n = ctx->state;
    if (n->sub && strcmp(n->sub->pkg->name, "NTLM") == 0) {
        sub = n->sub;
        sspx_ctx_ref(sub);
    }
    sspx_ctx_unref(ctx);
    return sub;
}

/* The first 8 bytes of one direction's RC4 keystream, from its start (the
 * sealing key of that direction, MS-NLMP 3.4.5.3). */
static void fresh_keystream(const ntlm_ctx *n, bool client_to_server, uint8_t ks[8])
{
    uint8_t k[16], zero[8] = {0};
    size_t klen = 0;
    sspx_rc4 r = {0};
    CHECK_ST(ntlm_SEALKEY(n->flags, n->session_key, client_to_server, k, &klen), SEC_E_OK);
    CHECK_ST(sspx_rc4_init(&r, k, klen), SEC_E_OK);
    CHECK_ST(sspx_rc4_update(&r, zero, ks, 8), SEC_E_OK);
    sspx_rc4_free(&r);
}

/* The keystream bytes an NTLM signature (ESS + KEY_EXCH, 2.2.2.9.2) was made
 * with: Checksum XOR HMAC_MD5(SignKey, SeqNum || data)[0..7]; SeqNum read from
 * the signature. */
static void used_keystream(const ntlm_ctx *n, bool client_to_server, const uint8_t sig[16],
                           const void *data, size_t len, uint8_t ks[8])
{
    uint8_t key[16], mac[16];
    sspx_iov v[2] = {{sig + 12, 4}, {data, len}};
    CHECK_ST(ntlm_SIGNKEY(n->session_key, client_to_server, key), SEC_E_OK);
    CHECK_ST(sspx_hmac_md5v(key, 16, v, 2, mac), SEC_E_OK);
    for (int i = 0; i < 8; i++)
        ks[i] = sig[4 + i] ^ mac[i];
}

/*
 * MS-SPNG 3.3.5.1: the mechListMIC and the first application message are made
 * with the same RC4 state (NTLM's reset_crypto after the MIC exchange); the
 * sequence numbers go on: the MICs carry 0, the first messages 1 (as Windows,
 * Samba and gss-ntlmssp; tests/interop/test_ntlm_gssntlmssp.py checks the
 * latter).
 */
static void ntlm_reset(void)
{
    CredHandle sc, cc;
    static n_hs h;
    const char *srv[7];
    spnego_token t0, t2, t3;
    sspx_ctx *csub, *ssub;
    memcpy(srv, SRV_NTLM, sizeof(srv));
    srv[1] = users;
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_cred(&sc, SECPKG_CRED_INBOUND, srv), SEC_E_OK);
    CHECK_ST(n_cred(&cc, SECPKG_CRED_OUTBOUND, CLI_NTLM), SEC_E_OK);
    CHECK_ST(n_loop(&h, &cc, &sc, "HTTP/server.testdom",
                    ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY, NULL),
             SEC_E_OK);
    CHECK(h.nlegs == 5);
    CHECK_ST(spnego_decode(h.tok[0], h.len[0], &t0), SEC_E_OK);
    CHECK_ST(spnego_decode(h.tok[2], h.len[2], &t2), SEC_E_OK);
    CHECK_ST(spnego_decode(h.tok[3], h.len[3], &t3), SEC_E_OK);
    CHECK(t2.resp.mech_list_mic.present && t2.resp.mech_list_mic.len == 16);
    CHECK(t3.resp.mech_list_mic.present && t3.resp.mech_list_mic.len == 16);
    csub = ntlm_sub(&h.cctx);
    ssub = ntlm_sub(&h.sctx);
    CHECK(csub && ssub);
    if (csub && ssub && t2.resp.mech_list_mic.len == 16 && t3.resp.mech_list_mic.len == 16) {
        const ntlm_ctx *cn = csub->state, *sn = ssub->state;
        const uint8_t *cmic = t2.resp.mech_list_mic.p, *smic = t3.resp.mech_list_mic.p;
        uint8_t c2s[8], s2c[8], ks[8], sig[16];
        char cmsg[] = "first message, client to server", smsg[] = "first message, server to client";
        /* the signatures' checksums go through RC4 only with both flags */
        CHECK((cn->flags & NTLMSSP_NEGOTIATE_KEY_EXCH) &&
              (cn->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY) && cn->flags == sn->flags);
        fresh_keystream(cn, true, c2s);
        fresh_keystream(cn, false, s2c);
        /* the MICs: SeqNum 0, each direction's first keystream bytes */
        CHECK(sspx_get_le32(cmic + 12) == 0 && sspx_get_le32(smic + 12) == 0);
        used_keystream(cn, true, cmic, t0.init.mech_types.p, t0.init.mech_types.len, ks);
        CHECK_MEM(ks, c2s, 8);
        used_keystream(cn, false, smic, t0.init.mech_types.p, t0.init.mech_types.len, ks);
        CHECK_MEM(ks, s2c, 8);
        /* after the reset: the same keystream bytes again, SeqNum 1 */
        CHECK(cn->send_seq == 1 && cn->recv_seq == 1 && sn->send_seq == 1 && sn->recv_seq == 1);
        CHECK_ST(sign_one(&h.cctx, cmsg, sig), SEC_E_OK);
        CHECK(sspx_get_le32(sig + 12) == 1);
        used_keystream(cn, true, sig, cmsg, strlen(cmsg), ks);
        CHECK_MEM(ks, c2s, 8);
        CHECK_ST(verify_one(&h.sctx, cmsg, sig), SEC_E_OK);
        CHECK_ST(sign_one(&h.sctx, smsg, sig), SEC_E_OK);
        CHECK(sspx_get_le32(sig + 12) == 1);
        used_keystream(cn, false, sig, smsg, strlen(smsg), ks);
        CHECK_MEM(ks, s2c, 8);
        CHECK_ST(verify_one(&h.cctx, smsg, sig), SEC_E_OK);
    }
    sspx_ctx_unref(csub);
    sspx_ctx_unref(ssub);
    messages(&h.cctx, &h.sctx); /* and on from there */
    n_free(&h);
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

/*
 * Negative: a peer that does not reset after the MIC (sspx before it did, or
 * an SPNEGO without MS-SPNG 3.3.5.1) is out of step from the first message:
 * refused with SEC_E_MESSAGE_ALTERED, never accepted, and the failed check
 * leaves the receiver as it was. The reset slot refuses an incomplete NTLM
 * context; Kerberos has none (its messages are checked in kerberos()).
 */
static void ntlm_reset_negative(void)
{
    CredHandle sc, cc;
    static n_hs h;
    const char *srv[7];
    sspx_ctx *ssub;
    uint8_t sig[16], skip[8] = {0};
    char msg[] = "after the handshake";
    memcpy(srv, SRV_NTLM, sizeof(srv));
    srv[1] = users;
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_cred(&sc, SECPKG_CRED_INBOUND, srv), SEC_E_OK);
    CHECK_ST(n_cred(&cc, SECPKG_CRED_OUTBOUND, CLI_NTLM), SEC_E_OK);
    CHECK_ST(n_loop(&h, &cc, &sc, "HTTP/server.testdom",
                    ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY, NULL),
             SEC_E_OK);
    ssub = ntlm_sub(&h.sctx);
    CHECK(ssub != NULL);
    if (ssub) {
        ntlm_ctx *sn = ssub->state;
        /* the server's receive handle where it was before the reset: 8 bytes in */
        CHECK_ST(sspx_rc4_update(&sn->recv_rc4, skip, skip, sizeof(skip)), SEC_E_OK);
        CHECK_ST(sign_one(&h.cctx, msg, sig), SEC_E_OK);
        CHECK_ST(verify_one(&h.sctx, msg, sig), SEC_E_MESSAGE_ALTERED);
        CHECK_ST(verify_one(&h.sctx, msg, sig), SEC_E_MESSAGE_ALTERED);
        CHECK(sn->recv_seq == 1);
        /* a reset brings it back in step with the client's first keystream bytes;
         * the client's next message is its second (SeqNum 2, keystream 8 bytes on):
         * a receiver reset at the wrong moment is refused the same way */
        CHECK_ST(ssub->pkg->reset_crypto(ssub), SEC_E_OK);
        CHECK_ST(verify_one(&h.sctx, msg, sig), SEC_E_OK);
        CHECK_ST(sign_one(&h.cctx, msg, sig), SEC_E_OK);
        CHECK(sspx_get_le32(sig + 12) == 2);
        CHECK_ST(ssub->pkg->reset_crypto(ssub), SEC_E_OK);
        CHECK_ST(verify_one(&h.sctx, msg, sig), SEC_E_MESSAGE_ALTERED);
    }
    sspx_ctx_unref(ssub);
    n_free(&h);

    /* an NTLM context still in its handshake: nothing to reset, refused */
    {
        SecBuffer ob = {TOKMAX, SECBUFFER_TOKEN, h.tok[0]};
        SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
        CredHandle nc;
        sspx_ctx *ctx = NULL;
        CHECK_ST(t_client_cred(&nc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
        CHECK_ST(InitializeSecurityContextA(&nc, NULL, "HTTP/x", 0, 0, SECURITY_NATIVE_DREP, NULL,
                                            0, &h.cctx, &od, &h.cattr, NULL),
                 SEC_I_CONTINUE_NEEDED);
        h.have_c = 1;
        CHECK_ST(sspx_handle_get(&h.cctx, SSPX_OBJ_CTX, (void **)&ctx), SEC_E_OK);
        if (ctx) {
            CHECK(ctx->pkg->reset_crypto != NULL);
            CHECK_ST(ctx->pkg->reset_crypto(ctx), SEC_E_INVALID_HANDLE);
            sspx_ctx_unref(ctx);
        }
        n_free(&h);
        FreeCredentialsHandle(&nc);
    }
    /* Kerberos: no slot, nothing reset */
    {
        const sspx_package *krb = sspx_package_find("Kerberos");
        CHECK(!krb || krb->reset_crypto == NULL);
    }
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

/* one server call with a first token */
static SECURITY_STATUS accept_one(CredHandle *sc, const uint8_t *tok, ULONG len)
{
    uint8_t out[4096];
    CtxtHandle ctx;
    ULONG attr;
    SecBuffer ob = {sizeof(out), SECBUFFER_TOKEN, out}, ib = {len, SECBUFFER_TOKEN, (void *)tok};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob}, id = {SECBUFFER_VERSION, 1, &ib};
    SECURITY_STATUS st =
        AcceptSecurityContext(sc, NULL, &id, 0, SECURITY_NATIVE_DREP, &ctx, &od, &attr, NULL);
    if (st >= 0)
        DeleteSecurityContext(&ctx);
    return st;
}

static int flip_leg = -1;
static void flip_mic(int leg, uint8_t *tok, ULONG *len)
{
    spnego_token t;
    if (leg != flip_leg || spnego_decode(tok, *len, &t) != SEC_E_OK ||
        t.kind != SPNEGO_NEG_TOKEN_RESP || !t.resp.mech_list_mic.present)
        return;
    tok[t.resp.mech_list_mic.off + t.resp.mech_list_mic.len - 1] ^= 0x01;
}

static void bad_tokens(void)
{
    CredHandle sc, cc;
    static n_hs h;
    static uint8_t deep[4096];
    const char *srv[7];
    size_t n = 0;
    memcpy(srv, SRV_NTLM, sizeof(srv));
    srv[1] = users;
    CHECK_ST(n_cred(&sc, SECPKG_CRED_INBOUND, srv), SEC_E_OK);
    CHECK_ST(n_cred(&cc, SECPKG_CRED_OUTBOUND, CLI_NTLM), SEC_E_OK);

    /* the client's mechListMIC altered in flight */
    flip_leg = 2;
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_loop(&h, &cc, &sc, "HTTP/server.testdom", 0, flip_mic), SEC_E_MESSAGE_ALTERED);
    n_free(&h);
    /* the server's */
    flip_leg = 3;
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_loop(&h, &cc, &sc, "HTTP/server.testdom", 0, flip_mic), SEC_E_MESSAGE_ALTERED);
    n_free(&h);
    flip_leg = -1;

    /* NEGOEX, GSS-framed */
    static const uint8_t negoex[] = {0x60, 0x0e, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
                                     0x01, 0x82, 0x37, 0x02, 0x02, 0x1e, 0x00, 0x00};
    CHECK_ST(accept_one(&sc, negoex, sizeof(negoex)), SEC_E_INVALID_TOKEN);
    CHECK(strstr(sspx_last_error_string(), "NEGOEX") != NULL);
    /* garbage; an empty token means "server first" (a NegTokenInit2: server_hints) */
    CHECK_ST(accept_one(&sc, (const uint8_t *)"hello, world", 12), SEC_E_INVALID_TOKEN);
    CHECK_ST(accept_one(&sc, (const uint8_t *)"", 0), SEC_I_CONTINUE_NEEDED);
    /* truncated NegTokenInit */
    memset(&h, 0, sizeof(h));
    {
        SecBuffer ob = {TOKMAX, SECBUFFER_TOKEN, h.tok[0]};
        SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
        CHECK_ST(InitializeSecurityContextA(&cc, NULL, "HTTP/x", 0, 0, SECURITY_NATIVE_DREP, NULL,
                                            0, &h.cctx, &od, &h.cattr, NULL),
                 SEC_I_CONTINUE_NEEDED);
        h.have_c = 1;
        for (ULONG cut = 1; cut < ob.cbBuffer; cut += 7)
            CHECK_ST(accept_one(&sc, h.tok[0], cut), SEC_E_INVALID_TOKEN);
        /* a NegTokenResp as the first token */
        CHECK_ST(accept_one(&sc, (const uint8_t *)"\xa1\x07\x30\x05\xa0\x03\x0a\x01\x01", 9),
                 SEC_E_INVALID_TOKEN);
    }
    n_free(&h);
    /* deeply nested: 60 len 06 06 <spnego> then 1000 levels of a0 */
    {
        size_t levels = 1000, inner = 2 * levels, i;
        deep[n++] = 0x60;
        deep[n++] = 0x82;
        deep[n++] = (uint8_t)((inner + 8) >> 8);
        deep[n++] = (uint8_t)(inner + 8);
        memcpy(deep + n, SPNEGO_OID_SPNEGO, 8);
        n += 8;
        for (i = 0; i < levels && n + 4 < sizeof(deep); i++) {
            size_t rest = 2 * (levels - i - 1);
            deep[n++] = 0xa0;
            deep[n++] = rest < 128 ? (uint8_t)rest : 0x80; /* indefinite once too long */
        }
        CHECK_ST(accept_one(&sc, deep, (ULONG)n), SEC_E_INVALID_TOKEN);
        /* definite lengths all the way: 30 82 hi lo nested */
        n = 0;
        memcpy(deep, "\x60\x82\x0f\xa8", 4);
        n = 4;
        memcpy(deep + n, SPNEGO_OID_SPNEGO, 8);
        n += 8;
        for (i = 0; n + 4 <= sizeof(deep) - 4; i++) {
            size_t rest = sizeof(deep) - 4 - n - 4;
            deep[n++] = 0xa0;
            deep[n++] = 0x82;
            deep[n++] = (uint8_t)(rest >> 8);
            deep[n++] = (uint8_t)rest;
        }
        CHECK(accept_one(&sc, deep, (ULONG)n) == SEC_E_INVALID_TOKEN);
    }
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

/* ------------------------------------------------ with the realm (Kerberos) */

static void kerberos(void)
{
    CredHandle sc, cc;
    static n_hs h;
    CHECK_ST(srv_cred(&sc, 0, 1), SEC_E_OK);
    CHECK_ST(n_cred(&cc, SECPKG_CRED_OUTBOUND, NULL), SEC_E_OK); /* KRB5CCNAME */
    memset(&h, 0, sizeof(h));
    CHECK_ST(
        n_loop(&h, &cc, &sc, "HTTP/localhost", ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY, NULL),
        SEC_E_OK);
    CHECK(h.nlegs == 3 && h.len[2] == 0); /* init(AP-REQ), resp(completed, AP-REP), (nothing) */
    if (h.nlegs >= 2) {
        spnego_token t;
        CHECK_ST(spnego_decode(h.tok[0], h.len[0], &t), SEC_E_OK);
        CHECK(t.kind == SPNEGO_NEG_TOKEN_INIT && t.init.nmechs == 1);
        CHECK_ST(spnego_decode(h.tok[1], h.len[1], &t), SEC_E_OK);
        CHECK(t.kind == SPNEGO_NEG_TOKEN_RESP && t.resp.neg_state == SPNEGO_ACCEPT_COMPLETED &&
              t.resp.response_token.present);
    }
    check_name(&h.sctx, "TEST.LOCAL\\alice");
    check_nego_info(&h.sctx, "Kerberos");
    check_nego_info(&h.cctx, "Kerberos");
    messages(&h.cctx, &h.sctx);
    n_free(&h);
    FreeCredentialsHandle(&cc);

    /* a raw GSS-framed AP-REQ (the Kerberos package's client) into Negotiate: answered raw */
    CHECK_ST(AcquireCredentialsHandleA(NULL, "Kerberos", SECPKG_CRED_OUTBOUND, NULL, NULL, NULL,
                                       NULL, &cc, NULL),
             SEC_E_OK);
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_loop(&h, &cc, &sc, "HTTP/localhost", ISC_REQ_MUTUAL_AUTH, NULL), SEC_E_OK);
    CHECK(h.nlegs >= 2 && h.tok[1][0] == 0x60); /* the AP-REP, GSS-framed, not a NegTokenResp */
    check_name(&h.sctx, "TEST.LOCAL\\alice");
    check_nego_info(&h.sctx, "Kerberos");
    n_free(&h);
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

/* One server leg on `tok` with ASC_REQ_EXTENDED_ERROR; the output to out. */
static SECURITY_STATUS accept_ext(CredHandle *sc, uint8_t *tok, ULONG len, uint8_t *out,
                                  ULONG *out_len, ULONG *attr)
{
    SecBuffer ib = {len, SECBUFFER_TOKEN, tok}, ob = {TOKMAX, SECBUFFER_TOKEN, out};
    SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib}, od = {SECBUFFER_VERSION, 1, &ob};
    CtxtHandle x;
    SECURITY_STATUS st = AcceptSecurityContext(sc, NULL, &id, ASC_REQ_EXTENDED_ERROR,
                                               SECURITY_NATIVE_DREP, &x, &od, attr, NULL);
    *out_len = ob.cbBuffer;
    if (st >= 0)
        DeleteSecurityContext(&x);
    return st;
}

/* "60 .. 06 09 <krb5> 03 00": a GSS-framed KRB-ERROR (RFC 4121 4.1) */
static int krb_error_framed(const uint8_t *p, size_t n)
{
    static const uint8_t oid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
    size_t off = 2 + ((p[1] & 0x80) ? (p[1] & 0x7f) : 0);
    return n > off + sizeof(oid) + 2 && p[0] == 0x60 && !memcmp(p + off, oid, sizeof(oid)) &&
           p[off + sizeof(oid)] == 0x03 && p[off + sizeof(oid) + 1] == 0x00;
}

/* ASC_REQ_EXTENDED_ERROR: a Kerberos failure's KRB-ERROR reaches the client,
 * inside a NegTokenResp (negState reject) for SPNEGO, raw for a raw AP-REQ. */
static void extended_error(void)
{
    CredHandle sc, cc, kc;
    static n_hs h;
    static uint8_t out[TOKMAX];
    ULONG out_len = 0, attr = 0;
    spnego_token t;
    CHECK_ST(srv_cred(&sc, 0, 1), SEC_E_OK);
    CHECK_ST(n_cred(&cc, SECPKG_CRED_OUTBOUND, NULL), SEC_E_OK);
    memset(&h, 0, sizeof(h));
    {
        SecBuffer ob = {TOKMAX, SECBUFFER_TOKEN, h.tok[0]};
        SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
        CHECK_ST(InitializeSecurityContextA(&cc, NULL, "HTTP/localhost", 0, 0, SECURITY_NATIVE_DREP,
                                            NULL, 0, &h.cctx, &od, &h.cattr, NULL),
                 SEC_I_CONTINUE_NEEDED);
        h.have_c = 1;
        h.len[0] = ob.cbBuffer;
    }
    h.tok[0][h.len[0] - 20] ^= 1; /* the authenticator's cipher, the init's last field */
    CHECK_ST(accept_ext(&sc, h.tok[0], h.len[0], out, &out_len, &attr), SEC_E_LOGON_DENIED);
    CHECK(attr & ASC_RET_EXTENDED_ERROR);
    CHECK(out_len > 0 && spnego_decode(out, out_len, &t) == SEC_E_OK &&
          t.kind == SPNEGO_NEG_TOKEN_RESP && t.resp.neg_state == SPNEGO_REJECT &&
          t.resp.response_token.present &&
          krb_error_framed(t.resp.response_token.p, t.resp.response_token.len));
    /* without the flag: nothing to send */
    {
        SecBuffer ib = {h.len[0], SECBUFFER_TOKEN, h.tok[0]}, ob = {TOKMAX, SECBUFFER_TOKEN, out};
        SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib}, od = {SECBUFFER_VERSION, 1, &ob};
        CtxtHandle x;
        CHECK_ST(
            AcceptSecurityContext(&sc, NULL, &id, 0, SECURITY_NATIVE_DREP, &x, &od, &attr, NULL),
            SEC_E_LOGON_DENIED);
        CHECK(ob.cbBuffer == 0);
    }
    n_free(&h);
    /* a raw AP-REQ: the KRB-ERROR raw */
    CHECK_ST(AcquireCredentialsHandleA(NULL, "Kerberos", SECPKG_CRED_OUTBOUND, NULL, NULL, NULL,
                                       NULL, &kc, NULL),
             SEC_E_OK);
    memset(&h, 0, sizeof(h));
    {
        SecBuffer ob = {TOKMAX, SECBUFFER_TOKEN, h.tok[0]};
        SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
        CHECK_ST(InitializeSecurityContextA(&kc, NULL, "HTTP/localhost", 0, 0, SECURITY_NATIVE_DREP,
                                            NULL, 0, &h.cctx, &od, &h.cattr, NULL),
                 SEC_E_OK);
        h.have_c = 1;
        h.len[0] = ob.cbBuffer;
    }
    h.tok[0][h.len[0] - 20] ^= 1;
    CHECK_ST(accept_ext(&sc, h.tok[0], h.len[0], out, &out_len, &attr), SEC_E_LOGON_DENIED);
    CHECK(out_len > 0 && krb_error_framed(out, out_len));
    n_free(&h);
    FreeCredentialsHandle(&kc);
    FreeCredentialsHandle(&cc);
    FreeCredentialsHandle(&sc);
}

/* The server speaks first (empty input, as SMB): NegTokenInit2 with its
 * mechanisms and the MS-SPNG hint; the client offers only those. */
static SECURITY_STATUS hinted_loop(CredHandle *cc, CredHandle *sc, size_t *client_nmechs, char *who,
                                   size_t who_cap)
{
    static uint8_t tok[2][TOKMAX];
    CtxtHandle cx, sx;
    ULONG attr, len;
    SECURITY_STATUS cst, sst;
    int have_c = 0, legs = 0;
    spnego_token t;
    SecBuffer ob = {TOKMAX, SECBUFFER_TOKEN, tok[0]}, ib;
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob}, id = {SECBUFFER_VERSION, 1, &ib};
    sst = AcceptSecurityContext(sc, NULL, NULL, 0, SECURITY_NATIVE_DREP, &sx, &od, &attr, NULL);
    if (sst != SEC_I_CONTINUE_NEEDED)
        return sst;
    len = ob.cbBuffer;
    CHECK_ST(spnego_decode(tok[0], len, &t), SEC_E_OK);
    CHECK(t.kind == SPNEGO_NEG_TOKEN_INIT && t.init.nmechs >= 1);
    /* a second empty call is no handshake */
    {
        SecBuffer o2 = {TOKMAX, SECBUFFER_TOKEN, tok[1]};
        SecBufferDesc d2 = {SECBUFFER_VERSION, 1, &o2};
        CHECK_ST(
            AcceptSecurityContext(NULL, &sx, NULL, 0, SECURITY_NATIVE_DREP, &sx, &d2, &attr, NULL),
            SEC_E_INVALID_TOKEN);
        DeleteSecurityContext(&sx);
        sst = AcceptSecurityContext(sc, NULL, NULL, 0, SECURITY_NATIVE_DREP, &sx, &od, &attr, NULL);
        len = ob.cbBuffer;
    }
    cst = sst = SEC_I_CONTINUE_NEEDED;
    for (int cur = 0; legs < 12; legs++, cur ^= 1) {
        ib = (SecBuffer){len, SECBUFFER_TOKEN, tok[cur]};
        ob = (SecBuffer){TOKMAX, SECBUFFER_TOKEN, tok[cur ^ 1]};
        if (legs % 2 == 0) {
            if (cst != SEC_I_CONTINUE_NEEDED)
                break;
            cst = InitializeSecurityContextA(have_c ? NULL : cc, have_c ? &cx : NULL,
                                             "HTTP/localhost", 0, 0, SECURITY_NATIVE_DREP,
                                             len ? &id : NULL, 0, &cx, &od, &attr, NULL);
            if (cst < 0)
                break;
            if (!have_c && spnego_decode(tok[cur ^ 1], ob.cbBuffer, &t) == SEC_E_OK)
                *client_nmechs = t.init.nmechs;
            have_c = 1;
        } else {
            if (sst != SEC_I_CONTINUE_NEEDED || !len)
                break;
            sst = AcceptSecurityContext(NULL, &sx, &id, 0, SECURITY_NATIVE_DREP, &sx, &od, &attr,
                                        NULL);
            if (sst < 0)
                break;
        }
        len = ob.cbBuffer;
    }
    if (sst == SEC_E_OK) {
        SecPkgContext_NamesA n;
        if (QueryContextAttributesA(&sx, SECPKG_ATTR_NAMES, &n) == SEC_E_OK) {
            snprintf(who, who_cap, "%s", n.sUserName);
            FreeContextBuffer(n.sUserName);
        }
    }
    if (have_c)
        DeleteSecurityContext(&cx);
    DeleteSecurityContext(&sx);
    return cst < 0 ? cst : sst < 0 ? sst : (cst == SEC_E_OK && sst == SEC_E_OK) ? SEC_E_OK : sst;
}

static void server_hints(void)
{
    CredHandle sboth, sntlm, cc;
    size_t nm = 0;
    char who[128] = "";
    CHECK_ST(srv_cred(&sboth, 1, 1), SEC_E_OK);
    CHECK_ST(srv_cred(&sntlm, 1, 0), SEC_E_OK);
    CHECK_ST(n_cred(&cc, SECPKG_CRED_OUTBOUND, CLI_BOTH), SEC_E_OK);
    CHECK_ST(hinted_loop(&cc, &sboth, &nm, who, sizeof(who)), SEC_E_OK);
    CHECK(nm == 2 && strcmp(who, "TEST.LOCAL\\bob") == 0);
    /* an NTLM-only server's hint: the client still offers both (the hint is
     * not integrity-protected: following it would be a downgrade), the
     * server picks NTLM, MICs then required */
    nm = 0;
    CHECK_ST(hinted_loop(&cc, &sntlm, &nm, who, sizeof(who)), SEC_E_OK);
    CHECK(nm == 2 && strcmp(who, "TEST.LOCAL\\bob") == 0);
    FreeCredentialsHandle(&sboth);
    FreeCredentialsHandle(&sntlm);
    FreeCredentialsHandle(&cc);
}

/* Who picks the mechanism: by default the server, its most preferred one the
 * client lists anywhere (packages gives the order); selection=client: the
 * client's first one the server offers. The mechanism actually used and the
 * leg count tell. */
static void selection(void)
{
    static const char *const cli_ntlm_first[] = {"user",       "bob",           "domain",
                                                 "TEST.LOCAL", "password",      "Bob#Pw22",
                                                 "packages",   "ntlm,kerberos", NULL};
    const char *kv[16];
    CredHandle sboth, sclient, sntlm_pref, cc_nf, cc_kf, bad;
    static n_hs h;
    spnego_token t;
    int n = 0;
    CHECK_ST(srv_cred(&sboth, 1, 1), SEC_E_OK);
    CHECK_ST(n_cred(&cc_nf, SECPKG_CRED_OUTBOUND, cli_ntlm_first), SEC_E_OK);
    CHECK_ST(n_cred(&cc_kf, SECPKG_CRED_OUTBOUND, CLI_BOTH), SEC_E_OK);
    kv[n++] = "users_file";
    kv[n++] = users;
    kv[n++] = "netbios_domain";
    kv[n++] = "TESTDOM";
    kv[n++] = "keytab";
    kv[n++] = keytab;
    kv[n++] = "selection";
    kv[n++] = "client";
    kv[n] = NULL;
    CHECK_ST(n_cred(&sclient, SECPKG_CRED_INBOUND, kv), SEC_E_OK);
    kv[6] = "packages";
    kv[7] = "ntlm,kerberos";
    CHECK_ST(n_cred(&sntlm_pref, SECPKG_CRED_INBOUND, kv), SEC_E_OK);

    /* the client lists [NTLM, Kerberos]; the server prefers Kerberos and
     * takes it, though not the client's first: supportedMech, MICs */
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_loop(&h, &cc_nf, &sboth, "HTTP/localhost", 0, NULL), SEC_E_OK);
    CHECK_ST(spnego_decode(h.tok[0], h.len[0], &t), SEC_E_OK);
    CHECK(t.kind == SPNEGO_NEG_TOKEN_INIT && t.init.nmechs == 2 &&
          der_oid_eq(&t.init.mechs[0], (const uint8_t *)SPNEGO_OID_NTLMSSP,
                     SPNEGO_OID_LEN(SPNEGO_OID_NTLMSSP)));
    CHECK_ST(spnego_decode(h.tok[1], h.len[1], &t), SEC_E_OK);
    CHECK(t.kind == SPNEGO_NEG_TOKEN_RESP && t.resp.has_supported_mech &&
          der_oid_eq(&t.resp.supported_mech, (const uint8_t *)SPNEGO_OID_KRB5,
                     SPNEGO_OID_LEN(SPNEGO_OID_KRB5)));
    check_nego_info(&h.sctx, "Kerberos");
    check_name(&h.sctx, "TEST.LOCAL\\bob");
    printf("info: server-preferred Kerberos, no mutual: %d legs\n", h.nlegs);
    n_free(&h);
    /* with mutual auth the client can make its MIC only after the AP-REP:
     * the server sends that with its MIC and waits for the client's */
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_loop(&h, &cc_nf, &sboth, "HTTP/localhost", ISC_REQ_MUTUAL_AUTH, NULL), SEC_E_OK);
    check_nego_info(&h.sctx, "Kerberos");
    CHECK(h.cattr & ISC_RET_MUTUAL_AUTH);
    CHECK(h.sattr & ASC_RET_MUTUAL_AUTH);
    messages(&h.cctx, &h.sctx);
    n_free(&h);
    /* the same client, a server that lets the client choose: NTLM */
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_loop(&h, &cc_nf, &sclient, "HTTP/localhost", 0, NULL), SEC_E_OK);
    check_nego_info(&h.sctx, "NTLM");
    n_free(&h);
    /* a server preferring NTLM, the client listing Kerberos first: NTLM */
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_loop(&h, &cc_kf, &sntlm_pref, "HTTP/localhost", 0, NULL), SEC_E_OK);
    check_nego_info(&h.sctx, "NTLM");
    check_nego_info(&h.cctx, "NTLM");
    n_free(&h);
    /* bad values */
    kv[7] = "ntlm,ntlm";
    CHECK_ST(n_cred(&bad, SECPKG_CRED_INBOUND, kv), SEC_E_INVALID_PARAMETER);
    kv[6] = "selection";
    kv[7] = "whoever";
    CHECK_ST(n_cred(&bad, SECPKG_CRED_INBOUND, kv), SEC_E_INVALID_PARAMETER);
    FreeCredentialsHandle(&sboth);
    FreeCredentialsHandle(&sclient);
    FreeCredentialsHandle(&sntlm_pref);
    FreeCredentialsHandle(&cc_nf);
    FreeCredentialsHandle(&cc_kf);
}

/* A client with an explicit identity: a password for Kerberos (its own TGT,
 * as Windows) and NTLM alike */
static void mixed(void)
{
    CredHandle sboth, sntlm, cc, cnorealm;
    static n_hs h;
    CHECK_ST(srv_cred(&sboth, 1, 1), SEC_E_OK);
    CHECK_ST(srv_cred(&sntlm, 1, 0), SEC_E_OK);
    CHECK_ST(n_cred(&cc, SECPKG_CRED_OUTBOUND, CLI_BOTH), SEC_E_OK);

    /* both offered, Kerberos preferred */
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_loop(&h, &cc, &sboth, "HTTP/localhost", ISC_REQ_CONFIDENTIALITY, NULL), SEC_E_OK);
    {
        spnego_token t;
        CHECK_ST(spnego_decode(h.tok[0], h.len[0], &t), SEC_E_OK);
        CHECK(t.kind == SPNEGO_NEG_TOKEN_INIT && t.init.nmechs == 2);
    }
    check_name(&h.sctx, "TEST.LOCAL\\bob");
    check_nego_info(&h.sctx, "Kerberos");
    n_free(&h);

    /* no ticket can be had (the domain is no realm; no KDC is asked beyond
     * the configuration): NTLM alone is offered and used */
    CHECK_ST(n_cred(&cnorealm, SECPKG_CRED_OUTBOUND, CLI_NOREALM), SEC_E_OK);
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_loop(&h, &cnorealm, &sboth, "HTTP/localhost", ISC_REQ_CONFIDENTIALITY, NULL),
             SEC_E_OK);
    {
        spnego_token t;
        CHECK_ST(spnego_decode(h.tok[0], h.len[0], &t), SEC_E_OK);
        CHECK(t.kind == SPNEGO_NEG_TOKEN_INIT && t.init.nmechs == 1);
    }
    check_name(&h.sctx, "TESTDOM\\bob");
    check_nego_info(&h.sctx, "NTLM");
    n_free(&h);
    FreeCredentialsHandle(&cnorealm);

    /* no service principal for the target: fall back to NTLM */
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_loop(&h, &cc, &sboth, "HTTP/nosuchhost.test.local", ISC_REQ_CONFIDENTIALITY, NULL),
             SEC_E_OK);
    {
        spnego_token t;
        CHECK_ST(spnego_decode(h.tok[0], h.len[0], &t), SEC_E_OK);
        CHECK(t.kind == SPNEGO_NEG_TOKEN_INIT && t.init.nmechs == 1);
    }
    check_name(&h.sctx, "TEST.LOCAL\\bob");
    check_nego_info(&h.sctx, "NTLM");
    check_nego_info(&h.cctx, "NTLM");
    messages(&h.cctx, &h.sctx);
    n_free(&h);

    /* an NTLM-only server: picks the client's second choice, MICs required */
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_loop(&h, &cc, &sntlm, "HTTP/localhost", ISC_REQ_CONFIDENTIALITY, NULL), SEC_E_OK);
    check_name(&h.sctx, "TEST.LOCAL\\bob");
    check_nego_info(&h.sctx, "NTLM");
    check_nego_info(&h.cctx, "NTLM");
    messages(&h.cctx, &h.sctx);
    n_free(&h);
    FreeCredentialsHandle(&sboth);
    FreeCredentialsHandle(&sntlm);
    FreeCredentialsHandle(&cc);
}

/* Kerberos removed from the client's mechTypes in flight: the MIC check fails. */
static void strip_krb(int leg, uint8_t *tok, ULONG *len)
{
    spnego_token t;
    spnego_bytes m[SPNEGO_MAX_MECHS];
    size_t n = 0, out;
    static uint8_t buf[TOKMAX];
    if (leg != 0 || spnego_decode(tok, *len, &t) != SEC_E_OK || t.kind != SPNEGO_NEG_TOKEN_INIT)
        return;
    for (size_t i = 0; i < t.init.nmechs; i++)
        if (!der_oid_eq(&t.init.mechs[i], (const uint8_t *)SPNEGO_OID_KRB5,
                        SPNEGO_OID_LEN(SPNEGO_OID_KRB5)))
            m[n++] = (spnego_bytes){t.init.mechs[i].der, t.init.mechs[i].der_len};
    out = spnego_encode_init(buf, sizeof(buf), m, n, 0, (spnego_bytes){NULL, 0},
                             (spnego_bytes){NULL, 0});
    CHECK(out > 0);
    memcpy(tok, buf, out);
    *len = (ULONG)out;
}

static void downgrade(void)
{
    CredHandle sboth, cc;
    static n_hs h;
    CHECK_ST(srv_cred(&sboth, 1, 1), SEC_E_OK);
    CHECK_ST(n_cred(&cc, SECPKG_CRED_OUTBOUND, CLI_BOTH), SEC_E_OK);
    memset(&h, 0, sizeof(h));
    CHECK_ST(n_loop(&h, &cc, &sboth, "HTTP/localhost", 0, strip_krb), SEC_E_MESSAGE_ALTERED);
    CHECK(h.nlegs == 5); /* init, resp(supportedMech NTLM), NEGOTIATE, CHALLENGE, AUTH+MIC */
    n_free(&h);
    FreeCredentialsHandle(&sboth);
    FreeCredentialsHandle(&cc);
}

int main(int argc, char **argv)
{
    char src[1024];
    realm_source_dir(argc, argv, __FILE__, src, sizeof(src));
    signal(SIGPIPE, SIG_IGN);
    users = t_users_file("TESTDOM:bob:Passw0rd!\nTEST.LOCAL:bob:Bob#Pw22\n");
    /* before the realm: no Kerberos configuration at all */
    package_listed();
    credentials();
    ntlm_spnego();
    ntlm_reset();
    ntlm_reset_negative();
    raw_ntlm();
    bad_tokens();
    if (realm_start(src) != 0) {
        realm_stop();
        t_users_free(users);
        fprintf(stderr, "FAIL: could not start the test realm\n");
        return 1;
    }
    kerberos();
    extended_error();
    server_hints();
    selection();
    mixed();
    downgrade();
    realm_stop();
    t_users_free(users);
    printf("%d checks, %d failures\n", t_checks, t_failures);
    return t_failures ? 1 : 0;
}
