/*
 * sspx.i: the low-level Python extension `sspx._sspx` over the native API
 * (sspx/sspx.h) and a few SSPI entry points for `sspx.raw`.
 *
 * Typemaps are written by hand:
 *  - bytes in: any object with the buffer protocol (never str), held for the
 *    whole call (Py_buffer), so the C code may read it with the GIL released;
 *  - bytes out: sspx_buf outputs are copied into `bytes` and wiped/freed;
 *  - SECURITY_STATUS: a failure raises the exception class that
 *    sspx.errors defines for it (with the status and the core's last-error
 *    detail); successes are returned as ints.
 * Built with `swig -threads`: the GIL is released around every wrapped call
 * except the few marked %nothread, which touch Python objects.
 */
%module(package="sspx") _sspx

%{
#define SWIG_FILE_WITH_INIT
#include <string.h>
#include <sspx/sspi.h>
#include <sspx/sspx.h>
%}

%include <stdint.i>

/* ----------------------------------------------------------- errors */

%{
/* Raise sspx.errors' class for `st`, carrying the last-error detail and,
 * when `token` is not NULL, the error token for the peer as its `token`
 * attribute (bytes; b"" otherwise). */
static void sspx_py_raise_token(SECURITY_STATUS st, const uint8_t *token, size_t token_len)
{
    sspx_error_info e = sspx_last_error();
    const char *name = sspx_status_name(st);
    PyObject *mod = PyImport_ImportModule("sspx.errors"), *fn = NULL, *exc = NULL;
    if (mod)
        fn = PyObject_GetAttrString(mod, "_from_c");
    if (fn)
        exc = PyObject_CallFunction(fn, "lsssssi", (long)st, name ? name : "",
                                    e.status == st ? e.message : sspx_status_message(st),
                                    e.status == st ? e.name : "",
                                    e.status == st ? sspx_last_error_string() : "",
                                    e.status == st ? e.file : "", e.status == st ? e.line : 0);
    if (exc && token && token_len) {
        PyObject *b = PyBytes_FromStringAndSize((const char *)token, (Py_ssize_t)token_len);
        if (!b || PyObject_SetAttrString(exc, "token", b) < 0)
            Py_CLEAR(exc); /* the MemoryError (or whatever failed) is raised instead */
        Py_XDECREF(b);
    }
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    } else if (!PyErr_Occurred()) {
        PyErr_Format(PyExc_OSError, "SSPI status 0x%08lx", (unsigned long)(uint32_t)st);
    }
    Py_XDECREF(fn);
    Py_XDECREF(mod);
}

static void sspx_py_raise(SECURITY_STATUS st)
{
    sspx_py_raise_token(st, NULL, 0);
}
%}

%typemap(out) SECURITY_STATUS {
    if ($1 < 0) {
        sspx_py_raise($1);
        SWIG_fail;
    }
    $result = PyLong_FromLong((long)$1);
}

/* ------------------------------------------------------------ bytes in */

%typemap(in) (const uint8_t *BYTES, size_t LEN) (Py_buffer view, int have = 0) {
    if ($input == Py_None) {
        $1 = NULL;
        $2 = 0;
    } else {
        if (PyUnicode_Check($input)) {
            PyErr_SetString(PyExc_TypeError, "expected bytes, not str");
            SWIG_fail;
        }
        if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) != 0)
            SWIG_fail;
        have = 1;
        $1 = ($1_ltype)view.buf;
        $2 = (size_t)view.len;
    }
}
%typemap(freearg) (const uint8_t *BYTES, size_t LEN) {
    if (have$argnum)
        PyBuffer_Release(&view$argnum);
}
%typemap(typecheck) (const uint8_t *BYTES, size_t LEN) {
    $1 = $input == Py_None || PyObject_CheckBuffer($input);
}

/* ----------------------------------------------------------- bytes out */

%typemap(in, numinputs=0) sspx_buf *OUT (sspx_buf tmp) {
    tmp.data = NULL;
    tmp.len = 0;
    $1 = &tmp;
}
%typemap(argout) sspx_buf *OUT {
    PyObject *b = PyBytes_FromStringAndSize((const char *)tmp$argnum.data,
                                            (Py_ssize_t)tmp$argnum.len);
    sspx_buf_free(&tmp$argnum);
    if (!b)
        SWIG_fail;
    $result = SWIG_Python_AppendOutput($result, b);
}
%typemap(freearg) sspx_buf *OUT {
    sspx_buf_free(&tmp$argnum); /* on the failure path */
}

/* out-parameter object pointers: sspx_cred **OUTOBJ etc. */
%typemap(in, numinputs=0) sspx_cred **OUTOBJ (sspx_cred *tmp = NULL) { $1 = &tmp; }
%typemap(argout) sspx_cred **OUTOBJ {
    $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(tmp$argnum, $*1_descriptor, 0));
}
%typemap(in, numinputs=0) sspx_ctx **OUTOBJ (sspx_ctx *tmp = NULL) { $1 = &tmp; }
%typemap(argout) sspx_ctx **OUTOBJ {
    $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(tmp$argnum, $*1_descriptor, 0));
}

/* ------------------------------------------------------------- objects */

%nodefaultctor sspx_cred;
%nodefaultdtor sspx_cred;
%nodefaultctor sspx_ctx;
%nodefaultdtor sspx_ctx;
%nodefaultctor sspx_config;
%nodefaultdtor sspx_config;
typedef struct sspx_cred sspx_cred;
typedef struct sspx_ctx sspx_ctx;
typedef struct sspx_config sspx_config;
typedef int32_t SECURITY_STATUS;

/* cheap calls that need no GIL release; calls that touch Python objects */
%nothread;
const char *sspx_version(void);
const char *sspx_status_name(SECURITY_STATUS status);
const char *sspx_status_message(SECURITY_STATUS status);
const char *sspx_last_error_string(void);
size_t sspx_package_count(void);
const char *sspx_package_name(size_t i);
sspx_config *sspx_config_new(void);
%rename(config_set) sspx_config_set;
SECURITY_STATUS sspx_config_set(sspx_config *cfg, const char *key, const char *value);
%apply (const uint8_t *BYTES, size_t LEN) { (const uint8_t *value, size_t len) };
%rename(config_set_bytes) sspx_config_set_bytes;
SECURITY_STATUS sspx_config_set_bytes(sspx_config *cfg, const char *key, const uint8_t *value,
                                      size_t len);
const char *sspx_cred_package(const sspx_cred *cred);
int sspx_ctx_is_complete(const sspx_ctx *ctx);
uint32_t sspx_ctx_flags(const sspx_ctx *ctx);
const char *sspx_ctx_package(const sspx_ctx *ctx);
const char *sspx_ctx_client_name(const sspx_ctx *ctx);
int64_t sspx_ctx_expiry(const sspx_ctx *ctx);
%thread;

/* the calls that do crypto or I/O: GIL released */
%apply sspx_cred **OUTOBJ { sspx_cred **out };
SECURITY_STATUS sspx_cred_acquire(const char *package, unsigned usage, const sspx_config *cfg,
                                  sspx_cred **out);
%clear sspx_cred **out;
%apply (const uint8_t *BYTES, size_t LEN) { (const uint8_t *in, size_t in_len) };
%apply (const uint8_t *BYTES, size_t LEN) { (const uint8_t *msg, size_t len) };
%apply (const uint8_t *BYTES, size_t LEN) { (const uint8_t *sig, size_t sig_len) };
%apply (const uint8_t *BYTES, size_t LEN) { (const uint8_t *in, size_t len) };
%apply sspx_buf *OUT { sspx_buf *out, sspx_buf *sig_out };
SECURITY_STATUS sspx_ctx_session_key(sspx_ctx *ctx, sspx_buf *out);
SECURITY_STATUS sspx_ctx_wrap(sspx_ctx *ctx, const uint8_t *msg, size_t len, sspx_buf *out);
SECURITY_STATUS sspx_ctx_unwrap(sspx_ctx *ctx, const uint8_t *in, size_t len, sspx_buf *out);
SECURITY_STATUS sspx_ctx_verify(sspx_ctx *ctx, const uint8_t *msg, size_t len, const uint8_t *sig,
                                size_t sig_len);

/* A server context's delegated credential (Kerberos, Negotiate over
 * Kerberos): a new outbound credential, freed with cred_free. */
%apply sspx_cred **OUTOBJ { sspx_cred **out };
SECURITY_STATUS sspx_ctx_delegated_cred(sspx_ctx *ctx, sspx_cred **out);
%clear sspx_cred **out;

%inline %{
/* sign: `sspx_buf *sig` would collide with the input typemap names above */
SECURITY_STATUS ctx_sign(sspx_ctx *ctx, const uint8_t *msg, size_t len, sspx_buf *sig_out)
{
    return sspx_ctx_sign(ctx, msg, len, sig_out);
}
%}

/* One leg: (status, token to send). Not the sspx_buf *OUT typemap, which
 * drops the output on failure: a server context made with
 * ASC_REQ_EXTENDED_ERROR may get, with the failure, an error token for the
 * client (Kerberos: a KRB-ERROR). It rides on the raised exception as
 * `.token`; the buffer is freed (wiped) on every path. The GIL is released
 * around the step only (a Python lookup takes it back). */
%nothread;
%inline %{
PyObject *ctx_step(sspx_ctx *ctx, const uint8_t *in, size_t in_len)
{
    sspx_buf out = {NULL, 0};
    SECURITY_STATUS st;
    PyObject *r = NULL;
    Py_BEGIN_ALLOW_THREADS
    st = sspx_ctx_step(ctx, in, in_len, &out);
    Py_END_ALLOW_THREADS
    if (st < 0)
        sspx_py_raise_token(st, out.data, out.len);
    else
        r = Py_BuildValue("(ly#)", (long)st, out.data ? (const char *)out.data : "",
                          (Py_ssize_t)out.len);
    sspx_buf_free(&out);
    return r;
}
%}
%thread;

/* ---------------------------------------------------- object lifetimes */

%nothread;
%inline %{
void config_free(sspx_config *cfg) { sspx_config_free(&cfg); }
void cred_free(sspx_cred *cred) { sspx_cred_free(&cred); }
void ctx_free(sspx_ctx *ctx) { sspx_ctx_free(&ctx); }
%}
%thread;

/* a context: its options as Python gives them (channel bindings as bytes);
 * cheap (an allocation): no GIL release, which would cost more than it saves */
%apply sspx_ctx **OUTOBJ { sspx_ctx **out };
%nothread;
%inline %{
SECURITY_STATUS ctx_new(sspx_cred *cred, uint32_t flags, const char *target,
                        const uint8_t *in, size_t in_len, sspx_ctx **out)
{
    sspx_ctx_params p;
    memset(&p, 0, sizeof(p));
    p.flags = flags;
    p.target = target;
    p.channel_bindings = in;
    p.channel_bindings_len = in_len;
    return sspx_ctx_new(cred, &p, out);
}
%}
%thread;

/* ------------------------------------------------- Python lookup callback */

%{
static _Thread_local char sspx_py_lookup_error[512];

static void lookup_note(const char *what)
{
    PyObject *type, *value, *tb, *s = NULL;
    PyErr_Fetch(&type, &value, &tb);
    if (value)
        s = PyObject_Repr(value);
    snprintf(sspx_py_lookup_error, sizeof(sspx_py_lookup_error), "%s%s%s", what,
             s ? ": " : "", s ? PyUnicode_AsUTF8(s) : "");
    PyErr_Clear();
    Py_XDECREF(s);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* Runs on whatever thread the library verifies on; takes the GIL. The
 * callable returns None (no such user), a str (password), 16 bytes (NT
 * hash), or raises; anything else is a failed lookup. */
static int sspx_py_lookup(void *ud, const char *user, const char *domain, sspx_secret *out)
{
    int rc;
    PyGILState_STATE g;
    PyObject *r;
    if (!Py_IsInitialized())
        return SSPX_LOOKUP_ERROR;
    g = PyGILState_Ensure();
    sspx_py_lookup_error[0] = 0;
    r = PyObject_CallFunction((PyObject *)ud, "ss", user, domain);
    if (!r) {
        /* Ctrl-C inside a lookup must not be lost: raise it again at the next
         * check the interpreter makes */
        PyObject *t, *v, *tb, *errors, *na = NULL;
        int interrupt, unavailable = 0;
        PyErr_Fetch(&t, &v, &tb); /* no import may run with an exception set */
        interrupt = PyErr_GivenExceptionMatches(t, PyExc_KeyboardInterrupt);
        errors = PyImport_ImportModule("sspx.errors");
        if (errors && (na = PyObject_GetAttrString(errors, "NoAuthority")) != NULL)
            unavailable = PyErr_GivenExceptionMatches(t, na);
        PyErr_Clear();
        Py_XDECREF(na);
        Py_XDECREF(errors);
        PyErr_Restore(t, v, tb);
        lookup_note("the lookup raised");
        if (interrupt)
            PyErr_SetInterrupt();
        /* raising sspx.errors.NoAuthority says "no authority could be reached" */
        rc = unavailable ? SSPX_LOOKUP_UNAVAILABLE : SSPX_LOOKUP_ERROR;
    } else if (r == Py_None) {
        rc = SSPX_LOOKUP_NO_USER;
    } else if (PyUnicode_Check(r)) {
        const char *pw = PyUnicode_AsUTF8(r);
        if (!pw) {
            lookup_note("the lookup returned an unencodable password");
            rc = SSPX_LOOKUP_ERROR;
        } else {
            if (!*pw) {
                rc = SSPX_LOOKUP_NO_USER; /* an empty password is never accepted */
            } else if (sspx_secret_set_password(out, pw) == SEC_E_OK) {
                rc = SSPX_LOOKUP_FOUND;
            } else {
                snprintf(sspx_py_lookup_error, sizeof(sspx_py_lookup_error),
                         "the password the lookup returned was refused: %s",
                         sspx_last_error_string());
                rc = SSPX_LOOKUP_ERROR;
            }
        }
    } else if (PyBytes_Check(r) && PyBytes_GET_SIZE(r) == 16) {
        rc = SSPX_LOOKUP_FOUND;
        if (sspx_secret_set_nt_hash(out, (const uint8_t *)PyBytes_AS_STRING(r), 16) != SEC_E_OK) {
            snprintf(sspx_py_lookup_error, sizeof(sspx_py_lookup_error),
                     "the NT hash the lookup returned was refused");
            rc = SSPX_LOOKUP_ERROR;
        }
    } else {
        snprintf(sspx_py_lookup_error, sizeof(sspx_py_lookup_error),
                 "the lookup returned %.100s; expected None, a str password or a 16-byte NT hash",
                 Py_TYPE(r)->tp_name);
        rc = SSPX_LOOKUP_ERROR;
    }
    Py_XDECREF(r);
    PyGILState_Release(g);
    return rc;
}

static void sspx_py_lookup_free(void *ud)
{
    PyGILState_STATE g;
    if (!Py_IsInitialized())
        return; /* interpreter gone: the object went with it */
    g = PyGILState_Ensure();
    Py_DECREF((PyObject *)ud);
    PyGILState_Release(g);
}
%}

%nothread;
%inline %{
SECURITY_STATUS config_set_lookup(sspx_config *cfg, PyObject *fn)
{
    SECURITY_STATUS st;
    Py_INCREF(fn);
    st = sspx_config_set_lookup(cfg, sspx_py_lookup, fn, sspx_py_lookup_free);
    if (st < 0)
        Py_DECREF(fn);
    return st;
}

/* What the Python lookup raised or returned wrongly, last on this thread. */
const char *last_lookup_error(void) { return sspx_py_lookup_error; }
void clear_lookup_error(void) { sspx_py_lookup_error[0] = 0; }
%}
%thread;

/* ----------------------------------------------------- descriptions */

%{
static PyObject *desc_to_py(const sspx_desc *d)
{
    static const char *kinds[] = {"struct", "uint", "flags", "bytes", "string", "enum", "flag"};
    size_t n = sspx_desc_child_count(d), blen = 0;
    const uint8_t *b = sspx_desc_bytes(d, &blen);
    const char *text = sspx_desc_text(d);
    int kind = (int)sspx_desc_get_kind(d);
    PyObject *kids = PyList_New((Py_ssize_t)n), *res;
    if (!kids)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        PyObject *k = desc_to_py(sspx_desc_child(d, i));
        if (!k) {
            Py_DECREF(kids);
            return NULL;
        }
        PyList_SET_ITEM(kids, (Py_ssize_t)i, k);
    }
    res = Py_BuildValue("{s:s,s:s,s:n,s:n,s:K,s:z,s:y#,s:N}", "name", sspx_desc_name(d), "kind",
                        kind >= 0 && kind < 7 ? kinds[kind] : "struct", "offset",
                        (Py_ssize_t)sspx_desc_offset(d), "length", (Py_ssize_t)sspx_desc_length(d),
                        "value", (unsigned long long)sspx_desc_uint(d), "text", text, "bytes",
                        b ? (const char *)b : "", (Py_ssize_t)(b ? blen : 0), "children", kids);
    return res;
}
%}

%nothread;
%inline %{
/* The token decoded by the package's own decoders, as nested dicts. */
PyObject *describe(const char *package, const uint8_t *in, size_t in_len)
{
    sspx_desc *d = NULL;
    PyObject *r;
    SECURITY_STATUS st = sspx_describe(package, in, in_len, &d);
    if (st < 0) {
        sspx_py_raise(st);
        return NULL;
    }
    r = desc_to_py(d);
    sspx_desc_free(&d);
    return r;
}
%}
%thread;

/* ------------------------------------------------------- constants */

%constant int CRED_INBOUND = SSPX_CRED_INBOUND;
%constant int CRED_OUTBOUND = SSPX_CRED_OUTBOUND;
%constant int CRED_BOTH = SECPKG_CRED_BOTH;

/* ---------------------------------------------- flag and buffer names */

%nothread;
%{
static int put_const(PyObject *d, const char *name, unsigned long long v)
{
    PyObject *o = PyLong_FromUnsignedLongLong(v);
    int r = o ? PyDict_SetItemString(d, name, o) : -1;
    Py_XDECREF(o);
    return r;
}
%}
%inline %{
/* name -> value of every ASC_ and ISC_ flag and SECBUFFER_ constant of sspi.h */
PyObject *constant_table(void)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
#define SSPX_K(n) \
    if (put_const(d, #n, (unsigned long long)(n)) < 0) \
        goto fail;
    SSPX_K(ASC_REQ_ALLOCATE_MEMORY)
    SSPX_K(ASC_REQ_ALLOW_CONTEXT_REPLAY)
    SSPX_K(ASC_REQ_ALLOW_MISSING_BINDINGS)
    SSPX_K(ASC_REQ_ALLOW_NON_USER_LOGONS)
    SSPX_K(ASC_REQ_ALLOW_NULL_SESSION)
    SSPX_K(ASC_REQ_CALL_LEVEL)
    SSPX_K(ASC_REQ_CONFIDENTIALITY)
    SSPX_K(ASC_REQ_CONNECTION)
    SSPX_K(ASC_REQ_DATAGRAM)
    SSPX_K(ASC_REQ_DELEGATE)
    SSPX_K(ASC_REQ_EXTENDED_ERROR)
    SSPX_K(ASC_REQ_FRAGMENT_SUPPLIED)
    SSPX_K(ASC_REQ_FRAGMENT_TO_FIT)
    SSPX_K(ASC_REQ_IDENTIFY)
    SSPX_K(ASC_REQ_INTEGRITY)
    SSPX_K(ASC_REQ_LICENSING)
    SSPX_K(ASC_REQ_MESSAGES)
    SSPX_K(ASC_REQ_MUTUAL_AUTH)
    SSPX_K(ASC_REQ_NO_TOKEN)
    SSPX_K(ASC_REQ_PROXY_BINDINGS)
    SSPX_K(ASC_REQ_REPLAY_DETECT)
    SSPX_K(ASC_REQ_SEQUENCE_DETECT)
    SSPX_K(ASC_REQ_SESSION_TICKET)
    SSPX_K(ASC_REQ_STREAM)
    SSPX_K(ASC_REQ_USE_DCE_STYLE)
    SSPX_K(ASC_REQ_USE_SESSION_KEY)
    SSPX_K(ASC_RET_ALLOCATED_MEMORY)
    SSPX_K(ASC_RET_ALLOW_CONTEXT_REPLAY)
    SSPX_K(ASC_RET_ALLOW_NON_USER_LOGONS)
    SSPX_K(ASC_RET_CALL_LEVEL)
    SSPX_K(ASC_RET_CONFIDENTIALITY)
    SSPX_K(ASC_RET_CONNECTION)
    SSPX_K(ASC_RET_DATAGRAM)
    SSPX_K(ASC_RET_DELEGATE)
    SSPX_K(ASC_RET_EXTENDED_ERROR)
    SSPX_K(ASC_RET_FRAGMENT_ONLY)
    SSPX_K(ASC_RET_IDENTIFY)
    SSPX_K(ASC_RET_INTEGRITY)
    SSPX_K(ASC_RET_LICENSING)
    SSPX_K(ASC_RET_MESSAGES)
    SSPX_K(ASC_RET_MUTUAL_AUTH)
    SSPX_K(ASC_RET_NO_ADDITIONAL_TOKEN)
    SSPX_K(ASC_RET_NO_TOKEN)
    SSPX_K(ASC_RET_NULL_SESSION)
    SSPX_K(ASC_RET_REPLAY_DETECT)
    SSPX_K(ASC_RET_SEQUENCE_DETECT)
    SSPX_K(ASC_RET_SESSION_TICKET)
    SSPX_K(ASC_RET_STREAM)
    SSPX_K(ASC_RET_THIRD_LEG_FAILED)
    SSPX_K(ASC_RET_USED_DCE_STYLE)
    SSPX_K(ASC_RET_USE_SESSION_KEY)
    SSPX_K(ISC_REQ_ALLOCATE_MEMORY)
    SSPX_K(ISC_REQ_CALL_LEVEL)
    SSPX_K(ISC_REQ_CONFIDENTIALITY)
    SSPX_K(ISC_REQ_CONFIDENTIALITY_ONLY)
    SSPX_K(ISC_REQ_CONNECTION)
    SSPX_K(ISC_REQ_DATAGRAM)
    SSPX_K(ISC_REQ_DEFERRED_CRED_VALIDATION)
    SSPX_K(ISC_REQ_DELEGATE)
    SSPX_K(ISC_REQ_EXTENDED_ERROR)
    SSPX_K(ISC_REQ_FORWARD_CREDENTIALS)
    SSPX_K(ISC_REQ_FRAGMENT_SUPPLIED)
    SSPX_K(ISC_REQ_FRAGMENT_TO_FIT)
    SSPX_K(ISC_REQ_IDENTIFY)
    SSPX_K(ISC_REQ_INTEGRITY)
    SSPX_K(ISC_REQ_MANUAL_CRED_VALIDATION)
    SSPX_K(ISC_REQ_MESSAGES)
    SSPX_K(ISC_REQ_MUTUAL_AUTH)
    SSPX_K(ISC_REQ_NO_INTEGRITY)
    SSPX_K(ISC_REQ_NO_POST_HANDSHAKE_AUTH)
    SSPX_K(ISC_REQ_NULL_SESSION)
    SSPX_K(ISC_REQ_PROMPT_FOR_CREDS)
    SSPX_K(ISC_REQ_REPLAY_DETECT)
    SSPX_K(ISC_REQ_RESERVED1)
    SSPX_K(ISC_REQ_SEQUENCE_DETECT)
    SSPX_K(ISC_REQ_STREAM)
    SSPX_K(ISC_REQ_UNVERIFIED_TARGET_NAME)
    SSPX_K(ISC_REQ_USE_DCE_STYLE)
    SSPX_K(ISC_REQ_USE_HTTP_STYLE)
    SSPX_K(ISC_REQ_USE_SESSION_KEY)
    SSPX_K(ISC_REQ_USE_SUPPLIED_CREDS)
    SSPX_K(ISC_RET_ALLOCATED_MEMORY)
    SSPX_K(ISC_RET_CALL_LEVEL)
    SSPX_K(ISC_RET_CONFIDENTIALITY)
    SSPX_K(ISC_RET_CONFIDENTIALITY_ONLY)
    SSPX_K(ISC_RET_CONNECTION)
    SSPX_K(ISC_RET_DATAGRAM)
    SSPX_K(ISC_RET_DEFERRED_CRED_VALIDATION)
    SSPX_K(ISC_RET_DELEGATE)
    SSPX_K(ISC_RET_EXTENDED_ERROR)
    SSPX_K(ISC_RET_FORWARD_CREDENTIALS)
    SSPX_K(ISC_RET_FRAGMENT_ONLY)
    SSPX_K(ISC_RET_IDENTIFY)
    SSPX_K(ISC_RET_INTEGRITY)
    SSPX_K(ISC_RET_INTERMEDIATE_RETURN)
    SSPX_K(ISC_RET_MANUAL_CRED_VALIDATION)
    SSPX_K(ISC_RET_MESSAGES)
    SSPX_K(ISC_RET_MUTUAL_AUTH)
    SSPX_K(ISC_RET_NO_ADDITIONAL_TOKEN)
    SSPX_K(ISC_RET_NO_POST_HANDSHAKE_AUTH)
    SSPX_K(ISC_RET_NULL_SESSION)
    SSPX_K(ISC_RET_REAUTHENTICATION)
    SSPX_K(ISC_RET_REPLAY_DETECT)
    SSPX_K(ISC_RET_RESERVED1)
    SSPX_K(ISC_RET_SEQUENCE_DETECT)
    SSPX_K(ISC_RET_STREAM)
    SSPX_K(ISC_RET_USED_COLLECTED_CREDS)
    SSPX_K(ISC_RET_USED_DCE_STYLE)
    SSPX_K(ISC_RET_USED_HTTP_STYLE)
    SSPX_K(ISC_RET_USED_SUPPLIED_CREDS)
    SSPX_K(ISC_RET_USE_SESSION_KEY)
    SSPX_K(SECBUFFER_ALERT)
    SSPX_K(SECBUFFER_APPLICATION_PROTOCOLS)
    SSPX_K(SECBUFFER_ATTRMASK)
    SSPX_K(SECBUFFER_CERTIFICATE_REQUEST_CONTEXT)
    SSPX_K(SECBUFFER_CHANGE_PASS_RESPONSE)
    SSPX_K(SECBUFFER_CHANNEL_BINDINGS)
    SSPX_K(SECBUFFER_CHANNEL_BINDINGS_RESULT)
    SSPX_K(SECBUFFER_DATA)
    SSPX_K(SECBUFFER_DTLS_MTU)
    SSPX_K(SECBUFFER_EMPTY)
    SSPX_K(SECBUFFER_EXTRA)
    SSPX_K(SECBUFFER_FLAGS)
    SSPX_K(SECBUFFER_MECHLIST)
    SSPX_K(SECBUFFER_MECHLIST_SIGNATURE)
    SSPX_K(SECBUFFER_MISSING)
    SSPX_K(SECBUFFER_NEGOTIATION_INFO)
    SSPX_K(SECBUFFER_PADDING)
    SSPX_K(SECBUFFER_PKG_PARAMS)
    SSPX_K(SECBUFFER_PRESHARED_KEY)
    SSPX_K(SECBUFFER_PRESHARED_KEY_IDENTITY)
    SSPX_K(SECBUFFER_READONLY)
    SSPX_K(SECBUFFER_READONLY_WITH_CHECKSUM)
    SSPX_K(SECBUFFER_RESERVED)
    SSPX_K(SECBUFFER_SEND_GENERIC_TLS_EXTENSION)
    SSPX_K(SECBUFFER_SRTP_MASTER_KEY_IDENTIFIER)
    SSPX_K(SECBUFFER_SRTP_PROTECTION_PROFILES)
    SSPX_K(SECBUFFER_STREAM)
    SSPX_K(SECBUFFER_STREAM_HEADER)
    SSPX_K(SECBUFFER_STREAM_TRAILER)
    SSPX_K(SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION)
    SSPX_K(SECBUFFER_TARGET)
    SSPX_K(SECBUFFER_TARGET_HOST)
    SSPX_K(SECBUFFER_TOKEN)
    SSPX_K(SECBUFFER_TOKEN_BINDING)
    SSPX_K(SECBUFFER_TRAFFIC_SECRETS)
#undef SSPX_K
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}
%}
%thread;

/* ------------------------------------------- QueryContextAttributes */

%nothread;
%inline %{
/* QueryContextAttributesA on a native context, the result as Python data:
 * ints, str, bytes, dicts. Raises as the other calls do. */
PyObject *query_attr(sspx_ctx *ctx, unsigned long attr)
{
    CtxtHandle h;
    SECURITY_STATUS st;
    PyObject *r = NULL;
    union {
        SecPkgContext_Sizes sizes;
        SecPkgContext_Flags flags;
        SecPkgContext_NamesA names;
        SecPkgContext_SessionKey key;
        SecPkgContext_Lifespan life;
        SecPkgContext_PackageInfoA pkg;
        SecPkgContext_NegotiationInfoA nego;
        SecPkgContext_NativeNamesA native;
        unsigned char raw[256];
    } u;
    memset(&u, 0, sizeof(u));
    sspx_ctx_handle(ctx, &h);
    Py_BEGIN_ALLOW_THREADS
    st = QueryContextAttributesA(&h, (ULONG)attr, &u);
    Py_END_ALLOW_THREADS
    if (st < 0) {
        sspx_py_raise(st);
        return NULL;
    }
    switch (attr) {
    case SECPKG_ATTR_SIZES:
        r = Py_BuildValue("{s:k,s:k,s:k,s:k}", "max_token", (unsigned long)u.sizes.cbMaxToken,
                          "max_signature", (unsigned long)u.sizes.cbMaxSignature, "block_size",
                          (unsigned long)u.sizes.cbBlockSize, "security_trailer",
                          (unsigned long)u.sizes.cbSecurityTrailer);
        break;
    case SECPKG_ATTR_FLAGS:
        r = PyLong_FromUnsignedLong((unsigned long)u.flags.Flags);
        break;
    case SECPKG_ATTR_NAMES:
        r = PyUnicode_FromString(u.names.sUserName);
        FreeContextBuffer(u.names.sUserName);
        break;
    case SECPKG_ATTR_SESSION_KEY:
        r = PyBytes_FromStringAndSize((const char *)u.key.SessionKey,
                                      (Py_ssize_t)u.key.SessionKeyLength);
        FreeContextBuffer(u.key.SessionKey);
        break;
    case SECPKG_ATTR_LIFESPAN:
        r = Py_BuildValue("{s:L,s:L}", "start", (long long)u.life.tsStart.QuadPart, "expiry",
                          (long long)u.life.tsExpiry.QuadPart);
        break;
    case SECPKG_ATTR_PACKAGE_INFO:
    case SECPKG_ATTR_NEGOTIATION_INFO: {
        SecPkgInfoA *p = attr == SECPKG_ATTR_PACKAGE_INFO ? u.pkg.PackageInfo : u.nego.PackageInfo;
        r = Py_BuildValue("{s:s,s:s,s:k,s:k,s:i,s:i}", "name", p->Name, "comment", p->Comment,
                          "capabilities", (unsigned long)p->fCapabilities, "max_token",
                          (unsigned long)p->cbMaxToken, "version", (int)p->wVersion, "rpcid",
                          (int)p->wRPCID);
        if (r && attr == SECPKG_ATTR_NEGOTIATION_INFO) {
            PyObject *s = PyLong_FromUnsignedLong((unsigned long)u.nego.NegotiationState);
            if (!s || PyDict_SetItemString(r, "state", s) < 0)
                Py_CLEAR(r);
            Py_XDECREF(s);
        }
        FreeContextBuffer(p);
        break;
    }
    case SECPKG_ATTR_NATIVE_NAMES:
        r = Py_BuildValue("{s:s,s:s}", "client", u.native.sClientName, "server",
                          u.native.sServerName);
        FreeContextBuffer(u.native.sClientName);
        FreeContextBuffer(u.native.sServerName);
        break;
    default:
        PyErr_Format(PyExc_ValueError, "attribute %lu has no Python form yet", attr);
        break;
    }
    return r;
}
%}
%thread;

/* ---------------------------------------------------- the raw SSPI call */

%nothread;
%inline %{
/*
 * AcceptSecurityContext / InitializeSecurityContextA exactly as Windows
 * code calls them, for sspx.raw: `buffers` is a list of (type, bytes or
 * None); the output is one SECBUFFER_TOKEN (allocated when the flags ask
 * for ALLOCATE_MEMORY, else a caller buffer of cbMaxToken bytes) plus a
 * SECBUFFER_ALERT. Returns (status, (lower, upper) or None, input buffers
 * after the call, output buffers, attrs, expiry). Statuses are returned,
 * not raised: this is the Windows-style view.
 */
PyObject *raw_step(int server, sspx_cred *cred, PyObject *ctx_handle, PyObject *buffers,
                   unsigned long req, unsigned long rep, const char *target)
{
    CredHandle ch;
    CtxtHandle in_ctx, new_ctx;
    SecBuffer ib[8], ob[2];
    Py_buffer views[8];
    SecBufferDesc id = {SECBUFFER_VERSION, 0, ib}, od = {SECBUFFER_VERSION, 2, ob};
    ULONG attrs = 0;
    TimeStamp exp = {.QuadPart = 0};
    SECURITY_STATUS st;
    Py_ssize_t n, i, nviews = 0;
    uint8_t *tokbuf = NULL;
    PyObject *res = NULL, *ins = NULL, *outs = NULL, *h = NULL;
    int have_ctx = ctx_handle != Py_None, alloc = (req & ASC_REQ_ALLOCATE_MEMORY) != 0;
    unsigned long long lo = 0, up = 0;

    memset(&new_ctx, 0, sizeof(new_ctx));
    memset(ib, 0, sizeof(ib));
    memset(ob, 0, sizeof(ob));
    if (have_ctx && !PyArg_ParseTuple(ctx_handle, "KK", &lo, &up))
        return NULL;
    in_ctx.dwLower = (ULONG_PTR)lo;
    in_ctx.dwUpper = (ULONG_PTR)up;
    if (!PyList_Check(buffers) || (n = PyList_GET_SIZE(buffers)) > 8) {
        PyErr_SetString(PyExc_TypeError, "buffers: a list of at most 8 (type, bytes) pairs");
        return NULL;
    }
    for (i = 0; i < n; i++) {
        unsigned long type;
        PyObject *data;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(buffers, i), "kO", &type, &data))
            goto out;
        ib[i].BufferType = (ULONG)type;
        ib[i].cbBuffer = 0;
        ib[i].pvBuffer = NULL;
        if (data != Py_None) {
            if (PyUnicode_Check(data)) {
                PyErr_SetString(PyExc_TypeError, "buffer data must be bytes, not str");
                goto out;
            }
            /* a writable copy: SSPI may rewrite input buffers (EXTRA, MISSING) */
            if (PyObject_GetBuffer(data, &views[nviews], PyBUF_SIMPLE) != 0)
                goto out;
            nviews++;
            ib[i].pvBuffer = PyMem_Malloc(views[nviews - 1].len ? views[nviews - 1].len : 1);
            if (!ib[i].pvBuffer) {
                PyErr_NoMemory();
                goto out;
            }
            memcpy(ib[i].pvBuffer, views[nviews - 1].buf, views[nviews - 1].len);
            ib[i].cbBuffer = (ULONG)views[nviews - 1].len;
        }
        id.cBuffers = (ULONG)(i + 1);
    }
    if (!alloc) {
        tokbuf = PyMem_Malloc(65536);
        if (!tokbuf) {
            PyErr_NoMemory();
            goto out;
        }
    }
    ob[0].BufferType = SECBUFFER_TOKEN;
    ob[0].cbBuffer = alloc ? 0 : 65536;
    ob[0].pvBuffer = alloc ? NULL : tokbuf;
    ob[1].BufferType = SECBUFFER_ALERT;
    ob[1].cbBuffer = 0;
    ob[1].pvBuffer = NULL;
    sspx_cred_handle(cred, &ch);
    Py_BEGIN_ALLOW_THREADS
    if (server)
        st = AcceptSecurityContext(cred ? &ch : NULL, have_ctx ? &in_ctx : NULL,
                                   n ? &id : NULL, (ULONG)req, (ULONG)rep, &new_ctx, &od, &attrs,
                                   &exp);
    else
        st = InitializeSecurityContextA(cred ? &ch : NULL, have_ctx ? &in_ctx : NULL,
                                        (SEC_CHAR *)target, (ULONG)req, 0, (ULONG)rep,
                                        n ? &id : NULL, 0, &new_ctx, &od, &attrs, &exp);
    Py_END_ALLOW_THREADS
    ins = PyList_New(0);
    outs = PyList_New(0);
    if (!ins || !outs)
        goto out;
    for (i = 0; i < n; i++) {
        PyObject *t = Py_BuildValue("(ky#)", (unsigned long)ib[i].BufferType,
                                    ib[i].pvBuffer ? (const char *)ib[i].pvBuffer : "",
                                    (Py_ssize_t)(ib[i].pvBuffer ? ib[i].cbBuffer : 0));
        if (!t || PyList_Append(ins, t) < 0) {
            Py_XDECREF(t);
            goto out;
        }
        Py_DECREF(t);
    }
    for (i = 0; i < 2; i++) {
        PyObject *t = Py_BuildValue("(ky#)", (unsigned long)ob[i].BufferType,
                                    ob[i].pvBuffer ? (const char *)ob[i].pvBuffer : "",
                                    (Py_ssize_t)(ob[i].pvBuffer ? ob[i].cbBuffer : 0));
        if (alloc && ob[i].pvBuffer)
            FreeContextBuffer(ob[i].pvBuffer);
        ob[i].pvBuffer = NULL;
        if (!t || PyList_Append(outs, t) < 0) {
            Py_XDECREF(t);
            goto out;
        }
        Py_DECREF(t);
    }
    if (st >= 0 || have_ctx)
        h = Py_BuildValue("(KK)", (unsigned long long)new_ctx.dwLower,
                          (unsigned long long)new_ctx.dwUpper);
    else {
        h = Py_None;
        Py_INCREF(h);
    }
    if (h)
        res = Py_BuildValue("(lNOOkL)", (long)st, h, ins, outs, (unsigned long)attrs,
                            (long long)exp.QuadPart);
out:
    for (i = 0; i < n; i++)
        if (ib[i].pvBuffer)
            PyMem_Free(ib[i].pvBuffer);
    for (i = 0; i < nviews; i++)
        PyBuffer_Release(&views[i]);
    PyMem_Free(tokbuf);
    Py_XDECREF(ins);
    Py_XDECREF(outs);
    return res;
}

/* DeleteSecurityContext on a raw handle; returns the status. */
long raw_delete(unsigned long long lower, unsigned long long upper)
{
    CtxtHandle h;
    h.dwLower = (ULONG_PTR)lower;
    h.dwUpper = (ULONG_PTR)upper;
    return (long)DeleteSecurityContext(&h);
}
%}
%thread;

/* ------------------------------------------------------------ test hooks */

%{
static struct {
    uint8_t script[1024];
    size_t len, pos;
} sspx_py_rng;
static uint64_t sspx_py_clock_value;

static int sspx_py_script_rng(void *ud, uint8_t *out, size_t n)
{
    (void)ud;
    if (sspx_py_rng.len - sspx_py_rng.pos < n)
        return -1; /* the script ran out: the library reports a failed rng */
    memcpy(out, sspx_py_rng.script + sspx_py_rng.pos, n);
    sspx_py_rng.pos += n;
    return 0;
}

static uint64_t sspx_py_fixed_clock(void *ud)
{
    (void)ud;
    return sspx_py_clock_value;
}
%}

%nothread;
%inline %{
/* Tests only: the random source replays `script` (None: the real one
 * again). Returns -1, changing nothing, for a script over 1024 bytes. */
int test_set_rng_script(const uint8_t *in, size_t in_len)
{
    if (!in) {
        sspx_test_set_rng(NULL, NULL);
        return 0;
    }
    if (in_len > sizeof(sspx_py_rng.script))
        return -1;
    memcpy(sspx_py_rng.script, in, in_len);
    sspx_py_rng.len = in_len;
    sspx_py_rng.pos = 0;
    sspx_test_set_rng(sspx_py_script_rng, NULL);
    return 0;
}

/* Tests only: the clock stands at `filetime` (a negative value: the real clock again). */
void test_set_clock(long long filetime)
{
    if (filetime < 0) {
        sspx_test_set_clock(NULL, NULL);
        return;
    }
    sspx_py_clock_value = (uint64_t)filetime;
    sspx_test_set_clock(sspx_py_fixed_clock, NULL);
}
%}
%thread;
