"""The manifest of an uploaded folder: the sidecar ``{path}.manifest.json`` (SPEC §4.3).

``{"files": [{"path", "size"}], "total_size", "item_count", "created"}``: the files of the folder
(posix paths relative to it, sorted), their total size and number, and the UTC time the manifest
was made. Written as JSON with an indent of 2.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST_SUFFIX", "build_manifest", "local_files", "manifest_bytes", "manifest_path"]

MANIFEST_SUFFIX = ".manifest.json"


def manifest_path(relpath: str) -> str:
    """The store-relative path of the manifest of the folder at ``relpath``."""
    return relpath.rstrip("/") + MANIFEST_SUFFIX


def local_files(folder: Path) -> list[tuple[Path, str]]:
    """Every file under ``folder`` (recursively), with its posix path relative to it, sorted."""
    found = [(path, path.relative_to(folder).as_posix()) for path in folder.rglob("*")]
    return sorted(((path, rel) for path, rel in found if path.is_file()), key=lambda f: f[1])


def build_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of the local ``folder``."""
    files = [{"path": rel, "size": path.stat().st_size} for path, rel in local_files(folder)]
    return {
        "files": files,
        "total_size": sum(f["size"] for f in files),
        "item_count": len(files),
        "created": datetime.datetime.now(datetime.UTC).isoformat(),
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The manifest as written to the store."""
    return json.dumps(manifest, indent=2).encode("utf-8")
