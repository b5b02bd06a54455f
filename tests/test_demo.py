"""The README's demo is a test: it runs on the embedded default and prints the pipeline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"


def test_demo_runs_on_the_embedded_default(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJ_")}
    env["DJ_SQLITE_FILE"] = str(tmp_path / "demo.sqlite3")
    result = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Backend: sqlite" in out
    assert "Hits of subject 1: 4 of 6 trials" in out
    assert "session 1: 6 trials" in out
    assert "-> Subject" in out
