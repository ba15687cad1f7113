"""Memory bench: what gunicorn's workers cost together, with the repository's settings
against the same settings without their `gc.freeze()` before forking (the baseline).

    .venv/bin/python bench/memory.py [--workers 5] [--rounds 300]

On a throwaway SQLite file holding the demo pole, each configuration in turn serves
`--rounds` rounds of the same requests (the login page, the health checks, the OpenAPI
document, the resources and bookings through the API with a demo member's token), then
the master's and workers' memory is read from /proc/PID/smaps_rollup: proportional (Pss:
a page shared by n processes counts 1/n in each), private dirty (pages each worker
copied) and resident. Prints both, and their ratios.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from load import ROOT, free_port, request, server_environment, wait_until_serving

MEASURED = ("Pss", "Private_Dirty", "Rss")
# The repository's settings, the freeze before forking undone.
BASELINE = f'exec(open({str(ROOT / "gunicorn.conf.py")!r}).read())\n' \
           'def when_ready(server):\n    pass\n'


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=5,
                        help="workers per server (default 5: the settings' 2 per core + 1 "
                             "on 2 cores)")
    parser.add_argument("--rounds", type=int, default=300)
    return parser.parse_args()


def demo_database(folder: Path) -> tuple[str, str]:
    """The demo pole, migrated, and an API token of one of its members."""
    from flask_migrate import upgrade

    from sharing import create_app
    from sharing.core.extensions import db
    from sharing.services import demo
    from sharing.services.accounts import find_user_by_email
    from sharing.services.api_tokens import create_api_token

    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "memory",
                      "BASE_URL": "http://127.0.0.1"},
                     instance_path=folder / "instance")
    with app.app_context():
        upgrade()
        demo.load()
        _token, raw = create_api_token(find_user_by_email("lea.martin@example.org"), "bench")
        db.session.commit()
        db.engine.dispose()
    return url, raw


def serve(config: Path, url: str, folder: Path, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**server_environment(url, folder / "instance", port),
           "WEB_CONCURRENCY": str(workers), "SHARING_BIND": f"127.0.0.1:{port}"}
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    process = subprocess.Popen([gunicorn, "-c", str(config)], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_serving(port, process)
    return process, port


def drive(port: int, token: str, rounds: int) -> None:
    for _ in range(rounds):
        for path in ("/login", "/healthz", "/readyz", "/api/v1/openapi.json"):
            request(port, "GET", path, None, None)
        for path in ("/api/v1/resources", "/api/v1/bookings", "/api/v1/me"):
            request(port, "GET", path, token, None)


def memory_kib(master: int) -> dict[str, int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    totals = dict.fromkeys(MEASURED, 0)
    for pid in [master, *map(int, children)]:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in totals:
                totals[name] += int(value.split()[0])  # "   1234 kB"
    return totals


def measure(config: Path, url: str, token: str, folder: Path, options) -> dict[str, int]:
    process, port = serve(config, url, folder, options.workers)
    try:
        drive(port, token, options.rounds)
        return memory_kib(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    options = arguments()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url, token = demo_database(folder)
        baseline = folder / "baseline.conf.py"
        baseline.write_text(BASELINE)
        results = {label: measure(config, url, token, folder, options)
                   for label, config in (("without gc.freeze", baseline),
                                         ("repository", ROOT / "gunicorn.conf.py"))}
    print(f"{options.workers} workers, {options.rounds} rounds of 7 requests; "
          f"master and workers together (MiB); {os.cpu_count()} cores")
    for label, kib in results.items():
        print(f"  {label:18}" + "  ".join(f"{name} {kib[name] / 1024:7.1f}"
                                            for name in MEASURED))
    before, after = results.values()
    print("  ratio             " + "  ".join(f"{name} {after[name] / before[name]:7.2f}"
                                             for name in MEASURED))


if __name__ == "__main__":
    main()
