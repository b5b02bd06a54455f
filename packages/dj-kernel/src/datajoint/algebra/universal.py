"""``dj.U``: the universal set over some attributes (SPEC §6.6)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import DataJointError
from ..heading import Heading
from .expression import QueryExpression, classify_named, computed_attribute, instantiate


class U:
    """``dj.U(*attrs)``: every possible combination of values of ``attrs``.

    Use it to take distinct values (``dj.U("a") & Q``) or to aggregate by attributes that are not
    a key (``dj.U("a").aggr(Q, n="count(*)")``).
    """

    def __init__(self, *attributes: str) -> None:
        self._attributes = list(attributes)

    @property
    def primary_key(self) -> list[str]:
        return list(self._attributes)

    def __repr__(self) -> str:
        return f"U({', '.join(map(repr, self._attributes))})"

    def _base(self, query: Any, message: str) -> QueryExpression:
        query = instantiate(query)
        if not isinstance(query, QueryExpression):
            raise DataJointError(message)
        return query if query._is_plain else query.make_subquery()

    def __and__(self, query: Any) -> QueryExpression:
        """The distinct values of the attributes in ``query``; they become the primary key."""
        base = self._base(query, "Set U can only be restricted with a QueryExpression.")
        attributes = [replace(base.heading._attributes[n], in_key=True) for n in self._attributes]
        heading = Heading(attributes, has_lineage=base.heading.has_lineage)
        return base._derive(heading=heading, distinct=True)

    def aggr(
        self, group: Any, *attributes: Any, exclude_nonmatching: bool = True, **named: str
    ) -> QueryExpression:
        """Aggregates of ``group`` per distinct combination of this set's attributes."""
        if not exclude_nonmatching:
            raise DataJointError(
                "Cannot set exclude_nonmatching=False when aggregating on a universal set."
            )
        base = self._base(group, "dj.U.aggr requires a QueryExpression as the group argument.")
        missing = [n for n in self._attributes if n not in base.heading.names]
        if missing:
            raise DataJointError(f"Attributes {missing} not found in the group expression.")
        renames, duplicates, computed = classify_named(named)
        out = [replace(base.heading[n], in_key=True) for n in self._attributes]
        out += [base.heading[old].renamed(new) for new, old in {**renames, **duplicates}.items()]
        out += [computed_attribute(new, expr) for new, expr in computed.items()]
        heading = Heading(out, has_lineage=base.heading.has_lineage)
        return base._derive(heading=heading, group_by=tuple(self._attributes))

    aggregate = aggr

    def __mul__(self, other: Any) -> QueryExpression:
        raise DataJointError(
            "dj.U(...) * table is no longer supported in DataJoint 2.0. "
            "Use dj.U(...) & table for the distinct values of the attributes."
        )

    def __sub__(self, other: Any) -> QueryExpression:
        raise DataJointError(
            "dj.U(...) - table produces an infinite set and is not supported. "
            "Restrict the table instead: table - condition."
        )
