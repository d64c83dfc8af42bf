/* Concurrency: one credential shared by many threads each running their
 * own handshakes; many threads hammering one context (serialised inside);
 * a context deleted while other threads use its handle. */
#include <pthread.h>
#include <stdatomic.h>

#include "fixtures.h"

static const char *users;
static CredHandle g_sc, g_cc;

static void *handshaker(void *arg)
{
    long ok = 0;
    (void)arg;
    for (int i = 0; i < 200; i++) {
        t_hs h;
        SecPkgContext_NamesA n;
        if (t_handshake(&h, &g_cc, &g_sc, ISC_REQ_CONFIDENTIALITY, 0, NULL, 0, NULL, 0) ==
                SEC_E_OK &&
            QueryContextAttributesA(&h.sctx, SECPKG_ATTR_NAMES, &n) == SEC_E_OK) {
            ok += strcmp(n.sUserName, "TESTDOM\\bob") == 0;
            FreeContextBuffer(n.sUserName);
        }
        t_hs_free(&h);
    }
    return (void *)ok;
}

static void shared_credentials(void)
{
    pthread_t th[8];
    long total = 0;
    CHECK_ST(t_server_cred(&g_sc, users, 0, 0), SEC_E_OK);
    CHECK_ST(t_client_cred(&g_cc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, handshaker, NULL);
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(th[i], &r);
        total += (long)r;
    }
    CHECK(total == 8 * 200);
    FreeCredentialsHandle(&g_sc);
    FreeCredentialsHandle(&g_cc);
}

static t_hs g_h;
static void *signer(void *arg)
{
    long ok = 0;
    (void)arg;
    for (int i = 0; i < 500; i++) {
        uint8_t sig[16], data[8] = "payload";
        SecBuffer b[2] = {{16, SECBUFFER_TOKEN, sig}, {7, SECBUFFER_DATA, data}};
        SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
        ok += MakeSignature(&g_h.cctx, 0, &d, 0) == SEC_E_OK;
    }
    return (void *)ok;
}

/* Concurrent MakeSignature on one context: every call gets its own
 * sequence number (the context serialises them), so the receiver verifies
 * the signatures in sequence order afterwards. */
static void one_context_many_threads(void)
{
    CredHandle sc, cc;
    pthread_t th[4];
    long total = 0;
    CHECK_ST(t_server_cred(&sc, users, 0, 0), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    CHECK_ST(t_handshake(&g_h, &cc, &sc, ISC_REQ_INTEGRITY, 0, NULL, 0, NULL, 0), SEC_E_OK);
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, signer, NULL);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        total += (long)r;
    }
    CHECK(total == 2000);
    /* the next signature carries sequence number 2000 */
    uint8_t sig[16], data[8] = "payload";
    SecBuffer b[2] = {{16, SECBUFFER_TOKEN, sig}, {7, SECBUFFER_DATA, data}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    CHECK_ST(MakeSignature(&g_h.cctx, 0, &d, 0), SEC_E_OK);
    CHECK(sig[12] == (2000 & 0xff) && sig[13] == (2000 >> 8));
    t_hs_free(&g_h);
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

static CtxtHandle g_victim;
static atomic_int g_stop;
static void *user_of_handle(void *arg)
{
    long ok = 0, invalid = 0;
    (void)arg;
    do {
        SecPkgContext_Sizes sz;
        uint8_t sig[16], data[4] = "abc";
        SecBuffer b[2] = {{16, SECBUFFER_TOKEN, sig}, {3, SECBUFFER_DATA, data}};
        SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
        SECURITY_STATUS a = QueryContextAttributesA(&g_victim, SECPKG_ATTR_SIZES, &sz);
        SECURITY_STATUS s = MakeSignature(&g_victim, 0, &d, 0);
        ok += a == SEC_E_OK;
        invalid += a == SEC_E_INVALID_HANDLE && s == SEC_E_INVALID_HANDLE;
        if (a != SEC_E_OK && a != SEC_E_INVALID_HANDLE)
            return (void *)-1L;
    } while (!g_stop);
    return (void *)(ok + invalid > 0 ? 1L : 0L);
}

static void delete_while_in_use(void)
{
    CredHandle sc, cc;
    CHECK_ST(t_server_cred(&sc, users, 0, 0), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    for (int round = 0; round < 50; round++) {
        t_hs h;
        pthread_t th[3];
        CHECK_ST(t_handshake(&h, &cc, &sc, ISC_REQ_INTEGRITY, 0, NULL, 0, NULL, 0), SEC_E_OK);
        g_victim = h.cctx;
        g_stop = 0;
        for (int i = 0; i < 3; i++)
            pthread_create(&th[i], NULL, user_of_handle, NULL);
        for (volatile int spin = 0; spin < 20000; spin++)
            ;
        CHECK_ST(DeleteSecurityContext(&h.cctx), SEC_E_OK);
        h.have_c = 0;
        for (volatile int spin = 0; spin < 20000; spin++)
            ;
        g_stop = 1;
        for (int i = 0; i < 3; i++) {
            void *r;
            pthread_join(th[i], &r);
            CHECK((long)r == 1);
        }
        CHECK_ST(DeleteSecurityContext(&g_victim), SEC_E_INVALID_HANDLE);
        t_hs_free(&h);
    }
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

int main(void)
{
    users = t_users_file("TESTDOM:bob:Passw0rd!\n");
    RUN(shared_credentials);
    RUN(one_context_many_threads);
    RUN(delete_while_in_use);
    t_users_free(users);
    return t_done();
}
