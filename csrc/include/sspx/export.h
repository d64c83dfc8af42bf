/*
 * sspx/export.h - symbol visibility and calling-convention macros.
 *
 * The library is built with -fvisibility=hidden; every public entry point
 * is marked SSPX_API so that it, and only it, lands in the dynamic symbol
 * table.
 */
#ifndef SSPX_EXPORT_H
#define SSPX_EXPORT_H

#ifndef SSPX_API
#if defined(__GNUC__) || defined(__clang__)
#define SSPX_API __attribute__((visibility("default")))
#else
#define SSPX_API
#endif
#endif

/* Windows declares SSPI entry points __stdcall; the System V ABI has one
 * calling convention, so the marker expands to nothing. */
#ifndef SEC_ENTRY
#define SEC_ENTRY
#endif

#ifndef SSPX_DEPRECATED
#if defined(__GNUC__) || defined(__clang__)
#define SSPX_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define SSPX_DEPRECATED(msg)
#endif
#endif

#endif /* SSPX_EXPORT_H */
