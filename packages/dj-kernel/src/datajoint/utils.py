"""The module path DataJoint 2.x code imports name conversions from: ``datajoint.utils``.

A re-export with no logic (see "The 2.x compatibility surface" in docs/architecture.md):
``from_camel_case`` is the class-name → table-name conversion (``MyTable`` → ``my_table``).
"""

from __future__ import annotations

from .naming import to_camel_case
from .naming import to_snake_case as from_camel_case

__all__ = ["from_camel_case", "to_camel_case"]
