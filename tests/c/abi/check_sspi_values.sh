#!/usr/bin/env bash
# Compare the numeric (and package-name string) macros of sspx/sspi.h with
# the ones in mingw-w64's rendition of the Windows SDK headers.
#
# Every name is evaluated by a compiled program, twice: once through our
# header, once through the expansion the mingw headers give it (obtained by
# preprocessing them with the host compiler), so casts, suffixes and
# macro-to-macro aliases are all resolved the same way as in real code.
#
# Fails when a value differs, or when a name that mingw defines in
#   sspi.h      (SEC_E_*, SEC_I_*, ASC_*, ISC_*, SECBUFFER_*, SECPKG_*)
#   winerror.h  (SEC_E_*, SEC_I_*)
#   schannel.h  (SECPKG_ATTR_*, SECBUFFER_*)
# is missing from ours and not in ALLOW_MISSING below.
#
# Exit: 0 pass, 1 mismatch or missing name, 2 tool failure,
#       77 mingw headers not installed.
#
# Environment: CC (evaluating compiler, default gcc), MINGW_CPP (compiler
# used to preprocess the mingw headers, default gcc), MINGW_INCLUDE_DIR,
# SSPX_INCLUDE_DIR, VERBOSE=1 to list every compared name.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
our_inc=${SSPX_INCLUDE_DIR:-$root/csrc/include}
mingw_inc=${MINGW_INCLUDE_DIR:-/usr/share/mingw-w64/include}
cc=${CC:-gcc}
mingw_cpp=${MINGW_CPP:-gcc}

# Names mingw defines under the checked prefixes that sspx deliberately
# does not provide.  One line each: NAME<space>reason.
ALLOW_MISSING=$(cat <<'EOF'
EOF
)

for f in sspi.h winerror.h schannel.h; do
    if [ ! -f "$mingw_inc/$f" ]; then
        echo "SKIP: mingw-w64-x86-64-dev not installed"
        exit 77
    fi
done

for tool in "$cc" "$mingw_cpp"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "ERROR: compiler '$tool' not found" >&2
        exit 2
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sspx-abi.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- 1. names ---------------------------------------------------------------

# Object-like macros defined in one mingw header whose names match a regex.
defined_in() { # file regex
    sed -nE 's/^[[:space:]]*#[[:space:]]*define[[:space:]]+([A-Za-z_][A-Za-z0-9_]*)([[:space:]].*)?$/\1/p' \
        "$mingw_inc/$1" | grep -E "$2" | sort -u || true
}

{
    defined_in sspi.h     '^(SEC_E_|SEC_I_|ASC_|ISC_|SECBUFFER_|SECPKG_)' | sed 's/$/ sspi.h/'
    defined_in winerror.h '^(SEC_E_|SEC_I_)'                              | sed 's/$/ winerror.h/'
    defined_in schannel.h '^(SECPKG_ATTR_|SECBUFFER_)'                    | sed 's/$/ schannel.h/'
} | sort -u -k1,1 > "$work/required"

num_re='^(SEC_E_|SEC_I_|ASC_|ISC_|SECBUFFER_|SECPKG_|SECQOP_|KERB_WRAP_|SECURITY_NATIVE_DREP$|SECURITY_NETWORK_DREP$|SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION|SEC_WINNT_AUTH_IDENTITY_|SEC_CHANNEL_BINDINGS_|KDC_PROXY_SETTINGS_|MAX_PROTOCOL_ID_SIZE$|SZ_ALG_MAX_SIZE$|UNISP_RPC_ID$|CREDSSP_SERVER_AUTH_)'
str_re='^((NTLMSP|MICROSOFT_KERBEROS|NEGOSSP|UNISP|SCHANNEL|WDIGEST_SP|CREDSSP|TS_SSP)_NAME_A|SECURITY_ENTRYPOINT_ANSI[AW])$'

echo '#include <sspx/sspi.h>' > "$work/ours_dm.c"
"$cc" -std=c11 -E -dM -I"$our_inc" "$work/ours_dm.c" > "$work/ours_dm.txt"
sed -nE 's/^#define ([A-Za-z_][A-Za-z0-9_]*) .*$/\1/p' "$work/ours_dm.txt" \
    | grep -E "$num_re|$str_re" | sort -u > "$work/ours_names" || true

{ cut -d' ' -f1 "$work/required"; cat "$work/ours_names"; } | sort -u > "$work/candidates"

# --- 2. expansions ----------------------------------------------------------

make_probe() { # header-lines... ; names on stdin
    local line
    for line in "$@"; do printf '%s\n' "$line"; done
    sed 's/.*/sspx_probe "&" &/'
}

expansions() { # .i file -> "NAME<TAB>expansion"
    sed -nE 's/^sspx_probe "([A-Za-z0-9_]+)" (.*)$/\1\t\2/p' "$1" \
        | sed -E 's/[[:space:]]+$//'
}

make_probe '#define SECURITY_WIN32' '#include <windows.h>' '#include <sspi.h>' \
           '#include <security.h>' '#include <schannel.h>' \
    < "$work/candidates" > "$work/mingw_probe.c"

gcc_inc=$("$mingw_cpp" -print-file-name=include)
if ! "$mingw_cpp" -E -P -nostdinc -I"$mingw_inc" -I"$gcc_inc" \
        -U__linux__ -U__linux -Ulinux -U__gnu_linux__ -U__unix__ -U__unix -Uunix \
        -D_WIN32 -D_WIN64 -DWIN32 -D__MINGW32__ -D__MINGW64__ \
        "$work/mingw_probe.c" > "$work/mingw_probe.i" 2> "$work/mingw_probe.err"; then
    echo "ERROR: preprocessing the mingw headers failed:" >&2
    head -20 "$work/mingw_probe.err" >&2
    exit 2
fi
expansions "$work/mingw_probe.i" > "$work/mingw_exp"

make_probe '#include <sspx/sspi.h>' < "$work/ours_names" > "$work/ours_probe.c"
"$cc" -std=c11 -E -P -I"$our_inc" "$work/ours_probe.c" > "$work/ours_probe.i"
expansions "$work/ours_probe.i" > "$work/ours_exp"

# --- 3. classify ------------------------------------------------------------

# An expansion is numeric when, once integer literals, operators and the
# integer type names used in the SDK's casts are removed, nothing is left.
is_numeric() {
    local rest
    rest=$(printf '%s' "$1" | sed -E \
        -e 's/\b(HRESULT|SECURITY_STATUS|LONG|ULONG|DWORD|ULONG_PTR|INT_PTR|unsigned|signed|long|int|short|char)\b//g' \
        -e 's/\b(0[xX][0-9A-Fa-f]+|[0-9]+)([uUlL]*)\b//g' \
        -e 's/[][()|&~<>+*\/%^ -]//g')
    [ -z "$rest" ]
}

is_string() { printf '%s' "$1" | grep -qE '^"([^"\\]|\\.)*"$'; }

: > "$work/numeric"
: > "$work/strings"
: > "$work/unchecked"
while IFS=$'\t' read -r name mexp; do
    grep -qx "$name" "$work/ours_names" || continue
    if [ "$mexp" = "$name" ]; then
        # Required by name, but hidden by a condition in mingw's headers.
        grep -q "^$name " "$work/required" &&
            printf '%s\t%s\n' "$name" "(undefined)" >> "$work/unchecked"
        continue
    fi
    # Unsuffixed type aliases such as SEC_WINNT_AUTH_IDENTITY_EX.
    printf '%s' "$mexp" | grep -qE '^[A-Za-z_][A-Za-z0-9_]*$' && continue
    if is_numeric "$mexp"; then
        printf '%s\t%s\n' "$name" "$mexp" >> "$work/numeric"
    elif is_string "$mexp"; then
        printf '%s\t%s\n' "$name" "$mexp" >> "$work/strings"
    else
        printf '%s\t%s\n' "$name" "$mexp" >> "$work/unchecked"
    fi
done < "$work/mingw_exp"

# --- 4. evaluate numerically ------------------------------------------------

{
    cat <<'EOF'
#include <stdio.h>
#include <stdint.h>
typedef int32_t HRESULT;
typedef int32_t SECURITY_STATUS;
typedef int32_t LONG;
typedef uint32_t ULONG;
typedef uint32_t DWORD;
typedef uintptr_t ULONG_PTR;
typedef intptr_t INT_PTR;
int main(void)
{
EOF
    while IFS=$'\t' read -r name mexp; do
        printf '    printf("%%s %%llu\\n", "%s", (unsigned long long)(%s));\n' "$name" "$mexp"
    done < "$work/numeric"
    printf '    return 0;\n}\n'
} > "$work/eval_mingw.c"

{
    printf '#include <stdio.h>\n#include <sspx/sspi.h>\nint main(void)\n{\n'
    while IFS=$'\t' read -r name _; do
        printf '    printf("%%s %%llu\\n", "%s", (unsigned long long)(%s));\n' "$name" "$name"
    done < "$work/numeric"
    printf '    return 0;\n}\n'
} > "$work/eval_ours.c"

if ! "$cc" -std=c11 -w -o "$work/eval_mingw" "$work/eval_mingw.c" 2> "$work/eval_mingw.err"; then
    echo "ERROR: evaluating mingw expansions failed:" >&2
    head -20 "$work/eval_mingw.err" >&2
    exit 2
fi
if ! "$cc" -std=c11 -Wall -Wextra -Werror -I"$our_inc" -o "$work/eval_ours" \
        "$work/eval_ours.c" 2> "$work/eval_ours.err"; then
    echo "ERROR: evaluating sspx/sspi.h values failed:" >&2
    head -20 "$work/eval_ours.err" >&2
    exit 2
fi
"$work/eval_mingw" | sort > "$work/val_mingw"
"$work/eval_ours"  | sort > "$work/val_ours"

# --- 5. report --------------------------------------------------------------

compared=0
mismatches=0

while read -r name mval; do
    oval=$(awk -v n="$name" '$1 == n { print $2 }' "$work/val_ours")
    compared=$((compared + 1))
    if [ "$oval" != "$mval" ]; then
        mismatches=$((mismatches + 1))
        printf 'MISMATCH %s: sspx=0x%x mingw=0x%x\n' "$name" "$oval" "$mval"
    elif [ "${VERBOSE:-0}" = 1 ]; then
        printf 'ok %s = 0x%x\n' "$name" "$mval"
    fi
done < "$work/val_mingw"

while IFS=$'\t' read -r name mexp; do
    oexp=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$work/ours_exp")
    compared=$((compared + 1))
    if [ "$oexp" != "$mexp" ]; then
        mismatches=$((mismatches + 1))
        printf 'MISMATCH %s: sspx=%s mingw=%s\n' "$name" "$oexp" "$mexp"
    elif [ "${VERBOSE:-0}" = 1 ]; then
        printf 'ok %s = %s\n' "$name" "$mexp"
    fi
done < "$work/strings"

while IFS=$'\t' read -r name mexp; do
    echo "note: $name not compared (mingw expands it to '$mexp')"
done < "$work/unchecked"

missing=0
while read -r name file; do
    grep -qx "$name" "$work/ours_names" && continue
    reason=$(printf '%s\n' "$ALLOW_MISSING" | awk -v n="$name" '$1 == n { $1 = ""; sub(/^ /, ""); print; exit }')
    if [ -n "$reason" ]; then
        echo "allowed missing $name ($file): $reason"
        continue
    fi
    missing=$((missing + 1))
    echo "MISSING $name (mingw $file defines it)"
done < "$work/required"

printf '%s\n' "$ALLOW_MISSING" | while read -r name _; do
    [ -n "$name" ] || continue
    if grep -qx "$name" "$work/ours_names"; then
        echo "note: allow-listed $name is defined by sspx/sspi.h; drop it from ALLOW_MISSING"
    fi
done

comm -23 "$work/ours_names" <(cut -d' ' -f1 "$work/required" | sort -u) \
    | while read -r n; do
        awk -F'\t' -v n="$n" '$1 == n && $2 != n { found = 1 } END { exit !found }' \
            "$work/mingw_exp" || echo "$n"
    done > "$work/ours_only"
if [ "${VERBOSE:-0}" = 1 ]; then
    sed 's/^/sspx only: /' "$work/ours_only"
fi
echo "$(wc -l < "$work/ours_only") sspx names have no mingw counterpart (not compared)"
echo "$missing required names missing"
echo "$compared names compared, $mismatches mismatches"

if [ "$mismatches" -ne 0 ] || [ "$missing" -ne 0 ]; then
    exit 1
fi
exit 0
