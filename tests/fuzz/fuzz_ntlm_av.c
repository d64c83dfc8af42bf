/* ntlm_decode_av on arbitrary bytes, and ntlm_decode_v2_response (an
 * NtChallengeResponse: NTProofStr + client blob) followed by the blob's AV
 * list: every pair it reports lies inside the list. */
#include "fuzz_decode_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check_av(const uint8_t *p, size_t len)
{
    ntlm_av av;
    if (ntlm_decode_av(p, len, &av) != SEC_E_OK)
        return;
    FZ_CHECK(av.seen[MsvAvEOL]);
    FZ_CHECK(av.list_len >= 4 && av.list_len <= len);
    FZ_CHECK(av.off[MsvAvEOL] + 4u == av.list_len);
    FZ_CHECK(av.count >= 1 && av.count <= av.list_len / 4);
    for (int i = 1; i < NTLM_AV_MAX; i++) {
        if (!av.seen[i])
            continue;
        FZ_CHECK(av.v[i] == p + av.off[i] + 4);
        FZ_CHECK(av.off[i] + 4u + av.len[i] <= av.list_len);
        fz_touch(av.v[i], av.len[i]);
        if (i == MsvAvFlags)
            FZ_CHECK(av.len[i] == 4);
        if (i == MsvAvTimestamp)
            FZ_CHECK(av.len[i] == 8);
        if (i == MsvAvChannelBindings)
            FZ_CHECK(av.len[i] == 16);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ntlm_v2_blob b;
    check_av(data, size);
    if (ntlm_decode_v2_response(data, size, &b) == SEC_E_OK) {
        FZ_CHECK(size >= 44 && b.av == data + 44 && b.av_len == size - 44);
        FZ_CHECK(b.resp_type == 1 && b.hi_resp_type == 1);
        check_av(b.av, b.av_len);
    }
    return 0;
}
