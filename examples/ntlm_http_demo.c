/*
 * sspx-ntlm-demo: a small HTTP/1.1 server that authenticates clients with
 * NTLM through the Windows-style SSPI calls of sspx, printing every leg of
 * every handshake for people to read.
 *
 *   sspx-ntlm-demo [--port N] [--users FILE] [--once] [--max-requests N]
 *                  [--idle-timeout SECONDS] [--negotiate [--keytab FILE]]
 *
 * With --negotiate the scheme is "Negotiate" (the Negotiate package: SPNEGO
 * with Kerberos from the keytab, KRB5_KTNAME by default, and NTLM from the
 * users file; raw NTLM tokens too); a Kerberos client asking for mutual
 * authentication gets the AP-REP with the 200, in WWW-Authenticate.
 *
 * NTLM over HTTP authenticates the TCP connection, not the request: the
 * three legs must travel on one kept-alive connection, and once the
 * handshake succeeded the connection stays authenticated (curl, browsers and
 * IIS all behave like that). So each connection owns one CtxtHandle, and the
 * handle never moves to another connection.
 *
 * One thread, poll(): enough for a demo and keeps the SSPI calls easy to
 * follow. Listens on 127.0.0.1 only: this is a demonstration, not a server
 * to expose.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include <sspx/sspi.h>
#include <sspx/sspx.h>

#define MAX_HEADER           (16 * 1024)   /* request line + headers, as the brief bounds it */
#define MAX_BODY             (1024 * 1024) /* request bodies are read and discarded */
#define MAX_CONNS            64
#define DEFAULT_IDLE_SECONDS 30
#define LINGER_SECONDS       2 /* after a final answer, drain the client this long */

static const char default_users[] = "# written by sspx-ntlm-demo (no --users given)\n"
                                    "TESTDOM:bob:Passw0rd!\n"
                                    "*:alice:Wonderland1\n";

/* ------------------------------------------------------------ output */

/* Everything goes to stdout and is flushed at once: tests and the demo
 * script read it while the server runs. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

/* The token rendered by sspx_describe, indented under the leg line. */
static void print_token(const uint8_t *tok, size_t len)
{
    sspx_desc *d = NULL;
    sspx_buf text = {0};
    if (sspx_describe(NULL, tok, len, &d) != SEC_E_OK || sspx_desc_to_text(d, &text) != SEC_E_OK) {
        say("    (undecodable: %s)\n", sspx_last_error_string());
    } else {
        const char *p = (const char *)text.data, *end = p + text.len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            say("    %.*s\n", (int)n, p);
            p += n + (nl ? 1 : 0);
        }
    }
    sspx_buf_free(&text);
    sspx_desc_free(&d);
}

static const char *status_name(SECURITY_STATUS st)
{
    const char *n = sspx_status_name(st);
    return n ? n : "(unknown status)";
}

/* NTLM message type from the header, for leg lines and to spot a NEGOTIATE
 * that restarts the connection's handshake. 0 if not NTLMSSP. */
static unsigned ntlm_type(const uint8_t *tok, size_t len)
{
    if (len < 12 || memcmp(tok, "NTLMSSP", 8) != 0)
        return 0;
    return (unsigned)tok[8] | (unsigned)tok[9] << 8 | (unsigned)tok[10] << 16 |
           (unsigned)tok[11] << 24;
}

static const char *ntlm_type_name(unsigned t)
{
    switch (t) {
    case 1:
        return "NEGOTIATE";
    case 2:
        return "CHALLENGE";
    case 3:
        return "AUTHENTICATE";
    default:
        return "non-NTLM token";
    }
}

/* For leg lines: what a token is, by its first bytes. */
static const char *token_kind(const uint8_t *tok, size_t len)
{
    if (ntlm_type(tok, len))
        return ntlm_type_name(ntlm_type(tok, len));
    if (len && tok[0] == 0x60)
        return "GSS initial token (SPNEGO NegTokenInit / Kerberos)";
    if (len && tok[0] == 0xa1)
        return "SPNEGO NegTokenResp";
    if (len && tok[0] == 0x6e)
        return "Kerberos AP-REQ";
    return "unrecognised token";
}

/* A token that starts a handshake over: NTLM's NEGOTIATE, a GSS initial
 * token (SPNEGO NegTokenInit, framed Kerberos AP-REQ), a raw AP-REQ. */
static int starts_handshake(const uint8_t *tok, size_t len)
{
    return ntlm_type(tok, len) == 1 || (len && (tok[0] == 0x60 || tok[0] == 0x6e));
}

/* ------------------------------------------------------- connections */

typedef struct conn {
    int fd;
    unsigned id;
    char peer[64];
    char *in; /* MAX_HEADER bytes */
    size_t in_len;
    char *out; /* pending response bytes */
    size_t out_len, out_off, out_cap;
    size_t body_left; /* request body bytes still to discard */
    int close_after;  /* close once `out` is flushed */
    int want_close;   /* no further request will be read */
    int lingering;    /* answer sent, write side shut: draining until EOF */
    time_t last;      /* last activity, monotonic seconds */
    /* NTLM state of this connection */
    CtxtHandle ctx;
    int have_ctx, authed, leg;
    char name[256];
} conn;

typedef struct server {
    CredHandle cred;
    int lfd;
    int sig_pipe[2];
    conn *conns[MAX_CONNS];
    unsigned next_id;
    long requests, max_requests;
    int once, idle_seconds;
    int stop;           /* 1: finish and exit */
    const char *scheme; /* "NTLM" or "Negotiate" */
} server;

static volatile sig_atomic_t got_signal;
static int signal_fd = -1;

static void on_signal(int sig)
{
    int saved = errno;
    got_signal = sig;
    /* wake poll(); the write end is non-blocking, a full pipe is fine */
    if (signal_fd >= 0 && write(signal_fd, "x", 1) < 0) {
    }
    errno = saved;
}

static time_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void ctx_drop(conn *c)
{
    if (c->have_ctx)
        DeleteSecurityContext(&c->ctx);
    c->have_ctx = c->authed = 0;
    c->leg = 0;
    c->name[0] = 0;
}

static void conn_close(server *s, int slot, const char *why)
{
    conn *c = s->conns[slot];
    say("[conn %u] closed (%s)\n", c->id, why);
    ctx_drop(c);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
    s->conns[slot] = NULL;
    if (s->once)
        s->stop = 1;
}

static int out_append(conn *c, const char *data, size_t len)
{
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 1024;
        while (cap < c->out_len + len)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p)
            return -1;
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    return 0;
}

/* Queue one response. `www_auth` is the full WWW-Authenticate value or
 * NULL; `keep` says whether the connection stays open afterwards. */
static void respond(server *s, conn *c, int code, const char *reason, const char *www_auth,
                    const char *body, int keep, int head_only)
{
    char hdr[512];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(hdr, sizeof(hdr),
                     "HTTP/1.1 %d %s\r\n"
                     "Server: sspx-ntlm-demo/%s\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\n"
                     "Connection: %s\r\n",
                     code, reason, sspx_version(), blen, keep ? "keep-alive" : "close");
    if (n < 0 || (size_t)n >= sizeof(hdr) || out_append(c, hdr, (size_t)n) < 0)
        goto fail;
    if (www_auth && (out_append(c, "WWW-Authenticate: ", 18) < 0 ||
                     out_append(c, www_auth, strlen(www_auth)) < 0 || out_append(c, "\r\n", 2) < 0))
        goto fail;
    if (out_append(c, "\r\n", 2) < 0 || (!head_only && blen && out_append(c, body, blen) < 0))
        goto fail;
    say("[conn %u] -> %d %s%s\n", c->id, code, reason, keep ? "" : " (closing)");
    if (!keep)
        c->close_after = c->want_close = 1;
    s->requests++;
    if (s->max_requests > 0 && s->requests >= s->max_requests)
        s->stop = 1;
    return;
fail:
    /* out of memory: nothing sensible to send */
    c->close_after = c->want_close = 1;
    c->out_len = c->out_off = 0;
}

/* ------------------------------------------------- a handshake leg per request */

/*
 * Run one leg of the connection's handshake and answer the request.
 * A NEGOTIATE always starts over (the client may re-authenticate on the same
 * connection); any other token goes to the context in progress, and with no
 * context in progress it reaches a fresh context that refuses it: an
 * AUTHENTICATE never borrows state from another connection.
 */
static void handle_auth(server *s, conn *c, const char *b64, size_t b64_len, int keep,
                        int head_only)
{
    uint8_t *tok;
    size_t len = 0;
    SecBuffer ib, ob;
    SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib}, od = {SECBUFFER_VERSION, 1, &ob};
    ULONG attrs = 0;
    SECURITY_STATUS st;
    char err[512];
    int fresh;
    char www[16];

    tok = b64_decode(b64, b64_len, &len);
    if (!tok) {
        say("[conn %u] Authorization: %s with invalid base64\n", c->id, s->scheme);
        ctx_drop(c);
        respond(s, c, 400, "Bad Request", NULL, "Invalid token encoding\n", 0, head_only);
        return;
    }
    if (starts_handshake(tok, len) && (c->have_ctx || c->authed)) {
        say("[conn %u] a new first token: restarting this connection's context\n", c->id);
        ctx_drop(c);
    }
    if (c->authed) {
        /* a finished context takes no more handshake tokens; start over */
        ctx_drop(c);
    }
    fresh = !c->have_ctx;
    if (fresh)
        c->leg = 0;
    c->leg++;

    ib = (SecBuffer){(ULONG)len, SECBUFFER_TOKEN, tok};
    ob = (SecBuffer){0, SECBUFFER_TOKEN, NULL};
    st = AcceptSecurityContext(&s->cred, fresh ? NULL : &c->ctx, &id,
                               ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP,
                               &c->ctx, &od, &attrs, NULL);
    /* copy the error text now: describing tokens below resets it */
    snprintf(err, sizeof(err), "%s", st < 0 ? sspx_last_error_string() : "");
    if (fresh && st >= 0)
        c->have_ctx = 1;

    say("[conn %u] leg %d  client -> server  %s (%zu bytes)  AcceptSecurityContext: %s  "
        "attrs 0x%08x\n",
        c->id, c->leg, token_kind(tok, len), len, status_name(st), (unsigned)attrs);
    print_token(tok, len);
    free(tok);

    if (st == SEC_I_CONTINUE_NEEDED && ob.cbBuffer) {
        char *chal = b64_encode(ob.pvBuffer, ob.cbBuffer);
        char *hdr = chal ? malloc(strlen(chal) + strlen(s->scheme) + 2) : NULL;
        c->leg++;
        say("[conn %u] leg %d  server -> client  %s (%u bytes)  status: %s  attrs 0x%08x\n", c->id,
            c->leg, token_kind(ob.pvBuffer, ob.cbBuffer), (unsigned)ob.cbBuffer, status_name(st),
            (unsigned)attrs);
        print_token(ob.pvBuffer, ob.cbBuffer);
        FreeContextBuffer(ob.pvBuffer);
        if (!hdr) {
            free(chal);
            ctx_drop(c);
            respond(s, c, 500, "Internal Server Error", NULL, "out of memory\n", 0, head_only);
            return;
        }
        sprintf(hdr, "%s %s", s->scheme, chal);
        free(chal);
        /* the handshake state is bound to this connection: it must stay open */
        respond(s, c, 401, "Unauthorized", hdr, "Continue the handshake\n", 1, head_only);
        free(hdr);
        return;
    }
    /* a last token with the success (Kerberos' AP-REP for mutual
     * authentication, SPNEGO's accept-completed): it rides on the 200 */
    char *last = NULL;
    if (st == SEC_E_OK && ob.cbBuffer) {
        char *b = b64_encode(ob.pvBuffer, ob.cbBuffer);
        c->leg++;
        say("[conn %u] leg %d  server -> client  %s (%u bytes), with the 200\n", c->id, c->leg,
            token_kind(ob.pvBuffer, ob.cbBuffer), (unsigned)ob.cbBuffer);
        print_token(ob.pvBuffer, ob.cbBuffer);
        last = b ? malloc(strlen(b) + strlen(s->scheme) + 2) : NULL;
        if (last)
            sprintf(last, "%s %s", s->scheme, b);
        free(b);
    }
    if (ob.pvBuffer)
        FreeContextBuffer(ob.pvBuffer);

    if (st == SEC_E_OK) {
        SecPkgContext_NamesA names;
        SECURITY_STATUS qs = QueryContextAttributesA(&c->ctx, SECPKG_ATTR_NAMES, &names);
        if (qs == SEC_E_OK) {
            char body[300];
            SecPkgContext_NegotiationInfoA ni;
            snprintf(c->name, sizeof(c->name), "%s", names.sUserName);
            FreeContextBuffer(names.sUserName);
            c->authed = 1;
            if (QueryContextAttributesA(&c->ctx, SECPKG_ATTR_NEGOTIATION_INFO, &ni) == SEC_E_OK) {
                say("[conn %u] authenticated: %s (package %s)\n", c->id, c->name,
                    ni.PackageInfo->Name);
                FreeContextBuffer(ni.PackageInfo);
            } else {
                say("[conn %u] authenticated: %s\n", c->id, c->name);
            }
            snprintf(body, sizeof(body), "Hello, %s\n", c->name);
            respond(s, c, 200, "OK", last, body, keep, head_only);
            free(last);
            return;
        }
        st = qs;
        snprintf(err, sizeof(err), "QueryContextAttributesA(SECPKG_ATTR_NAMES): %s",
                 sspx_last_error_string());
    } else if (st >= 0) {
        snprintf(err, sizeof(err), "unexpected status for an HTTP handshake");
    }
    free(last);
    say("[conn %u] authentication failed: %s: %s\n", c->id, status_name(st), err);
    ctx_drop(c);
    snprintf(www, sizeof(www), "%s", s->scheme);
    respond(s, c, 401, "Unauthorized", www, "Authentication failed\n", keep, head_only);
}

/* ------------------------------------------------------- HTTP parsing */

/* Value of header `name` within [hdrs, end), trimmed; NULL if absent. */
static const char *find_header(const char *hdrs, const char *end, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = hdrs;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        if ((size_t)(le - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *ve = le;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = le + 1;
    }
    return NULL;
}

static int token_in(const char *v, size_t vlen, const char *tok)
{
    /* comma-separated, case-insensitive: "Connection: keep-alive, Upgrade" */
    size_t tl = strlen(tok);
    const char *p = v, *end = v + vlen;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ','))
            p++;
        const char *q = p;
        while (q < end && *q != ',')
            q++;
        const char *qe = q;
        while (qe > p && qe[-1] == ' ')
            qe--;
        if ((size_t)(qe - p) == tl && strncasecmp(p, tok, tl) == 0)
            return 1;
        p = q;
    }
    return 0;
}

/* Handle one complete request head of `hlen` bytes at c->in. */
static void handle_request(server *s, conn *c, size_t hlen)
{
    const char *req = c->in, *end = c->in + hlen;
    const char *eol = memchr(req, '\n', hlen);
    const char *hdrs = eol ? eol + 1 : end;
    char method[16], target[256], version[16];
    const char *v;
    size_t vlen;
    int keep, head_only;
    char line[300];
    size_t ll = eol ? (size_t)(eol - req) : hlen;

    if (ll > 0 && req[ll - 1] == '\r')
        ll--;
    snprintf(line, sizeof(line), "%.*s", (int)(ll < 299 ? ll : 299), req);
    if (sscanf(line, "%15s %255s %15s", method, target, version) != 3 ||
        strncmp(version, "HTTP/1.", 7) != 0) {
        say("[conn %u] malformed request line\n", c->id);
        respond(s, c, 400, "Bad Request", NULL, "Malformed request\n", 0, 0);
        return;
    }
    say("[conn %u] %s %s %s\n", c->id, method, target, version);
    head_only = strcmp(method, "HEAD") == 0;

    /* HTTP/1.1 keeps the connection unless told not to; 1.0 the reverse */
    keep = strcmp(version, "HTTP/1.0") != 0;
    if ((v = find_header(hdrs, end, "Connection", &vlen))) {
        if (token_in(v, vlen, "close"))
            keep = 0;
        else if (token_in(v, vlen, "keep-alive"))
            keep = 1;
    }
    if (find_header(hdrs, end, "Transfer-Encoding", &vlen)) {
        respond(s, c, 501, "Not Implemented", NULL, "Chunked request bodies are not supported\n", 0,
                head_only);
        return;
    }
    if ((v = find_header(hdrs, end, "Content-Length", &vlen))) {
        char num[24];
        char *e;
        unsigned long long n;
        snprintf(num, sizeof(num), "%.*s", (int)(vlen < 23 ? vlen : 23), v);
        n = strtoull(num, &e, 10);
        if (vlen == 0 || vlen > 20 || *e || num[0] == '-') {
            respond(s, c, 400, "Bad Request", NULL, "Bad Content-Length\n", 0, head_only);
            return;
        }
        if (n > MAX_BODY) {
            respond(s, c, 413, "Payload Too Large", NULL, "Request body too large\n", 0, head_only);
            return;
        }
        c->body_left = (size_t)n;
    }

    v = find_header(hdrs, end, "Authorization", &vlen);
    size_t sl = strlen(s->scheme);
    if (v && vlen >= sl && strncasecmp(v, s->scheme, sl) == 0 && (vlen == sl || v[sl] == ' ')) {
        const char *b = v + sl;
        while (b < v + vlen && *b == ' ')
            b++;
        handle_auth(s, c, b, (size_t)(v + vlen - b), keep, head_only);
        return;
    }
    if (c->authed) {
        /* NTLM authenticates the connection: later requests carry no header */
        char body[300];
        say("[conn %u] connection already authenticated as %s\n", c->id, c->name);
        snprintf(body, sizeof(body), "Hello, %s\n", c->name);
        respond(s, c, 200, "OK", NULL, body, keep, head_only);
        return;
    }
    if (v)
        say("[conn %u] Authorization scheme other than %s ignored\n", c->id, s->scheme);
    respond(s, c, 401, "Unauthorized", s->scheme, "Authentication required\n", keep, head_only);
}

/* End of the request head in buf[0..len): offset past the blank line, or 0. */
static size_t head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Parse and answer whatever complete requests are buffered. Stops while a
 * response is still being sent, so a client that pipelines cannot make the
 * output grow without bound. */
static void process_input(server *s, conn *c)
{
    while (!c->want_close && c->out_len == c->out_off && !s->stop) {
        size_t h;
        if (c->body_left) {
            size_t n = c->body_left < c->in_len ? c->body_left : c->in_len;
            memmove(c->in, c->in + n, c->in_len - n);
            c->in_len -= n;
            c->body_left -= n;
            if (c->body_left)
                return;
        }
        /* skip blank lines between requests (RFC 9112 2.2) */
        while (c->in_len && (c->in[0] == '\r' || c->in[0] == '\n')) {
            memmove(c->in, c->in + 1, --c->in_len);
        }
        h = head_end(c->in, c->in_len);
        if (!h) {
            if (c->in_len >= MAX_HEADER) {
                say("[conn %u] request header larger than %d bytes\n", c->id, MAX_HEADER);
                respond(s, c, 431, "Request Header Fields Too Large", NULL,
                        "Request header too large\n", 0, 0);
            }
            return;
        }
        handle_request(s, c, h);
        memmove(c->in, c->in + h, c->in_len - h);
        c->in_len -= h;
    }
}

/* Sends what is pending. Returns -1 on a write error, 1 when everything is
 * sent and the connection is to be closed, else 0. */
static int flush_output(conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1;
        }
        c->out_off += (size_t)n;
    }
    c->out_len = c->out_off = 0;
    return c->close_after ? 1 : 0;
}

/*
 * After a final answer (e.g. 431 to an oversized header) the client may
 * still be sending. close() with unread input makes the kernel send a RST,
 * which can destroy the answer before the client read it; so shut only the
 * write side and keep reading (and discarding) until EOF or a short timeout.
 */
static void start_linger(conn *c)
{
    shutdown(c->fd, SHUT_WR);
    c->lingering = 1;
    c->last = now_s();
}

/*
 * Answer the buffered requests and send the answers, as far as the socket
 * takes them: one answer at a time, so that pipelined requests are served
 * in order and a client that never reads cannot make the output grow.
 */
static void pump(server *s, int slot)
{
    conn *c = s->conns[slot];
    while (!c->lingering) {
        int r;
        process_input(s, c); /* a no-op while an answer is still pending */
        if (c->out_off == c->out_len && !c->close_after)
            return; /* nothing to send: wait for more input */
        r = flush_output(c);
        if (r < 0) {
            conn_close(s, slot, "write failed");
            return;
        }
        if (r > 0) {
            start_linger(c);
            return;
        }
        if (c->out_off < c->out_len)
            return; /* socket full: poll for POLLOUT */
    }
}

static void accept_new(server *s)
{
    for (;;) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        int fd = accept4(s->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        int slot = -1;
        conn *c;
        if (fd < 0)
            return; /* EAGAIN, or a transient error: poll will tell again */
        for (int i = 0; i < MAX_CONNS; i++)
            if (!s->conns[i]) {
                slot = i;
                break;
            }
        c = slot >= 0 ? calloc(1, sizeof(*c)) : NULL;
        if (c)
            c->in = malloc(MAX_HEADER);
        if (!c || !c->in) {
            static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                       "Content-Length: 0\r\nConnection: close\r\n\r\n";
            if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL) < 0) {
            }
            close(fd);
            if (c)
                free(c);
            say("[server] connection refused: too many connections\n");
            continue;
        }
        c->fd = fd;
        c->id = ++s->next_id;
        c->last = now_s();
        SecInvalidateHandle(&c->ctx);
        inet_ntop(AF_INET, &sa.sin_addr, c->peer, sizeof(c->peer));
        snprintf(c->peer + strlen(c->peer), sizeof(c->peer) - strlen(c->peer), ":%u",
                 (unsigned)ntohs(sa.sin_port));
        s->conns[slot] = c;
        say("[conn %u] opened from %s\n", c->id, c->peer);
    }
}

/* Read what is available; -1 when the peer is gone or misbehaves. */
static int read_input(server *s, conn *c)
{
    for (;;) {
        char discard[4096];
        char *dst = c->in + c->in_len;
        size_t room = MAX_HEADER - c->in_len;
        ssize_t n;
        if (room == 0) {
            /* buffer full of a request we have not answered yet: wait */
            process_input(s, c);
            if (c->in_len == MAX_HEADER)
                return 0;
            continue;
        }
        if (c->want_close) {
            /* after a final answer, swallow (and ignore) whatever follows */
            dst = discard;
            room = sizeof(discard);
        }
        n = recv(c->fd, dst, room, 0);
        if (n == 0)
            return -1;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        c->last = now_s();
        if (dst == discard)
            continue;
        c->in_len += (size_t)n;
        process_input(s, c);
    }
}

static int listen_on(int port, int *out_port)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never on other interfaces */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        close(fd);
        return -1;
    }
    *out_port = ntohs(sa.sin_port);
    return fd;
}

static void serve(server *s)
{
    struct pollfd pfd[MAX_CONNS + 2];
    int slot_of[MAX_CONNS + 2];

    while (!s->stop && !got_signal) {
        int n = 0, timeout_ms = -1;
        time_t now = now_s();

        pfd[n++] = (struct pollfd){s->sig_pipe[0], POLLIN, 0};
        pfd[n++] = (struct pollfd){s->lfd, POLLIN, 0};
        for (int i = 0; i < MAX_CONNS; i++) {
            conn *c = s->conns[i];
            long left;
            if (!c)
                continue;
            left = (long)(c->last + (c->lingering ? LINGER_SECONDS : s->idle_seconds) - now);
            if (left <= 0) {
                conn_close(s, i, c->lingering ? "response sent" : "idle timeout");
                continue;
            }
            if (timeout_ms < 0 || left * 1000 < timeout_ms)
                timeout_ms = (int)(left * 1000);
            slot_of[n] = i;
            pfd[n++] = (struct pollfd){c->fd, c->out_off < c->out_len ? POLLOUT : POLLIN, 0};
        }
        if (s->stop)
            break;
        if (poll(pfd, (nfds_t)n, timeout_ms) < 0) {
            if (errno == EINTR)
                continue;
            perror("poll");
            break;
        }
        if (pfd[0].revents) {
            char buf[16];
            while (read(s->sig_pipe[0], buf, sizeof(buf)) > 0) {
            }
        }
        if (pfd[1].revents & POLLIN)
            accept_new(s);
        for (int k = 2; k < n; k++) {
            int i = slot_of[k];
            conn *c = s->conns[i];
            if (!c || !pfd[k].revents)
                continue;
            if (pfd[k].revents & (POLLERR | POLLNVAL)) {
                conn_close(s, i, "socket error");
                continue;
            }
            if (pfd[k].revents & POLLOUT) {
                c->last = now_s();
            } else if (pfd[k].revents & (POLLIN | POLLHUP)) {
                if (read_input(s, c) < 0) {
                    /* the peer closed: still try to deliver a queued answer */
                    (void)flush_output(c);
                    conn_close(s, i, c->lingering ? "response sent" : "peer closed");
                    continue;
                }
            }
            pump(s, i);
        }
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: sspx-ntlm-demo [--port N] [--users FILE] [--once] [--max-requests N]\n"
               "                      [--idle-timeout SECONDS] [--negotiate [--keytab FILE]]\n"
               "  --port 0 picks a free port; the server listens on 127.0.0.1 only.\n"
               "  --negotiate: WWW-Authenticate: Negotiate (Kerberos from the keytab,\n"
               "    KRB5_KTNAME by default, and NTLM from the users) instead of NTLM.\n"
               "  Without --users a default users file is written to a temp file:\n"
               "    TESTDOM:bob:Passw0rd!   and   *:alice:Wonderland1\n");
}

static int parse_int(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *e;
    long n;
    errno = 0;
    n = strtol(v ? v : "", &e, 10);
    if (!v || !*v || *e || errno || n < lo || n > hi) {
        fprintf(stderr, "sspx-ntlm-demo: %s needs a number in [%ld, %ld]\n", opt, lo, hi);
        return -1;
    }
    *out = n;
    return 0;
}

int main(int argc, char **argv)
{
    server s;
    const char *users = NULL;
    char tmp_users[64] = "";
    long port = 8080, v;
    int bound_port = 0, rc = 0;
    SSPX_SERVER_AUTH_DATA ad;
    SECURITY_STATUS st;
    const char *keytab = NULL;
    sspx_config *cfg = NULL;
    struct sigaction sa;

    memset(&s, 0, sizeof(s));
    s.idle_seconds = DEFAULT_IDLE_SECONDS;
    s.lfd = s.sig_pipe[0] = s.sig_pipe[1] = -1;
    s.scheme = "NTLM";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--port") == 0) {
            if (parse_int(a, val, 0, 65535, &port) < 0)
                return 2;
            i++;
        } else if (strcmp(a, "--users") == 0 && val) {
            users = val;
            i++;
        } else if (strcmp(a, "--negotiate") == 0) {
            s.scheme = "Negotiate";
        } else if (strcmp(a, "--keytab") == 0 && val) {
            keytab = val;
            i++;
        } else if (strcmp(a, "--once") == 0) {
            s.once = 1;
        } else if (strcmp(a, "--max-requests") == 0) {
            if (parse_int(a, val, 1, 1000000000L, &s.max_requests) < 0)
                return 2;
            i++;
        } else if (strcmp(a, "--idle-timeout") == 0) {
            if (parse_int(a, val, 1, 86400, &v) < 0)
                return 2;
            s.idle_seconds = (int)v;
            i++;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "sspx-ntlm-demo: unknown or incomplete option %s\n", a);
            usage(stderr);
            return 2;
        }
    }

    if (!users) {
        int fd;
        snprintf(tmp_users, sizeof(tmp_users), "/tmp/sspx-demo-users-XXXXXX");
        fd = mkstemp(tmp_users);
        if (fd < 0 || write(fd, default_users, sizeof(default_users) - 1) !=
                          (ssize_t)(sizeof(default_users) - 1)) {
            perror("sspx-ntlm-demo: writing the default users file");
            return 1;
        }
        close(fd);
        users = tmp_users;
        say("[server] no --users given: wrote the default users file %s\n"
            "[server]   TESTDOM:bob:Passw0rd!\n"
            "[server]   *:alice:Wonderland1\n",
            users);
    }

    if (keytab && strcmp(s.scheme, "Negotiate") != 0) {
        fprintf(stderr, "sspx-ntlm-demo: --keytab goes with --negotiate\n");
        return 2;
    }
    memset(&ad, 0, sizeof(ad));
    ad.Version = SSPX_SERVER_AUTH_DATA_VERSION;
    ad.UsersFile = users;
    ad.NetbiosDomain = "TESTDOM";
    if (strcmp(s.scheme, "Negotiate") == 0) {
        /* options as an sspx_config (SSPX_SERVER_AUTH_DATA has no keytab) */
        cfg = sspx_config_new();
        if (!cfg || sspx_config_set(cfg, "users_file", users) != SEC_E_OK ||
            sspx_config_set(cfg, "netbios_domain", "TESTDOM") != SEC_E_OK ||
            (keytab && sspx_config_set(cfg, "keytab", keytab) != SEC_E_OK)) {
            fprintf(stderr, "sspx-ntlm-demo: %s\n", sspx_last_error_string());
            return 1;
        }
        st = AcquireCredentialsHandleA(NULL, "Negotiate", SECPKG_CRED_INBOUND, NULL, cfg, NULL,
                                       NULL, &s.cred, NULL);
        sspx_config_free(&cfg);
    } else {
        st = AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_INBOUND, NULL, &ad, NULL, NULL,
                                       &s.cred, NULL);
    }
    /* the file is read once, at acquisition: the temp copy is not needed now */
    if (tmp_users[0])
        unlink(tmp_users);
    if (st != SEC_E_OK) {
        fprintf(stderr, "sspx-ntlm-demo: AcquireCredentialsHandleA: %s: %s\n", status_name(st),
                sspx_last_error_string());
        return 1;
    }

    if (pipe2(s.sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
        perror("pipe2");
        rc = 1;
        goto out;
    }
    signal_fd = s.sig_pipe[1];
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    s.lfd = listen_on((int)port, &bound_port);
    if (s.lfd < 0) {
        fprintf(stderr, "sspx-ntlm-demo: cannot listen on 127.0.0.1:%ld: %s\n", port,
                strerror(errno));
        rc = 1;
        goto out;
    }
    say("[server] sspx %s, %s, NetBIOS domain TESTDOM, users file %s%s%s\n", sspx_version(),
        s.scheme, tmp_users[0] ? "(default)" : users, keytab ? ", keytab " : "",
        keytab ? keytab : "");
    say("[server] listening on http://127.0.0.1:%d/\n", bound_port);

    serve(&s);

    if (got_signal)
        say("[server] signal %d: shutting down\n", (int)got_signal);
    else
        say("[server] done after %ld request(s): shutting down\n", s.requests);
    for (int i = 0; i < MAX_CONNS; i++)
        if (s.conns[i]) {
            (void)flush_output(s.conns[i]);
            conn_close(&s, i, "server shutdown");
        }
out:
    if (s.lfd >= 0)
        close(s.lfd);
    signal_fd = -1;
    if (s.sig_pipe[0] >= 0) {
        close(s.sig_pipe[0]);
        close(s.sig_pipe[1]);
    }
    FreeCredentialsHandle(&s.cred);
    return rc;
}
