/* The throwaway Heimdal realm for the Kerberos and Negotiate C tests: started
 * with tests/realm/realm.py as a child process, its environment set for the
 * library, stopped at exit. Define REALM_TMP_PREFIX before including. */
#ifndef SSPX_TEST_REALM_FIXTURE_H
#define SSPX_TEST_REALM_FIXTURE_H

#ifndef REALM_TMP_PREFIX
#define REALM_TMP_PREFIX "/tmp/sspx-realm-XXXXXX"
#endif

#define KDC        "/usr/lib/heimdal-servers/kdc"
#define TARGET     "HTTP/localhost"
#define BACKEND    "HTTP/backend.localhost" /* a second service (delegation) */
#define START_SECS 60

static pid_t realm_pid = -1;
static char tmpdir[64], realm_dir[128], env_file[128], keytab[512];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void realm_stop(void)
{
    if (realm_pid <= 0)
        return;
    kill(realm_pid, SIGTERM);
    for (int i = 0; i < 100; i++) { /* 10 s */
        if (waitpid(realm_pid, NULL, WNOHANG) == realm_pid) {
            realm_pid = -1;
            break;
        }
        usleep(100000);
    }
    if (realm_pid > 0) {
        fprintf(stderr, "realm did not stop on SIGTERM; killing it\n");
        kill(realm_pid, SIGKILL);
        waitpid(realm_pid, NULL, 0);
        realm_pid = -1;
    }
    unlink(env_file); /* realm.py removes it itself, unless it was killed */
    rmdir(realm_dir);
    rmdir(tmpdir);
}

/* "export KEY=value" lines (shell-quoted with '...' when needed) -> setenv */
static int load_env(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[2048];
    int n = 0;
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        char *k, *v, *eq, out[2048];
        size_t o = 0;
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "export ", 7) != 0)
            continue;
        k = line + 7;
        eq = strchr(k, '=');
        if (!eq)
            continue;
        *eq = 0;
        for (v = eq + 1; *v && o < sizeof(out) - 1; v++) {
            if (*v == '\'') { /* '...' and the '"'"' idiom */
                for (v++; *v && *v != '\'' && o < sizeof(out) - 1; v++)
                    out[o++] = *v;
                if (!*v)
                    break;
            } else if (*v == '"') {
                for (v++; *v && *v != '"' && o < sizeof(out) - 1; v++) {
                    if (*v == '\\' && v[1])
                        v++;
                    out[o++] = *v;
                }
                if (!*v)
                    break;
            } else if (*v == '\\' && v[1]) {
                out[o++] = *++v;
            } else {
                out[o++] = *v;
            }
        }
        out[o] = 0;
        if (!strcmp(k, "KRB5_CONFIG") || !strcmp(k, "KRB5CCNAME") || !strcmp(k, "KRB5_KTNAME") ||
            !strcmp(k, "KRB5RCACHEDIR")) {
            setenv(k, out, 1);
            n++;
        }
        if (!strcmp(k, "KRB5_KTNAME") && strlen(out) < sizeof(keytab))
            memcpy(keytab, out, strlen(out) + 1);
    }
    fclose(f);
    return n;
}

/* The source tree: argv[1], or (registered without arguments) the tree the
 * test file was compiled from (`file` is its __FILE__, tests/c/x.c). */
static inline void realm_source_dir(int argc, char **argv, const char *file, char *out, size_t cap)
{
    if (argc >= 2) {
        snprintf(out, cap, "%s", argv[1]);
        return;
    }
    snprintf(out, cap, "%s", file);
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(out, '/');
        if (slash)
            *slash = 0;
    }
}

static int realm_start(const char *srcdir)
{
    if (strlen(srcdir) > 1000)
        return -1;
    char script[1200], buf[4096];
    size_t have = 0;
    int pfd[2];
    double deadline;
    snprintf(script, sizeof(script), "%s/tests/realm/realm.py", srcdir);
    if (access(KDC, X_OK) != 0) {
        fprintf(stderr,
                "Heimdal's KDC (%s) is missing: apt-get install heimdal-kdc "
                "heimdal-clients\n",
                KDC);
        return -1;
    }
    if (access(script, R_OK) != 0) {
        fprintf(stderr, "%s not found (argv[1] must be the source directory)\n", script);
        return -1;
    }
    strcpy(tmpdir, REALM_TMP_PREFIX);
    if (!mkdtemp(tmpdir) || pipe(pfd) != 0)
        return -1;
    snprintf(realm_dir, sizeof(realm_dir), "%s/realm", tmpdir);
    snprintf(env_file, sizeof(env_file), "%s/realm.env", tmpdir);
    fflush(NULL);
    realm_pid = fork();
    if (realm_pid < 0)
        return -1;
    if (realm_pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execl("/usr/bin/python3", "python3", script, "start", "--dir", realm_dir, "--port", "0",
              "--kinit", "alice", "--env-file", env_file, "--service", "HTTP/localhost",
              "--service", BACKEND, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    deadline = now_s() + START_SECS;
    for (;;) {
        struct pollfd p = {pfd[0], POLLIN, 0};
        int left = (int)((deadline - now_s()) * 1000);
        ssize_t r;
        if (left <= 0) {
            fprintf(stderr, "realm not ready after %d s\n", START_SECS);
            break;
        }
        if (poll(&p, 1, left) <= 0)
            continue;
        r = read(pfd[0], buf + have, sizeof(buf) - 1 - have);
        if (r <= 0) {
            fprintf(stderr, "realm.py exited before it was ready\n");
            break;
        }
        have += (size_t)r;
        buf[have] = 0;
        if (strstr(buf, "# realm ready\n")) {
            close(pfd[0]); /* realm.py writes nothing more */
            if (load_env(env_file) < 3) {
                fprintf(stderr, "cannot read %s\n", env_file);
                return -1;
            }
            if (strncmp(keytab, "FILE:", 5) == 0)
                memmove(keytab, keytab + 5, strlen(keytab + 5) + 1);
            return 0;
        }
        if (have >= sizeof(buf) - 1)
            have = 0;
    }
    close(pfd[0]);
    return -1;
}

#endif
