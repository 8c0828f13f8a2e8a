"""gunicorn for micromall: `gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'`.

Sync workers: every request is short and bounded (the calls to WeChat have 3-10 s timeouts), and a database
connection per worker keeps the pool simple. More workers than cores because a worker waits on MariaDB, Redis
and WeChat more than it computes.
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
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
