/* The NTLM package table, credentials, attributes. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ntlm.h"
#include "wire/utf.h"

static const char *const known_keys[] = {"users_file",
                                         "netbios_domain",
                                         "netbios_computer",
                                         "dns_domain",
                                         "dns_computer",
                                         "dns_tree",
                                         "channel_bindings",
                                         "challenge_max_age",
                                         "allow_ntlmv1",
                                         "allow_lm",
                                         "require_mic",
                                         "require_128",
                                         "user",
                                         "domain",
                                         "password",
                                         "nt_hash",
                                         "workstation",
                                         NULL};

static int hexv(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static sspx_status server_names(ntlm_cred *cr, const sspx_config *cfg)
{
    char host[256] = "SSPX", up[256], dnsd[300];
    const char *v;
    size_t i;
    if (gethostname(host, sizeof(host) - 1) != 0)
        strcpy(host, "SSPX");
    host[sizeof(host) - 1] = 0;
    for (i = 0; host[i] && host[i] != '.' && i < 15; i++)
        up[i] = (char)toupper((unsigned char)host[i]);
    up[i] = 0;
    v = sspx_config_str(cfg, "netbios_domain");
    GUARD(ntlm_wstr_set(&cr->nb_domain, v ? v : "SSPX"));
    v = sspx_config_str(cfg, "netbios_computer");
    GUARD(ntlm_wstr_set(&cr->nb_computer, v ? v : up));
    v = sspx_config_str(cfg, "dns_domain");
    if (!v) {
        for (i = 0; cr->nb_domain.utf8[i] && i < 200; i++)
            dnsd[i] = (char)tolower((unsigned char)cr->nb_domain.utf8[i]);
        strcpy(dnsd + i, ".test");
        v = dnsd;
    }
    GUARD(ntlm_wstr_set(&cr->dns_domain, v));
    v = sspx_config_str(cfg, "dns_computer");
    if (!v) {
        snprintf(up, sizeof(up), "%.120s.%.120s", host, cr->dns_domain.utf8);
        for (i = 0; up[i]; i++)
            up[i] = (char)tolower((unsigned char)up[i]);
        v = up;
    }
    GUARD(ntlm_wstr_set(&cr->dns_computer, v));
    v = sspx_config_str(cfg, "dns_tree");
    GUARD(ntlm_wstr_set(&cr->dns_tree, v ? v : ""));

    /* The fixed part of every CHALLENGE's TargetInfo (2.2.2.1) */
    const struct {
        uint16_t id;
        const ntlm_wstr *w;
    } av[] = {{MsvAvNbDomainName, &cr->nb_domain},
              {MsvAvNbComputerName, &cr->nb_computer},
              {MsvAvDnsDomainName, &cr->dns_domain},
              {MsvAvDnsComputerName, &cr->dns_computer},
              {MsvAvDnsTreeName, &cr->dns_tree}};
    cr->tinfo_len = 0;
    for (i = 0; i < sizeof(av) / sizeof(av[0]); i++) {
        if (av[i].id == MsvAvDnsTreeName && av[i].w->u16_len == 0)
            continue;
        ENSURE(ntlm_av_put(cr->tinfo, sizeof(cr->tinfo), &cr->tinfo_len, av[i].id, av[i].w->u16,
                           av[i].w->u16_len),
               SSPX_ERR_BAD_OPTION_VALUE);
    }
    return SEC_E_OK;
}

static sspx_status server_acquire(ntlm_cred *cr, const sspx_config *cfg)
{
    const char *file;
    GUARD(server_names(cr, cfg));
    GUARD(sspx_config_cbt_policy(cfg, &cr->cbt_policy));
    GUARD(sspx_config_uint(cfg, "challenge_max_age", 300, 86400, &cr->challenge_max_age));
    ENSURE(cr->challenge_max_age > 0, SSPX_ERR_BAD_OPTION_VALUE);
    GUARD(sspx_config_bool(cfg, "allow_ntlmv1", false, &cr->allow_v1));
    GUARD(sspx_config_bool(cfg, "allow_lm", false, &cr->allow_lm));
    GUARD(sspx_config_bool(cfg, "require_mic", false, &cr->require_mic));
    GUARD(sspx_config_bool(cfg, "require_128", false, &cr->require_128));

    GUARD(sspx_random(cr->dummy_hash, sizeof(cr->dummy_hash)));
    cr->users.default_domain = sspx_strdup(cr->nb_domain.utf8);
    ENSURE(cr->users.default_domain, SSPX_ERR_NO_MEMORY);
    file = sspx_config_str(cfg, "users_file");
    if (!file && !cfg->lookup)
        file = getenv("SSPX_NTLM_USERS");
    ENSURE(file || cfg->lookup, SSPX_ERR_NO_USER_STORE);
    if (file)
        GUARD(sspx_users_load_file(&cr->users, file));
    return SEC_E_OK;
}

static sspx_status client_acquire(ntlm_cred *cr, const sspx_config *cfg)
{
    const char *user = sspx_config_str(cfg, "user"), *dom = sspx_config_str(cfg, "domain");
    const char *pw = sspx_config_str(cfg, "password"), *ws = sspx_config_str(cfg, "workstation");
    const sspx_cfg_item *hash = sspx_config_get(cfg, "nt_hash");
    char ubuf[NTLM_NAME_MAX + 1], dbuf[NTLM_NAME_MAX + 1];
    const char *bs;
    ENSURE(user && *user && (pw || hash), SSPX_ERR_NO_CLIENT_IDENTITY);
    bs = strchr(user, '\\');
    if (bs && !dom) { /* "DOMAIN\user" */
        size_t dl = (size_t)(bs - user);
        ENSURE(dl <= NTLM_NAME_MAX && strlen(bs + 1) <= NTLM_NAME_MAX, SSPX_ERR_BAD_OPTION_VALUE);
        memcpy(dbuf, user, dl);
        dbuf[dl] = 0;
        strcpy(ubuf, bs + 1);
        user = ubuf;
        dom = dbuf;
    }
    GUARD(ntlm_wstr_set(&cr->user, user));
    GUARD(ntlm_wstr_set(&cr->domain, dom ? dom : ""));
    GUARD(ntlm_wstr_set(&cr->workstation, ws ? ws : ""));
    if (hash) {
        if (hash->kind == SSPX_CFG_BYTES) {
            ENSURE(hash->len == 16, SSPX_ERR_BAD_OPTION_VALUE);
            memcpy(cr->nt_hash, hash->value, 16);
        } else {
            ENSURE(hash->len == 32, SSPX_ERR_BAD_OPTION_VALUE);
            for (int i = 0; i < 16; i++) {
                int a = hexv(hash->value[2 * i]), b = hexv(hash->value[2 * i + 1]);
                ENSURE(a >= 0 && b >= 0, SSPX_ERR_BAD_OPTION_VALUE);
                cr->nt_hash[i] = (uint8_t)(a << 4 | b);
            }
        }
    } else {
        ENSURE(*pw, SSPX_ERR_EMPTY_PASSWORD);
        GUARD(ntlm_NTOWFv1(pw, cr->nt_hash));
        GUARD(ntlm_LMOWFv1(pw, cr->lm_hash));
        cr->have_lm_hash = true;
    }
    /* NTOWFv2 depends only on the credential: compute it once (3.3.2) */
    return ntlm_NTOWFv2(cr->nt_hash, cr->user.u16, cr->user.u16_len, cr->domain.u16,
                        cr->domain.u16_len, cr->ntowfv2);
}

sspx_status ntlm_cred_acquire(sspx_cred *cred, const sspx_config *cfg)
{
    ntlm_cred *cr = cred->state;
    GUARD(sspx_config_check_keys(cfg, known_keys));
    if (cred->usage & SECPKG_CRED_INBOUND) {
        GUARD(server_acquire(cr, cfg));
        cr->users.lookup = sspx_lookup_hold(cfg->lookup);
    }
    if (cred->usage & SECPKG_CRED_OUTBOUND)
        GUARD(client_acquire(cr, cfg));
    return SEC_E_OK;
}

void ntlm_cred_free(void *state)
{
    ntlm_cred *cr = state;
    sspx_users_clear(&cr->users);
}

/* SSPX_SERVER_AUTH_DATA (inbound) and SEC_WINNT_AUTH_IDENTITY_A/W (outbound)
 * into configuration. */
sspx_status ntlm_auth_data(unsigned usage, const void *auth_data, sspx_config *cfg)
{
    ULONG first = *(const ULONG *)auth_data;
    if (first == SSPX_SERVER_AUTH_DATA_VERSION) {
        const SSPX_SERVER_AUTH_DATA *d = auth_data;
        char num[16];
        ENSURE(usage & SECPKG_CRED_INBOUND, SSPX_ERR_BAD_AUTH_DATA);
        if (d->UsersFile)
            GUARD(sspx_config_set(cfg, "users_file", d->UsersFile));
        if (d->Lookup)
            GUARD(sspx_config_set_lookup(cfg, d->Lookup, d->LookupContext, NULL));
        if (d->NetbiosDomain)
            GUARD(sspx_config_set(cfg, "netbios_domain", d->NetbiosDomain));
        if (d->NetbiosComputer)
            GUARD(sspx_config_set(cfg, "netbios_computer", d->NetbiosComputer));
        if (d->DnsDomain)
            GUARD(sspx_config_set(cfg, "dns_domain", d->DnsDomain));
        if (d->DnsComputer)
            GUARD(sspx_config_set(cfg, "dns_computer", d->DnsComputer));
        ENSURE(d->ChannelBindings <= SSPX_CBT_REQUIRED, SSPX_ERR_BAD_AUTH_DATA);
        GUARD(sspx_config_set(cfg, "channel_bindings",
                              d->ChannelBindings == SSPX_CBT_NEVER      ? "never"
                              : d->ChannelBindings == SSPX_CBT_REQUIRED ? "required"
                                                                        : "when_supplied"));
        if (d->ChallengeMaxAge) {
            snprintf(num, sizeof(num), "%u", (unsigned)d->ChallengeMaxAge);
            GUARD(sspx_config_set(cfg, "challenge_max_age", num));
        }
        ENSURE(!(d->Flags & ~0xfu), SSPX_ERR_BAD_AUTH_DATA);
        GUARD(sspx_config_set(cfg, "allow_ntlmv1", d->Flags & SSPX_AUTH_ALLOW_NTLMV1 ? "1" : "0"));
        GUARD(sspx_config_set(cfg, "allow_lm", d->Flags & SSPX_AUTH_ALLOW_LM ? "1" : "0"));
        GUARD(sspx_config_set(cfg, "require_mic", d->Flags & SSPX_AUTH_REQUIRE_MIC ? "1" : "0"));
        GUARD(sspx_config_set(cfg, "require_128", d->Flags & SSPX_AUTH_REQUIRE_128 ? "1" : "0"));
        return SEC_E_OK;
    }
    /* SEC_WINNT_AUTH_IDENTITY_A / _W: Flags says which (sspi.h) */
    ENSURE(usage & SECPKG_CRED_OUTBOUND, SSPX_ERR_BAD_AUTH_DATA);
    return sspx_identity_to_config(auth_data, cfg);
}

static void ntlm_ctx_free(void *state)
{
    ntlm_ctx *c = state;
    sspx_bytes_clear(&c->negotiate);
    sspx_rc4_free(&c->send_rc4);
    sspx_rc4_free(&c->recv_rc4);
    sspx_rc4_free(&c->scratch_rc4);
}

static sspx_status ntlm_session_key(sspx_ctx *ctx, const uint8_t **key, size_t *len)
{
    ntlm_ctx *c = ctx->state;
    *key = c->session_key;
    *len = 16;
    return SEC_E_OK;
}

static sspx_status ntlm_query(sspx_ctx *ctx, uint32_t attr, void *buf)
{
    const ntlm_cred *cr = ctx->cred->state;
    if (attr == SECPKG_ATTR_NATIVE_NAMES)
        return sspx_answer_native_names(
            ctx->client_name ? ctx->client_name : "",
            ctx->server ? cr->nb_computer.utf8 : (ctx->target ? ctx->target : ""), buf);
    BAIL(SSPX_ERR_UNSUPPORTED_ATTR);
}

static sspx_status ntlm_cred_query(sspx_cred *cred, uint32_t attr, void *buf)
{
    const ntlm_cred *cr = cred->state;
    char name[2 * NTLM_NAME_MAX + 2];
    ENSURE(attr == SECPKG_CRED_ATTR_NAMES, SSPX_ERR_UNSUPPORTED_ATTR);
    if (cred->usage & SECPKG_CRED_OUTBOUND)
        snprintf(name, sizeof(name), "%s%s%s", cr->domain.utf8, *cr->domain.utf8 ? "\\" : "",
                 cr->user.utf8);
    else
        snprintf(name, sizeof(name), "%s\\%s", cr->nb_domain.utf8, cr->nb_computer.utf8);
    size_t n = strlen(name) + 1;
    char *p = sspx_ctxbuf_alloc(n);
    ENSURE(p, SSPX_ERR_NO_MEMORY);
    memcpy(p, name, n);
    ((SecPkgCredentials_NamesA *)buf)->sUserName = p;
    return SEC_E_OK;
}

/* NTLM never asks for CompleteAuthToken; calling it is harmless. */
static sspx_status ntlm_complete_token(sspx_ctx *ctx, SecBufferDesc *token)
{
    (void)ctx;
    (void)token;
    return SEC_E_OK;
}

static int ntlm_recognise(const uint8_t *tok, size_t len)
{
    return ntlm_msg_type(tok, len) != 0;
}

const sspx_package sspx_ntlm_package = {
    .options = known_keys,
    .name = "NTLM",
    .comment = "NTLM Security Package",
    .capabilities = SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_TOKEN_ONLY |
                    SECPKG_FLAG_CONNECTION | SECPKG_FLAG_MULTI_REQUIRED |
                    SECPKG_FLAG_IMPERSONATION | SECPKG_FLAG_ACCEPT_WIN32_NAME |
                    SECPKG_FLAG_NEGOTIABLE | SECPKG_FLAG_LOGON,
    .version = 1,
    .rpcid = 10, /* RPC_C_AUTHN_WINNT */
    .max_token = NTLM_MAX_TOKEN,
    .max_signature = 16,
    .security_trailer = 16,
    .block_size = 0,
    .cred_size = sizeof(ntlm_cred),
    .ctx_size = sizeof(ntlm_ctx),
    .cred_acquire = ntlm_cred_acquire,
    .cred_free = ntlm_cred_free,
    .auth_data = ntlm_auth_data,
    .cred_query = ntlm_cred_query,
    .complete_token = ntlm_complete_token,
    .accept = ntlm_accept,
    .init = ntlm_init,
    .ctx_free = ntlm_ctx_free,
    .query = ntlm_query,
    .session_key = ntlm_session_key,
    .make_signature = ntlm_make_signature,
    .verify_signature = ntlm_verify_signature,
    .encrypt = ntlm_encrypt,
    .decrypt = ntlm_decrypt,
    .reset_crypto = ntlm_reset_crypto,
    .describe = ntlm_describe,
    .recognise = ntlm_recognise,
};
