/* ntlm_decode_challenge on arbitrary bytes (and the TargetInfo AV list);
 * a decoded message re-encoded with ntlm_encode_challenge decodes to the
 * same fields. */
#include "fuzz_decode_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ntlm_challenge m, m2;
    ntlm_av av;
    static uint8_t enc[2 * 65536 + 64];
    size_t n;
    if (ntlm_decode_challenge(data, size, &m) != SEC_E_OK)
        return 0;
    FZ_CHECK(size >= NTLM_CHALLENGE_MIN && size <= NTLM_MAX_TOKEN);
    FZ_CHECK(ntlm_msg_type(data, size) == 2);
    fz_check_field(&m.target_name, data, size);
    fz_check_field(&m.target_info, data, size);
    if (m.target_info.len && ntlm_decode_av(m.target_info.p, m.target_info.len, &av) == SEC_E_OK)
        FZ_CHECK(av.list_len <= m.target_info.len);

    n = ntlm_encode_challenge(enc, sizeof(enc), m.flags, fz_nb(&m.target_name), m.server_challenge,
                              fz_nb(&m.target_info), m.version);
    FZ_CHECK(n >= 56);
    if (n > NTLM_MAX_TOKEN)
        return 0;
    FZ_CHECK(ntlm_decode_challenge(enc, n, &m2) == SEC_E_OK);
    FZ_CHECK(m2.flags == m.flags);
    FZ_CHECK(memcmp(m2.server_challenge, m.server_challenge, 8) == 0);
    FZ_CHECK(fz_field_eq(&m.target_name, &m2.target_name));
    FZ_CHECK(fz_field_eq(&m.target_info, &m2.target_info));
    if (m.flags & NTLMSSP_NEGOTIATE_VERSION)
        FZ_CHECK(m2.has_version && memcmp(m2.version, m.version, 8) == 0);
    return 0;
}
