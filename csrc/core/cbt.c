/*
 * SEC_CHANNEL_BINDINGS: parse the caller's buffer (the struct followed by
 * the data its offsets point at) and hash it as a gss_channel_bindings_struct
 * (RFC 4121 4.1.1.2; MS-NLMP 3.1.5.1.2 puts MD5 of this in
 * MsvAvChannelBindings):
 *   initiator addrtype(le32) len(le32) address, acceptor addrtype len
 *   address, application data len(le32) data.
 */
#include <string.h>

#include "core.h"
#include "crypto/crypto.h"
#include "wire/cursor.h"

sspx_status sspx_cbt_parse(const uint8_t *buf, size_t len, sspx_cbt *out)
{
    sspx_rd r;
    uint32_t v[8];
    memset(out, 0, sizeof(*out));
    ENSURE(buf, SSPX_ERR_NULL_ARG);
    sspx_rd_init(&r, buf, len);
    for (int i = 0; i < 8; i++)
        ENSURE(sspx_rd_le32(&r, &v[i]), SSPX_ERR_BAD_CHANNEL_BINDINGS);
    /* dwInitiatorAddrType, cbInitiatorLength, dwInitiatorOffset,
     * dwAcceptorAddrType, cbAcceptorLength, dwAcceptorOffset,
     * cbApplicationDataLength, dwApplicationDataOffset */
    ENSURE(v[1] == 0 || sspx_range_ok(len, v[2], v[1]), SSPX_ERR_BAD_CHANNEL_BINDINGS);
    ENSURE(v[4] == 0 || sspx_range_ok(len, v[5], v[4]), SSPX_ERR_BAD_CHANNEL_BINDINGS);
    ENSURE(v[6] == 0 || sspx_range_ok(len, v[7], v[6]), SSPX_ERR_BAD_CHANNEL_BINDINGS);
    out->initiator_type = v[0];
    out->initiator_len = v[1];
    out->initiator = v[1] ? buf + v[2] : NULL;
    out->acceptor_type = v[3];
    out->acceptor_len = v[4];
    out->acceptor = v[4] ? buf + v[5] : NULL;
    out->app_len = v[6];
    out->app = v[6] ? buf + v[7] : NULL;
    return SEC_E_OK;
}

sspx_status sspx_cbt_hash(const sspx_cbt *c, uint8_t out[16])
{
    uint8_t h[20];
    sspx_put_le32(h, c->initiator_type);
    sspx_put_le32(h + 4, c->initiator_len);
    sspx_put_le32(h + 8, c->acceptor_type);
    sspx_put_le32(h + 12, c->acceptor_len);
    sspx_put_le32(h + 16, c->app_len);
    sspx_iov v[6] = {{h, 8},      {c->initiator, c->initiator_len},
                     {h + 8, 8},  {c->acceptor, c->acceptor_len},
                     {h + 16, 4}, {c->app, c->app_len}};
    return sspx_md5v(v, 6, out);
}
