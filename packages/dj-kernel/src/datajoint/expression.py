"""The module path DataJoint 2.x code imports query expressions from: ``datajoint.expression``.

A re-export with no logic (see "The 2.x compatibility surface" in docs/architecture.md).
"""

from __future__ import annotations

from .algebra.conditions import AndList, Not
from .algebra.expression import QueryExpression
from .algebra.top import Top
from .algebra.universal import U

__all__ = ["AndList", "Not", "QueryExpression", "Top", "U"]
