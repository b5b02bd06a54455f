"""The module path DataJoint 2.x code imports schemas from: ``datajoint.schemas``.

A re-export with no logic (see "The 2.x compatibility surface" in docs/architecture.md).
"""

from __future__ import annotations

from .schema import Schema, VirtualModule, list_schemas, virtual_schema

__all__ = ["Schema", "VirtualModule", "list_schemas", "virtual_schema"]
