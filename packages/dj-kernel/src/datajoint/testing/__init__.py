"""Test support shipped with the kernel: server settings, fixtures and contract suites."""

from typing import Any

__all__ = ["StorageContract"]


def __getattr__(name: str) -> Any:
    """``StorageContract`` (:mod:`datajoint.testing.storage_contract`), imported on first use."""
    if name == "StorageContract":
        from .storage_contract import StorageContract

        return StorageContract
    raise AttributeError(f"module 'datajoint.testing' has no attribute {name!r}")
