/*
 * The crypto adaptor: the only place that includes OpenSSL's primitives.
 * sspx keeps a private OSSL_LIB_CTX with the default and legacy providers
 * (MD4, RC4 and DES live in legacy in OpenSSL 3) and fetches every
 * algorithm once. Hash and cipher contexts for one-shot operations are kept
 * per thread, so hot paths allocate nothing.
 */
#ifndef SSPX_CRYPTO_H
#define SSPX_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct sspx_iov {
    const void *p;
    size_t n;
} sspx_iov;

/* Loads providers and fetches algorithms (once, thread-safe). */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_crypto_init(void);

SSPX_INTERNAL SSPX_WUR sspx_status sspx_md4(const void *p, size_t n, uint8_t out[16]);
SSPX_INTERNAL SSPX_WUR sspx_status sspx_md5v(const sspx_iov *v, size_t n, uint8_t out[16]);
SSPX_INTERNAL SSPX_WUR sspx_status sspx_sha256v(const sspx_iov *v, size_t n, uint8_t out[32]);
SSPX_INTERNAL SSPX_WUR sspx_status sspx_hmac_md5v(const uint8_t *key, size_t klen,
                                                  const sspx_iov *v, size_t n, uint8_t out[16]);
SSPX_INTERNAL SSPX_WUR sspx_status sspx_hmac_md5(const uint8_t *key, size_t klen, const void *p,
                                                 size_t n, uint8_t out[16]);

/* A running RC4 keystream (NTLM sealing keeps one per direction). */
typedef struct sspx_rc4 {
    void *evp; /* EVP_CIPHER_CTX */
} sspx_rc4;
SSPX_INTERNAL SSPX_WUR sspx_status sspx_rc4_init(sspx_rc4 *r, const uint8_t *key, size_t klen);
SSPX_INTERNAL SSPX_WUR sspx_status sspx_rc4_update(sspx_rc4 *r, const uint8_t *in, uint8_t *out,
                                                   size_t n);
/* dst becomes a copy of src's keystream position (dst may be initialised). */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_rc4_copy(sspx_rc4 *dst, const sspx_rc4 *src);
SSPX_INTERNAL void sspx_rc4_free(sspx_rc4 *r);
/* RC4K(key, data) one-shot */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_rc4k(const uint8_t *key, size_t klen, const uint8_t *in,
                                             uint8_t *out, size_t n);
/* DES-ECB encryption of one block with a 7-byte key expanded to 8 (MS-NLMP 6). */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_des7(const uint8_t key7[7], const uint8_t in[8],
                                             uint8_t out[8]);
/* CRC-32 chained like zlib's: crc = sspx_crc32(crc, p, n), starting from 0. */
SSPX_INTERNAL uint32_t sspx_crc32(uint32_t crc, const uint8_t *p, size_t n);
/* Cryptographically secure random bytes from the private library context. */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_crypto_random(uint8_t *out, size_t n);
SSPX_INTERNAL void sspx_cleanse(void *p, size_t n);
SSPX_INTERNAL int sspx_crypto_memeq(const void *a, const void *b, size_t n);

#endif
