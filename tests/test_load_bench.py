"""The load bench's short run: two gunicorn servers on one database, concurrent clients at
a few hot resources. No timing is asserted; what must hold is what the bench checks in
SQL: no resource over its units, every acknowledged booking and cancellation stored as
acknowledged, nothing written that no client was told of."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import postgresql_server_url

BENCH = Path(__file__).resolve().parent.parent / "bench" / "load.py"

pytestmark = pytest.mark.slow


def run_bench(*options: str) -> dict:
    if shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("gunicorn is not installed (pip install -e '.[test]')")
    done = subprocess.run([sys.executable, str(BENCH), "--small", *options],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_nothing_lost_nor_overbooked(summary: dict) -> None:
    assert summary["attempts"] == 200 and summary["booked"] > 0
    assert summary["capacity_violations"] == 0
    assert summary["acknowledged_missing"] == summary["wrong_status"] == 0
    assert summary["unacknowledged_written"] == 0


def test_two_servers_on_sqlite_hold_capacity():
    assert_nothing_lost_nor_overbooked(run_bench("--db", "sqlite"))


@pytest.mark.postgresql
def test_two_servers_on_postgresql_hold_capacity(postgres):
    assert_nothing_lost_nor_overbooked(
        run_bench("--db", "postgresql", "--pg-server", postgresql_server_url()))


def test_killed_workers_and_a_killed_server_lose_nothing():
    summary = run_bench("--db", "sqlite", "--faults")
    assert summary["booked"] > 0 and summary["capacity_violations"] == 0
    assert summary["acknowledged_missing"] == summary["wrong_status"] == 0
    assert summary["unacknowledged_written"] == 0
