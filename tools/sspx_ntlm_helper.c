/*
 * sspx-ntlm-helper: Samba's ntlm_auth helper protocols on top of sspx, so
 * that our NTLM can be paired line by line with Samba's ntlm_auth (and with
 * Squid, which speaks the same squid-2.5-ntlmssp protocol).
 *
 *   --helper-protocol=squid-2.5-ntlmssp --users FILE        (server)
 *       YR <b64 NEGOTIATE>     -> TT <b64 CHALLENGE>
 *       KK <b64 AUTHENTICATE>  -> AF DOMAIN\user | NA <reason>
 *   --helper-protocol=ntlmssp-client-1 --username U --domain D --password P
 *       YR                     -> YR <b64 NEGOTIATE>
 *       TT <b64 CHALLENGE>     -> AF <b64 AUTHENTICATE>  (as Samba 4.x does)
 *   both, after success:
 *       GK                     -> GK <b64 session key>
 *       GF                     -> GF 0x<NTLMSSP negotiate flags>
 *
 * Anything the helper cannot make sense of is answered "BH <reason>" (broken
 * helper), as ntlm_auth does, and the helper keeps reading: one bad line must
 * not kill a long-lived helper process.
 *
 * Only the public headers are used: this is also an example of driving the
 * SSPI calls one leg at a time with tokens that arrive from elsewhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include <sspx/sspi.h>
#include <sspx/sspx.h>

/* A helper line carries one base64 NTLM token; NTLM tokens are a few KiB at
 * most, so anything longer is garbage and is refused rather than buffered. */
#define MAX_LINE (64 * 1024)

/* ----------------------------------------------------------- state */

typedef struct helper {
    int server;
    int verbose;
    CredHandle cred;
    CtxtHandle ctx;
    int have_ctx, complete;
    uint32_t ntlm_flags; /* NegotiateFlags of the last AUTHENTICATE seen/sent */
    int have_flags;
} helper;

/* a NUL-terminated line's base64 */
static uint8_t *b64_decode_str(const char *in, size_t *out_len)
{
    return b64_decode(in, strlen(in), out_len);
}

static void reply(const char *fmt_tag, const char *text)
{
    /* one line per answer, flushed: the peer blocks on it */
    printf("%s%s%s\n", fmt_tag, text && *text ? " " : "", text ? text : "");
    fflush(stdout);
}

static void drop_ctx(helper *h)
{
    if (h->have_ctx)
        DeleteSecurityContext(&h->ctx);
    h->have_ctx = h->complete = h->have_flags = 0;
}

/* With --verbose, render each token on stderr for people; stdout is the
 * protocol channel and must carry nothing else. */
static void trace_token(const helper *h, const char *what, const uint8_t *tok, size_t len)
{
    sspx_desc *d = NULL;
    sspx_buf text = {0};
    if (!h->verbose)
        return;
    if (sspx_describe(NULL, tok, len, &d) == SEC_E_OK && sspx_desc_to_text(d, &text) == SEC_E_OK)
        fprintf(stderr, "[helper] %s (%zu bytes):\n%.*s", what, len, (int)text.len,
                (const char *)text.data);
    else
        fprintf(stderr, "[helper] %s (%zu bytes): undecodable: %s\n", what, len,
                sspx_last_error_string());
    sspx_buf_free(&text);
    sspx_desc_free(&d);
}

/* GF reports the NTLMSSP flags as Samba does (the negotiated flags, which
 * are those of the AUTHENTICATE message), not the SSPI ASC_RET_* bits. */
static void remember_flags(helper *h, const uint8_t *tok, size_t len)
{
    sspx_desc *d = NULL;
    if (sspx_describe("NTLM", tok, len, &d) == SEC_E_OK) {
        const sspx_desc *f = sspx_desc_find(d, "NegotiateFlags");
        if (f) {
            h->ntlm_flags = (uint32_t)sspx_desc_uint(f);
            h->have_flags = 1;
        }
    }
    sspx_desc_free(&d);
}

/* "SEC_E_LOGON_DENIED: logon denied" for NA/BH lines (one line, no CR/LF). */
static void failure_text(SECURITY_STATUS st, char *buf, size_t cap)
{
    sspx_error_info e = sspx_last_error();
    const char *name = sspx_status_name(st);
    snprintf(buf, cap, "%s: %s", name ? name : "SEC_E_?",
             e.status == st && e.message ? e.message : sspx_status_message(st));
    for (char *p = buf; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
}

/* One SSPI step: server (Accept) or client (Initialize). `in` may be NULL
 * for the client's first leg. The output token is returned in *out (freed
 * by the caller with FreeContextBuffer). */
static SECURITY_STATUS step(helper *h, const uint8_t *in, size_t in_len, SecBuffer *out)
{
    SecBuffer ib = {(ULONG)in_len, SECBUFFER_TOKEN, (void *)in};
    SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, out};
    ULONG attrs = 0;
    SECURITY_STATUS st;
    *out = (SecBuffer){0, SECBUFFER_TOKEN, NULL};
    if (h->server) {
        st = AcceptSecurityContext(&h->cred, h->have_ctx ? &h->ctx : NULL, &id,
                                   ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_CONNECTION,
                                   SECURITY_NATIVE_DREP, &h->ctx, &od, &attrs, NULL);
    } else {
        st = InitializeSecurityContextA(&h->cred, h->have_ctx ? &h->ctx : NULL, NULL,
                                        ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_CONNECTION, 0,
                                        SECURITY_NATIVE_DREP, in ? &id : NULL, 0, &h->ctx, &od,
                                        &attrs, NULL);
    }
    /* A context handle exists once the first call succeeded; after a failed
     * later call it still exists and must be deleted by drop_ctx. */
    if (st >= 0)
        h->have_ctx = 1;
    if (h->verbose)
        fprintf(stderr, "[helper] %s -> %s, attrs 0x%08x\n",
                h->server ? "AcceptSecurityContext" : "InitializeSecurityContextA",
                sspx_status_name(st) ? sspx_status_name(st) : "?", (unsigned)attrs);
    return st;
}

static void reply_token(const char *tag, const SecBuffer *out)
{
    char *b64 = b64_encode(out->pvBuffer, out->cbBuffer);
    if (!b64) {
        reply("BH", "out of memory");
        return;
    }
    reply(tag, b64);
    free(b64);
}

/* GK and GF work the same on both sides. */
static int common_request(helper *h, const char *cmd)
{
    if (strcmp(cmd, "GK") == 0) {
        SecPkgContext_SessionKey sk;
        if (!h->complete) {
            reply("BH", "No session key");
            return 1;
        }
        if (QueryContextAttributesA(&h->ctx, SECPKG_ATTR_SESSION_KEY, &sk) != SEC_E_OK) {
            reply("BH", sspx_last_error_string());
            return 1;
        }
        char *b64 = b64_encode(sk.SessionKey, sk.SessionKeyLength);
        FreeContextBuffer(sk.SessionKey);
        if (b64)
            reply("GK", b64);
        else
            reply("BH", "out of memory");
        free(b64);
        return 1;
    }
    if (strcmp(cmd, "GF") == 0) {
        char buf[16];
        if (!h->have_flags) {
            reply("BH", "No flags available");
            return 1;
        }
        snprintf(buf, sizeof(buf), "0x%08x", (unsigned)h->ntlm_flags);
        reply("GF", buf);
        return 1;
    }
    return 0;
}

/* ------------------------------------------------ squid-2.5-ntlmssp */

static void server_line(helper *h, const char *cmd, const char *arg)
{
    uint8_t *tok = NULL;
    size_t len = 0;
    SecBuffer out;
    SECURITY_STATUS st;
    char why[512];

    if (common_request(h, cmd))
        return;
    if (strcmp(cmd, "YR") != 0 && strcmp(cmd, "KK") != 0) {
        reply("BH", "unknown request");
        return;
    }
    /* YR starts a new authentication: forget whatever came before, even
     * if its token turns out to be unusable */
    if (strcmp(cmd, "YR") == 0)
        drop_ctx(h);
    if (!arg || !(tok = b64_decode_str(arg, &len))) {
        reply("BH", "missing or invalid base64 token");
        return;
    }
    if (strcmp(cmd, "YR") == 0) {
        trace_token(h, "NEGOTIATE in", tok, len);
        st = step(h, tok, len, &out);
        free(tok);
        if (st == SEC_I_CONTINUE_NEEDED && out.cbBuffer) {
            trace_token(h, "CHALLENGE out", out.pvBuffer, out.cbBuffer);
            reply_token("TT", &out);
        } else {
            failure_text(st, why, sizeof(why));
            reply(st < 0 ? "NA" : "BH", st < 0 ? why : "unexpected status after NEGOTIATE");
            drop_ctx(h);
        }
        if (out.pvBuffer)
            FreeContextBuffer(out.pvBuffer);
        return;
    }
    /* KK: the AUTHENTICATE of the handshake YR started */
    if (!h->have_ctx || h->complete) {
        free(tok);
        reply("BH", "KK without a preceding YR");
        return;
    }
    trace_token(h, "AUTHENTICATE in", tok, len);
    remember_flags(h, tok, len);
    st = step(h, tok, len, &out);
    free(tok);
    if (out.pvBuffer)
        FreeContextBuffer(out.pvBuffer);
    if (st == SEC_E_OK) {
        SecPkgContext_NamesA names;
        h->complete = 1;
        if (QueryContextAttributesA(&h->ctx, SECPKG_ATTR_NAMES, &names) == SEC_E_OK) {
            reply("AF", names.sUserName);
            FreeContextBuffer(names.sUserName);
        } else {
            reply("BH", sspx_last_error_string());
        }
        return;
    }
    failure_text(st, why, sizeof(why));
    if (h->verbose)
        fprintf(stderr, "[helper] failure: %s\n", sspx_last_error_string());
    reply("NA", why);
    drop_ctx(h);
}

/* ------------------------------------------------ ntlmssp-client-1 */

static void client_line(helper *h, const char *cmd, const char *arg)
{
    uint8_t *tok = NULL;
    size_t len = 0;
    SecBuffer out;
    SECURITY_STATUS st;
    char why[512];

    if (common_request(h, cmd))
        return;
    if (strcmp(cmd, "YR") == 0) {
        /* a new handshake; Samba ignores a blob here too */
        drop_ctx(h);
        st = step(h, NULL, 0, &out);
        if (st == SEC_I_CONTINUE_NEEDED && out.cbBuffer) {
            trace_token(h, "NEGOTIATE out", out.pvBuffer, out.cbBuffer);
            reply_token("YR", &out);
        } else {
            failure_text(st, why, sizeof(why));
            reply("BH", why);
            drop_ctx(h);
        }
        if (out.pvBuffer)
            FreeContextBuffer(out.pvBuffer);
        return;
    }
    if (strcmp(cmd, "TT") != 0) {
        reply("BH", "unknown request");
        return;
    }
    if (!h->have_ctx || h->complete) {
        reply("BH", "TT without a preceding YR");
        return;
    }
    if (!arg || !(tok = b64_decode_str(arg, &len))) {
        reply("BH", "missing or invalid base64 token");
        return;
    }
    trace_token(h, "CHALLENGE in", tok, len);
    st = step(h, tok, len, &out);
    free(tok);
    if (st == SEC_E_OK && out.cbBuffer) {
        h->complete = 1;
        trace_token(h, "AUTHENTICATE out", out.pvBuffer, out.cbBuffer);
        remember_flags(h, out.pvBuffer, out.cbBuffer);
        /* Samba 4.x answers AF with the final token (older versions: KK) */
        reply_token("AF", &out);
    } else {
        failure_text(st, why, sizeof(why));
        reply("BH", why);
        drop_ctx(h);
    }
    if (out.pvBuffer)
        FreeContextBuffer(out.pvBuffer);
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f)
{
    fprintf(f, "usage: sspx-ntlm-helper --helper-protocol=squid-2.5-ntlmssp --users FILE\n"
               "                        [--netbios-domain NAME] [--verbose]\n"
               "       sspx-ntlm-helper --helper-protocol=ntlmssp-client-1 --username U\n"
               "                        --domain D --password P [--verbose]\n");
}

/* Accept both "--opt=value" and "--opt value", as ntlm_auth (popt) does. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] == 0) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "sspx-ntlm-helper: %s needs a value\n", name);
            exit(2);
        }
        *val = argv[++*i];
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *proto = NULL, *users = NULL, *user = NULL, *domain = "", *password = NULL;
    const char *nb_domain = "TESTDOM";
    helper h;
    SECURITY_STATUS st;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    memset(&h, 0, sizeof(h));
    for (int i = 1; i < argc; i++) {
        if (opt_value(argc, argv, &i, "--helper-protocol", &proto) ||
            opt_value(argc, argv, &i, "--users", &users) ||
            opt_value(argc, argv, &i, "--username", &user) ||
            opt_value(argc, argv, &i, "--domain", &domain) ||
            opt_value(argc, argv, &i, "--password", &password) ||
            opt_value(argc, argv, &i, "--netbios-domain", &nb_domain))
            continue;
        if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
            h.verbose = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "sspx-ntlm-helper: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!proto) {
        usage(stderr);
        return 2;
    }

    if (strcmp(proto, "squid-2.5-ntlmssp") == 0) {
        SSPX_SERVER_AUTH_DATA ad;
        if (!users) {
            fprintf(stderr, "sspx-ntlm-helper: the server needs --users FILE\n");
            return 2;
        }
        memset(&ad, 0, sizeof(ad));
        ad.Version = SSPX_SERVER_AUTH_DATA_VERSION;
        ad.UsersFile = users;
        ad.NetbiosDomain = nb_domain;
        h.server = 1;
        st = AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_INBOUND, NULL, &ad, NULL, NULL,
                                       &h.cred, NULL);
    } else if (strcmp(proto, "ntlmssp-client-1") == 0) {
        SEC_WINNT_AUTH_IDENTITY_A id;
        if (!user || !password) {
            fprintf(stderr, "sspx-ntlm-helper: the client needs --username and --password\n");
            return 2;
        }
        memset(&id, 0, sizeof(id));
        id.User = (unsigned char *)user;
        id.UserLength = (ULONG)strlen(user);
        id.Domain = (unsigned char *)domain;
        id.DomainLength = (ULONG)strlen(domain);
        id.Password = (unsigned char *)password;
        id.PasswordLength = (ULONG)strlen(password);
        id.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI;
        st = AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_OUTBOUND, NULL, &id, NULL, NULL,
                                       &h.cred, NULL);
    } else {
        fprintf(stderr, "sspx-ntlm-helper: unsupported helper protocol '%s'\n", proto);
        return 2;
    }
    if (st != SEC_E_OK) {
        fprintf(stderr, "sspx-ntlm-helper: AcquireCredentialsHandleA: %s: %s\n",
                sspx_status_name(st) ? sspx_status_name(st) : "?", sspx_last_error_string());
        return 1;
    }

    while ((n = getline(&line, &cap, stdin)) >= 0) {
        char *arg;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0)
            continue; /* ntlm_auth ignores empty lines too */
        if ((size_t)n > MAX_LINE) {
            reply("BH", "line too long");
            continue;
        }
        arg = strchr(line, ' ');
        if (arg) {
            *arg++ = 0;
            while (*arg == ' ')
                arg++;
            if (*arg == 0)
                arg = NULL;
        }
        if (h.server)
            server_line(&h, line, arg);
        else
            client_line(&h, line, arg);
    }
    free(line);
    drop_ctx(&h);
    FreeCredentialsHandle(&h.cred);
    return 0;
}
