"""`micromall serve`: loopback unless told otherwise, a busy port answered with the option to use."""
import os
import socket
import subprocess
import sys


def run_serve(tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROMALL_", "DATABASE_", "REDIS_", "WECHAT"))}
    env.update(MICROMALL_INSTANCE_PATH=str(tmp_path / "instance"))
    env.pop("PUBLIC_BASE_URL", None)
    return subprocess.run([sys.executable, "-c", "from app.cli import main; main()", "serve", "--no-prepare", *args],
                          env=env, capture_output=True, text=True, timeout=60)


def test_a_busy_port_names_the_option_to_use(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = run_serve(tmp_path, "--port", str(port))
    assert result.returncode != 0
    assert f"127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_listens_on_loopback_by_default():
    from micromall_dev.cli import serve

    host = next(p for p in serve.params if p.name == "host")
    port = next(p for p in serve.params if p.name == "port")
    assert host.default == "127.0.0.1" and port.default is None
