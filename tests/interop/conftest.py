"""The reference releases of DataJoint, installed from the package registry into throwaway
virtual environments under ``.cache/interop/`` (gitignored; built once and reused while the
requirement is unchanged), and a runner for the helper scripts of this folder.

An environment that cannot be built fails the test: the interop tests never skip.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from datajoint.testing import servers

HERE = Path(__file__).parent
CACHE = HERE.parent.parent / ".cache" / "interop"
REQUIREMENTS = {
    "2.3.5": "datajoint[postgres]==2.3.5",
    "0.14.10": "datajoint==0.14.10",
}


def _load_values() -> Any:
    spec = importlib.util.spec_from_file_location("interop_values", HERE / "values.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


values = _load_values()


def reference_python(version: str) -> Path:
    """The python of a virtual environment with ``datajoint==version``, built on first use."""
    requirement = REQUIREMENTS[version]
    venv = CACHE / f"datajoint-{version}"
    ready = venv / ".interop-ready"
    python = venv / "bin" / "python"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time (parallel test processes)
        if ready.exists() and ready.read_text() == requirement and python.exists():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                requirement,
            ],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                pytest.fail(
                    f"Could not build the {requirement} environment ({' '.join(step)}):\n"
                    f"{done.stdout}\n{done.stderr}"
                )
        ready.write_text(requirement)
    return python


def run_reference(version: str, script: str, action: str, config: dict[str, Any]) -> Any:
    """Run ``script`` of this folder with the reference release; its last stdout line (JSON)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJ_")}
    env["DJ_SUPPORT_FILEPATH_MANAGEMENT"] = "TRUE"  # 0.14: filepath@ is opt-in there
    done = subprocess.run(
        [str(reference_python(version)), str(HERE / script), action, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=config.get("cwd", str(HERE)),
    )
    if done.returncode != 0:
        pytest.fail(f"datajoint=={version} {script} {action} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def server_config(backend: str) -> dict[str, Any]:
    """What the helper scripts need to reach the test server of ``backend``."""
    params = servers.connect_params(backend)
    return {
        "backend": backend,
        "host": params.host,
        "port": params.port,
        "user": params.user,
        "password": params.password or "",
        "database_name": params.database_name,
    }


@pytest.fixture(scope="session")
def reference() -> Any:
    """``reference(version, script, action, config)``: run a helper script with a release."""
    return run_reference


@pytest.fixture(scope="session")
def interop_values() -> Any:
    """The ``values`` module of this folder (plain JSON forms of values and headings)."""
    return values


@pytest.fixture
def server(dj_backend: str) -> dict[str, Any]:
    """How the helper scripts reach the test server of the current backend."""
    return server_config(dj_backend)
