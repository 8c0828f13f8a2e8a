"""The private cluster the fault tests break (tests/faults/cluster.py): started once for the module, stopped (every
process by its pid) in a finalizer whatever happens."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from tests.faults.cluster import Cluster, binaries_missing


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    missing = binaries_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"fault tests need their own MariaDB and Redis: {missing}")
        pytest.skip(f"fault tests need their own MariaDB and Redis: {missing}")
    work = Path(tempfile.mkdtemp(prefix="micromall-faults-"))
    running = Cluster(work)
    try:
        running.boot()
        yield running
    finally:
        running.stop_all()
        if os.environ.get("MICROMALL_KEEP_FAULT_LOGS"):
            print(f"fault test logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
