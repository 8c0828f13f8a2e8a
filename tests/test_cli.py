"""The `micromall` command line shows micromall, not Flask: its version, its commands, no `run`/`shell`/`routes`
and no `db init`/`db migrate`."""
import os
import subprocess
import sys
from importlib.metadata import version


def micromall(tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROMALL_", "DATABASE_", "REDIS_", "WECHAT"))}
    env.update(MICROMALL_INSTANCE_PATH=str(tmp_path / "instance"))
    return subprocess.run([sys.executable, "-c", "from app.cli import main; main()", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def commands_in(help_text: str) -> set[str]:
    listing = help_text.split("Commands:", 1)[1]
    return {line.split()[0] for line in listing.splitlines() if line.startswith("  ") and line.split()}


def test_version_is_micromalls(tmp_path):
    result = micromall(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"micromall {version('micromall')}"


def test_only_micromalls_commands_are_exposed(tmp_path):
    result = micromall(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    commands = commands_in(result.stdout)
    assert {"serve", "db", "worker", "catalog", "stock", "check-config"} <= commands
    assert not {"run", "shell", "routes"} & commands
    assert "--app" not in result.stdout and "--debug" not in result.stdout


def test_db_offers_what_an_operator_runs(tmp_path):
    result = micromall(tmp_path, "db", "--help")
    assert result.returncode == 0, result.stderr
    assert commands_in(result.stdout) == {"upgrade", "current", "history"}
    assert micromall(tmp_path, "run").returncode != 0
