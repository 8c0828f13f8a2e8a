"""The service units start commands that exist: gunicorn with the deploy config and the app factory, and the
micromall subcommands for the workers and the cron scheduler."""
import configparser
import shlex
from pathlib import Path

import pytest

UNITS = sorted((Path(__file__).resolve().parents[2] / "deploy/systemd").glob("*.service"))


def exec_start(unit: Path) -> list[str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(unit)
    return shlex.split(parser["Service"]["ExecStart"])


def test_there_are_units_for_web_workers_and_cron():
    assert {u.name for u in UNITS} == {"micromall-web.service", "micromall-worker@.service", "micromall-cron.service"}


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_each_unit_starts_a_real_command(unit, app):
    argv = exec_start(unit)
    program = Path(argv[0]).name
    if program == "gunicorn":
        assert argv[1:] == ["-c", "deploy/gunicorn.conf.py", "app:create_app()"]
        assert (Path(__file__).resolve().parents[2] / "deploy/gunicorn.conf.py").exists()
    else:
        assert program == "micromall"
        result = app.test_cli_runner().invoke(args=[*argv[1:], "--help"])
        assert result.exit_code == 0, result.output
