/* The users-file loader (docs/USERS.md format) on arbitrary file contents:
 * the input is written to a temporary file (created once, removed at exit),
 * loaded with sspx_users_load_file, and every loaded entry is looked up by
 * its own names. */
#include <fcntl.h>

#include "core/core.h"
#include "fuzz_common.h"

static char g_path[64];
static int g_fd = -1;

static void cleanup(void)
{
    if (g_fd >= 0) {
        close(g_fd);
        unlink(g_path);
        g_fd = -1;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    strcpy(g_path, "/tmp/sspx-fuzz-usersfile-XXXXXX");
    g_fd = mkstemp(g_path);
    FZ_CHECK(g_fd >= 0);
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sspx_user_store st;
    SECURITY_STATUS rc;
    FZ_CHECK(ftruncate(g_fd, 0) == 0);
    FZ_CHECK(pwrite(g_fd, data, size, 0) == (ssize_t)size);
    memset(&st, 0, sizeof(st));
    st.default_domain = sspx_strdup("TESTDOM");
    FZ_CHECK(st.default_domain);
    rc = sspx_users_load_file(&st, g_path);
    FZ_CHECK(rc == SEC_E_OK || rc < 0);
    for (size_t i = 0; i < st.n && i < 16; i++) {
        const sspx_user_entry *e = &st.entries[i];
        sspx_secret sec;
        sspx_account_name an;
        int r;
        FZ_CHECK(e->user && e->domain && *e->user);
        FZ_CHECK(!e->usable || e->secret.have_nt_hash);
        memset(&sec, 0, sizeof(sec));
        r = sspx_users_lookup(&st, e->user, strcmp(e->domain, "*") ? e->domain : "ANY", true, &sec,
                              &an);
        FZ_CHECK(r == SSPX_LOOKUP_FOUND || r == SSPX_LOOKUP_NO_USER);
        FZ_CHECK(r != SSPX_LOOKUP_FOUND || sec.have_nt_hash);
        if (r == SSPX_LOOKUP_FOUND) {
            /* the account's own spelling: the names compare case-blind */
            FZ_CHECK(an.user && an.domain && strcasecmp(an.user, e->user) == 0);
            if (sec.password)
                (void)strlen(sec.password);
        }
        sspx_secret_clear(&sec);
        r = sspx_users_lookup(&st, e->user, "", false, &sec, &an);
        FZ_CHECK(r == SSPX_LOOKUP_FOUND || r == SSPX_LOOKUP_NO_USER);
        sspx_secret_clear(&sec);
    }
    sspx_users_clear(&st);
    return 0;
}
