/* The rest of the Windows surface: package enumeration, the function
 * table, W entry points, context and credential attributes, statuses and
 * error details, token descriptions. */
#include "fixtures.h"

static const char *users;

static void packages(void)
{
    ULONG n;
    PSecPkgInfoA a;
    PSecPkgInfoW w;
    CHECK_ST(EnumerateSecurityPackagesA(&n, &a), SEC_E_OK);
    CHECK(n >= 1);
    int found = 0;
    for (ULONG i = 0; i < n; i++)
        if (strcmp(a[i].Name, "NTLM") == 0) {
            found = 1;
            CHECK(a[i].cbMaxToken == 2888);
            CHECK(a[i].wRPCID == 10);
            CHECK(a[i].fCapabilities & SECPKG_FLAG_INTEGRITY);
            CHECK(a[i].fCapabilities & SECPKG_FLAG_PRIVACY);
        }
    CHECK(found);
    CHECK_ST(FreeContextBuffer(a), SEC_E_OK);
    CHECK_ST(QuerySecurityPackageInfoA("ntlm", &a), SEC_E_OK);
    CHECK(strcmp(a->Name, "NTLM") == 0 && strcmp(a->Comment, "NTLM Security Package") == 0);
    CHECK_ST(FreeContextBuffer(a), SEC_E_OK);
    CHECK_ST(QuerySecurityPackageInfoA("Nope", &a), SEC_E_SECPKG_NOT_FOUND);
    CHECK(a == NULL);
    CHECK_ST(EnumerateSecurityPackagesW(&n, &w), SEC_E_OK);
    CHECK(n >= 1 && w[0].Name[0] == 'N' && w[0].Name[4] == 0);
    CHECK_ST(FreeContextBuffer(w), SEC_E_OK);
    SEC_WCHAR name[] = {'N', 'T', 'L', 'M', 0};
    CHECK_ST(QuerySecurityPackageInfoW(name, &w), SEC_E_OK);
    CHECK(w->cbMaxToken == 2888);
    CHECK_ST(FreeContextBuffer(w), SEC_E_OK);
    CHECK(sspx_package_count() >= 1 && strcmp(sspx_package_name(0), "NTLM") == 0);
}

static void function_table(void)
{
    PSecurityFunctionTableA t = InitSecurityInterfaceA();
    PSecurityFunctionTableW tw = InitSecurityInterfaceW();
    CHECK(t && tw);
    CHECK(t->dwVersion >= SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION);
    CHECK(t->AcceptSecurityContext == AcceptSecurityContext);
    CHECK(t->AcquireCredentialsHandleA == AcquireCredentialsHandleA);
    CHECK(t->InitializeSecurityContextA == InitializeSecurityContextA);
    CHECK(t->EncryptMessage == EncryptMessage && t->DecryptMessage == DecryptMessage);
    CHECK(t->QuerySecurityContextToken == QuerySecurityContextToken);
    CHECK(t->FreeContextBuffer == FreeContextBuffer);
    CHECK(tw->AcquireCredentialsHandleW == AcquireCredentialsHandleW);
    CHECK(tw->EncryptMessage == EncryptMessage);
    /* slot positions as Windows lays them out (sspi.h): 8-byte slots on LP64 */
    CHECK((char *)&t->EncryptMessage - (char *)t == 25 * (ptrdiff_t)sizeof(void *));
    CHECK((char *)&t->DecryptMessage - (char *)t == 26 * (ptrdiff_t)sizeof(void *));
    CHECK((char *)&t->AcceptSecurityContext - (char *)t == 7 * (ptrdiff_t)sizeof(void *));
    /* a handshake entirely through the table, as dynamically loading code does */
    CredHandle sc, cc;
    t_hs h;
    CHECK_ST(t_server_cred(&sc, users, 0, 0), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, NULL, 0, NULL, 0), SEC_E_OK);
    SecPkgContext_NamesA nm;
    CHECK_ST(t->QueryContextAttributesA(&h.sctx, SECPKG_ATTR_NAMES, &nm), SEC_E_OK);
    CHECK_ST(t->FreeContextBuffer(nm.sUserName), SEC_E_OK);
    t_hs_free(&h);
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

static SEC_WCHAR *w(const char *s, SEC_WCHAR *buf)
{
    size_t i = 0;
    for (; s[i]; i++)
        buf[i] = (SEC_WCHAR)(unsigned char)s[i];
    buf[i] = 0;
    return buf;
}

static void wide_entry_points(void)
{
    SEC_WCHAR u[16], d[16], p[16], pkg[16], tgt[32];
    SEC_WINNT_AUTH_IDENTITY_W id;
    CredHandle cc, sc;
    CtxtHandle cx, sx;
    ULONG attr;
    uint8_t t1[512], t2[512], t3[1024];
    id.User = w("bob", u);
    id.UserLength = 3;
    id.Domain = w("TESTDOM", d);
    id.DomainLength = 7;
    id.Password = w("Passw0rd!", p);
    id.PasswordLength = 9;
    id.Flags = SEC_WINNT_AUTH_IDENTITY_UNICODE;
    CHECK_ST(AcquireCredentialsHandleW(NULL, w("NTLM", pkg), SECPKG_CRED_OUTBOUND, NULL, &id, NULL,
                                       NULL, &cc, NULL),
             SEC_E_OK);
    CHECK_ST(t_server_cred(&sc, users, 0, 0), SEC_E_OK);
    SecBuffer ob = {sizeof(t1), SECBUFFER_TOKEN, t1}, ib;
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob}, idd = {SECBUFFER_VERSION, 1, &ib};
    CHECK_ST(InitializeSecurityContextW(&cc, NULL, w("HTTP/server", tgt), 0, 0,
                                        SECURITY_NATIVE_DREP, NULL, 0, &cx, &od, &attr, NULL),
             SEC_I_CONTINUE_NEEDED);
    ib = (SecBuffer){ob.cbBuffer, SECBUFFER_TOKEN, t1};
    ob = (SecBuffer){sizeof(t2), SECBUFFER_TOKEN, t2};
    CHECK_ST(AcceptSecurityContext(&sc, NULL, &idd, 0, SECURITY_NATIVE_DREP, &sx, &od, &attr, NULL),
             SEC_I_CONTINUE_NEEDED);
    ib = (SecBuffer){ob.cbBuffer, SECBUFFER_TOKEN, t2};
    ob = (SecBuffer){sizeof(t3), SECBUFFER_TOKEN, t3};
    CHECK_ST(InitializeSecurityContextW(&cc, &cx, w("HTTP/server", tgt), 0, 0, SECURITY_NATIVE_DREP,
                                        &idd, 0, &cx, &od, &attr, NULL),
             SEC_E_OK);
    ib = (SecBuffer){ob.cbBuffer, SECBUFFER_TOKEN, t3};
    ob = (SecBuffer){0, SECBUFFER_TOKEN, NULL};
    CHECK_ST(AcceptSecurityContext(&sc, &sx, &idd, 0, SECURITY_NATIVE_DREP, &sx, &od, &attr, NULL),
             SEC_E_OK);
    SecPkgContext_NamesW nw;
    CHECK_ST(QueryContextAttributesW(&sx, SECPKG_ATTR_NAMES, &nw), SEC_E_OK);
    CHECK(nw.sUserName[0] == 'T' && nw.sUserName[7] == '\\' && nw.sUserName[8] == 'b' &&
          nw.sUserName[11] == 0);
    FreeContextBuffer(nw.sUserName);
    SecPkgCredentials_NamesW cnw;
    CHECK_ST(QueryCredentialsAttributesW(&cc, SECPKG_CRED_ATTR_NAMES, &cnw), SEC_E_OK);
    CHECK(cnw.sUserName[0] == 'T' && cnw.sUserName[8] == 'b');
    FreeContextBuffer(cnw.sUserName);
    DeleteSecurityContext(&cx);
    DeleteSecurityContext(&sx);
    FreeCredentialsHandle(&cc);
    FreeCredentialsHandle(&sc);
}

static void attributes(void)
{
    CredHandle sc, cc;
    t_hs h;
    CHECK_ST(t_server_cred(&sc, users, 0, 0), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    CHECK_ST(t_handshake(&h, &cc, &sc, ISC_REQ_CONFIDENTIALITY, 0, NULL, 0, NULL, 0), SEC_E_OK);
    SecPkgContext_Sizes sz;
    CHECK_ST(QueryContextAttributesA(&h.sctx, SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
    CHECK(sz.cbMaxToken == 2888 && sz.cbMaxSignature == 16 && sz.cbSecurityTrailer == 16 &&
          sz.cbBlockSize == 0);
    SecPkgContext_PackageInfoA pi;
    CHECK_ST(QueryContextAttributesA(&h.sctx, SECPKG_ATTR_PACKAGE_INFO, &pi), SEC_E_OK);
    CHECK(strcmp(pi.PackageInfo->Name, "NTLM") == 0);
    FreeContextBuffer(pi.PackageInfo);
    SecPkgContext_NegotiationInfoA ni;
    CHECK_ST(QueryContextAttributesA(&h.sctx, SECPKG_ATTR_NEGOTIATION_INFO, &ni), SEC_E_OK);
    CHECK(ni.NegotiationState == SECPKG_NEGOTIATION_COMPLETE);
    CHECK(strcmp(ni.PackageInfo->Name, "NTLM") == 0);
    FreeContextBuffer(ni.PackageInfo);
    SecPkgContext_Lifespan ls;
    CHECK_ST(QueryContextAttributesA(&h.sctx, SECPKG_ATTR_LIFESPAN, &ls), SEC_E_OK);
    CHECK(ls.tsExpiry.QuadPart == h.sexp.QuadPart);
    SecPkgContext_NativeNamesA nn;
    CHECK_ST(QueryContextAttributesA(&h.sctx, SECPKG_ATTR_NATIVE_NAMES, &nn), SEC_E_OK);
    CHECK(strcmp(nn.sClientName, "TESTDOM\\bob") == 0 && strcmp(nn.sServerName, "SERVER") == 0);
    FreeContextBuffer(nn.sClientName);
    FreeContextBuffer(nn.sServerName);
    /* the W forms of the string-bearing attributes */
    {
        static const SEC_WCHAR bob[] = u"TESTDOM\\bob", server[] = u"SERVER", ntlm[] = u"NTLM";
        SecPkgContext_NativeNamesW nw;
        SecPkgContext_PackageInfoW pw;
        SecPkgContext_NegotiationInfoW gw;
        CHECK_ST(QueryContextAttributesW(&h.sctx, SECPKG_ATTR_NATIVE_NAMES, &nw), SEC_E_OK);
        CHECK(memcmp(nw.sClientName, bob, sizeof(bob)) == 0);
        CHECK(memcmp(nw.sServerName, server, sizeof(server)) == 0);
        CHECK_ST(FreeContextBuffer(nw.sClientName), SEC_E_OK);
        CHECK_ST(FreeContextBuffer(nw.sServerName), SEC_E_OK);
        CHECK_ST(QueryContextAttributesW(&h.sctx, SECPKG_ATTR_PACKAGE_INFO, &pw), SEC_E_OK);
        CHECK(memcmp(pw.PackageInfo->Name, ntlm, sizeof(ntlm)) == 0);
        CHECK(pw.PackageInfo->cbMaxToken > 0 && pw.PackageInfo->wRPCID == 10);
        CHECK_ST(FreeContextBuffer(pw.PackageInfo), SEC_E_OK);
        CHECK_ST(QueryContextAttributesW(&h.sctx, SECPKG_ATTR_NEGOTIATION_INFO, &gw), SEC_E_OK);
        CHECK(memcmp(gw.PackageInfo->Name, ntlm, sizeof(ntlm)) == 0);
        CHECK(gw.NegotiationState == SECPKG_NEGOTIATION_COMPLETE);
        CHECK_ST(FreeContextBuffer(gw.PackageInfo), SEC_E_OK);
        CHECK_ST(QueryContextAttributesW(&h.sctx, SECPKG_ATTR_NATIVE_NAMES, NULL),
                 SEC_E_INVALID_PARAMETER);
    }
    SecPkgContext_StreamSizes ss;
    CHECK_ST(QueryContextAttributesA(&h.sctx, SECPKG_ATTR_STREAM_SIZES, &ss),
             SEC_E_UNSUPPORTED_FUNCTION);
    SecPkgCredentials_NamesA cn;
    CHECK_ST(QueryCredentialsAttributesA(&cc, SECPKG_CRED_ATTR_NAMES, &cn), SEC_E_OK);
    CHECK(strcmp(cn.sUserName, "TESTDOM\\bob") == 0);
    FreeContextBuffer(cn.sUserName);
    /* CompleteAuthToken: NTLM never asks for it; calling it is harmless */
    SecBuffer b = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc d = {SECBUFFER_VERSION, 1, &b};
    CHECK_ST(CompleteAuthToken(&h.sctx, &d), SEC_E_OK);
    /* unsupported functions say so */
    CHECK_ST(ImpersonateSecurityContext(&h.sctx), SEC_E_UNSUPPORTED_FUNCTION);
    CHECK_ST(SetContextAttributesA(&h.sctx, SECPKG_ATTR_NAMES, &b, 4), SEC_E_UNSUPPORTED_FUNCTION);
    SecBuffer packed;
    CHECK_ST(ExportSecurityContext(&h.sctx, 0, &packed, NULL), SEC_E_UNSUPPORTED_FUNCTION);
    t_hs_free(&h);

    /* attributes of an incomplete context */
    CtxtHandle cx;
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
    ULONG attr;
    TimeStamp exp = {.QuadPart = 77};
    CHECK_ST(InitializeSecurityContextA(&cc, NULL, NULL, ISC_REQ_ALLOCATE_MEMORY, 0,
                                        SECURITY_NATIVE_DREP, NULL, 0, &cx, &od, &attr, &exp),
             SEC_I_CONTINUE_NEEDED);
    CHECK(exp.QuadPart == 0); /* ptsExpiry only on the final call */
    CHECK(attr & ISC_RET_ALLOCATED_MEMORY);
    FreeContextBuffer(ob.pvBuffer);
    SecPkgContext_NamesA nm;
    CHECK_ST(QueryContextAttributesA(&cx, SECPKG_ATTR_NAMES, &nm), SEC_E_INVALID_HANDLE);
    SecPkgContext_SessionKey sk;
    CHECK_ST(QueryContextAttributesA(&cx, SECPKG_ATTR_SESSION_KEY, &sk), SEC_E_INVALID_HANDLE);
    CHECK_ST(QueryContextAttributesA(&cx, SECPKG_ATTR_NEGOTIATION_INFO, &ni), SEC_E_OK);
    CHECK(ni.NegotiationState == SECPKG_NEGOTIATION_IN_PROGRESS);
    FreeContextBuffer(ni.PackageInfo);
    uint8_t sig[16], data[2] = "x";
    SecBuffer mb[2] = {{16, SECBUFFER_TOKEN, sig}, {1, SECBUFFER_DATA, data}};
    SecBufferDesc md = {SECBUFFER_VERSION, 2, mb};
    CHECK_ST(MakeSignature(&cx, 0, &md, 0), SEC_E_INVALID_HANDLE);
    DeleteSecurityContext(&cx);
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

static void statuses(void)
{
    CHECK(strcmp(sspx_status_name(SEC_E_LOGON_DENIED), "SEC_E_LOGON_DENIED") == 0);
    CHECK(strcmp(sspx_status_name(SEC_I_CONTINUE_NEEDED), "SEC_I_CONTINUE_NEEDED") == 0);
    CHECK(strcmp(sspx_status_name(SEC_E_INVALID_HANDLE), "SEC_E_INVALID_HANDLE") == 0);
    CHECK(sspx_status_name(0x12345678) == NULL);
    CHECK(strcmp(sspx_status_message(0x12345678), "unknown status") == 0);
    /* SDK values that ported code compares against */
    CHECK((uint32_t)SEC_E_INVALID_HANDLE == 0x80090301u);
    CHECK((uint32_t)SEC_E_LOGON_DENIED == 0x8009030Cu);
    CHECK((uint32_t)SEC_I_CONTINUE_NEEDED == 0x00090312u);
    CHECK((uint32_t)SEC_E_INCOMPLETE_MESSAGE == 0x80090318u);
    CHECK((uint32_t)SEC_E_BAD_BINDINGS == 0x80090346u);
    CHECK(sizeof(ULONG) == 4 && sizeof(SecBuffer) == 16 && sizeof(SecHandle) == 16);
    /* the last-error detail */
    sspx_clear_error();
    CHECK(sspx_last_error().code == 0);
    CHECK_ST(QuerySecurityPackageInfoA("Nope", &(PSecPkgInfoA){0}), SEC_E_SECPKG_NOT_FOUND);
    sspx_error_info e = sspx_last_error();
    CHECK(e.status == SEC_E_SECPKG_NOT_FOUND && e.line > 0 && strstr(e.file, ".c"));
    CHECK(strstr(sspx_last_error_string(), "SSPX_ERR_UNKNOWN_PACKAGE") != NULL);
    CHECK(strcmp(sspx_version(), SSPX_VERSION_STRING) == 0);
}

static void describe(void)
{
    CredHandle sc, cc;
    t_hs h;
    sspx_desc *d = NULL;
    sspx_buf text = {0};
    CHECK_ST(t_server_cred(&sc, users, 0, 0), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, NULL, 0, NULL, 0), SEC_E_OK);
    /* NEGOTIATE */
    CHECK_ST(sspx_describe(NULL, h.tok[0], h.toklen[0], &d), SEC_E_OK);
    CHECK(strcmp(sspx_desc_text(sspx_desc_find(d, "MessageType")), "NEGOTIATE_MESSAGE") == 0);
    const sspx_desc *fl = sspx_desc_find(d, "NegotiateFlags");
    CHECK(fl && sspx_desc_get_kind(fl) == SSPX_DESC_FLAGS && sspx_desc_offset(fl) == 12);
    CHECK(sspx_desc_find(fl, "NEGOTIATE_UNICODE") && sspx_desc_find(fl, "NEGOTIATE_NTLM"));
    CHECK(sspx_desc_find(d, "Version") != NULL);
    sspx_desc_free(&d);
    CHECK(d == NULL);
    /* CHALLENGE: names and timestamp in the target info */
    CHECK_ST(sspx_describe("NTLM", h.tok[1], h.toklen[1], &d), SEC_E_OK);
    CHECK(strcmp(sspx_desc_text(sspx_desc_find(d, "TargetName")), "TESTDOM") == 0);
    CHECK(strcmp(sspx_desc_text(sspx_desc_find(d, "MsvAvNbComputerName")), "SERVER") == 0);
    CHECK(sspx_desc_get_kind(sspx_desc_find(d, "MsvAvTimestamp")) == SSPX_DESC_UINT);
    size_t n;
    CHECK(sspx_desc_bytes(sspx_desc_find(d, "ServerChallenge"), &n) && n == 8);
    CHECK_ST(sspx_desc_to_text(d, &text), SEC_E_OK);
    CHECK(strstr((char *)text.data, "CHALLENGE_MESSAGE") &&
          strstr((char *)text.data, "MsvAvDnsDomainName"));
    sspx_buf_free(&text);
    sspx_desc_free(&d);
    /* AUTHENTICATE: user, MIC, client AV pairs */
    CHECK_ST(sspx_describe(NULL, h.tok[2], h.toklen[2], &d), SEC_E_OK);
    CHECK(strcmp(sspx_desc_text(sspx_desc_find(d, "UserName")), "bob") == 0);
    CHECK(strcmp(sspx_desc_text(sspx_desc_find(d, "ResponseKind")), "NTLMv2") == 0);
    CHECK(sspx_desc_find(d, "MIC") != NULL);
    CHECK(sspx_desc_find(sspx_desc_find(d, "MsvAvFlags"), "MIC_PROVIDED") != NULL);
    CHECK(sspx_desc_find(d, "MsvAvChannelBindings") != NULL);
    CHECK(strcmp(sspx_desc_text(sspx_desc_find(d, "MsvAvTargetName")), "HTTP/server.testdom") == 0);
    sspx_desc_free(&d);
    /* not a token */
    CHECK_ST(sspx_describe(NULL, (const uint8_t *)"hello world!", 12, &d), SEC_E_INVALID_TOKEN);
    CHECK(d == NULL);
    CHECK_ST(sspx_describe("NTLM", h.tok[2], 40, &d), SEC_E_INVALID_TOKEN);
    CHECK_ST(sspx_describe("Nope", h.tok[2], 40, &d), SEC_E_SECPKG_NOT_FOUND);
    t_hs_free(&h);
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

/* A real Windows Server 2008 R2 AUTHENTICATE with MIC and channel bindings
 * (a capture published with gss-ntlmssp's tests) decodes as expected. */
static void windows_capture(void)
{
    static const char *hex =
        "4e544c4d535350000300000018001800940000007c017c01ac00000010001000580000001a001a0068000000"
        "12001200820000000000000028020000058288a20601b01d0000000ff054a542b090b66c1fea1a2cc82e930b"
        "57005300320030003000380052003200410064006d0069006e006900730074007200610074006f0072005700"
        "49004e0037002d0032002d00500043000000000000000000000000000000000000000000000000005a6a21ae"
        "1a44c044693eee59fc5d81e001010000000000007be73fc30bdecd0127fc118082c2fbdd0000000002001000"
        "5700530032003000300038005200320001001600440043002d00570053003200300030003800520032000400"
        "1c00770073003200300030003800720032002e006c006f00630061006c0003003400440043002d0077007300"
        "3200300030003800720032002e00770073003200300030003800720032002e006c006f00630061006c000500"
        "1c00770073003200300030003800720032002e006c006f00630061006c00070008007be73fc30bdecd010600"
        "04000200000008003000300000000000000001000000002000004d6b0d27541022f5ffa673da2bfcfdf1942f"
        "257be11a49c954197aca8aaf2eaf0a0010006586e99d81c2fc984e47172fd4dd031009003e00480054005400"
        "50002f00640063002d00770073003200300030003800720032002e0077007300320030003000380072003200"
        "2e006c006f00630061006c00000000000000000000000000";
    uint8_t m[1024];
    size_t n = t_hex(hex, m, sizeof(m));
    sspx_desc *d = NULL;
    CHECK_ST(sspx_describe(NULL, m, n, &d), SEC_E_OK);
    CHECK(strcmp(sspx_desc_text(sspx_desc_find(d, "UserName")), "Administrator") == 0);
    CHECK(strcmp(sspx_desc_text(sspx_desc_find(d, "DomainName")), "WS2008R2") == 0);
    CHECK(strcmp(sspx_desc_text(sspx_desc_find(d, "Workstation")), "WIN7-2-PC") == 0);
    size_t bl;
    const uint8_t *mic = sspx_desc_bytes(sspx_desc_find(d, "MIC"), &bl);
    uint8_t want[16];
    t_hex("f054a542b090b66c1fea1a2cc82e930b", want, 16);
    CHECK(mic && bl == 16);
    if (mic)
        CHECK_MEM(mic, want, 16);
    const uint8_t *cb = sspx_desc_bytes(sspx_desc_find(d, "MsvAvChannelBindings"), &bl);
    t_hex("6586e99d81c2fc984e47172fd4dd0310", want, 16);
    CHECK(cb && bl == 16);
    if (cb)
        CHECK_MEM(cb, want, 16);
    CHECK(strcmp(sspx_desc_text(sspx_desc_find(d, "MsvAvTargetName")),
                 "HTTP/dc-ws2008r2.ws2008r2.local") == 0);
    CHECK(sspx_desc_uint(sspx_desc_find(d, "NegotiateFlags")) == 0xa2888205u);
    sspx_desc_free(&d);
}

int main(void)
{
    users = t_users_file("TESTDOM:bob:Passw0rd!\n");
    RUN(packages);
    RUN(function_table);
    RUN(wide_entry_points);
    RUN(attributes);
    RUN(statuses);
    RUN(describe);
    RUN(windows_capture);
    t_users_free(users);
    return t_done();
}
