/* MakeSignature, VerifySignature, EncryptMessage, DecryptMessage: one
 * dispatcher, the four entry points below. */
#include "api.h"

enum msg_op { OP_SIGN, OP_VERIFY, OP_ENCRYPT, OP_DECRYPT };

static SECURITY_STATUS dispatch(PCtxtHandle h, enum msg_op op, ULONG qop, PSecBufferDesc m,
                                ULONG seq, PULONG pfqop)
{
    sspx_ctx *ctx;
    sspx_msg msg = {m, qop, seq};
    sspx_status st;
    if (pfqop)
        *pfqop = 0;
    GUARD(sspx_handle_get(h, SSPX_OBJ_CTX, (void **)&ctx)); /* NULL h: invalid handle */
    if (!m) {
        sspx_ctx_unref(ctx);
        BAIL(SSPX_ERR_NULL_ARG);
    }
    sspx_status (*fn)(sspx_ctx *, sspx_msg *) = op == OP_SIGN      ? ctx->pkg->make_signature
                                                : op == OP_VERIFY  ? ctx->pkg->verify_signature
                                                : op == OP_ENCRYPT ? ctx->pkg->encrypt
                                                                   : ctx->pkg->decrypt;
    pthread_mutex_lock(&ctx->lock);
    if (!fn)
        st = SSPX_ERROR(SSPX_ERR_UNSUPPORTED);
    else if (ctx->phase != SSPX_PHASE_DONE)
        st = SSPX_ERROR(SSPX_ERR_CTX_NOT_COMPLETE);
    else
        st = fn(ctx, &msg);
    pthread_mutex_unlock(&ctx->lock);
    sspx_ctx_unref(ctx);
    return st;
}

SSPX_API SECURITY_STATUS SEC_ENTRY MakeSignature(PCtxtHandle phContext, ULONG fQOP,
                                                 PSecBufferDesc pMessage, ULONG MessageSeqNo)
{
    return dispatch(phContext, OP_SIGN, fQOP, pMessage, MessageSeqNo, NULL);
}

SSPX_API SECURITY_STATUS SEC_ENTRY VerifySignature(PCtxtHandle phContext, PSecBufferDesc pMessage,
                                                   ULONG MessageSeqNo, PULONG pfQOP)
{
    return dispatch(phContext, OP_VERIFY, 0, pMessage, MessageSeqNo, pfQOP);
}

SSPX_API SECURITY_STATUS SEC_ENTRY EncryptMessage(PCtxtHandle phContext, ULONG fQOP,
                                                  PSecBufferDesc pMessage, ULONG MessageSeqNo)
{
    return dispatch(phContext, OP_ENCRYPT, fQOP, pMessage, MessageSeqNo, NULL);
}

SSPX_API SECURITY_STATUS SEC_ENTRY DecryptMessage(PCtxtHandle phContext, PSecBufferDesc pMessage,
                                                  ULONG MessageSeqNo, PULONG pfQOP)
{
    return dispatch(phContext, OP_DECRYPT, 0, pMessage, MessageSeqNo, pfQOP);
}
