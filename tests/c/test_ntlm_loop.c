/* In-process client <-> server NTLM loops through the SSPI entry points. */
#include "fixtures.h"

static const char *users;

static void loop_basic(void)
{
    CredHandle sc, cc;
    t_hs h;
    SecPkgContext_NamesA names;
    SecPkgContext_SessionKey sk1, sk2;
    CHECK_ST(t_server_cred(&sc, users, 0, SSPX_CBT_WHEN_SUPPLIED), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    CHECK_ST(t_handshake(&h, &cc, &sc, ISC_REQ_INTEGRITY | ISC_REQ_CONFIDENTIALITY,
                         ASC_REQ_INTEGRITY, NULL, 0, NULL, 0),
             SEC_E_OK);
    CHECK(h.toklen[2] > 88);
    CHECK(h.sattr & ASC_RET_INTEGRITY);
    CHECK(h.sattr & ASC_RET_CONFIDENTIALITY);
    CHECK_ST(QueryContextAttributesA(&h.sctx, SECPKG_ATTR_NAMES, &names), SEC_E_OK);
    CHECK(strcmp(names.sUserName, "TESTDOM\\bob") == 0);
    FreeContextBuffer(names.sUserName);
    CHECK_ST(QueryContextAttributesA(&h.sctx, SECPKG_ATTR_SESSION_KEY, &sk1), SEC_E_OK);
    CHECK_ST(QueryContextAttributesA(&h.cctx, SECPKG_ATTR_SESSION_KEY, &sk2), SEC_E_OK);
    CHECK(sk1.SessionKeyLength == 16 && sk2.SessionKeyLength == 16);
    CHECK_MEM(sk1.SessionKey, sk2.SessionKey, 16);
    FreeContextBuffer(sk1.SessionKey);
    FreeContextBuffer(sk2.SessionKey);
    t_hs_free(&h);
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

int main(void)
{
    users = t_users_file("TESTDOM:bob:Passw0rd!\n*:alice:Secret1\n");
    RUN(loop_basic);
    unlink(users);
    return t_done();
}
