#!/usr/bin/env python3
"""Developer entry point: needs only Python 3.11+.

python3 dev.py demo          set up .venv and run the demo pipeline on embedded SQLite
python3 dev.py test [args]   set up .venv and run the whole test suite (args go to pytest)
python3 dev.py setup         only create/refresh .venv with every package installed editable
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PACKAGES = [
    "dj-kernel",
    "dj-backend-sqlite",
    "dj-backend-mysql",
    "dj-backend-postgres",
    "dj-codecs-builtin",
    "dj-storage",
    "dj-cli",
    "../tests/codec_package",  # a third-party codec package the integration tests use
]


def python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def setup() -> None:
    """Create .venv and install every package editable, unless nothing changed since last time."""
    inputs = [ROOT / "requirements-dev.txt"] + [
        ROOT / "packages" / p / "pyproject.toml" for p in PACKAGES
    ]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in inputs)).hexdigest()
    stamp = VENV / ".dj-setup"
    if stamp.exists() and stamp.read_text() == digest and python().exists():
        return
    if not python().exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    editable = [arg for p in PACKAGES for arg in ("-e", str(ROOT / "packages" / p))]
    print("installing packages ...", flush=True)
    subprocess.run([*pip, "-r", str(ROOT / "requirements-dev.txt"), *editable], check=True)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command not in ("demo", "test", "setup"):
        print(__doc__)
        return 0 if command == "help" else 2
    setup()
    if command == "setup":
        return 0
    if command == "demo":
        return subprocess.call([str(python()), str(ROOT / "examples" / "demo.py"), *argv[1:]])
    # tests must not pick up a developer's datajoint.json or secrets
    env = dict(os.environ, DJ_STRICT_PLUGINS="1", DJ_IGNORE_CONFIG_FILE="true")
    return subprocess.call([str(python()), "-m", "pytest", *argv[1:]], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
