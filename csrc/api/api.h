/* Shared by the entry-point files: they use core/ and nothing deeper. */
#ifndef SSPX_API_H
#define SSPX_API_H

#include "core/core.h"

/* NUL-terminated UTF-16 (SEC_WCHAR) <-> UTF-8 */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_api_wstr_to_utf8(const SEC_WCHAR *w, char *out, size_t cap);
/* Size in SEC_WCHARs (with the NUL) of the UTF-16 form of `s`, or 0 if invalid. */
SSPX_INTERNAL size_t sspx_api_utf8_wlen(const char *s);
SSPX_INTERNAL void sspx_api_utf8_to_wstr(const char *s, SEC_WCHAR *out, size_t cap);
/* SecPkgInfoW records of `pkgs`, strings included, in one FreeContextBuffer block. */
SSPX_INTERNAL PSecPkgInfoW sspx_api_pkginfo_w(const sspx_package *const *pkgs, size_t n);

#endif
