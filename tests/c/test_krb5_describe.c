/* Kerberos token descriptions (wire/krb5_describe.c) over real tokens from
 * a throwaway Heimdal KDC (tests/realm): AP-REQs with and without mutual
 * authentication, GSS-framed and raw, the AP-REP, KRB-ERRORs from
 * ASC_REQ_EXTENDED_ERROR, and the same inside SPNEGO (Negotiate); then
 * every truncation of a real AP-REQ, bit flips, garbage, deep nesting and
 * hand-made messages (wire/der.h's writer) for the fields the realm does
 * not produce.
 *
 *   test_krb5_describe [SOURCE_DIR]   (default: the tree this file was compiled from)
 *
 * SSPX_KRB_DESCRIBE_SEEDS=DIR writes the real tokens to DIR (the seeds of
 * tests/fuzz/corpus/fuzz_krb5_describe). A missing Heimdal KDC is a
 * failure, not a skip. */
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "core/core.h"
#include "fixtures.h"
#include "wire/der.h"
#include "wire/krb5_describe.h"
#include "wire/spnego_msg.h"

#define REALM_TMP_PREFIX "/tmp/sspx-kdesc-XXXXXX"
#include "realm_fixture.h"

#define TOKMAX 16384

/* ---------------------------------------------------------------- helpers */

static const sspx_desc *kid(const sspx_desc *d, const char *name)
{
    for (size_t i = 0; d && i < sspx_desc_child_count(d); i++)
        if (strcmp(sspx_desc_name(sspx_desc_child(d, i)), name) == 0)
            return sspx_desc_child(d, i);
    return NULL;
}

/* "Ticket/SName/NameType": direct children, one name at a time */
static const sspx_desc *at(const sspx_desc *d, const char *path)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = strtok_r(buf, "/", &save); p && d; p = strtok_r(NULL, "/", &save))
        d = kid(d, p);
    return d;
}

static const char *text_at(const sspx_desc *d, const char *path)
{
    const char *t = sspx_desc_text(at(d, path));
    return t ? t : "(none)";
}

static int has_flag(const sspx_desc *flags, const char *name)
{
    return flags && sspx_desc_get_kind(flags) == SSPX_DESC_FLAGS && kid(flags, name) != NULL;
}

/* Every node lies inside the token; bytes nodes are the token's bytes at
 * their offset; string nodes of plain ASCII are too. */
static int nodes_consistent(const sspx_desc *d, const uint8_t *tok, size_t len)
{
    size_t off = sspx_desc_offset(d), n = sspx_desc_length(d), nb = 0;
    const uint8_t *b = sspx_desc_bytes(d, &nb);
    if (off > len || len - off < n)
        return 0;
    if (sspx_desc_get_kind(d) == SSPX_DESC_BYTES && (nb != n || (n && memcmp(tok + off, b, n))))
        return 0;
    for (size_t i = 0; i < sspx_desc_child_count(d); i++)
        if (!nodes_consistent(sspx_desc_child(d, i), tok, len))
            return 0;
    return 1;
}

/* b is a's description shifted by `shift` bytes (a subtree adopted into a
 * SPNEGO description against the mechanism token described alone). */
static int same_tree(const sspx_desc *a, const sspx_desc *b, size_t shift)
{
    const char *ta = sspx_desc_text(a), *tb = sspx_desc_text(b);
    size_t na = 0, nb = 0;
    const uint8_t *ba = sspx_desc_bytes(a, &na), *bb = sspx_desc_bytes(b, &nb);
    if (strcmp(sspx_desc_name(a), sspx_desc_name(b)) ||
        sspx_desc_get_kind(a) != sspx_desc_get_kind(b) ||
        sspx_desc_offset(a) + shift != sspx_desc_offset(b) ||
        sspx_desc_length(a) != sspx_desc_length(b) || sspx_desc_uint(a) != sspx_desc_uint(b) ||
        !ta != !tb || (ta && strcmp(ta, tb)) || na != nb || (na && memcmp(ba, bb, na)) ||
        sspx_desc_child_count(a) != sspx_desc_child_count(b))
        return 0;
    for (size_t i = 0; i < sspx_desc_child_count(a); i++)
        if (!same_tree(sspx_desc_child(a, i), sspx_desc_child(b, i), shift))
            return 0;
    return 1;
}

static const char *seed_dir;

static void seed(const char *name, const uint8_t *p, size_t n)
{
    char path[1024];
    FILE *f;
    if (!seed_dir)
        return;
    snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n)
        fprintf(stderr, "cannot write %s\n", path);
    if (f)
        fclose(f);
}

static void print_tree(const char *title, const sspx_desc *d)
{
    sspx_buf txt;
    if (sspx_desc_to_text(d, &txt) == SEC_E_OK) {
        printf("---- %s\n%s", title, (const char *)txt.data);
        sspx_buf_free(&txt);
    }
}

/* Offset of the AP-REQ/AP-REP/KRB-ERROR inside "60 len 06 09 oid TOK_ID" */
static size_t inner_off(const uint8_t *p)
{
    size_t off = 2;
    if (p[1] & 0x80)
        off += p[1] & 0x7f;
    return off + 11 + 2;
}

static SECURITY_STATUS cred(const char *pkg, unsigned usage, CredHandle *h)
{
    sspx_config *cfg = sspx_config_new();
    SECURITY_STATUS st;
    if (usage == SECPKG_CRED_INBOUND && sspx_config_set(cfg, "keytab", keytab) != SEC_E_OK)
        abort();
    if (!strcmp(pkg, "Negotiate") && sspx_config_set(cfg, "packages", "kerberos") != SEC_E_OK)
        abort();
    st = AcquireCredentialsHandleA(NULL, (char *)pkg, usage, NULL, cfg, NULL, NULL, h, NULL);
    sspx_config_free(&cfg);
    return st;
}

typedef struct leg {
    uint8_t out[TOKMAX];
    ULONG len, attr;
    SECURITY_STATUS st;
} leg;

static SECURITY_STATUS client_leg(CredHandle *cc, CtxtHandle *ctx, int first, ULONG req,
                                  const uint8_t *in, ULONG in_len, leg *l)
{
    SecBuffer ob = {TOKMAX, SECBUFFER_TOKEN, l->out}, ib = {in_len, SECBUFFER_TOKEN, (void *)in};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob}, id = {SECBUFFER_VERSION, 1, &ib};
    l->st = InitializeSecurityContextA(cc, first ? NULL : ctx, TARGET, req, 0, SECURITY_NATIVE_DREP,
                                       in ? &id : NULL, 0, ctx, &od, &l->attr, NULL);
    l->len = ob.cbBuffer;
    return l->st;
}

static SECURITY_STATUS server_leg(CredHandle *sc, CtxtHandle *ctx, ULONG req, const uint8_t *in,
                                  ULONG in_len, leg *l)
{
    SecBuffer ob = {TOKMAX, SECBUFFER_TOKEN, l->out}, ib = {in_len, SECBUFFER_TOKEN, (void *)in};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob}, id = {SECBUFFER_VERSION, 1, &ib};
    l->st =
        AcceptSecurityContext(sc, NULL, &id, req, SECURITY_NATIVE_DREP, ctx, &od, &l->attr, NULL);
    l->len = ob.cbBuffer;
    return l->st;
}

/* ------------------------------------------------------- real tokens */

static uint8_t apreq_mutual[TOKMAX], apreq_plain[TOKMAX];
static size_t apreq_mutual_len, apreq_plain_len;

/* The AP-REQ's fields (framed: the GSS framing too). */
static void check_apreq(const sspx_desc *d, const uint8_t *tok, size_t len, int framed, int mutual)
{
    const sspx_desc *n;
    size_t blen = 0;
    CHECK(d && !strcmp(sspx_desc_name(d), "Kerberos"));
    CHECK(sspx_desc_offset(d) == 0 && sspx_desc_length(d) == len);
    n = at(d, "MessageType");
    CHECK(n == sspx_desc_child(d, 0)); /* the first enum names the message */
    CHECK(sspx_desc_get_kind(n) == SSPX_DESC_ENUM && sspx_desc_uint(n) == 14);
    CHECK(!strcmp(text_at(d, "MessageType"), "AP-REQ"));
    /* its place: msg-type's INTEGER 02 01 0e */
    CHECK(sspx_desc_length(n) == 3 && tok[sspx_desc_offset(n) + 2] == 14);
    if (framed) {
        CHECK(!strcmp(text_at(d, "ThisMech"), "1.2.840.113554.1.2.2 (Kerberos 5)"));
        CHECK(sspx_desc_offset(at(d, "ThisMech")) == (tok[1] & 0x80 ? 2u + (tok[1] & 0x7f) : 2u));
        n = at(d, "TokId");
        CHECK(sspx_desc_uint(n) == 0x0100 && !strcmp(text_at(d, "TokId"), "KRB_AP_REQ"));
        CHECK(sspx_desc_length(n) == 2 && tok[sspx_desc_offset(n)] == 0x01);
    } else {
        CHECK(at(d, "ThisMech") == NULL && at(d, "TokId") == NULL);
    }
    CHECK(sspx_desc_uint(at(d, "Pvno")) == 5);
    n = at(d, "ApOptions");
    CHECK(n && sspx_desc_get_kind(n) == SSPX_DESC_FLAGS);
    CHECK(has_flag(n, "mutual-required") == mutual);
    CHECK(!!(sspx_desc_uint(n) & 4) == mutual);
    CHECK(!has_flag(n, "use-session-key"));
    CHECK(sspx_desc_uint(at(d, "Ticket/TktVno")) == 5);
    CHECK(!strcmp(text_at(d, "Ticket/Realm"), "TEST.LOCAL"));
    n = at(d, "Ticket/Realm");
    CHECK(n && memcmp(tok + sspx_desc_offset(n), "TEST.LOCAL", 10) == 0);
    CHECK(!strcmp(text_at(d, "Ticket/SName"), "HTTP/localhost"));
    n = at(d, "Ticket/SName/NameType");
    CHECK(n && sspx_desc_get_kind(n) == SSPX_DESC_ENUM);
    /* the ticket's sname as the KDC wrote it: Heimdal says KRB_NT_PRINCIPAL (1) */
    CHECK(sspx_desc_uint(n) == 1 &&
          !strcmp(text_at(d, "Ticket/SName/NameType"), "KRB_NT_PRINCIPAL"));
    n = at(d, "Ticket/SName");
    CHECK(sspx_desc_child_count(n) == 3); /* NameType, "HTTP", "localhost" */
    CHECK(!strcmp(sspx_desc_text(sspx_desc_child(n, 1)), "HTTP") &&
          !strcmp(sspx_desc_text(sspx_desc_child(n, 2)), "localhost"));
    CHECK(sspx_desc_uint(at(d, "Ticket/EncPart/EType")) == 18);
    CHECK(!strcmp(text_at(d, "Ticket/EncPart/EType"), "aes256-cts-hmac-sha1-96"));
    CHECK(at(d, "Ticket/EncPart/Kvno") && sspx_desc_uint(at(d, "Ticket/EncPart/Kvno")) >= 1);
    CHECK(sspx_desc_get_kind(at(d, "Ticket/EncPart/Cipher")) == SSPX_DESC_BYTES);
    (void)sspx_desc_bytes(at(d, "Ticket/EncPart/Cipher"), &blen);
    CHECK(blen > 100); /* an EncTicketPart: the session key, names, times */
    CHECK(sspx_desc_uint(at(d, "Authenticator/EType")) == 18);
    CHECK(at(d, "Authenticator/Kvno") == NULL); /* the session key has none */
    (void)sspx_desc_bytes(at(d, "Authenticator/Cipher"), &blen);
    CHECK(blen > 16 + 12);
    /* the authenticator's cipher ends the token */
    n = at(d, "Authenticator/Cipher");
    CHECK(n && sspx_desc_offset(n) + sspx_desc_length(n) == len);
    CHECK(nodes_consistent(d, tok, len));
}

static void apreq_tokens(CredHandle *cc, CredHandle *sc)
{
    CtxtHandle c, s;
    static leg l1, l2, l3;
    sspx_desc *d = NULL;
    uint8_t raw[TOKMAX];
    size_t off;

    /* no mutual authentication: the AP-REQ alone */
    CHECK_ST(client_leg(cc, &c, 1, 0, NULL, 0, &l1), SEC_E_OK);
    memcpy(apreq_plain, l1.out, l1.len);
    apreq_plain_len = l1.len;
    seed("sspx_apreq_plain", l1.out, l1.len);
    CHECK_ST(sspx_describe("Kerberos", l1.out, l1.len, &d), SEC_E_OK);
    check_apreq(d, l1.out, l1.len, 1, 0);
    print_tree("AP-REQ (GSS-framed, no mutual authentication)", d);
    sspx_desc_free(&d);
    CHECK(d == NULL);
    /* recognised without naming the package */
    CHECK_ST(sspx_describe(NULL, l1.out, l1.len, &d), SEC_E_OK);
    CHECK(d && !strcmp(sspx_desc_name(d), "Kerberos"));
    sspx_desc_free(&d);
    CHECK(krb5_recognise(l1.out, l1.len));
    CHECK_ST(server_leg(sc, &s, 0, l1.out, l1.len, &l2), SEC_E_OK);
    CHECK(l2.len == 0);
    DeleteSecurityContext(&s);
    DeleteSecurityContext(&c);

    /* raw: the same message without the framing, offsets shifted */
    off = inner_off(apreq_plain);
    memcpy(raw, apreq_plain + off, apreq_plain_len - off);
    seed("sspx_apreq_raw", raw, apreq_plain_len - off);
    CHECK(krb5_recognise(raw, apreq_plain_len - off));
    CHECK_ST(sspx_describe(NULL, raw, apreq_plain_len - off, &d), SEC_E_OK);
    check_apreq(d, raw, apreq_plain_len - off, 0, 0);
    sspx_desc_free(&d);

    /* mutual: mutual-required, then the AP-REP */
    CHECK_ST(client_leg(cc, &c, 1, ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY, NULL, 0, &l1),
             SEC_I_CONTINUE_NEEDED);
    memcpy(apreq_mutual, l1.out, l1.len);
    apreq_mutual_len = l1.len;
    seed("sspx_apreq_mutual", l1.out, l1.len);
    CHECK_ST(sspx_describe("Kerberos", l1.out, l1.len, &d), SEC_E_OK);
    check_apreq(d, l1.out, l1.len, 1, 1);
    sspx_desc_free(&d);
    CHECK_ST(server_leg(sc, &s, 0, l1.out, l1.len, &l2), SEC_E_OK);
    CHECK(l2.len > 0);
    seed("sspx_aprep", l2.out, l2.len);
    CHECK(krb5_recognise(l2.out, l2.len));
    CHECK_ST(sspx_describe(NULL, l2.out, l2.len, &d), SEC_E_OK);
    if (d) {
        print_tree("AP-REP", d);
        CHECK(sspx_desc_uint(at(d, "MessageType")) == 15);
        CHECK(!strcmp(text_at(d, "MessageType"), "AP-REP"));
        CHECK(sspx_desc_uint(at(d, "TokId")) == 0x0200 &&
              !strcmp(text_at(d, "TokId"), "KRB_AP_REP"));
        CHECK(sspx_desc_uint(at(d, "Pvno")) == 5);
        CHECK(sspx_desc_uint(at(d, "EncPart/EType")) == 18);
        CHECK(at(d, "EncPart/Kvno") == NULL && at(d, "Ticket") == NULL);
        CHECK(sspx_desc_length(at(d, "EncPart/Cipher")) > 16);
        CHECK(nodes_consistent(d, l2.out, l2.len));
    }
    sspx_desc_free(&d);
    CHECK_ST(
        client_leg(cc, &c, 0, ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY, l2.out, l2.len, &l3),
        SEC_E_OK);
    DeleteSecurityContext(&s);
    DeleteSecurityContext(&c);
}

/* A tampered authenticator and a replay with ASC_REQ_EXTENDED_ERROR. */
static void krb_errors(CredHandle *cc, CredHandle *sc)
{
    CtxtHandle c, s;
    static leg l1, l2;
    static uint8_t bad[TOKMAX];
    sspx_desc *d = NULL;
    const sspx_desc *n;
    const char *t;

    CHECK_ST(client_leg(cc, &c, 1, 0, NULL, 0, &l1), SEC_E_OK);
    memcpy(bad, l1.out, l1.len);
    bad[l1.len - 20] ^= 1; /* inside the authenticator's cipher */
    CHECK_ST(server_leg(sc, &s, ASC_REQ_EXTENDED_ERROR, bad, l1.len, &l2), SEC_E_LOGON_DENIED);
    CHECK(l2.len > 0);
    seed("sspx_krb_error_31", l2.out, l2.len);
    CHECK(krb5_recognise(l2.out, l2.len));
    CHECK_ST(sspx_describe(NULL, l2.out, l2.len, &d), SEC_E_OK);
    if (d) {
        print_tree("KRB-ERROR (tampered authenticator)", d);
        CHECK(!strcmp(sspx_desc_name(d), "Kerberos"));
        CHECK(sspx_desc_uint(at(d, "MessageType")) == 30);
        CHECK(!strcmp(text_at(d, "MessageType"), "KRB-ERROR"));
        CHECK(sspx_desc_uint(at(d, "TokId")) == 0x0300 &&
              !strcmp(text_at(d, "TokId"), "KRB_ERROR"));
        CHECK(sspx_desc_uint(at(d, "Pvno")) == 5);
        n = at(d, "ErrorCode");
        CHECK(n && sspx_desc_get_kind(n) == SSPX_DESC_ENUM && sspx_desc_uint(n) == 31);
        CHECK(!strcmp(text_at(d, "ErrorCode"), "KRB_AP_ERR_BAD_INTEGRITY"));
        CHECK(!strcmp(text_at(d, "Realm"), "TEST.LOCAL"));
        CHECK(!strcmp(text_at(d, "SName"), "HTTP/localhost"));
        t = text_at(d, "STime"); /* "2026-01-02 03:04:05 UTC" */
        CHECK(strlen(t) == 23 && t[4] == '-' && t[10] == ' ' && t[13] == ':' &&
              !strcmp(t + 19, " UTC"));
        n = at(d, "STime");
        CHECK(n && sspx_desc_length(n) == 15 && l2.out[sspx_desc_offset(n) + 14] == 'Z');
        CHECK(at(d, "Susec") != NULL && sspx_desc_uint(at(d, "Susec")) < 1000000);
        CHECK(nodes_consistent(d, l2.out, l2.len));
    }
    sspx_desc_free(&d);
    /* the genuine token, then its replay: KRB_AP_ERR_REPEAT */
    CHECK_ST(server_leg(sc, &s, 0, l1.out, l1.len, &l2), SEC_E_OK);
    DeleteSecurityContext(&s);
    CHECK_ST(server_leg(sc, &s, ASC_REQ_EXTENDED_ERROR, l1.out, l1.len, &l2), SEC_E_INVALID_TOKEN);
    seed("sspx_krb_error_34", l2.out, l2.len);
    CHECK_ST(sspx_describe("Kerberos", l2.out, l2.len, &d), SEC_E_OK);
    CHECK(sspx_desc_uint(at(d, "ErrorCode")) == 34);
    CHECK(!strcmp(text_at(d, "ErrorCode"), "KRB_AP_ERR_REPEAT"));
    sspx_desc_free(&d);
    DeleteSecurityContext(&c);
}

/* SPNEGO: the AP-REQ as the NegTokenInit's mechToken, the AP-REP as the
 * NegTokenResp's responseToken, a KRB-ERROR in a reject. */
static void negotiate(void)
{
    CredHandle cc, sc;
    CtxtHandle c, s;
    static leg l1, l2, l3;
    sspx_desc *d = NULL;
    const sspx_desc *mt, *k;
    CHECK_ST(cred("Negotiate", SECPKG_CRED_OUTBOUND, &cc), SEC_E_OK);
    CHECK_ST(cred("Negotiate", SECPKG_CRED_INBOUND, &sc), SEC_E_OK);
    CHECK_ST(client_leg(&cc, &c, 1, ISC_REQ_MUTUAL_AUTH, NULL, 0, &l1), SEC_I_CONTINUE_NEEDED);
    seed("sspx_spnego_init", l1.out, l1.len);
    CHECK(!krb5_recognise(l1.out, l1.len)); /* SPNEGO's OID, not krb5's */
    CHECK_ST(sspx_describe(NULL, l1.out, l1.len, &d), SEC_E_OK);
    if (d) {
        print_tree("SPNEGO NegTokenInit", d);
        CHECK(!strcmp(sspx_desc_name(d), "SPNEGO"));
        mt = at(d, "MechToken");
        CHECK(mt && sspx_desc_get_kind(mt) == SSPX_DESC_BYTES);
        k = at(d, "MechToken/Kerberos");
        CHECK(k != NULL);
        if (k && mt) {
            sspx_desc *alone = NULL;
            size_t off = sspx_desc_offset(mt), len = sspx_desc_length(mt);
            /* the mechToken described alone, then the same tree shifted */
            CHECK_ST(sspx_describe("Kerberos", l1.out + off, len, &alone), SEC_E_OK);
            check_apreq(alone, l1.out + off, len, 1, 1);
            CHECK(alone && same_tree(alone, k, off));
            sspx_desc_free(&alone);
            CHECK(sspx_desc_offset(k) == off && sspx_desc_length(k) == len);
            CHECK(nodes_consistent(d, l1.out, l1.len));
            CHECK(!strcmp(text_at(k, "Ticket/SName"), "HTTP/localhost"));
        }
    }
    sspx_desc_free(&d);
    CHECK_ST(server_leg(&sc, &s, 0, l1.out, l1.len, &l2), SEC_E_OK);
    seed("sspx_spnego_resp", l2.out, l2.len);
    CHECK_ST(sspx_describe(NULL, l2.out, l2.len, &d), SEC_E_OK);
    if (d) {
        print_tree("SPNEGO NegTokenResp", d);
        CHECK(!strcmp(text_at(d, "NegState"), "accept-completed") ||
              !strcmp(text_at(d, "NegState"), "accept-incomplete"));
        k = at(d, "ResponseToken/Kerberos");
        CHECK(k && sspx_desc_uint(at(k, "MessageType")) == 15);
        CHECK(k && sspx_desc_uint(at(k, "EncPart/EType")) == 18);
        CHECK(nodes_consistent(d, l2.out, l2.len));
    }
    sspx_desc_free(&d);
    CHECK_ST(client_leg(&cc, &c, 0, ISC_REQ_MUTUAL_AUTH, l2.out, l2.len, &l3), SEC_E_OK);
    DeleteSecurityContext(&s);
    DeleteSecurityContext(&c);

    /* a tampered AP-REQ inside SPNEGO: the KRB-ERROR in a reject */
    CHECK_ST(client_leg(&cc, &c, 1, 0, NULL, 0, &l1), SEC_I_CONTINUE_NEEDED);
    l1.out[l1.len - 20] ^= 1;
    CHECK(server_leg(&sc, &s, ASC_REQ_EXTENDED_ERROR, l1.out, l1.len, &l2) < 0);
    CHECK(l2.len > 0);
    seed("sspx_spnego_reject", l2.out, l2.len);
    CHECK_ST(sspx_describe(NULL, l2.out, l2.len, &d), SEC_E_OK);
    if (d) {
        print_tree("SPNEGO reject with a KRB-ERROR", d);
        CHECK(!strcmp(text_at(d, "NegState"), "reject"));
        k = at(d, "ResponseToken/Kerberos");
        CHECK(k && sspx_desc_uint(at(k, "ErrorCode")) == 31);
        CHECK(k && !strcmp(text_at(k, "SName"), "HTTP/localhost"));
    }
    sspx_desc_free(&d);
    DeleteSecurityContext(&c);
    FreeCredentialsHandle(&cc);
    FreeCredentialsHandle(&sc);
}

/* --------------------------------------------------------- negatives */

static int refused(const uint8_t *p, size_t n)
{
    sspx_desc *d = (sspx_desc *)1;
    SECURITY_STATUS st = sspx_describe("Kerberos", p, n, &d);
    return st == SEC_E_INVALID_TOKEN && d == NULL;
}

static void truncations(const uint8_t *tok, size_t len, const char *what)
{
    int bad = 0;
    uint8_t *buf = malloc(len + 1);
    if (!buf)
        abort();
    for (size_t n = 0; n < len; n++) { /* in a buffer of exactly n bytes */
        uint8_t *cut = malloc(n ? n : 1);
        if (!cut)
            abort();
        memcpy(cut, tok, n);
        if (!refused(cut, n)) {
            if (bad++ < 3)
                fprintf(stderr, "%s: truncation to %zu bytes not refused\n", what, n);
        }
        free(cut);
    }
    CHECK(bad == 0);
    /* one byte more */
    memcpy(buf, tok, len);
    buf[len] = 0;
    CHECK(refused(buf, len + 1));
    free(buf);
}

/* Every byte flipped in turn: a description or a clean refusal; when one
 * comes, its nodes stay inside the token. */
static void bit_flips(const uint8_t *tok, size_t len)
{
    uint8_t *buf = malloc(len);
    int inconsistent = 0, ok = 0, no = 0;
    if (!buf)
        abort();
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            sspx_desc *d = NULL;
            SECURITY_STATUS st;
            memcpy(buf, tok, len);
            buf[i] ^= (uint8_t)(1u << bit);
            st = sspx_describe("Kerberos", buf, len, &d);
            if (st == SEC_E_OK) {
                ok++;
                inconsistent += !nodes_consistent(d, buf, len);
            } else {
                no++;
                CHECK(st == SEC_E_INVALID_TOKEN && d == NULL);
            }
            sspx_desc_free(&d);
        }
    }
    printf("info: bit flips of the AP-REQ: %d described, %d refused\n", ok, no);
    CHECK(inconsistent == 0);
    CHECK(ok > 0 && no > 0); /* flips in ciphertexts decode; flips in tags do not */
    free(buf);
}

static void garbage(void)
{
    uint8_t junk[256];
    sspx_desc *d = NULL;
    static const uint8_t ntlm[] = "NTLMSSP\0\1\0\0\0\x07\x82\x08\xa2";
    /* a GSS-framed token of another mechanism (SPNEGO's OID) */
    static const uint8_t spnego_oid[] = {0x60, 0x0a, 0x06, 0x06, 0x2b, 0x06,
                                         0x01, 0x05, 0x05, 0x02, 0xa0, 0x00};
    /* krb5's OID, then TOK_ID 04 04 (a MIC token's: no context token) */
    static const uint8_t tok_mic[] = {0x60, 0x11, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12,
                                      0x01, 0x02, 0x02, 0x04, 0x04, 0x6e, 0x02, 0x30, 0x00};
    /* TOK_ID 01 00 (AP-REQ) before a KRB-ERROR's tag */
    static const uint8_t tok_mismatch[] = {0x60, 0x11, 0x06, 0x09, 0x2a, 0x86, 0x48,
                                           0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01,
                                           0x00, 0x7e, 0x02, 0x30, 0x00};
    CHECK(refused(NULL, 0));
    CHECK(refused(ntlm, sizeof(ntlm) - 1));
    CHECK(refused(spnego_oid, sizeof(spnego_oid)));
    CHECK(refused(tok_mic, sizeof(tok_mic)));
    CHECK(!krb5_recognise(tok_mic, sizeof(tok_mic)));
    CHECK(refused(tok_mismatch, sizeof(tok_mismatch)));
    CHECK(!krb5_recognise(tok_mismatch, sizeof(tok_mismatch)));
    srand(7);
    int described = 0;
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(rand() % (int)sizeof(junk));
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)rand();
        if (round % 3 == 0 && n > 2)
            junk[0] = (uint8_t)(round % 2 ? 0x6e : 0x7e); /* a plausible start */
        described += sspx_describe("Kerberos", junk, n, &d) == SEC_E_OK;
        sspx_desc_free(&d);
    }
    CHECK(described == 0);
    /* not recognised: the describer is not guessed for it */
    memset(junk, 0x41, sizeof(junk));
    CHECK_ST(sspx_describe(NULL, junk, sizeof(junk), &d), SEC_E_INVALID_TOKEN);
    CHECK(d == NULL);
}

/* ---------------------------------------------- hand-made messages */

static size_t open_(sspx_wr *w, uint8_t cls, uint32_t tag)
{
    return der_wr_begin(w, cls, true, tag);
}

static void wr_int_field(sspx_wr *w, uint32_t n, int64_t v)
{
    size_t m = open_(w, DER_CONTEXT, n);
    der_wr_int64(w, v);
    der_wr_end(w, m);
}

static void wr_str_field(sspx_wr *w, uint32_t n, uint32_t tag, const char *s, size_t len)
{
    size_t m = open_(w, DER_CONTEXT, n);
    der_wr_tlv(w, DER_UNIVERSAL, false, tag, s, len);
    der_wr_end(w, m);
}

static void wr_principal(sspx_wr *w, uint32_t n, int64_t type, const char *const *comps,
                         const size_t *lens, size_t k)
{
    size_t m = open_(w, DER_CONTEXT, n), s = open_(w, DER_UNIVERSAL, DER_TAG_SEQUENCE);
    wr_int_field(w, 0, type);
    size_t f = open_(w, DER_CONTEXT, 1), q = open_(w, DER_UNIVERSAL, DER_TAG_SEQUENCE);
    for (size_t i = 0; i < k; i++)
        der_wr_tlv(w, DER_UNIVERSAL, false, DER_TAG_GENERAL_STRING, comps[i], lens[i]);
    der_wr_end(w, q);
    der_wr_end(w, f);
    der_wr_end(w, s);
    der_wr_end(w, m);
}

/* A KRB-ERROR with every optional field (raw, no framing). msg_type lets a
 * test write a wrong one. */
static size_t make_error(uint8_t *out, size_t cap, int64_t msg_type, int64_t code)
{
    sspx_wr w;
    static const char *const cname[] = {"bob"}, *const sname[] = {"krbtgt", "TEST.LOCAL"};
    /* a component with a '/' and a control byte, one with UTF-8 */
    static const char *const odd[] = {"a/b\x01", "caf\xc3\xa9"};
    size_t cl[] = {3}, sl[] = {6, 10}, ol[] = {4, 5};
    sspx_wr_init(&w, out, cap);
    size_t a = open_(&w, DER_APPLICATION, 30), s = open_(&w, DER_UNIVERSAL, DER_TAG_SEQUENCE);
    wr_int_field(&w, 0, 5);
    wr_int_field(&w, 1, msg_type);
    wr_str_field(&w, 2, DER_TAG_GENERALIZED_TIME, "20240229235959Z", 15);
    wr_int_field(&w, 3, 123456);
    wr_str_field(&w, 4, DER_TAG_GENERALIZED_TIME, "2024022923595Z", 14); /* malformed */
    wr_int_field(&w, 5, 7);
    wr_int_field(&w, 6, code);
    wr_str_field(&w, 7, DER_TAG_GENERAL_STRING, "CLIENT.REALM", 12);
    wr_principal(&w, 8, 1, cname, cl, 1);
    wr_str_field(&w, 9, DER_TAG_GENERAL_STRING, "TEST.LOCAL", 10);
    if (code == 6)
        wr_principal(&w, 10, 2, odd, ol, 2);
    else
        wr_principal(&w, 10, 2, sname, sl, 2);
    wr_str_field(&w, 11, DER_TAG_GENERAL_STRING, "Clock\nskew too great", 20);
    {
        size_t m = open_(&w, DER_CONTEXT, 12);
        der_wr_octets(&w, "\x30\x00", 2);
        der_wr_end(&w, m);
    }
    der_wr_end(&w, s);
    der_wr_end(&w, a);
    return w.overflow ? 0 : w.pos;
}

static void handmade(void)
{
    uint8_t buf[1024], framed[1100];
    size_t n;
    sspx_desc *d = NULL;
    n = make_error(buf, sizeof(buf), 30, 37);
    CHECK(n > 0);
    seed("handmade_krb_error_all_fields", buf, n);
    CHECK(krb5_recognise(buf, n));
    CHECK_ST(sspx_describe(NULL, buf, n, &d), SEC_E_OK);
    if (d) {
        print_tree("KRB-ERROR (hand-made, every field)", d);
        CHECK(!strcmp(text_at(d, "ErrorCode"), "KRB_AP_ERR_SKEW"));
        CHECK(!strcmp(text_at(d, "CTime"), "2024-02-29 23:59:59 UTC"));
        CHECK(!strcmp(text_at(d, "STime"), "2024022923595Z")); /* as it came */
        CHECK(sspx_desc_uint(at(d, "Cusec")) == 123456 && sspx_desc_uint(at(d, "Susec")) == 7);
        CHECK(!strcmp(text_at(d, "CRealm"), "CLIENT.REALM"));
        CHECK(!strcmp(text_at(d, "CName"), "bob"));
        CHECK(!strcmp(text_at(d, "CName/NameType"), "KRB_NT_PRINCIPAL"));
        CHECK(!strcmp(text_at(d, "SName"), "krbtgt/TEST.LOCAL"));
        CHECK(!strcmp(text_at(d, "SName/NameType"), "KRB_NT_SRV_INST"));
        CHECK(!strcmp(text_at(d, "EText"), "Clock\\x0askew too great"));
        CHECK(sspx_desc_length(at(d, "EData")) == 2);
        CHECK(at(d, "ThisMech") == NULL);
        CHECK(nodes_consistent(d, buf, n));
    }
    sspx_desc_free(&d);
    /* framed with Microsoft's krb5 OID */
    {
        static const uint8_t ms[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x82,
                                     0xf7, 0x12, 0x01, 0x02, 0x02};
        uint8_t inner[1100];
        memcpy(inner, "\x03\x00", 2);
        memcpy(inner + 2, buf, n);
        size_t fl = gss_encode_framing(framed, sizeof(framed), ms, sizeof(ms), inner, n + 2);
        CHECK(fl > n);
        CHECK(krb5_recognise(framed, fl));
        CHECK_ST(sspx_describe("Kerberos", framed, fl, &d), SEC_E_OK);
        CHECK(!strcmp(text_at(d, "ThisMech"), "1.2.840.48018.1.2.2 (Kerberos 5 (Microsoft))"));
        CHECK(!strcmp(text_at(d, "TokId"), "KRB_ERROR"));
        CHECK(nodes_consistent(d, framed, fl));
        sspx_desc_free(&d);
    }
    /* names with a separator, a control byte and UTF-8; an unknown code */
    n = make_error(buf, sizeof(buf), 30, 6);
    CHECK_ST(sspx_describe("Kerberos", buf, n, &d), SEC_E_OK);
    CHECK(!strcmp(text_at(d, "SName"), "a\\/b\\x01/caf\xc3\xa9"));
    CHECK(!strcmp(text_at(d, "ErrorCode"), "KDC_ERR_C_PRINCIPAL_UNKNOWN"));
    sspx_desc_free(&d);
    n = make_error(buf, sizeof(buf), 30, 43);
    CHECK_ST(sspx_describe("Kerberos", buf, n, &d), SEC_E_OK);
    CHECK(!strcmp(text_at(d, "ErrorCode"), "unknown (43)"));
    sspx_desc_free(&d);
    /* msg-type disagreeing with [APPLICATION 30] */
    n = make_error(buf, sizeof(buf), 14, 37);
    CHECK(refused(buf, n));
    truncations(buf, make_error(buf, sizeof(buf), 30, 37), "hand-made KRB-ERROR");

    /* names */
    CHECK(!strcmp(krb5_etype_name(17), "aes128-cts-hmac-sha1-96"));
    CHECK(!strcmp(krb5_etype_name(19), "aes128-cts-hmac-sha256-128"));
    CHECK(!strcmp(krb5_etype_name(20), "aes256-cts-hmac-sha384-192"));
    CHECK(!strcmp(krb5_etype_name(23), "rc4-hmac"));
    CHECK(krb5_etype_name(0) == NULL && krb5_etype_name(-135) == NULL);
    CHECK(!strcmp(krb5_error_name(41), "KRB_AP_ERR_MODIFIED"));
    CHECK(!strcmp(krb5_error_name(60), "KRB_ERR_GENERIC"));
    CHECK(!strcmp(krb5_error_name(7), "KDC_ERR_S_PRINCIPAL_UNKNOWN"));
    CHECK(krb5_error_name(30) == NULL && krb5_error_name(-1) == NULL &&
          krb5_error_name(100000) == NULL);
    CHECK(!strcmp(krb5_name_type_name(10), "KRB_NT_ENTERPRISE"));
    CHECK(krb5_name_type_name(8) == NULL && krb5_name_type_name(-128) == NULL);
}

/* Valid DER nested `depth` deep (SEQUENCEs, minimal lengths) under one
 * outer identifier, built from the inside out at the end of buf; returns
 * its start. */
static uint8_t *nest(uint8_t *buf, size_t cap, int depth, uint8_t outer, size_t *len)
{
    size_t start = cap, clen = 0;
    for (int i = 0; i < depth; i++) {
        uint8_t id = i == depth - 1 ? outer : 0x30;
        uint8_t hdr[6];
        size_t h = 0;
        hdr[h++] = id;
        if (clen < 0x80) {
            hdr[h++] = (uint8_t)clen;
        } else if (clen < 0x100) {
            hdr[h++] = 0x81;
            hdr[h++] = (uint8_t)clen;
        } else if (clen < 0x10000) {
            hdr[h++] = 0x82;
            hdr[h++] = (uint8_t)(clen >> 8);
            hdr[h++] = (uint8_t)clen;
        } else {
            hdr[h++] = 0x83;
            hdr[h++] = (uint8_t)(clen >> 16);
            hdr[h++] = (uint8_t)(clen >> 8);
            hdr[h++] = (uint8_t)clen;
        }
        if (start < h)
            abort();
        start -= h;
        memcpy(buf + start, hdr, h);
        clen += h;
    }
    *len = clen;
    return buf + start;
}

/* Nesting far past der.h's limit (DER_MAX_DEPTH) where the parser reads a
 * value: refused, not followed; inside SPNEGO the mechToken stays bytes. */
static void deep(void)
{
    enum { CAP = 1 << 16 };
    uint8_t *buf = malloc(CAP), *p;
    size_t n;
    sspx_desc *d = NULL;
    if (!buf)
        abort();
    p = nest(buf, CAP, 5000, 0x6e, &n);
    CHECK(der_validate(p, n, NULL) == SEC_E_INVALID_TOKEN); /* too deep for der.h */
    CHECK(refused(p, n));
    p = nest(buf, CAP, 5000, 0x7e, &n);
    CHECK(refused(p, n));
    p = nest(buf, CAP, 12, 0x6f, &n); /* within the limit, still no AP-REP */
    CHECK(der_validate(p, n, NULL) == SEC_E_OK);
    CHECK(refused(p, n));
    /* as the mechToken of a NegTokenInit */
    {
        static const char krb5[] = "\x06\x09\x2a\x86\x48\x86\xf7\x12\x01\x02\x02";
        uint8_t out[CAP / 2];
        spnego_bytes mech = {(const uint8_t *)krb5, sizeof(krb5) - 1};
        p = nest(buf, CAP, 5000, 0x6e, &n);
        size_t m = spnego_encode_init(out, sizeof(out), &mech, 1, 0, (spnego_bytes){p, n},
                                      (spnego_bytes){NULL, 0});
        CHECK(m > n);
        CHECK_ST(sspx_describe("Negotiate", out, m, &d), SEC_E_OK);
        /* recognised (an [APPLICATION 14] header), refused, noted */
        CHECK(!strcmp(text_at(d, "MechToken/Note"), "Kerberos message that does not decode"));
        CHECK(at(d, "MechToken/Kerberos") == NULL);
        sspx_desc_free(&d);
    }
    free(buf);
}

/* A krb5 token that is recognised (framing, TOK_ID, tag) but does not
 * decode, inside SPNEGO: the bytes and a note. */
static void spnego_note(void)
{
    static const char krb5[] = "\x06\x09\x2a\x86\x48\x86\xf7\x12\x01\x02\x02";
    spnego_bytes mech = {(const uint8_t *)krb5, sizeof(krb5) - 1};
    uint8_t bad[TOKMAX], out[TOKMAX + 256];
    sspx_desc *d = NULL;
    size_t off = inner_off(apreq_plain), m;
    memcpy(bad, apreq_plain, apreq_plain_len);
    CHECK(bad[off + 4] == 0x30 || bad[off + 6] == 0x30);
    /* the SEQUENCE inside [APPLICATION 14] becomes a SET */
    bad[bad[off + 4] == 0x30 ? off + 4 : off + 6] = 0x31;
    CHECK(krb5_recognise(bad, apreq_plain_len));
    CHECK(refused(bad, apreq_plain_len));
    m = spnego_encode_init(out, sizeof(out), &mech, 1, 0, (spnego_bytes){bad, apreq_plain_len},
                           (spnego_bytes){NULL, 0});
    CHECK(m > apreq_plain_len);
    CHECK_ST(sspx_describe(NULL, out, m, &d), SEC_E_OK);
    CHECK(!strcmp(text_at(d, "MechToken/Note"), "Kerberos message that does not decode"));
    CHECK(at(d, "MechToken/Kerberos") == NULL);
    sspx_desc_free(&d);
}

int main(int argc, char **argv)
{
    CredHandle cc, sc;
    char src[1024];
    realm_source_dir(argc, argv, __FILE__, src, sizeof(src));
    seed_dir = getenv("SSPX_KRB_DESCRIBE_SEEDS");
    signal(SIGPIPE, SIG_IGN);
    /* what needs no realm first */
    garbage();
    handmade();
    deep();
    if (realm_start(src) != 0) {
        realm_stop();
        fprintf(stderr, "FAIL: could not start the test realm\n");
        return 1;
    }
    CHECK_ST(cred("Kerberos", SECPKG_CRED_OUTBOUND, &cc), SEC_E_OK);
    CHECK_ST(cred("Kerberos", SECPKG_CRED_INBOUND, &sc), SEC_E_OK);
    apreq_tokens(&cc, &sc);
    krb_errors(&cc, &sc);
    negotiate();
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
    realm_stop();
    /* the real AP-REQs: every truncation, one byte more, bit flips */
    if (apreq_plain_len) {
        size_t off = inner_off(apreq_plain);
        truncations(apreq_plain, apreq_plain_len, "framed AP-REQ");
        truncations(apreq_plain + off, apreq_plain_len - off, "raw AP-REQ");
        truncations(apreq_mutual, apreq_mutual_len, "mutual AP-REQ");
        bit_flips(apreq_plain, apreq_plain_len);
        spnego_note();
    }
    CHECK(apreq_plain_len > 0 && apreq_mutual_len > 0);
    printf("%d checks, %d failures\n", t_checks, t_failures);
    return t_failures ? 1 : 0;
}
