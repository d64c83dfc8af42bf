/* Sizes and offsets of the SSPI structures the benchmark passes to a foreign
 * SSPI implementation, so that bench_ntlm.c (compiled against sspx's
 * sspi.h) can check at run time that WinPR's layouts (measured by
 * bench_winpr_layout.c, compiled against WinPR's own headers) are the same
 * before it calls WinPR with its own structures. */
#ifndef SSPX_BENCH_LAYOUT_H
#define SSPX_BENCH_LAYOUT_H

#include <stddef.h>

typedef struct bench_layout {
    size_t ulong_size;
    size_t secbuffer_size, secbuffer_cb, secbuffer_type, secbuffer_pv;
    size_t secbufferdesc_size, secbufferdesc_ver, secbufferdesc_n, secbufferdesc_p;
    size_t sechandle_size, sechandle_lower, sechandle_upper;
    size_t timestamp_size;
    size_t id_a_size, id_a_user, id_a_userlen, id_a_domain, id_a_domainlen, id_a_password,
        id_a_passwordlen, id_a_flags;
    /* SecurityFunctionTableA: the members the benchmark uses */
    size_t tab_acquire, tab_free_cred, tab_isc, tab_asc, tab_complete, tab_delete, tab_set_ctx_attr,
        tab_encrypt, tab_decrypt;
    /* constants */
    unsigned long isc_req_integrity, isc_req_confidentiality, asc_req_integrity,
        asc_req_confidentiality, secpkg_cred_inbound, secpkg_cred_outbound, native_drep,
        secbuffer_token, secbuffer_data, id_ansi, attr_sam_file, attr_ntlm_hash;
    size_t auth_ntlm_hash_size, auth_ntlm_hash_hash; /* SecPkgContext_AuthNtlmHash */
} bench_layout;

/* bench_winpr_layout.c (only built when WinPR's headers are found) */
void bench_winpr_layout(bench_layout *out);

#endif
