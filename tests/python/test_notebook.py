"""examples/ntlm_handshake.ipynb runs headless (nbclient) in a kernel on this
interpreter (the one sspx is installed in), without errors, and shows the
three NTLM legs, SEC_E_OK and the client name."""

import json
import os
import pathlib
import sys

import pytest

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "examples" / "ntlm_handshake.ipynb"
KERNEL = "sspx-test-python"
TIMEOUT = 120


def _require(module):
    """Import a Jupyter module or fail (never skip): the test command installs them."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(f"{module} is needed to run the example notebook ({exc}); install "
                    "nbclient, nbformat and ipykernel (Debian: python3-nbclient "
                    "python3-nbformat python3-ipykernel)")


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    """A kernel spec named KERNEL that starts this very interpreter, found
    through JUPYTER_PATH; runtime and IPython dirs kept in tmp_path."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "sspx test (this interpreter)",
        "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    monkeypatch.delenv("PYTHONSTARTUP", raising=False)
    return tmp_path


def _text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return "\n".join(output.get("traceback", []))
    data = output.get("data", {})
    return data.get("text/plain", "") + "\n" + data.get("text/html", "")


def _cell_text(cell) -> str:
    return "\n".join(_text(o) for o in cell.get("outputs", []))


def test_notebook_committed_without_outputs():
    nbformat = _require("nbformat")
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def _execute(nbformat, nbclient, path, kernel_env):
    """Run the notebook headless; no cell may fail, every code cell must have
    run, and the kernel must be the interpreter sspx is installed in. Returns
    the code cells with their outputs."""
    nb = nbformat.read(str(path), as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=KERNEL, timeout=TIMEOUT,
                                     startup_timeout=60, allow_errors=True,
                                     resources={"metadata": {"path": str(kernel_env)}})
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [(c.source.splitlines()[0], _text(o)) for c in code for o in c.outputs
              if o.output_type == "error"]
    assert not errors, errors
    assert all(c.execution_count for c in code)
    everything = "\n".join(_cell_text(c) for c in code)
    import sspx

    assert sspx.__version__ in everything
    return code


def test_notebook_runs(kernel_env):
    nbformat = _require("nbformat")
    nbclient = _require("nbclient")
    _require("ipykernel")

    code = _execute(nbformat, nbclient, NOTEBOOK, kernel_env)
    everything = "\n".join(_cell_text(c) for c in code)

    table = next(c for c in code if "legs-table" in c.metadata.get("tags", []))
    text = _cell_text(table)
    for leg in ("NEGOTIATE_MESSAGE", "CHALLENGE_MESSAGE", "AUTHENTICATE_MESSAGE"):
        assert leg in text, leg
    rows = [ln for ln in text.splitlines() if ln[:1].isdigit()]
    assert len(rows) == 4, text
    assert "SEC_E_OK" in rows[-1] and "SEC_E_LOGON_DENIED" not in text
    assert "client -> server" in text and "server -> client" in text

    names = next(c for c in code if "client-name" in c.metadata.get("tags", []))
    assert "client name: TESTDOM\\alice" in _cell_text(names)
    assert "ASC_RET_CONFIDENTIALITY" in _cell_text(names)
    assert "ISC_RET_REPLAY_DETECT" in _cell_text(names)

    # the decoded tokens were displayed (HTML tables), and hostile-free output escaped
    html_outputs = [o["data"]["text/html"] for c in code for o in c.outputs
                    if "data" in o and "text/html" in o["data"]]
    assert any("MsvAvTimestamp" in h for h in html_outputs)
    assert any("NTProofStr" in h and "MIC" in h for h in html_outputs)
    assert "tampered message refused: SEC_E_MESSAGE_ALTERED" in everything
    assert "SEC_E_LOGON_DENIED" in everything  # the failed-handshake section
    assert os.path.exists(NOTEBOOK)  # the committed file was not rewritten


# ------------------------------------------- examples/kerberos_handshake.ipynb

KRB_NOTEBOOK = NOTEBOOK.parent / "kerberos_handshake.ipynb"


def _tagged(code, tag) -> str:
    return _cell_text(next(c for c in code if tag in c.metadata.get("tags", [])))


def test_kerberos_notebook_committed_without_outputs():
    nbformat = _require("nbformat")
    nb = nbformat.read(str(KRB_NOTEBOOK), as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    # the realm is stopped in the notebook's last cell
    assert "realm.stop()" in nb.cells[-1].source


def test_kerberos_notebook_runs(kernel_env):
    """The notebook starts its own realm (TEST.LOCAL) in the kernel process,
    runs a Negotiate/Kerberos handshake leg by leg, delegates, provokes a
    KRB-ERROR and stops the realm."""
    nbformat = _require("nbformat")
    nbclient = _require("nbclient")
    _require("ipykernel")
    from sspx import _realm

    why = _realm.heimdal_available()
    if why:
        pytest.fail(why)

    code = _execute(nbformat, nbclient, KRB_NOTEBOOK, kernel_env)
    everything = "\n".join(_cell_text(c) for c in code)

    # the leg-by-leg AP-REQ fields
    ap_req = _tagged(code, "ap-req")
    for want in ("AP-REQ (TOK_ID KRB_AP_REQ)", "['mutual-required']", "ticket realm:      TEST.LOCAL",
                 "HTTP/localhost - KRB_NT_PRINCIPAL", "aes256-cts-hmac-sha1-96 (18) kvno 1"):
        assert want in ap_req, (want, ap_req)

    table = _tagged(code, "legs-table")
    rows = [ln for ln in table.splitlines() if ln[:1].isdigit()]
    assert len(rows) == 3, table
    assert "SPNEGO NegTokenInit" in rows[0] and "SEC_I_CONTINUE_NEEDED" in rows[0]
    assert "SPNEGO NegTokenResp" in rows[1] and "SEC_E_OK" in rows[1]
    assert "SEC_E_OK" in rows[2] and "ISC_RET_MUTUAL_AUTH" in rows[2]

    names = _tagged(code, "client-name")
    assert "client name: TEST.LOCAL\\alice" in names
    assert "ASC_RET_DELEGATE" in names and "ISC_RET_CONFIDENTIALITY" in names
    assert "same session key: True" in names

    # the decoded tokens were displayed as HTML: the Kerberos trees inside SPNEGO
    html_outputs = [o["data"]["text/html"] for c in code for o in c.outputs
                    if "data" in o and "text/html" in o["data"]]
    assert any("MechToken" in h and "Authenticator" in h and "TEST.LOCAL" in h
               for h in html_outputs)
    assert any("ResponseToken" in h and "AP-REP" in h for h in html_outputs)

    wrap = _tagged(code, "wrap")
    assert "server opens: b'GET /secret HTTP/1.1'" in wrap
    assert "tampered message refused: SEC_E_MESSAGE_ALTERED" in wrap

    deleg = _tagged(code, "delegation")
    assert "backend's AP-REQ is for: HTTP/backend.localhost" in deleg
    assert "backend sees: TEST.LOCAL\\alice" in deleg

    krb_error = _tagged(code, "krb-error")
    assert "status: SEC_E_LOGON_DENIED" in krb_error
    assert "Kerberos KRB-ERROR" in krb_error and "KRB_AP_ERR_BAD_INTEGRITY" in krb_error
    fields = _tagged(code, "krb-error-fields")
    assert "error code: KRB_AP_ERR_BAD_INTEGRITY (31)" in fields
    assert "service: HTTP/localhost@TEST.LOCAL" in fields
    assert "reject (2) -> KRB_AP_ERR_BAD_INTEGRITY (31)" in _tagged(code, "nego-reject")
    assert "exit status: 0" in everything
    assert "realm running: False" in _tagged(code, "stop")
