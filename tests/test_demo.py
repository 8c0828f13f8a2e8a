"""`micromall demo` runs the whole journey against the sandbox and exits 0; a failing step exits non-zero."""
import os
import subprocess
import sys


def run_demo(tmp_path, *args, **env_changes):
    """`micromall demo` in a subprocess; without args, in its own temporary folder (under TMPDIR)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROMALL_", "DATABASE_", "REDIS_", "WECHAT"))}
    env.update(MICROMALL_INSTANCE_PATH=str(tmp_path / "outer"), **env_changes)
    return subprocess.run([sys.executable, "-c", "from app.cli import main; main()", "demo", *args],
                          capture_output=True, text=True, env=env, timeout=180)


def test_the_demo_runs_the_whole_journey(tmp_path):
    result = run_demo(tmp_path, "--instance", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for expected in ("1. A follower scans a store's QR code and is welcomed", "【静安寺店】", "order is now: paid",
                     "pickup code", "prepared: ready", "picked_up", "already_redeemed", "已取货",
                     "sends 绑定", "linked", "grants held: sandbox-subscribe-order-paid × 1",
                     "attributed to 小李", "net ¥0.00", "The journey is complete."):
        assert expected in out, expected


def test_a_failing_step_exits_non_zero_and_leaves_no_temporary_folder(tmp_path):
    # A payment timeout of zero seconds: every order is already expired when the customer tries to pay.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = run_demo(tmp_path, ORDER_PAYMENT_TIMEOUT_S="0", TMPDIR=str(scratch))
    assert result.returncode == 1
    assert "DEMO FAILED" in result.stderr
    # Without --instance the demo works in a temporary folder holding generated private keys: it is gone afterwards.
    assert f"(instance {scratch}" in result.stdout
    assert list(scratch.iterdir()) == []
