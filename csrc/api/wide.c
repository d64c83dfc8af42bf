/* UTF-16 helpers for the W entry points. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "wire/utf.h"

sspx_status sspx_api_wstr_to_utf8(const SEC_WCHAR *w, char *out, size_t cap)
{
    size_t n = 0;
    uint8_t *tmp;
    bool ok;
    while (w[n] && n < 65536)
        n++;
    ENSURE(w[n] == 0, SSPX_ERR_BAD_ARG);
    tmp = malloc(2 * n + 1);
    ENSURE(tmp, SSPX_ERR_NO_MEMORY);
    for (size_t i = 0; i < n; i++) {
        tmp[2 * i] = (uint8_t)w[i];
        tmp[2 * i + 1] = (uint8_t)(w[i] >> 8);
    }
    ok = n == 0 ? (cap > 0 && (out[0] = 0, true)) : sspx_utf16le_to_utf8(tmp, 2 * n, out, cap);
    sspx_free_wiped(tmp, 2 * n + 1);
    ENSURE(ok, SSPX_ERR_BAD_ARG);
    return SEC_E_OK;
}

size_t sspx_api_utf8_wlen(const char *s)
{
    size_t n = strlen(s), ol;
    uint8_t *tmp = malloc(2 * n + 2);
    if (!tmp)
        return 0;
    bool ok = sspx_utf8_to_utf16le(s, n, false, tmp, 2 * n + 2, &ol);
    free(tmp);
    return ok ? ol / 2 + 1 : 0;
}

void sspx_api_utf8_to_wstr(const char *s, SEC_WCHAR *out, size_t cap)
{
    size_t n = strlen(s), ol = 0;
    uint8_t *tmp = malloc(2 * n + 2);
    if (tmp && sspx_utf8_to_utf16le(s, n, false, tmp, 2 * n + 2, &ol) && ol / 2 < cap) {
        for (size_t i = 0; i < ol / 2; i++)
            out[i] = (SEC_WCHAR)(tmp[2 * i] | tmp[2 * i + 1] << 8);
        out[ol / 2] = 0;
    } else if (cap) {
        out[0] = 0;
    }
    free(tmp);
}
