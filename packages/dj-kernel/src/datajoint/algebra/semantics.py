"""Semantic matching: operands may only match on attributes of the same lineage (SPEC §6.7)."""

from __future__ import annotations

import logging
from typing import Any

from ..errors import DataJointError

logger = logging.getLogger("datajoint")


def assert_join_compatibility(a: Any, b: Any, semantic_check: bool = True) -> None:
    """Refuse to match ``a`` and ``b`` on attributes that only share a name."""
    from .expression import QueryExpression
    from .universal import U

    for operand in (a, b):
        if not isinstance(operand, QueryExpression | U):
            raise DataJointError(
                f"Object {operand!r} is not a QueryExpression and cannot be joined."
            )
    if isinstance(a, U) or isinstance(b, U):
        return
    if a.connection is not b.connection:
        raise DataJointError(
            "Cannot operate on expressions from different connections. "
            "Ensure both operands use the same dj.Instance or global connection."
        )
    if not semantic_check:
        return
    if not (a.heading.has_lineage and b.heading.has_lineage):
        logger.warning(
            "Semantic check disabled: ~lineage table not found for one of the operands. "
            "Run schema.rebuild_lineage() to enable it."
        )
        return
    for name in a.heading.names:
        if name not in b.heading.names:
            continue
        left, right = a.heading[name].lineage, b.heading[name].lineage
        if left is None or right is None:
            raise DataJointError(
                f"Cannot join on attribute `{name}`: lineage missing on one side "
                f"({left} vs {right}). Project the attribute away or rename it with .proj(); "
                "for tables declared elsewhere run `schema.rebuild_lineage()`."
            )
        if left != right:
            raise DataJointError(
                f"Cannot join on attribute `{name}`: different lineages ({left} vs {right}). "
                "Use .proj() to rename one of the attributes."
            )
