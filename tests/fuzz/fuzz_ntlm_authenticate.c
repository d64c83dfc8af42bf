/* ntlm_decode_authenticate on arbitrary bytes (and the NTLMv2 response in
 * it); a decoded message re-encoded with ntlm_encode_authenticate decodes to
 * the same fields. */
#include "fuzz_decode_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ntlm_authenticate m, m2;
    ntlm_v2_blob blob;
    ntlm_av av;
    static uint8_t enc[6 * 65536 + 128];
    size_t n, mic_at = 0;
    if (ntlm_decode_authenticate(data, size, &m) != SEC_E_OK)
        return 0;
    FZ_CHECK(size >= NTLM_AUTHENTICATE_MIN && size <= NTLM_MAX_TOKEN);
    FZ_CHECK(ntlm_msg_type(data, size) == 3);
    fz_check_field(&m.lm, data, size);
    fz_check_field(&m.nt, data, size);
    fz_check_field(&m.domain, data, size);
    fz_check_field(&m.user, data, size);
    fz_check_field(&m.workstation, data, size);
    fz_check_field(&m.enc_key, data, size);
    FZ_CHECK(m.header_len >= NTLM_AUTHENTICATE_MIN && m.header_len <= size);
    if (m.has_mic)
        FZ_CHECK(m.header_len >= NTLM_AUTH_HEADER_WITH_MIC &&
                 memcmp(m.mic, data + NTLM_MIC_OFFSET, 16) == 0);
    if (m.nt.len > 24 && ntlm_decode_v2_response(m.nt.p, m.nt.len, &blob) == SEC_E_OK) {
        FZ_CHECK(blob.av == m.nt.p + 44 && blob.av_len == m.nt.len - 44u);
        if (ntlm_decode_av(blob.av, blob.av_len, &av) == SEC_E_OK)
            FZ_CHECK(av.list_len <= blob.av_len);
    }

    n = ntlm_encode_authenticate(enc, sizeof(enc), m.flags, fz_nb(&m.lm), fz_nb(&m.nt),
                                 fz_nb(&m.domain), fz_nb(&m.user), fz_nb(&m.workstation),
                                 fz_nb(&m.enc_key), m.version, m.has_mic, &mic_at);
    FZ_CHECK(n >= 72);
    if (n > NTLM_MAX_TOKEN)
        return 0;
    if (m.has_mic) {
        FZ_CHECK(mic_at == NTLM_MIC_OFFSET);
        memcpy(enc + mic_at, m.mic, 16);
    }
    FZ_CHECK(ntlm_decode_authenticate(enc, n, &m2) == SEC_E_OK);
    FZ_CHECK(m2.flags == m.flags);
    FZ_CHECK(fz_field_eq(&m.lm, &m2.lm));
    FZ_CHECK(fz_field_eq(&m.nt, &m2.nt));
    FZ_CHECK(fz_field_eq(&m.domain, &m2.domain));
    FZ_CHECK(fz_field_eq(&m.user, &m2.user));
    FZ_CHECK(fz_field_eq(&m.workstation, &m2.workstation));
    FZ_CHECK(fz_field_eq(&m.enc_key, &m2.enc_key));
    if (m.has_mic)
        FZ_CHECK(m2.has_mic && memcmp(m2.mic, m.mic, 16) == 0);
    return 0;
}
