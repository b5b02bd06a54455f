"""The module path code written for earlier DataJoint versions imports ``key_hash`` from.

A re-export with no logic (see "The 2.x compatibility surface" in docs/architecture.md).
"""

from __future__ import annotations

from .populate.make import key_hash

__all__ = ["key_hash"]
