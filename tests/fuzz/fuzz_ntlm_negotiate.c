/* ntlm_decode_negotiate on arbitrary bytes; a decoded message re-encoded
 * with ntlm_encode_negotiate decodes to the same fields. */
#include "fuzz_decode_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ntlm_negotiate m, m2;
    static uint8_t enc[2 * 65536 + 64];
    size_t n;
    (void)ntlm_msg_type(data, size);
    if (ntlm_decode_negotiate(data, size, &m) != SEC_E_OK)
        return 0;
    FZ_CHECK(size >= NTLM_NEGOTIATE_MIN && size <= NTLM_MAX_TOKEN);
    FZ_CHECK(ntlm_msg_type(data, size) == 1);
    fz_check_field(&m.domain, data, size);
    fz_check_field(&m.workstation, data, size);
    if (m.has_version)
        FZ_CHECK(m.flags & NTLMSSP_NEGOTIATE_VERSION);

    n = ntlm_encode_negotiate(enc, sizeof(enc), m.flags, fz_nb(&m.domain), fz_nb(&m.workstation),
                              m.version);
    FZ_CHECK(n >= 32);
    if (n > NTLM_MAX_TOKEN)
        return 0; /* overlapping fields can re-encode larger than a token */
    FZ_CHECK(ntlm_decode_negotiate(enc, n, &m2) == SEC_E_OK);
    FZ_CHECK(m2.flags == m.flags);
    FZ_CHECK(fz_field_eq(&m.domain, &m2.domain));
    FZ_CHECK(fz_field_eq(&m.workstation, &m2.workstation));
    if (m.flags & NTLMSSP_NEGOTIATE_VERSION)
        FZ_CHECK(m2.has_version && memcmp(m2.version, m.version, 8) == 0);
    return 0;
}
