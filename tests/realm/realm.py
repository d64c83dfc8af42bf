#!/usr/bin/python3
"""The throwaway Heimdal realm of the tests: ``from realm import Realm`` and
the CLI (``realm.py start ...`` / ``realm.py check``).

The implementation ships in the sspx package (python/sspx/_realm.py, the
pytest fixture ``sspx_realm`` uses it); this file loads that one file from
the source tree (standard library only: the sspx extension is not needed),
so the tests and the package never diverge. See tests/realm/README.md.
"""

import importlib.util
import os
import sys

_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "python",
                     "sspx", "_realm.py")
_spec = importlib.util.spec_from_file_location("sspx_test_realm", _PATH)
_impl = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _impl  # dataclasses and pickling look the module up here
_spec.loader.exec_module(_impl)
globals().update({k: v for k, v in vars(_impl).items() if not k.startswith("__")})

if __name__ == "__main__":
    sys.exit(_impl.main())
