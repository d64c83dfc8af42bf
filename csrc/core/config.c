/* Credential configuration: key/value options and the lookup callback. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"
#include "wire/utf.h"

static sspx_status set_item(sspx_config *cfg, const char *key, const uint8_t *v, size_t len,
                            int kind);

sspx_config *sspx_config_new(void)
{
    sspx_config *c = sspx_calloc(sizeof(*c));
    if (c)
        c->magic = SSPX_CONFIG_MAGIC;
    return c;
}

sspx_lookup_ref *sspx_lookup_hold(sspx_lookup_ref *r)
{
    if (r)
        atomic_fetch_add(&r->refs, 1);
    return r;
}

void sspx_lookup_drop(sspx_lookup_ref **r)
{
    if (!r || !*r)
        return;
    if (atomic_fetch_sub(&(*r)->refs, 1) == 1) {
        if ((*r)->free_fn)
            (*r)->free_fn((*r)->ud);
        free(*r);
    }
    *r = NULL;
}

void sspx_config_clear(sspx_config *c)
{
    for (size_t i = 0; i < c->n; i++) {
        sspx_free_str(&c->items[i].key);
        sspx_free_wiped(c->items[i].value, c->items[i].len + 1);
    }
    free(c->items);
    c->items = NULL;
    c->n = 0;
    sspx_lookup_drop(&c->lookup);
}

sspx_status sspx_config_copy(const sspx_config *src, sspx_config *dst)
{
    dst->magic = SSPX_CONFIG_MAGIC;
    for (size_t i = 0; i < src->n; i++) {
        sspx_status st = set_item(dst, src->items[i].key, src->items[i].value, src->items[i].len,
                                  src->items[i].kind);
        if (st < 0) {
            sspx_config_clear(dst);
            return st;
        }
    }
    dst->lookup = sspx_lookup_hold(src->lookup);
    return SEC_E_OK;
}

void sspx_config_free(sspx_config **cfg)
{
    if (!cfg || !*cfg)
        return;
    sspx_config_clear(*cfg);
    sspx_free_wiped(*cfg, sizeof(**cfg));
    *cfg = NULL;
}

static sspx_status set_item(sspx_config *cfg, const char *key, const uint8_t *v, size_t len,
                            int kind)
{
    sspx_cfg_item *it = NULL;
    uint8_t *copy;
    ENSURE(cfg && cfg->magic == SSPX_CONFIG_MAGIC && key && (v || len == 0), SSPX_ERR_NULL_ARG);
    copy = malloc(len + 1);
    ENSURE(copy, SSPX_ERR_NO_MEMORY);
    if (len)
        memcpy(copy, v, len);
    copy[len] = 0;
    for (size_t i = 0; i < cfg->n; i++)
        if (strcmp(cfg->items[i].key, key) == 0)
            it = &cfg->items[i];
    if (!it) {
        sspx_cfg_item *n = realloc(cfg->items, (cfg->n + 1) * sizeof(*n));
        char *k = sspx_strdup(key);
        if (n)
            cfg->items = n;
        if (!n || !k) {
            free(k);
            sspx_free_wiped(copy, len + 1);
            BAIL(SSPX_ERR_NO_MEMORY);
        }
        it = &cfg->items[cfg->n++];
        it->key = k;
    } else {
        sspx_free_wiped(it->value, it->len + 1);
    }
    it->value = copy;
    it->len = len;
    it->kind = kind;
    return SEC_E_OK;
}

SECURITY_STATUS sspx_config_set(sspx_config *cfg, const char *key, const char *value)
{
    ENSURE(value, SSPX_ERR_NULL_ARG);
    return set_item(cfg, key, (const uint8_t *)value, strlen(value), SSPX_CFG_STR);
}

SECURITY_STATUS sspx_config_set_bytes(sspx_config *cfg, const char *key, const uint8_t *value,
                                      size_t len)
{
    return set_item(cfg, key, value, len, SSPX_CFG_BYTES);
}

SECURITY_STATUS sspx_config_set_lookup(sspx_config *cfg, sspx_lookup_fn fn, void *user_data,
                                       void (*free_fn)(void *))
{
    sspx_lookup_ref *r = NULL;
    ENSURE(cfg && cfg->magic == SSPX_CONFIG_MAGIC, SSPX_ERR_NULL_ARG);
    if (fn) {
        r = calloc(1, sizeof(*r));
        ENSURE(r, SSPX_ERR_NO_MEMORY);
        atomic_init(&r->refs, 1);
        r->fn = fn;
        r->ud = user_data;
        r->free_fn = free_fn;
    }
    sspx_lookup_drop(&cfg->lookup);
    cfg->lookup = r;
    return SEC_E_OK;
}

const sspx_cfg_item *sspx_config_get(const sspx_config *cfg, const char *key)
{
    if (!cfg)
        return NULL;
    for (size_t i = 0; i < cfg->n; i++)
        if (strcmp(cfg->items[i].key, key) == 0)
            return &cfg->items[i];
    return NULL;
}

const char *sspx_config_str(const sspx_config *cfg, const char *key)
{
    const sspx_cfg_item *it = sspx_config_get(cfg, key);
    return it ? (const char *)it->value : NULL;
}

sspx_status sspx_config_check_keys(const sspx_config *cfg, const char *const *known)
{
    if (!cfg)
        return SEC_E_OK;
    for (size_t i = 0; i < cfg->n; i++) {
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, cfg->items[i].key) == 0;
        ENSURE(ok, SSPX_ERR_UNKNOWN_OPTION);
    }
    return SEC_E_OK;
}

sspx_status sspx_config_bool(const sspx_config *cfg, const char *key, bool dflt, bool *out)
{
    const char *v = sspx_config_str(cfg, key);
    *out = dflt;
    if (!v)
        return SEC_E_OK;
    if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
        !strcasecmp(v, "on"))
        *out = true;
    else if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
             !strcasecmp(v, "off"))
        *out = false;
    else
        BAIL(SSPX_ERR_BAD_OPTION_VALUE);
    return SEC_E_OK;
}

sspx_status sspx_config_uint(const sspx_config *cfg, const char *key, uint32_t dflt, uint32_t max,
                             uint32_t *out)
{
    const char *v = sspx_config_str(cfg, key);
    char *end;
    unsigned long n;
    *out = dflt;
    if (!v)
        return SEC_E_OK;
    errno = 0;
    n = strtoul(v, &end, 10);
    ENSURE(*v >= '0' && *v <= '9' && *end == 0 && errno == 0 && n <= max,
           SSPX_ERR_BAD_OPTION_VALUE);
    *out = (uint32_t)n;
    return SEC_E_OK;
}

/* ------------------------------------------- SEC_WINNT_AUTH_IDENTITY_A/W */

#define IDENTITY_FIELD_MAX 256 /* characters of a user, domain or password */

static sspx_status u16_to_config(sspx_config *cfg, const char *key, const unsigned short *s,
                                 ULONG n)
{
    char out[4 * IDENTITY_FIELD_MAX + 4];
    uint8_t tmp[2 * IDENTITY_FIELD_MAX];
    sspx_status st;
    if (!s)
        return SEC_E_OK;
    ENSURE(n <= IDENTITY_FIELD_MAX, SSPX_ERR_BAD_AUTH_DATA);
    for (ULONG i = 0; i < n; i++) {
        tmp[2 * i] = (uint8_t)s[i];
        tmp[2 * i + 1] = (uint8_t)(s[i] >> 8);
    }
    out[0] = 0;
    if (n && !sspx_utf16le_to_utf8(tmp, 2 * (size_t)n, out, sizeof(out)))
        st = SSPX_ERROR(SSPX_ERR_BAD_AUTH_DATA);
    else
        st = sspx_config_set(cfg, key, out);
    sspx_wipe(out, sizeof(out));
    sspx_wipe(tmp, sizeof(tmp));
    return st;
}

static sspx_status a_to_config(sspx_config *cfg, const char *key, const unsigned char *s, ULONG n)
{
    char out[4 * IDENTITY_FIELD_MAX + 4];
    sspx_status st;
    if (!s)
        return SEC_E_OK;
    ENSURE(n < sizeof(out), SSPX_ERR_BAD_AUTH_DATA);
    memcpy(out, s, n);
    out[n] = 0;
    if (strlen(out) != n) /* an embedded NUL */
        st = SSPX_ERROR(SSPX_ERR_BAD_AUTH_DATA);
    else
        st = sspx_config_set(cfg, key, out);
    sspx_wipe(out, sizeof(out));
    return st;
}

/* The three strings of an identity, UTF-16 or 8-bit as its Flags say. */
static sspx_status strings_to_config(sspx_config *cfg, ULONG flags, const void *user, ULONG ul,
                                     const void *domain, ULONG dl, const void *password, ULONG pl)
{
    if (flags & SEC_WINNT_AUTH_IDENTITY_UNICODE) {
        GUARD(u16_to_config(cfg, "user", user, ul));
        GUARD(u16_to_config(cfg, "domain", domain, dl));
        return u16_to_config(cfg, "password", password, pl);
    }
    ENSURE(flags & SEC_WINNT_AUTH_IDENTITY_ANSI, SSPX_ERR_BAD_AUTH_DATA);
    GUARD(a_to_config(cfg, "user", user, ul));
    GUARD(a_to_config(cfg, "domain", domain, dl));
    return a_to_config(cfg, "password", password, pl);
}

sspx_status sspx_identity_to_config(const void *auth_data, sspx_config *cfg)
{
    ULONG version = *(const ULONG *)auth_data; /* the EX forms start with it */
    if (version == SEC_WINNT_AUTH_IDENTITY_VERSION) {
        /* SEC_WINNT_AUTH_IDENTITY_EXA/EXW: the same strings after Version and
         * Length (A and W alike in layout); Negotiate's PackageList is not
         * supported: a non-empty one is refused rather than ignored */
        const SEC_WINNT_AUTH_IDENTITY_EXA *x = auth_data;
        ENSURE(x->Length >= sizeof(SEC_WINNT_AUTH_IDENTITY_EXA), SSPX_ERR_BAD_AUTH_DATA);
        ENSURE(!x->PackageList || !x->PackageListLength, SSPX_ERR_BAD_AUTH_DATA);
        return strings_to_config(cfg, x->Flags, x->User, x->UserLength, x->Domain, x->DomainLength,
                                 x->Password, x->PasswordLength);
    }
    ENSURE(version != SEC_WINNT_AUTH_IDENTITY_VERSION_2, SSPX_ERR_BAD_AUTH_DATA); /* EX2: no */
    const SEC_WINNT_AUTH_IDENTITY_A *a = auth_data; /* _W: the same layout */
    return strings_to_config(cfg, a->Flags, a->User, a->UserLength, a->Domain, a->DomainLength,
                             a->Password, a->PasswordLength);
}

sspx_status sspx_config_cbt_policy(const sspx_config *cfg, unsigned *policy)
{
    const char *v = sspx_config_str(cfg, "channel_bindings");
    if (!v || !strcmp(v, "when_supplied") || !strcmp(v, "if_present"))
        *policy = SSPX_CBT_WHEN_SUPPLIED;
    else if (!strcmp(v, "never"))
        *policy = SSPX_CBT_NEVER;
    else if (!strcmp(v, "required"))
        *policy = SSPX_CBT_REQUIRED;
    else
        BAIL(SSPX_ERR_BAD_OPTION_VALUE);
    return SEC_E_OK;
}
