"""Build the sspx Python package: the SWIG extension sspx._sspx (the C core
compiled in, linked to OpenSSL's libcrypto) and the pure-Python package.

    /usr/bin/python3 -m pip install --no-build-isolation .

needs swig (4.x), a C compiler, python3-dev and libssl-dev.
"""
import glob
import os
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def pkgconfig(flag, pkg):
    try:
        out = subprocess.run(["pkg-config", flag, pkg], check=True, capture_output=True, text=True)
        return out.stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return []


class BuildPyAfterExt(build_py):
    """SWIG writes _sspx.py next to the .i's output: build the extension first."""

    def run(self):
        self.run_command("build_ext")
        super().run()


core_sources = sorted(
    glob.glob("csrc/api/*.c")
    + glob.glob("csrc/core/*.c")
    + glob.glob("csrc/wire/*.c")
    + glob.glob("csrc/crypto/*.c")
    + glob.glob("csrc/packages/*/*.c")
)

# Heimdal (the Kerberos package): compiled in only when pkg-config finds it,
# linked by its own lib dir with an rpath (Heimdal's libs are outside the
# default linker path), as CMakeLists.txt does.
HEIMDAL = ["heimdal-gssapi", "heimdal-krb5"]
heimdal_found = all(pkgconfig("--modversion", p) for p in HEIMDAL)
heimdal_inc, heimdal_libdirs, heimdal_libs, heimdal_macros = [], [], [], []
if heimdal_found:
    for p in HEIMDAL:
        heimdal_inc += [f[2:] for f in pkgconfig("--cflags-only-I", p)]
        heimdal_libdirs += [f[2:] for f in pkgconfig("--libs-only-L", p)]
        heimdal_libs += [f[2:] for f in pkgconfig("--libs-only-l", p)]
    heimdal_macros = [("SSPX_HAVE_KERBEROS", None)]
else:
    core_sources = [s for s in core_sources if "/kerberos/" not in s.replace(os.sep, "/")]

ext = Extension(
    "sspx.__sspx",  # SWIG: the C module; python/sspx/_sspx.py is its generated proxy
    sources=["bindings/sspx.i"] + core_sources,
    include_dirs=["csrc/include", "csrc"] + [f[2:] for f in pkgconfig("--cflags-only-I", "libcrypto")]
    + sorted(set(heimdal_inc), key=heimdal_inc.index),
    # GCC_HASCLASSVISIBILITY: SWIG then exports PyInit__sspx despite -fvisibility=hidden
    define_macros=[("SSPX_BUILDING_LIBRARY", None), ("_GNU_SOURCE", None),
                   ("GCC_HASCLASSVISIBILITY", None)] + heimdal_macros,
    swig_opts=["-threads", "-Icsrc/include", "-outdir", "python/sspx"],
    extra_compile_args=["-std=c11", "-fvisibility=hidden", "-Wno-missing-field-initializers"],
    libraries=["crypto", "pthread"] + heimdal_libs,
    library_dirs=sorted(set(heimdal_libdirs)),
    runtime_library_dirs=sorted(set(heimdal_libdirs)),
)

setup(
    name="sspx",
    version="0.1.0",
    description="Windows SSPI (AcceptSecurityContext and friends) for Linux: Python front end",
    package_dir={"": "python"},
    packages=["sspx"],
    package_data={"sspx": ["py.typed", "*.pyi"]},
    ext_modules=[ext],
    cmdclass={"build_py": BuildPyAfterExt},
    entry_points={"pytest11": ["sspx = sspx.testing"]},
    python_requires=">=3.9",
)
