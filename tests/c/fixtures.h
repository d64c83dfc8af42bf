/* Shared helpers for the C tests: credentials, a client/server handshake
 * loop through the SSPI entry points, deterministic rng/clock. */
#ifndef SSPX_TEST_FIXTURES_H
#define SSPX_TEST_FIXTURES_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sspx/sspi.h"
#include "sspx/sspx.h"
#include "test.h"

/* Write a users file and return its path (never freed: tests are short). */
static inline const char *t_users_file(const char *content)
{
    char *path = malloc(64);
    int fd;
    if (!path)
        abort();
    strcpy(path, "/tmp/sspx-users-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0)
        abort();
    if (write(fd, content, strlen(content)) != (ssize_t)strlen(content))
        abort();
    close(fd);
    return path;
}

/* Remove a users file made by t_users_file. */
static inline void t_users_free(const char *path)
{
    unlink(path);
    free((void *)path);
}

static inline SECURITY_STATUS t_server_cred(CredHandle *h, const char *users_file, ULONG flags,
                                            ULONG cbt_policy)
{
    SSPX_SERVER_AUTH_DATA ad;
    memset(&ad, 0, sizeof(ad));
    ad.Version = SSPX_SERVER_AUTH_DATA_VERSION;
    ad.Flags = flags;
    ad.UsersFile = users_file;
    ad.NetbiosDomain = "TESTDOM";
    ad.NetbiosComputer = "SERVER";
    ad.ChannelBindings = cbt_policy;
    return AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_INBOUND, NULL, &ad, NULL, NULL, h,
                                     NULL);
}

static inline SECURITY_STATUS t_client_cred(CredHandle *h, const char *user, const char *domain,
                                            const char *password)
{
    SEC_WINNT_AUTH_IDENTITY_A id;
    memset(&id, 0, sizeof(id));
    id.User = (unsigned char *)user;
    id.UserLength = (ULONG)strlen(user);
    id.Domain = (unsigned char *)domain;
    id.DomainLength = (ULONG)strlen(domain);
    id.Password = (unsigned char *)password;
    id.PasswordLength = (ULONG)strlen(password);
    id.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI;
    return AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_OUTBOUND, NULL, &id, NULL, NULL, h,
                                     NULL);
}

/* One full handshake; returns the server's final status. cbt may be NULL. */
typedef struct t_hs {
    CtxtHandle cctx, sctx;
    int have_c, have_s;
    SECURITY_STATUS cst, sst;
    ULONG cattr, sattr;
    TimeStamp sexp;
    uint8_t tok[3][4096];
    ULONG toklen[3];
} t_hs;

static inline void t_hs_free(t_hs *h)
{
    if (h->have_c)
        DeleteSecurityContext(&h->cctx);
    if (h->have_s)
        DeleteSecurityContext(&h->sctx);
    h->have_c = h->have_s = 0;
}

static inline SECURITY_STATUS t_handshake(t_hs *h, CredHandle *ccred, CredHandle *scred, ULONG creq,
                                          ULONG sreq, const uint8_t *cbt, ULONG cbt_len,
                                          const uint8_t *scbt, ULONG scbt_len)
{
    SecBuffer ob, ib[2];
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob}, id = {SECBUFFER_VERSION, 1, ib};
    memset(h, 0, sizeof(*h));
    /* leg 1: NEGOTIATE */
    ob = (SecBuffer){sizeof(h->tok[0]), SECBUFFER_TOKEN, h->tok[0]};
    h->cst =
        InitializeSecurityContextA(ccred, NULL, "HTTP/server.testdom", creq, 0,
                                   SECURITY_NATIVE_DREP, NULL, 0, &h->cctx, &od, &h->cattr, NULL);
    if (h->cst != SEC_I_CONTINUE_NEEDED)
        return h->cst;
    h->have_c = 1;
    h->toklen[0] = ob.cbBuffer;
    /* leg 2: CHALLENGE */
    ib[0] = (SecBuffer){h->toklen[0], SECBUFFER_TOKEN, h->tok[0]};
    id.cBuffers = 1;
    if (scbt) {
        ib[1] = (SecBuffer){scbt_len, SECBUFFER_CHANNEL_BINDINGS, (void *)scbt};
        id.cBuffers = 2;
    }
    ob = (SecBuffer){sizeof(h->tok[1]), SECBUFFER_TOKEN, h->tok[1]};
    h->sst = AcceptSecurityContext(scred, NULL, &id, sreq, SECURITY_NATIVE_DREP, &h->sctx, &od,
                                   &h->sattr, &h->sexp);
    if (h->sst != SEC_I_CONTINUE_NEEDED)
        return h->sst;
    h->have_s = 1;
    h->toklen[1] = ob.cbBuffer;
    /* leg 3: AUTHENTICATE */
    ib[0] = (SecBuffer){h->toklen[1], SECBUFFER_TOKEN, h->tok[1]};
    id.cBuffers = 1;
    if (cbt) {
        ib[1] = (SecBuffer){cbt_len, SECBUFFER_CHANNEL_BINDINGS, (void *)cbt};
        id.cBuffers = 2;
    }
    ob = (SecBuffer){sizeof(h->tok[2]), SECBUFFER_TOKEN, h->tok[2]};
    h->cst =
        InitializeSecurityContextA(ccred, &h->cctx, "HTTP/server.testdom", creq, 0,
                                   SECURITY_NATIVE_DREP, &id, 0, &h->cctx, &od, &h->cattr, NULL);
    if (h->cst != SEC_E_OK)
        return h->cst;
    h->toklen[2] = ob.cbBuffer;
    ib[0] = (SecBuffer){h->toklen[2], SECBUFFER_TOKEN, h->tok[2]};
    id.cBuffers = 1;
    if (scbt) {
        ib[1] = (SecBuffer){scbt_len, SECBUFFER_CHANNEL_BINDINGS, (void *)scbt};
        id.cBuffers = 2;
    }
    ob = (SecBuffer){sizeof(h->tok[0]), SECBUFFER_TOKEN, h->tok[0]};
    h->sst = AcceptSecurityContext(scred, &h->sctx, &id, sreq, SECURITY_NATIVE_DREP, &h->sctx, &od,
                                   &h->sattr, &h->sexp);
    return h->sst;
}

/* Deterministic rng: a counter-based pattern, or a fixed script of bytes. */
typedef struct t_rng {
    const uint8_t *script;
    size_t len, pos;
} t_rng;

static inline int t_rng_fn(void *ud, uint8_t *out, size_t n)
{
    t_rng *r = ud;
    if (r->pos + n > r->len)
        return -1;
    memcpy(out, r->script + r->pos, n);
    r->pos += n;
    return 0;
}

static inline uint64_t t_clock_fn(void *ud)
{
    return *(uint64_t *)ud;
}

#endif
