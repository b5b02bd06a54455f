"""Union of two expressions with the same primary key (SPEC §6.5)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import DataJointError
from ..heading import Heading
from . import model as m


def union(a: Any, b: Any) -> Any:
    """``a + b``: the rows of either; secondary attributes of one side are NULL on the other's."""
    from .expression import QueryExpression, next_alias

    if not isinstance(b, QueryExpression):
        raise DataJointError("A QueryExpression can only be unioned with another QueryExpression")
    if a.connection is not b.connection:
        raise DataJointError(
            "Cannot operate on expressions from different connections. "
            "Ensure both operands use the same dj.Instance or global connection."
        )
    key = a.heading.primary_key
    if set(key) != set(b.heading.primary_key):
        raise DataJointError("The operands of a union must share the same primary key.")
    sec_a = [n for n in a.heading.names if n not in key]
    sec_b = [n for n in b.heading.names if n not in key]
    if set(sec_a) & set(sec_b):
        raise DataJointError("The operands of a union must not share any secondary attributes.")
    if not sec_a and not sec_b:
        selects = (a.make_select(key), b.make_select(key))
    else:
        left = a.join(b, left=True).make_select(key + sec_a + sec_b)
        rest = b - a.proj()
        rest = rest if rest._is_plain else rest.make_subquery()
        items = (
            *rest._select_items(key),
            *(m.SelectItem(m.RawSQL("NULL"), n) for n in sec_a),
            *rest._select_items(sec_b),
        )
        selects = (left, replace(rest.make_select(), items=items))
    attributes = [replace(a.heading[n], in_key=True) for n in key]
    attributes += [replace(a.heading[n], in_key=False, nullable=True) for n in sec_a]
    attributes += [replace(b.heading[n], in_key=False, nullable=True) for n in sec_b]
    heading = Heading(
        (replace(x, source=None, expression=None) for x in attributes),
        has_lineage=a.heading.has_lineage and b.heading.has_lineage,
    )
    return a._derive(
        heading=heading,
        source=m.SubquerySource(m.Union(selects), next_alias()),
        restriction=(),
        top=None,
        distinct=False,
        group_by=None,
        columns=frozenset(heading.names),
    )
