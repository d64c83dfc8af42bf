/* The package tables the registry lists. */
#ifndef SSPX_PACKAGES_H
#define SSPX_PACKAGES_H

#include "core/core.h"

extern SSPX_INTERNAL const sspx_package sspx_ntlm_package;
#ifdef SSPX_HAVE_KERBEROS
extern SSPX_INTERNAL const sspx_package sspx_kerberos_package;
#endif
extern SSPX_INTERNAL const sspx_package sspx_negotiate_package;

#endif
