"""The fetch API of query expressions (SPEC §7)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ..algebra import model as m
from ..decode import decoders_for
from ..errors import DataJointError


class FetchMixin:
    """Ways to read the rows of a query expression; mixed into QueryExpression."""

    def _rows(self, select: m.Select, names: list[str]) -> list[dict[str, Any]]:
        rows = self.connection.execute_model(select).fetchall()
        decoders = decoders_for(self, names)
        active = [(i, d) for i, d in enumerate(decoders) if d is not None]
        out = []
        for row in rows:
            if active:
                row = list(row)
                for i, decode in active:
                    if row[i] is not None:
                        row[i] = decode(row[i])
            out.append(dict(zip(names, row, strict=True)))
        return out

    def _ordered_select(
        self,
        order_by: Any = None,
        limit: int | None = None,
        offset: int | None = None,
        fields: list[str] | None = None,
    ) -> m.Select:
        select = self.make_select(fields)
        if order_by is None and limit is None and not offset:
            return select
        order = order_by if order_by is not None else "KEY"
        items = [order] if isinstance(order, str) else list(order)
        order_items = []
        for item in items:
            words = item.split()
            descending = len(words) > 1 and words[-1].upper() == "DESC"
            name = words[0]
            names = self.primary_key if name == "KEY" else [name]
            order_items.extend(m.OrderItem(m.Column(n), descending) for n in names)
        if offset and limit is None:
            limit = 999999999999
        return replace(select, order_by=tuple(order_items), limit=limit, offset=offset or 0)

    def to_dicts(
        self,
        order_by: Any = None,
        limit: int | None = None,
        offset: int | None = None,
        squeeze: bool = False,
    ) -> list[dict[str, Any]]:
        """Every row as a dict of decoded values."""
        names = self.heading.names
        return self._rows(self._ordered_select(order_by, limit, offset), names)

    def keys(
        self, order_by: Any = None, limit: int | None = None, offset: int | None = None
    ) -> list[dict[str, Any]]:
        """The primary-key values of every row."""
        return self.proj().to_dicts(order_by=order_by, limit=limit, offset=offset)

    def fetch1(self, *attrs: str, squeeze: bool = False) -> Any:
        """The one row of a result (a dict), or the values of ``attrs`` from it."""
        if not attrs:
            rows = self.to_dicts(limit=2)
            if len(rows) != 1:
                raise DataJointError("fetch1 requires exactly one tuple in the input set.")
            return rows[0]
        rows = self.to_dicts(limit=2)
        if len(rows) != 1:
            raise DataJointError(f"fetch1 should only return one tuple. {len(rows)} tuples found")
        row = rows[0]
        values = tuple(
            {k: row[k] for k in self.primary_key} if a == "KEY" else row[a] for a in attrs
        )
        return values[0] if len(values) == 1 else values

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.to_dicts())

    def __repr__(self) -> str:
        rows = self.to_dicts(limit=12)
        names = self.heading.names
        width = 14
        head = " ".join(("*" if n in self.primary_key else "") + n[:width] for n in names)
        body = [" ".join(str(r[n])[:width] for n in names) for r in rows]
        return "\n".join([head, *body, f" (Total: {len(self)})"])
