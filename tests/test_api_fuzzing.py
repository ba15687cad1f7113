"""Schemathesis, with every check, against the live application on a loopback server:
the generated OpenAPI document and the code agree, and no request gets a 5xx.

In the fuzzing and stateful phases only (the coverage phase alone takes minutes; the long
run by hand, `bench/fuzz_api.py`, has it), with `SHARING_FUZZ_EXAMPLES` examples per
operation: 15 in the suite's run on each database; `.ci/run` also makes a deep run of 200
per operation, once, on PostgreSQL."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from api_helpers import make_pole

from sharing.core.extensions import db
from sharing.services.api_tokens import create_api_token

EXAMPLES = int(os.environ.get("SHARING_FUZZ_EXAMPLES", "15"))
CONFIG = Path(__file__).parent.parent / "schemathesis.toml"


@pytest.fixture
def app_config():
    return {"SERVER_NAME": None}


@pytest.fixture
def token(create_site, create_organisation, create_resource):
    pole = make_pole(create_site, create_organisation, create_resource)
    _token, raw = create_api_token(pole.manager, "fuzzing")
    db.session.commit()
    db.session.remove()  # the server's threads use sessions of their own
    return raw


def test_schemathesis_finds_nothing(live_server, token, tmp_path):
    """No example database: it would be written in this test's own folder, never read
    again (the seed is fixed), and writing it was a sixth of the run."""
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st, "schemathesis is in the test extra"
    run = subprocess.run(
        [st, "--config-file", str(CONFIG), "run", f"{live_server}/api/v1/openapi.json",
         "--header", f"Authorization: Bearer {token}", "--checks", "all",
         "--max-examples", str(EXAMPLES), "--seed", "1", "--workers", "1",
         "--phases", "fuzzing,stateful", "--generation-database", "none",
         "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    print(run.stdout[-6000:])
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
