#include "crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static struct {
    OSSL_LIB_CTX *lib;
    OSSL_PROVIDER *dflt, *legacy;
    EVP_MD *md4, *md5, *sha256;
    EVP_CIPHER *rc4, *des_ecb;
    int ok;
} g;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_tls_key;

/* Per-thread scratch contexts for one-shot operations: a digest context, a
 * cipher context for DES, one bound to RC4 once (re-keying it then costs a
 * key schedule, not a provider context), and a pool of random bytes so a
 * handshake's few small draws cost one RAND_bytes_ex now and then. */
#define RANDOM_POOL 256
typedef struct tls_ctx {
    EVP_MD_CTX *md;
    EVP_CIPHER_CTX *cipher;
    EVP_CIPHER_CTX *rc4;
    uint8_t pool[RANDOM_POOL];
    size_t pool_left; /* unused bytes at the end of pool */
    unsigned pool_gen;
} tls_ctx;

/* Bumped in a forked child: a pool drawn before fork() is never reused. */
static atomic_uint g_fork_gen;
static void on_fork_child(void)
{
    atomic_fetch_add(&g_fork_gen, 1);
}

static void tls_free(void *p)
{
    tls_ctx *t = p;
    if (!t)
        return;
    EVP_MD_CTX_free(t->md);
    EVP_CIPHER_CTX_free(t->cipher);
    EVP_CIPHER_CTX_free(t->rc4);
    OPENSSL_clear_free(t, sizeof(*t));
}

static void do_init(void)
{
    if (pthread_key_create(&g_tls_key, tls_free) != 0 ||
        pthread_atfork(NULL, NULL, on_fork_child) != 0)
        return;
    g.lib = OSSL_LIB_CTX_new();
    if (!g.lib)
        return;
    g.dflt = OSSL_PROVIDER_load(g.lib, "default");
    g.legacy = OSSL_PROVIDER_load(g.lib, "legacy");
    if (!g.dflt || !g.legacy)
        return;
    g.md4 = EVP_MD_fetch(g.lib, "MD4", NULL);
    g.md5 = EVP_MD_fetch(g.lib, "MD5", NULL);
    g.sha256 = EVP_MD_fetch(g.lib, "SHA256", NULL);
    g.rc4 = EVP_CIPHER_fetch(g.lib, "RC4", NULL);
    g.des_ecb = EVP_CIPHER_fetch(g.lib, "DES-ECB", NULL);
    g.ok = g.md4 && g.md5 && g.sha256 && g.rc4 && g.des_ecb;
}

sspx_status sspx_crypto_init(void)
{
    pthread_once(&g_once, do_init);
    ENSURE(g.ok, SSPX_ERR_CRYPTO_INIT);
    return SEC_E_OK;
}

static tls_ctx *tls(void)
{
    tls_ctx *t;
    if (sspx_crypto_init() < 0)
        return NULL;
    t = pthread_getspecific(g_tls_key);
    if (t)
        return t;
    t = OPENSSL_zalloc(sizeof(*t));
    if (!t)
        return NULL;
    t->md = EVP_MD_CTX_new();
    t->cipher = EVP_CIPHER_CTX_new();
    t->rc4 = EVP_CIPHER_CTX_new();
    if (!t->md || !t->cipher || !t->rc4 ||
        !EVP_CipherInit_ex2(t->rc4, g.rc4, NULL, NULL, 1, NULL) ||
        pthread_setspecific(g_tls_key, t) != 0) {
        tls_free(t);
        return NULL;
    }
    return t;
}

static sspx_status digestv(const EVP_MD *md, const sspx_iov *v, size_t n, uint8_t *out)
{
    tls_ctx *t = tls();
    unsigned int olen;
    ENSURE(t, SSPX_ERR_CRYPTO_INIT);
    ENSURE(EVP_DigestInit_ex2(t->md, md, NULL), SSPX_ERR_CRYPTO);
    for (size_t i = 0; i < n; i++)
        ENSURE(EVP_DigestUpdate(t->md, v[i].p, v[i].n), SSPX_ERR_CRYPTO);
    ENSURE(EVP_DigestFinal_ex(t->md, out, &olen), SSPX_ERR_CRYPTO);
    return SEC_E_OK;
}

sspx_status sspx_md4(const void *p, size_t n, uint8_t out[16])
{
    GUARD(sspx_crypto_init());
    sspx_iov v = {p, n};
    return digestv(g.md4, &v, 1, out);
}

sspx_status sspx_md5v(const sspx_iov *v, size_t n, uint8_t out[16])
{
    GUARD(sspx_crypto_init());
    return digestv(g.md5, v, n, out);
}

sspx_status sspx_sha256v(const sspx_iov *v, size_t n, uint8_t out[32])
{
    GUARD(sspx_crypto_init());
    return digestv(g.sha256, v, n, out);
}

/* HMAC (RFC 2104) over MD5 with the digest context reused: no allocation. */
sspx_status sspx_hmac_md5v(const uint8_t *key, size_t klen, const sspx_iov *v, size_t n,
                           uint8_t out[16])
{
    uint8_t k[64], pad[64], inner[16];
    sspx_status st;
    GUARD(sspx_crypto_init());
    memset(k, 0, sizeof(k));
    if (klen > 64) {
        sspx_iov kv = {key, klen};
        GUARD(digestv(g.md5, &kv, 1, k));
    } else if (klen) {
        memcpy(k, key, klen);
    }
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    tls_ctx *t = tls();
    ENSURE_GOTO(t, SSPX_ERR_CRYPTO_INIT);
    ENSURE_GOTO(EVP_DigestInit_ex2(t->md, g.md5, NULL) && EVP_DigestUpdate(t->md, pad, 64),
                SSPX_ERR_CRYPTO);
    for (size_t i = 0; i < n; i++)
        ENSURE_GOTO(EVP_DigestUpdate(t->md, v[i].p, v[i].n), SSPX_ERR_CRYPTO);
    ENSURE_GOTO(EVP_DigestFinal_ex(t->md, inner, NULL), SSPX_ERR_CRYPTO);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    ENSURE_GOTO(EVP_DigestInit_ex2(t->md, g.md5, NULL) && EVP_DigestUpdate(t->md, pad, 64) &&
                    EVP_DigestUpdate(t->md, inner, 16) && EVP_DigestFinal_ex(t->md, out, NULL),
                SSPX_ERR_CRYPTO);
    st = SEC_E_OK;
out:
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(inner, sizeof(inner));
    return st;
}

sspx_status sspx_hmac_md5(const uint8_t *key, size_t klen, const void *p, size_t n, uint8_t out[16])
{
    sspx_iov v = {p, n};
    return sspx_hmac_md5v(key, klen, &v, 1, out);
}

sspx_status sspx_rc4_init(sspx_rc4 *r, const uint8_t *key, size_t klen)
{
    OSSL_PARAM params[2];
    size_t kl = klen;
    GUARD(sspx_crypto_init());
    if (!r->evp)
        r->evp = EVP_CIPHER_CTX_new();
    ENSURE(r->evp, SSPX_ERR_NO_MEMORY);
    if (klen == 16) { /* RC4's default key length: one init */
        ENSURE(EVP_CipherInit_ex2(r->evp, g.rc4, key, NULL, 1, NULL), SSPX_ERR_CRYPTO);
        return SEC_E_OK;
    }
    params[0] = OSSL_PARAM_construct_size_t("keylen", &kl);
    params[1] = OSSL_PARAM_construct_end();
    ENSURE(EVP_CipherInit_ex2(r->evp, g.rc4, NULL, NULL, 1, params) &&
               EVP_CipherInit_ex2(r->evp, NULL, key, NULL, 1, NULL),
           SSPX_ERR_CRYPTO);
    return SEC_E_OK;
}

sspx_status sspx_rc4_update(sspx_rc4 *r, const uint8_t *in, uint8_t *out, size_t n)
{
    int ol;
    ENSURE(r->evp, SSPX_ERR_CRYPTO);
    while (n > 0) {
        int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
        ENSURE(EVP_CipherUpdate(r->evp, out, &ol, in, chunk), SSPX_ERR_CRYPTO);
        in += chunk;
        out += chunk;
        n -= (size_t)chunk;
    }
    return SEC_E_OK;
}

sspx_status sspx_rc4_copy(sspx_rc4 *dst, const sspx_rc4 *src)
{
    if (!dst->evp)
        dst->evp = EVP_CIPHER_CTX_new();
    ENSURE(dst->evp, SSPX_ERR_NO_MEMORY);
    ENSURE(src->evp && EVP_CIPHER_CTX_copy(dst->evp, src->evp), SSPX_ERR_CRYPTO);
    return SEC_E_OK;
}

void sspx_rc4_free(sspx_rc4 *r)
{
    EVP_CIPHER_CTX_free(r->evp); /* clears the key schedule */
    r->evp = NULL;
}

sspx_status sspx_rc4k(const uint8_t *key, size_t klen, const uint8_t *in, uint8_t *out, size_t n)
{
    int ol;
    tls_ctx *t = tls();
    ENSURE(t, SSPX_ERR_CRYPTO_INIT);
    ENSURE(klen == 16 && n <= INT32_MAX, SSPX_ERR_CRYPTO); /* NTLM's RC4K keys are 16 bytes */
    /* the per-thread context is bound to RC4 with its default 16-byte key
     * length; only the key schedule is redone */
    ENSURE(EVP_CipherInit_ex2(t->rc4, NULL, key, NULL, 1, NULL) &&
               EVP_CipherUpdate(t->rc4, out, &ol, in, (int)n),
           SSPX_ERR_CRYPTO);
    return SEC_E_OK;
}

sspx_status sspx_des7(const uint8_t k7[7], const uint8_t in[8], uint8_t out[8])
{
    uint8_t k[8];
    int ol;
    tls_ctx *t = tls();
    ENSURE(t, SSPX_ERR_CRYPTO_INIT);
    /* Spread 56 key bits over 8 bytes, 7 bits each (parity bit unused). */
    k[0] = k7[0];
    k[1] = (uint8_t)(k7[0] << 7 | k7[1] >> 1);
    k[2] = (uint8_t)(k7[1] << 6 | k7[2] >> 2);
    k[3] = (uint8_t)(k7[2] << 5 | k7[3] >> 3);
    k[4] = (uint8_t)(k7[3] << 4 | k7[4] >> 4);
    k[5] = (uint8_t)(k7[4] << 3 | k7[5] >> 5);
    k[6] = (uint8_t)(k7[5] << 2 | k7[6] >> 6);
    k[7] = (uint8_t)(k7[6] << 1);
    ENSURE(EVP_CipherInit_ex2(t->cipher, g.des_ecb, k, NULL, 1, NULL) &&
               EVP_CIPHER_CTX_set_padding(t->cipher, 0) &&
               EVP_CipherUpdate(t->cipher, out, &ol, in, 8),
           SSPX_ERR_CRYPTO);
    OPENSSL_cleanse(k, sizeof(k));
    return SEC_E_OK;
}

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_build(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t v = i;
        for (int j = 0; j < 8; j++)
            v = (v & 1) ? 0xedb88320u ^ (v >> 1) : v >> 1;
        crc_table[i] = v;
    }
}

/* CRC-32 (ISO 3309), as NTLM's signatures without extended session security use. */
uint32_t sspx_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    uint32_t c = crc ^ 0xffffffffu;
    pthread_once(&crc_once, crc_build);
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

sspx_status sspx_crypto_random(uint8_t *out, size_t n)
{
    tls_ctx *t = tls();
    unsigned gen = atomic_load(&g_fork_gen);
    ENSURE(t, SSPX_ERR_CRYPTO_INIT);
    if (n > RANDOM_POOL / 4) {
        ENSURE(RAND_bytes_ex(g.lib, out, n, 0) == 1, SSPX_ERR_RNG);
        return SEC_E_OK;
    }
    if (t->pool_left < n || t->pool_gen != gen) {
        ENSURE(RAND_bytes_ex(g.lib, t->pool, RANDOM_POOL, 0) == 1, SSPX_ERR_RNG);
        t->pool_left = RANDOM_POOL;
        t->pool_gen = gen;
    }
    /* hand out the tail of the pool and wipe it: a byte is never given twice */
    uint8_t *p = t->pool + t->pool_left - n;
    memcpy(out, p, n);
    OPENSSL_cleanse(p, n);
    t->pool_left -= n;
    return SEC_E_OK;
}

void sspx_cleanse(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}

int sspx_crypto_memeq(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}
