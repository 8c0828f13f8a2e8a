"""gunicorn for micromall: `gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'`.

Threaded workers (gthread): a request that waits on WeChat (3-10 s timeouts) holds one thread, not a whole worker,
so a few slow WeChat calls cannot starve WeChat's callbacks (measured: 12 logins hanging on WeChat, sync workers
kept a quick request waiting 9.7 s, gthread 0.35 s at most; `python -m bench.worker_class`, figures in
docs/operations-faults.md). No monkey-patching (gevent's 0.09 s was better still, but would patch every library).
More workers than cores because a worker waits on MariaDB, Redis and WeChat more than it computes.
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 8))  # each has its own app context and session
# WeChat waits 5 s for an official-account answer and retries; nothing of ours should take longer than this.
timeout = 15
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, with jitter so they do not all restart at once.
max_requests = 10_000
max_requests_jitter = 1_000
# The request log is the app's own JSON line (app/logs.py); gunicorn's access log would repeat it.
accesslog = None
errorlog = "-"
# nginx in front sets X-Forwarded-For / X-Forwarded-Proto; trust them only from the local proxy.
forwarded_allow_ips = "127.0.0.1"
proxy_allow_ips = "127.0.0.1"
