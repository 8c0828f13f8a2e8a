"""The README's first command and walk-through work as printed, and its configuration table is complete."""
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from app.config import settings_table

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_on_the_embedded_default_and_the_walk_through(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROMALL_", "DATABASE_", "REDIS_", "WECHAT"))}
    env.update(MICROMALL_INSTANCE_PATH=str(tmp_path / "instance"))
    # No PUBLIC_BASE_URL: `serve --port` alone puts the app, the in-process sandbox and its callbacks on that port.
    server = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "serve", "--port", str(port)],
                              env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            raise AssertionError("micromall serve did not come up")
        block = re.search(r"## A walk through with curl.*?```bash\n(.*?)```", README, re.S).group(1)
        assert "set -e" not in block  # pasted into an interactive shell, it would close the shell at the first error
        script = block.replace("127.0.0.1:5000", f"127.0.0.1:{port}") + 'echo "ORDER_NO=$ORDER_NO"\n'
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        assert '"status":"pending_payment"' in result.stdout.replace(" ", "")
        order_no = re.search(r"^ORDER_NO=(\S+)$", result.stdout, re.M).group(1)
        assert f'"order_no":"{order_no}"' in result.stdout.replace(" ", "") and '"paySign"' in result.stdout
        assert "distance_m" in result.stdout
        assert "session_key" not in result.stdout
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert f"listening on http://127.0.0.1:{port}" in output
    assert "Seeded demo data" in output
    # The JSON request log survives `serve` (the migrations it runs must not replace the app's logging).
    request_lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(r.get("route") == "/api/v1/orders" and r.get("status") == 201 for r in request_lines), output[-3000:]


def test_every_setting_is_in_the_readme():
    missing = [name for name, _, _ in settings_table() if f"`{name}`" not in README]
    assert missing == []
