/*
 * The server-side user store: a users file loaded once when the credential
 * is acquired, and/or a lookup callback. See docs/USERS.md for the format:
 *
 *   # comment
 *   DOMAIN:user:password
 *   DOMAIN:user:{NT}0123456789abcdef0123456789abcdef   (NT hash, 32 hex)
 *   *:user:password                                    (any domain)
 *
 * Passwords may contain ':'. Fields are UTF-8. Names compare case-blind
 * (ASCII), as Windows does for account and domain names.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core.h"
#include "crypto/crypto.h"
#include "wire/utf.h"

#define USERS_FILE_MAX (16u << 20)

static sspx_status nt_hash_of(const char *pw, uint8_t out[16])
{
    size_t n = strlen(pw), ulen;
    uint8_t *u;
    sspx_status st;
    ENSURE(n < 65536, SSPX_ERR_BAD_OPTION_VALUE);
    u = malloc(n * 4 + 4);
    ENSURE(u, SSPX_ERR_NO_MEMORY);
    if (!sspx_utf8_to_utf16le(pw, n, false, u, n * 4 + 4, &ulen)) {
        free(u);
        BAIL(SSPX_ERR_BAD_OPTION_VALUE);
    }
    st = sspx_md4(u, ulen, out);
    sspx_free_wiped(u, n * 4 + 4);
    return st;
}

SECURITY_STATUS sspx_secret_set_password(sspx_secret *s, const char *password)
{
    ENSURE(s && password, SSPX_ERR_NULL_ARG);
    ENSURE(*password, SSPX_ERR_EMPTY_PASSWORD);
    sspx_secret_clear(s);
    GUARD(nt_hash_of(password, s->nt_hash));
    s->password = sspx_strdup(password);
    ENSURE(s->password, SSPX_ERR_NO_MEMORY);
    s->have_nt_hash = 1;
    return SEC_E_OK;
}

SECURITY_STATUS sspx_secret_set_nt_hash(sspx_secret *s, const uint8_t *hash, size_t len)
{
    ENSURE(s && hash, SSPX_ERR_NULL_ARG);
    ENSURE(len == 16, SSPX_ERR_BAD_ARG);
    sspx_secret_clear(s);
    memcpy(s->nt_hash, hash, 16);
    s->have_nt_hash = 1;
    return SEC_E_OK;
}

void sspx_secret_clear(sspx_secret *s)
{
    sspx_free_str(&s->password);
    sspx_wipe(s->nt_hash, sizeof(s->nt_hash));
    s->have_nt_hash = 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int parse_hash(const char *s, uint8_t out[16])
{
    if (strlen(s) != 32)
        return 0;
    for (int i = 0; i < 16; i++) {
        int a = hexval(s[2 * i]), b = hexval(s[2 * i + 1]);
        if (a < 0 || b < 0)
            return 0;
        out[i] = (uint8_t)(a << 4 | b);
    }
    return 1;
}

static sspx_status add_line(sspx_user_store *st, char *line)
{
    char *dom = line, *user, *pw;
    sspx_user_entry *e, *n;
    user = strchr(dom, ':');
    ENSURE(user, SSPX_ERR_USER_FILE_SYNTAX);
    *user++ = 0;
    pw = strchr(user, ':');
    ENSURE(pw, SSPX_ERR_USER_FILE_SYNTAX);
    *pw++ = 0;
    ENSURE(*user, SSPX_ERR_USER_FILE_SYNTAX);
    n = realloc(st->entries, (st->n + 1) * sizeof(*n));
    ENSURE(n, SSPX_ERR_NO_MEMORY);
    st->entries = n;
    e = &st->entries[st->n];
    memset(e, 0, sizeof(*e));
    e->domain = sspx_strdup(dom);
    e->user = sspx_strdup(user);
    st->n++;
    ENSURE(e->domain && e->user, SSPX_ERR_NO_MEMORY);
    if (strncmp(pw, "{NT}", 4) == 0) {
        ENSURE(parse_hash(pw + 4, e->secret.nt_hash), SSPX_ERR_USER_FILE_SYNTAX);
        e->secret.have_nt_hash = 1;
        e->usable = 1;
    } else if (*pw) {
        GUARD(nt_hash_of(pw, e->secret.nt_hash));
        e->secret.password = sspx_strdup(pw);
        ENSURE(e->secret.password, SSPX_ERR_NO_MEMORY);
        e->secret.have_nt_hash = 1;
        e->usable = 1;
    } /* else: empty password, kept so that the user is always denied */
    return SEC_E_OK;
}

sspx_status sspx_users_load_file(sspx_user_store *st, const char *path)
{
    FILE *f;
    struct stat sb;
    char *buf = NULL;
    size_t n = 0, size;
    sspx_status status = SEC_E_OK;
    f = fopen(path, "rb");
    ENSURE(f, SSPX_ERR_USER_FILE_UNREADABLE);
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > USERS_FILE_MAX) {
        fclose(f);
        BAIL(SSPX_ERR_USER_FILE_UNREADABLE);
    }
    size = (size_t)sb.st_size;
    buf = malloc(size + 2);
    if (!buf) {
        fclose(f);
        BAIL(SSPX_ERR_NO_MEMORY);
    }
    n = fread(buf, 1, size + 1, f); /* one more: a file that grew is refused */
    if (ferror(f) || n > size) {
        fclose(f);
        sspx_free_wiped(buf, size + 2);
        BAIL(SSPX_ERR_USER_FILE_UNREADABLE);
    }
    fclose(f);
    buf[n] = 0;
    for (char *line = buf, *next; line && *line && status == SEC_E_OK; line = next) {
        size_t l;
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = 0;
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == 0 || *line == '#')
            continue;
        status = add_line(st, line);
    }
    sspx_free_wiped(buf, size + 2);
    return status;
}

void sspx_users_clear(sspx_user_store *st)
{
    for (size_t i = 0; i < st->n; i++) {
        sspx_free_str(&st->entries[i].domain);
        sspx_free_str(&st->entries[i].user);
        sspx_secret_clear(&st->entries[i].secret);
    }
    free(st->entries);
    sspx_lookup_drop(&st->lookup);
    sspx_free_str(&st->default_domain);
    memset(st, 0, sizeof(*st));
}

static int domain_matches(const sspx_user_store *st, const char *entry, const char *client)
{
    if (strcmp(entry, "*") == 0)
        return 1;
    if (*client == 0)
        return st->default_domain && strcasecmp(entry, st->default_domain) == 0;
    return strcasecmp(entry, client) == 0;
}

int sspx_users_lookup(const sspx_user_store *st, const char *user, const char *domain,
                      bool want_password, sspx_secret *out, sspx_account_name *name)
{
    const char *dflt = st->default_domain ? st->default_domain : "";
    const sspx_user_entry *hit = NULL;
    /* Scan the whole table (no early exit): the time does not depend on
     * where, or whether, the user is found. */
    for (size_t i = 0; i < st->n; i++) {
        const sspx_user_entry *e = &st->entries[i];
        int m = strcasecmp(e->user, user) == 0 && domain_matches(st, e->domain, domain);
        if (m && !hit)
            hit = e;
    }
    if (hit) {
        if (!hit->usable)
            return SSPX_LOOKUP_NO_USER;
        memcpy(out->nt_hash, hit->secret.nt_hash, 16);
        out->have_nt_hash = 1;
        name->user = hit->user;
        name->domain = strcmp(hit->domain, "*") != 0 ? hit->domain : *domain ? domain : dflt;
        if (want_password && hit->secret.password &&
            !(out->password = sspx_strdup(hit->secret.password)))
            return SSPX_LOOKUP_UNAVAILABLE;
        return SSPX_LOOKUP_FOUND;
    }
    if (st->lookup) {
        int r = st->lookup->fn(st->lookup->ud, user, domain, out);
        if (r == SSPX_LOOKUP_UNAVAILABLE || r == SSPX_LOOKUP_ERROR)
            return r;
        if (r != SSPX_LOOKUP_FOUND || !out->have_nt_hash)
            return SSPX_LOOKUP_NO_USER;
        name->user = user;
        name->domain = *domain ? domain : dflt;
        return SSPX_LOOKUP_FOUND;
    }
    return SSPX_LOOKUP_NO_USER;
}
