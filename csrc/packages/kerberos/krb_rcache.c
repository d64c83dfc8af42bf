/*
 * The in-memory replay cache of the Kerberos acceptor, and the replay key
 * of an AP-REQ (krb_rcache.h).
 *
 * Entries live in a ring in insertion order (the oldest first) and are
 * chained per hash bucket by index. The bucket is a SipHash-2-4 of the key
 * under a random per-store key: the key's bytes are the client's to choose
 * (its own session key encrypts them), so a plain slice of them would let
 * one client chain every entry into one bucket. Entries usually share one
 * lifetime (the window), so the oldest is also the first to expire: an
 * insertion drops expired entries from the front, then the oldest when
 * full; entries of a store shared by credentials with different windows
 * may expire out of order, which only delays their removal (a lookup
 * checks each entry's own expiry). The ring grows by doubling up to
 * max_entries, so an idle credential costs little. One mutex guards it all.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "krb_rcache.h"
#include "wire/der.h"

#define NIL       UINT32_MAX
#define FIRST_CAP 64u
#define MAX_MAX   (1u << 26)

typedef struct rc_entry {
    uint8_t key[KRB_RC_KEY_LEN];
    uint64_t expiry;
    uint32_t next; /* bucket chain */
} rc_entry;

typedef struct rc_mem {
    krb_rcache api; /* first: the interface */
    pthread_mutex_t lock;
    rc_entry *ring;
    uint32_t *buckets;
    size_t cap, max, head, count, nbuckets; /* nbuckets: a power of two */
    uint64_t sip[2];                        /* the bucket hash's key, random */
} rc_mem;

/* SipHash-2-4 (Aumasson and Bernstein, 2012) of a KRB_RC_KEY_LEN key. */
#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                  \
    do {                          \
        v0 += v1;                 \
        v1 = ROTL64(v1, 13) ^ v0; \
        v0 = ROTL64(v0, 32);      \
        v2 += v3;                 \
        v3 = ROTL64(v3, 16) ^ v2; \
        v0 += v3;                 \
        v3 = ROTL64(v3, 21) ^ v0; \
        v2 += v1;                 \
        v1 = ROTL64(v1, 17) ^ v2; \
        v2 = ROTL64(v2, 32);      \
    } while (0)

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t siphash24_key(const uint64_t k[2], const uint8_t key[KRB_RC_KEY_LEN])
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k[0], v1 = 0x646f72616e646f6dULL ^ k[1];
    uint64_t v2 = 0x6c7967656e657261ULL ^ k[0], v3 = 0x7465646279746573ULL ^ k[1];
    uint64_t b = (uint64_t)KRB_RC_KEY_LEN << 56; /* the length; no tail (32 = 4 x 8) */
    for (size_t i = 0; i < KRB_RC_KEY_LEN; i += 8) {
        uint64_t m = le64(key + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static size_t bucket_of(const rc_mem *m, const uint8_t *key)
{
    return (size_t)siphash24_key(m->sip, key) & (m->nbuckets - 1);
}

/* Is `key` held, unexpired? (lock held) */
static bool held(const rc_mem *m, const uint8_t *key, uint64_t now)
{
    for (uint32_t idx = m->buckets[bucket_of(m, key)]; idx != NIL; idx = m->ring[idx].next)
        if (memcmp(m->ring[idx].key, key, KRB_RC_KEY_LEN) == 0 && m->ring[idx].expiry > now)
            return true;
    return false;
}

static void unlink_oldest(rc_mem *m)
{
    uint32_t idx = (uint32_t)m->head;
    uint32_t *pp = &m->buckets[bucket_of(m, m->ring[idx].key)];
    while (*pp != NIL && *pp != idx)
        pp = &m->ring[*pp].next;
    if (*pp == idx)
        *pp = m->ring[idx].next;
    m->head = (m->head + 1) % m->cap;
    m->count--;
}

static void link_entry(rc_mem *m, uint32_t idx)
{
    size_t b = bucket_of(m, m->ring[idx].key);
    m->ring[idx].next = m->buckets[b];
    m->buckets[b] = idx;
}

/* Grow the ring to `cap` (buckets: 2 * cap), oldest first at index 0. */
static int grow(rc_mem *m, size_t cap)
{
    size_t nb = 1;
    rc_entry *ring = malloc(cap * sizeof(*ring));
    uint32_t *buckets;
    while (nb < 2 * cap)
        nb <<= 1;
    buckets = malloc(nb * sizeof(*buckets));
    if (!ring || !buckets) {
        free(ring);
        free(buckets);
        return 0;
    }
    for (size_t i = 0; i < m->count; i++)
        ring[i] = m->ring[(m->head + i) % m->cap];
    free(m->ring);
    free(m->buckets);
    m->ring = ring;
    m->buckets = buckets;
    m->cap = cap;
    m->nbuckets = nb;
    m->head = 0;
    for (size_t i = 0; i < nb; i++)
        buckets[i] = NIL;
    for (size_t i = 0; i < m->count; i++)
        link_entry(m, (uint32_t)i);
    return 1;
}

static sspx_status mem_check_and_insert(krb_rcache *rc, const uint8_t key[KRB_RC_KEY_LEN],
                                        uint64_t now, uint64_t expiry)
{
    rc_mem *m = (rc_mem *)rc;
    sspx_status st = SEC_E_OK;
    uint32_t idx;
    pthread_mutex_lock(&m->lock);
    while (m->count && m->ring[m->head].expiry <= now)
        unlink_oldest(m);
    if (held(m, key, now)) {
        st = SSPX_ERROR(SSPX_ERR_KRB_REPLAY);
        goto out;
    }
    if (m->count == m->cap && m->cap < m->max &&
        !grow(m, m->cap * 2 < m->max ? m->cap * 2 : m->max)) {
        st = SSPX_ERROR(SSPX_ERR_NO_MEMORY);
        goto out;
    }
    if (m->count == m->cap) /* full at max_entries: evict the oldest */
        unlink_oldest(m);
    idx = (uint32_t)((m->head + m->count) % m->cap);
    memcpy(m->ring[idx].key, key, KRB_RC_KEY_LEN);
    m->ring[idx].expiry = expiry;
    link_entry(m, idx);
    m->count++;
out:
    pthread_mutex_unlock(&m->lock);
    return st;
}

static sspx_status mem_check(krb_rcache *rc, const uint8_t key[KRB_RC_KEY_LEN], uint64_t now)
{
    rc_mem *m = (rc_mem *)rc;
    bool h;
    pthread_mutex_lock(&m->lock);
    h = held(m, key, now);
    pthread_mutex_unlock(&m->lock);
    ENSURE(!h, SSPX_ERR_KRB_REPLAY);
    return SEC_E_OK;
}

static void mem_raise(krb_rcache *rc, size_t max_entries)
{
    rc_mem *m = (rc_mem *)rc;
    pthread_mutex_lock(&m->lock);
    if (max_entries > m->max && max_entries <= MAX_MAX)
        m->max = max_entries;
    pthread_mutex_unlock(&m->lock);
}

static void mem_destroy(krb_rcache *rc)
{
    rc_mem *m = (rc_mem *)rc;
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m->ring);
    free(m->buckets);
    free(m);
}

sspx_status krb_rcache_mem_new(size_t max_entries, krb_rcache **out)
{
    rc_mem *m;
    ENSURE(max_entries >= 1 && max_entries <= MAX_MAX, SSPX_ERR_BAD_OPTION_VALUE);
    m = sspx_calloc(sizeof(*m));
    ENSURE(m, SSPX_ERR_NO_MEMORY);
    m->api.check_and_insert = mem_check_and_insert;
    m->api.check = mem_check;
    m->api.destroy = mem_destroy;
    m->max = max_entries;
    if (sspx_random((uint8_t *)m->sip, sizeof(m->sip)) < 0) {
        free(m);
        return SSPX_ERROR(SSPX_ERR_NO_MEMORY); /* no randomness: refuse */
    }
    m->cap = 1; /* replaced by grow */
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        BAIL(SSPX_ERR_NO_MEMORY);
    }
    if (!grow(m, max_entries < FIRST_CAP ? max_entries : FIRST_CAP)) {
        mem_destroy(&m->api);
        BAIL(SSPX_ERR_NO_MEMORY);
    }
    *out = &m->api;
    return SEC_E_OK;
}

/* ------------------------------------------------------------ shared */

/* Stores shared by every credential of the process with the same id, so
 * that a server making a credential per connection (or several for one
 * keytab) still sees each authenticator once. Reference-counted. */
typedef struct rc_shared {
    krb_rcache api; /* first: the interface */
    krb_rcache *inner;
    char *id;
    size_t refs; /* under shared_lock */
    struct rc_shared *next;
} rc_shared;

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static rc_shared *shared_list;

static sspx_status sh_check_and_insert(krb_rcache *rc, const uint8_t key[KRB_RC_KEY_LEN],
                                       uint64_t now, uint64_t expiry)
{
    krb_rcache *in = ((rc_shared *)rc)->inner;
    return in->check_and_insert(in, key, now, expiry);
}

static sspx_status sh_check(krb_rcache *rc, const uint8_t key[KRB_RC_KEY_LEN], uint64_t now)
{
    krb_rcache *in = ((rc_shared *)rc)->inner;
    return in->check(in, key, now);
}

static void sh_destroy(krb_rcache *rc)
{
    rc_shared *s = (rc_shared *)rc, **pp;
    bool last;
    pthread_mutex_lock(&shared_lock);
    last = --s->refs == 0;
    if (last)
        for (pp = &shared_list; *pp; pp = &(*pp)->next)
            if (*pp == s) {
                *pp = s->next;
                break;
            }
    pthread_mutex_unlock(&shared_lock);
    if (!last)
        return;
    s->inner->destroy(s->inner);
    free(s->id);
    free(s);
}

sspx_status krb_rcache_shared(const char *id, size_t max_entries, krb_rcache **out)
{
    rc_shared *s;
    sspx_status st = SEC_E_OK;
    pthread_mutex_lock(&shared_lock);
    for (s = shared_list; s; s = s->next)
        if (!strcmp(s->id, id))
            break;
    if (s) {
        s->refs++;
        mem_raise(s->inner, max_entries); /* the largest size any holder asked for */
    } else {
        s = calloc(1, sizeof(*s));
        if (s)
            s->id = strdup(id);
        if (!s || !s->id)
            st = SSPX_ERROR(SSPX_ERR_NO_MEMORY);
        else
            st = krb_rcache_mem_new(max_entries, &s->inner);
        if (st < 0) {
            if (s)
                free(s->id);
            free(s);
            s = NULL;
        } else {
            s->api.check_and_insert = sh_check_and_insert;
            s->api.check = sh_check;
            s->api.destroy = sh_destroy;
            s->refs = 1;
            s->next = shared_list;
            shared_list = s;
        }
    }
    pthread_mutex_unlock(&shared_lock);
    if (s)
        *out = &s->api;
    return st;
}

/* ------------------------------------------------------------ replay key */

#define DEFECTIVE(expr)                                      \
    do {                                                     \
        if ((expr) < 0)                                      \
            return SSPX_ERROR(SSPX_ERR_KRB_DEFECTIVE_TOKEN); \
    } while (0)

/*
 * RFC 4121 4.1: the GSS framing, TOK_ID 01 00, then (RFC 4120 5.5.1); or the
 * AP-REQ alone (a raw krb5 token, which Heimdal's acceptor also takes)
 *   AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0], msg-type [1],
 *     ap-options [2], ticket [3], authenticator [4] EncryptedData }
 *   EncryptedData ::= SEQUENCE { etype [0], kvno [1] OPTIONAL,
 *     cipher [2] OCTET STRING }
 */
/* EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL,
 * cipher [2] OCTET STRING }, inside the explicit tag the reader is at. */
static sspx_status encrypted_data(der_rd *ex, int64_t *etype, const uint8_t **cipher, size_t *n)
{
    der_rd ed, c;
    der_tlv t;
    DEFECTIVE(der_enter_seq(ex, &ed, &t));
    DEFECTIVE(der_enter_explicit(&ed, 0, &c));
    DEFECTIVE(der_read_int64(&c, etype));
    DEFECTIVE(der_finish(&c));
    if (der_next_is(&ed, DER_CONTEXT, true, 1)) /* kvno */
        DEFECTIVE(der_expect(&ed, DER_CONTEXT, true, 1, &t));
    DEFECTIVE(der_enter_explicit(&ed, 2, &c));
    DEFECTIVE(der_read_octets(&c, &t));
    DEFECTIVE(der_finish(&c));
    *cipher = t.p;
    *n = t.len;
    return SEC_E_OK;
}

/* The AP-REQ inside the GSS framing (TOK_ID 01 00), or the raw AP-REQ. */
static sspx_status apreq_reader(const uint8_t *tok, size_t len, der_rd *seq)
{
    gss_framed f;
    der_rd d, app;
    der_tlv t;
    if (len && tok[0] == 0x6e) { /* [APPLICATION 14] constructed: raw */
        der_rd_init(&d, tok, len);
    } else {
        DEFECTIVE(gss_decode_framing(tok, len, &f));
        ENSURE(f.inner_len > 2 && f.inner[0] == 0x01 && f.inner[1] == 0x00,
               SSPX_ERR_KRB_DEFECTIVE_TOKEN);
        der_rd_init(&d, f.inner + 2, f.inner_len - 2);
    }
    DEFECTIVE(der_expect(&d, DER_APPLICATION, true, 14, &t));
    DEFECTIVE(der_enter(&d, &t, &app));
    DEFECTIVE(der_finish(&d)); /* nothing after the AP-REQ */
    DEFECTIVE(der_enter_seq(&app, seq, &t));
    return SEC_E_OK;
}

/* The AP-REQ's ticket [3] Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0],
 * realm [1], sname [2], enc-part [3] EncryptedData }: a reader at tkt-vno. */
static sspx_status ticket_reader(const uint8_t *tok, size_t len, der_rd *tseq)
{
    der_rd seq, tk, tapp;
    der_tlv t;
    GUARD(apreq_reader(tok, len, &seq));
    for (uint32_t n = 0; n < 3; n++) /* pvno, msg-type, ap-options */
        DEFECTIVE(der_expect(&seq, DER_CONTEXT, true, n, &t));
    DEFECTIVE(der_enter_explicit(&seq, 3, &tk));
    DEFECTIVE(der_expect(&tk, DER_APPLICATION, true, 1, &t));
    DEFECTIVE(der_enter(&tk, &t, &tapp));
    DEFECTIVE(der_enter_seq(&tapp, tseq, &t));
    return SEC_E_OK;
}

sspx_status krb_apreq_ticket(const uint8_t *tok, size_t len, int64_t *etype, const uint8_t **cipher,
                             size_t *cipher_len)
{
    der_rd tseq, ex;
    der_tlv t;
    GUARD(ticket_reader(tok, len, &tseq));
    for (uint32_t n = 0; n < 3; n++)
        DEFECTIVE(der_expect(&tseq, DER_CONTEXT, true, n, &t));
    DEFECTIVE(der_enter_explicit(&tseq, 3, &ex));
    return encrypted_data(&ex, etype, cipher, cipher_len);
}

/* Append a name component, refusing the characters that would change how
 * the joined name parses. */
static bool put_component(char *out, size_t cap, size_t *pos, const der_tlv *t, char sep)
{
    if (t->len == 0 || *pos + 1 + t->len >= cap)
        return false;
    for (size_t i = 0; i < t->len; i++)
        if (t->p[i] < 0x21 || t->p[i] > 0x7e || t->p[i] == '/' || t->p[i] == '@' || t->p[i] == '\\')
            return false;
    if (sep)
        out[(*pos)++] = sep;
    memcpy(out + *pos, t->p, t->len);
    *pos += t->len;
    out[*pos] = 0;
    return true;
}

bool krb_apreq_service(const uint8_t *tok, size_t len, char *out, size_t cap)
{
    der_rd tseq, x, pn, y, names;
    der_tlv t, realm;
    size_t pos = 0;
    out[0] = 0;
    if (ticket_reader(tok, len, &tseq) < 0 || der_expect(&tseq, DER_CONTEXT, true, 0, &t) < 0 ||
        der_enter_explicit(&tseq, 1, &x) < 0 || der_read_string(&x, &realm) < 0 ||
        der_enter_explicit(&tseq, 2, &x) < 0 || der_enter_seq(&x, &pn, &t) < 0 ||
        der_expect(&pn, DER_CONTEXT, true, 0, &t) < 0 || der_enter_explicit(&pn, 1, &y) < 0 ||
        der_enter_seq(&y, &names, &t) < 0)
        return false;
    for (int i = 0; i < 4 && der_read_string(&names, &t) >= 0; i++)
        if (!put_component(out, cap, &pos, &t, i ? '/' : 0)) {
            out[0] = 0;
            return false;
        }
    if (!pos || !put_component(out, cap, &pos, &realm, '@')) {
        out[0] = 0;
        return false;
    }
    return true;
}

/* EncTicketPart ::= [APPLICATION 3] SEQUENCE { flags [0], key [1]
 * EncryptionKey ::= SEQUENCE { keytype [0] Int32, keyvalue [1] OCTET STRING },
 * ... } */
sspx_status krb_ticket_session_key(const uint8_t *p, size_t len, int64_t *keytype,
                                   const uint8_t **key, size_t *key_len)
{
    der_rd d, app, seq, x, ek, y;
    der_tlv t;
    der_rd_init(&d, p, len);
    DEFECTIVE(der_expect(&d, DER_APPLICATION, true, 3, &t));
    DEFECTIVE(der_enter(&d, &t, &app));
    DEFECTIVE(der_enter_seq(&app, &seq, &t));
    DEFECTIVE(der_expect(&seq, DER_CONTEXT, true, 0, &t));
    DEFECTIVE(der_enter_explicit(&seq, 1, &x));
    DEFECTIVE(der_enter_seq(&x, &ek, &t));
    DEFECTIVE(der_enter_explicit(&ek, 0, &y));
    DEFECTIVE(der_read_int64(&y, keytype));
    DEFECTIVE(der_enter_explicit(&ek, 1, &y));
    DEFECTIVE(der_read_octets(&y, &t));
    *key = t.p;
    *key_len = t.len;
    return SEC_E_OK;
}

sspx_status krb_apreq_authenticator(const uint8_t *tok, size_t len, int64_t *etype,
                                    const uint8_t **cipher, size_t *cipher_len)
{
    der_rd seq, ex;
    der_tlv t;
    GUARD(apreq_reader(tok, len, &seq));
    for (uint32_t n = 0; n < 4; n++) /* pvno, msg-type, ap-options, ticket */
        DEFECTIVE(der_expect(&seq, DER_CONTEXT, true, n, &t));
    DEFECTIVE(der_enter_explicit(&seq, 4, &ex));
    return encrypted_data(&ex, etype, cipher, cipher_len);
}

/* RFC 4120 5.5.1: Authenticator ::= [APPLICATION 2] SEQUENCE { vno [0],
 * crealm [1], cname [2], cksum [3] Checksum OPTIONAL, ... }; Checksum ::=
 * SEQUENCE { cksumtype [0] Int32, checksum [1] OCTET STRING }. RFC 4121
 * 4.1.1: type 0x8003, Lgth (4), Bnd (16, the bindings' MD5; zeros: none). */
sspx_status krb_authenticator_bound(const uint8_t *p, size_t len, bool *bound)
{
    der_rd d, app, seq, x, ck, y;
    der_tlv t;
    int64_t type;
    *bound = false;
    der_rd_init(&d, p, len);
    DEFECTIVE(der_expect(&d, DER_APPLICATION, true, 2, &t));
    DEFECTIVE(der_enter(&d, &t, &app));
    DEFECTIVE(der_enter_seq(&app, &seq, &t));
    for (uint32_t n = 0; n < 3; n++) /* vno, crealm, cname */
        DEFECTIVE(der_expect(&seq, DER_CONTEXT, true, n, &t));
    if (!der_next_is(&seq, DER_CONTEXT, true, 3))
        return SEC_E_OK; /* no checksum: no bindings */
    DEFECTIVE(der_enter_explicit(&seq, 3, &x));
    DEFECTIVE(der_enter_seq(&x, &ck, &t));
    DEFECTIVE(der_enter_explicit(&ck, 0, &y));
    DEFECTIVE(der_read_int64(&y, &type));
    DEFECTIVE(der_enter_explicit(&ck, 1, &y));
    DEFECTIVE(der_read_octets(&y, &t));
    if (type != 0x8003 || t.len < 20)
        return SEC_E_OK; /* not the GSS checksum: no bindings */
    for (size_t i = 4; i < 20; i++)
        if (t.p[i])
            *bound = true;
    return SEC_E_OK;
}

sspx_status krb_apreq_replay_key(const uint8_t *tok, size_t len, uint8_t key[KRB_RC_KEY_LEN])
{
    der_tlv t;
    sspx_iov v;
    int64_t etype;
    GUARD(krb_apreq_authenticator(tok, len, &etype, &t.p, &t.len));
    ENSURE(t.len >= 16, SSPX_ERR_KRB_DEFECTIVE_TOKEN); /* a confounder and a checksum at least */
    if (t.len >= KRB_RC_KEY_LEN) {
        /* The key is the cipher's first and last 16 bytes, no hash needed: the
         * first block is the encryption of a fresh random confounder (RFC 3961
         * 5.3; RC4-HMAC puts its checksum there) and the end carries the
         * integrity checksum. Keys enter the cache only after GSS verified the
         * authenticator, so nobody without the session key can aim a
         * collision; two genuine authenticators differ in both parts. */
        memcpy(key, t.p, 16);
        memcpy(key + 16, t.p + t.len - 16, 16);
        return SEC_E_OK;
    }
    v.p = t.p;
    v.n = t.len;
    return sspx_sha256v(&v, 1, key);
}
