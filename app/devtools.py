"""The development tools, found by entry point instead of imported by name.

The WeChat sandbox, the demo, the development WeChat Pay keys and the development `serve` live in their own
distribution (`micromall-dev`, in `dev/`), which a production install (`pip install .`) does not contain. The
product reaches them only through the `micromall.dev` entry point that distribution declares, so a production
`create_app()` never imports them and runs without them (tests/test_architecture.py checks both).
"""
from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol

import click
from flask import Flask

ENTRY_POINT_GROUP = "micromall.dev"
INSTALL_HINT = "pip install -e ./dev (the development tools: the WeChat sandbox, demo and serve)"


class DevTools(Protocol):
    def prepare_config(self, cfg: dict[str, Any], instance_path: str) -> None:
        """Fill in what the sandbox needs (development WeChat Pay keys) before the app is built."""

    def mount(self, app: Flask) -> None:
        """Mount the in-process WeChat sandbox under /__sandbox__."""

    def commands(self) -> list[click.Command]:
        """The development commands: serve, sandbox, demo."""


@functools.cache
def _entry_point() -> EntryPoint | None:
    # Scanning the installed distributions costs milliseconds; the tests build hundreds of apps.
    return next(iter(entry_points(group=ENTRY_POINT_GROUP, name="tools")), None)


def dev_tools() -> DevTools | None:
    """The installed development tools, or None in a production install."""
    entry_point = _entry_point()
    return entry_point.load() if entry_point is not None else None
