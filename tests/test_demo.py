"""`micromall demo` runs the whole journey against the sandbox and exits 0; a failing step exits non-zero."""
import os
import subprocess
import sys


def run_demo(tmp_path, **env_changes):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROMALL_", "DATABASE_", "REDIS_", "WECHAT"))}
    env.update(MICROMALL_INSTANCE_PATH=str(tmp_path / "outer"), **env_changes)
    return subprocess.run([sys.executable, "-c", "from app.cli import main; main()", "demo", "--instance",
                           str(tmp_path / "demo")], capture_output=True, text=True, env=env, timeout=180)


def test_the_demo_runs_the_whole_journey(tmp_path):
    result = run_demo(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for expected in ("1. A follower scans a store's QR code and is welcomed", "【静安寺店】", "order is now: paid",
                     "pickup code", "prepared: ready", "picked_up", "already_redeemed", "已取货",
                     "attributed to 小李", "net ¥0.00", "The journey is complete."):
        assert expected in out, expected


def test_a_failing_step_exits_non_zero(tmp_path):
    # A payment timeout of zero seconds: every order is already expired when the customer tries to pay.
    result = run_demo(tmp_path, ORDER_PAYMENT_TIMEOUT_S="0")
    assert result.returncode == 1
    assert "DEMO FAILED" in result.stderr
