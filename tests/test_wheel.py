"""A non-editable install works: the wheel carries templates/, static/ and migrations/,
and the installed package migrates a database and serves pages from a fresh venv."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import pytest
from mail_helpers import free_port
from test_concurrency_http import wait_until_up

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["pyproject.toml", "setup.py", "README.md", "LICENSE", "sharing", "templates",
           "static", "migrations"]

pytestmark = pytest.mark.slow


def build_wheel(tmp_path: Path) -> Path:
    """Built from a clean copy of the sources, as `pip wheel .` in a fresh clone would."""
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(tmp_path / "dist"), str(source)], check=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("sharing-*.whl")
    return wheel


def fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    """A new venv holding the wheel only; the dependencies come from this interpreter's
    site-packages (a .pth line), so nothing is downloaded and the checkout is not seen."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    site_packages = site.stdout.strip()
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--target", site_packages, str(wheel)], check=True, timeout=300)
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site_packages, "dependencies.pth").write_text("\n".join(dependencies) + "\n")
    return python


def run_from(tmp_path: Path, python: Path, *args, **env):
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("SHARING_", "FLASK_", "PYTHON"))}
    environment.update(SHARING_INSTANCE_PATH=str(tmp_path / "instance"),
                       SHARING_DATABASE_URL=f"sqlite:///{tmp_path / 'wheel.sqlite3'}", **env)
    return subprocess.Popen([str(python), *args], cwd=tmp_path, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read()


def test_the_installed_wheel_migrates_and_serves_pages(tmp_path):
    python = fresh_venv(tmp_path, build_wheel(tmp_path))
    where = run_from(tmp_path, python, "-c", "import sharing; print(sharing.__file__)")
    assert str(tmp_path / "venv") in where.communicate(timeout=60)[0]
    upgrade = run_from(tmp_path, python, "-m", "flask", "--app", "sharing", "db", "upgrade")
    output, _none = upgrade.communicate(timeout=120)
    assert upgrade.returncode == 0, output

    port = free_port()
    server = run_from(tmp_path, python, "-m", "flask", "--app", "sharing", "run",
                      "--port", str(port), SHARING_BASE_URL=f"http://127.0.0.1:{port}")
    try:
        wait_until_up(port)
        base = f"http://127.0.0.1:{port}"
        status, page = get(f"{base}/login")
        assert status == 200 and b"<html" in page
        assert get(f"{base}/static/sharing.css")[0] == 200
        assert json.loads(get(f"{base}/readyz")[1]) == {"status": "ok"}
    finally:
        server.terminate()
        server.communicate(timeout=30)
