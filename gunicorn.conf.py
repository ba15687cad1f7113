"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py`.

Each value can be overridden on the command line or by the environment variables named
below. The application itself is configured by SHARING_* variables (README).
"""

import gc
import multiprocessing
import os

wsgi_app = "sharing:create_app()"
bind = os.environ.get("SHARING_BIND", "127.0.0.1:8000")
# Requests wait on the database more than on the CPU: two workers per core, plus one.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# No request of ours needs long (their cost is bounded); a stuck worker is replaced.
timeout = 30
graceful_timeout = 30
keepalive = 5
# Renew workers now and then, staggered, so that none grows without bound.
max_requests = 2000
max_requests_jitter = 200
# Load the application once, before forking: a configuration error stops the start
# (a missing BASE_URL, for one) instead of looping on failing workers.
preload_app = True
# The reverse proxy on this machine may say which client and scheme it serves.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # the application logs each request itself, with its request id
errorlog = "-"


def when_ready(server):
    """After the application is loaded (preload_app), before the first fork: its objects
    are put out of the collector's reach. Otherwise each collection in each worker writes
    to every one of them and the system copies their pages into the worker (bench/memory.py:
    5 workers took 402 MiB of proportional memory, 273 MiB with this)."""
    gc.freeze()
