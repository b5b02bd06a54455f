"""The module path DataJoint 2.x code imports restriction helpers from: ``datajoint.condition``.

A re-export with no logic (see "The 2.x compatibility surface" in docs/architecture.md).
"""

from __future__ import annotations

from .algebra.conditions import AndList, Not
from .algebra.top import Top

__all__ = ["AndList", "Not", "Top"]
