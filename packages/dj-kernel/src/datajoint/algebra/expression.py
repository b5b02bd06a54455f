"""QueryExpression: a relation defined by a source, a heading and a restriction.

Every operator returns a new expression; nothing runs until results are asked for. Expressions
compile to the query model (:mod:`datajoint.algebra.model`), which the backend's dialect renders.
"""

from __future__ import annotations

import copy
import itertools
import re
import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..errors import DataJointError
from ..fetch.api import FetchMixin
from ..heading import Attribute, Heading
from . import model as m
from .conditions import AndList, Not, compile_condition

_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")
_DUPLICATE = re.compile(r"^\(\s*([A-Za-z_]\w*)\s*\)$")
_alias_counter = itertools.count()
_alias_lock = threading.Lock()


def next_alias() -> str:
    """A process-unique subquery alias ``$<hex>``."""
    with _alias_lock:
        return f"${next(_alias_counter):x}"


class QueryExpression(FetchMixin):
    """A query over one connection; see SPEC §6 for the operators."""

    _connection: Any = None
    _heading: Heading | None = None
    _source: m.Node | None = None
    _restriction: tuple[m.Node, ...] = ()

    # ---- structure -------------------------------------------------------------------------
    @property
    def connection(self) -> Any:
        return self._connection

    @property
    def heading(self) -> Heading:
        assert self._heading is not None
        return self._heading

    @property
    def primary_key(self) -> list[str]:
        return self.heading.primary_key

    @property
    def restriction(self) -> AndList:
        return AndList(self._restriction)

    def _derive(self, **changes: Any) -> QueryExpression:
        """A new expression; a restriction alone keeps the class (``(Table & key).delete()``)."""
        if set(changes) == {"restriction"}:
            result = copy.copy(self)
            result._restriction = changes["restriction"]
            return result
        result = QueryExpression.__new__(QueryExpression)
        result._connection = self.connection
        result._heading = changes.get("heading", self.heading)
        result._source = changes.get("source", self._source)
        result._restriction = changes.get("restriction", self._restriction)
        return result

    @property
    def _has_renames(self) -> bool:
        return any(a.is_renamed or a.expression for a in self.heading.all_attributes)

    def make_subquery(self) -> QueryExpression:
        """This expression as a FROM-clause subquery, so that its names become plain columns."""
        heading = Heading(
            (replace(a, source=None, expression=None) for a in self.heading.all_attributes),
            table_comment=self.heading.table_comment,
            has_lineage=self.heading.has_lineage,
        )
        source = m.SubquerySource(self.make_select(include_hidden=True), next_alias())
        return self._derive(heading=heading, source=source, restriction=())

    # ---- compilation -----------------------------------------------------------------------
    def _select_items(self, names: list[str]) -> tuple[m.SelectItem, ...]:
        items = []
        for name in names:
            attr = self.heading[name]
            if attr.expression is not None:
                items.append(m.SelectItem(m.RawSQL(attr.expression), name))
            elif attr.source is not None and attr.source != name:
                items.append(m.SelectItem(m.Column(attr.source), name))
            else:
                items.append(m.SelectItem(m.Column(name)))
        return tuple(items)

    def make_select(
        self,
        fields: list[str] | None = None,
        *,
        include_hidden: bool = False,
        distinct: bool = False,
    ) -> m.Select:
        """The query model of this expression (all visible attributes unless ``fields``)."""
        if fields is None:
            attrs = self.heading.all_attributes if include_hidden else self.heading.visible
            fields = [a.name for a in attrs]
        return m.Select(
            source=self._source,
            items=self._select_items(fields),
            where=m.conjunction(list(self._restriction)),
            distinct=distinct,
        )

    def make_sql(self, fields: list[str] | None = None) -> str:
        """The SQL text of this expression (parameters shown as placeholders)."""
        return self.connection.dialect.render(self.make_select(fields))[0]

    def cursor(self, *, as_dict: bool = False, streaming: bool = False) -> Any:
        return self.connection.execute_model(
            self.make_select(), as_dict=as_dict, streaming=streaming
        )

    # ---- restriction -----------------------------------------------------------------------
    def restrict(self, condition: Any, semantic_check: bool = True) -> QueryExpression:
        """Rows that satisfy ``condition`` (SPEC §6.1)."""
        base = self.make_subquery() if self._has_renames else self
        compiled = compile_condition(base, condition, negate=False)
        if compiled is True:
            return self
        if compiled is False:
            compiled = m.Literal(False)
        return base._derive(restriction=(*base._restriction, compiled))

    def __and__(self, condition: Any) -> QueryExpression:
        return self.restrict(condition)

    def __sub__(self, condition: Any) -> QueryExpression:
        return self.restrict(Not(condition))

    def __neg__(self) -> Not:
        return Not(self)

    def __xor__(self, other: Any) -> QueryExpression:
        raise DataJointError(
            "The ^ operator has been removed in DataJoint 2.0. "
            "Use .restrict(other, semantic_check=False) for restrictions without semantic checking."
        )

    def __matmul__(self, other: Any) -> QueryExpression:
        raise DataJointError(
            "The @ operator has been removed in DataJoint 2.0. "
            "Use .join(other, semantic_check=False) for joins without semantic checking."
        )

    # ---- projection ------------------------------------------------------------------------
    def proj(self, *attributes: Any, **named: str) -> QueryExpression:
        """Select, rename (``new="old"``), duplicate (``new="(old)"``), compute and exclude
        (``"-x"``) attributes (SPEC §6.2)."""
        base = self.make_subquery() if self._has_renames and named else self
        return base._project(attributes, named)

    def _project(self, attributes: tuple[Any, ...], named: dict[str, str]) -> QueryExpression:
        heading = self.heading
        positional: list[str] = []
        excluded: set[str] = set()
        for item in attributes:
            if item is Ellipsis:
                continue
            if not isinstance(item, str):
                raise DataJointError(f"{item!r} is not a valid data type for an attribute in .proj")
            if item.startswith("-"):
                name = item[1:].strip()
                if name in heading.primary_key:
                    raise DataJointError("Cannot exclude primary key attribute %s", name)
                excluded.add(name)
            elif item not in heading.names:
                raise DataJointError(f"Attribute `{item}` not found.")
            else:
                positional.append(item)
        renames, duplicates, computed = {}, {}, {}
        for new, value in named.items():
            text = value.strip()
            duplicate = _DUPLICATE.match(text)
            if _IDENTIFIER.match(text) and not text.upper().startswith(
                ("NULL", "CURRENT_TIMESTAMP")
            ):
                renames[new] = text
            elif duplicate:
                duplicates[new] = duplicate.group(1)
            else:
                computed[new] = text
        sources = set(renames.values())
        selected = set(heading.primary_key) | set(positional)
        if Ellipsis in attributes:
            selected |= set(heading.secondary_attributes)
        selected = {n for n in selected if n not in excluded}
        selected -= {s for s in sources if s not in positional}
        for new in named:
            if new in selected:
                raise DataJointError(f"Attribute `{new}` already exists")
        out = []
        for attr in heading.all_attributes:
            if attr.name in selected or (attr.is_hidden and attr.in_key):
                out.append(attr)
            out.extend(attr.renamed(new) for new, old in renames.items() if old == attr.name)
            out.extend(attr.renamed(new) for new, old in duplicates.items() if old == attr.name)
        out.extend(
            Attribute(
                name=new,
                type="expression",
                sql_type="expression",
                expression=expr,
                comment="calculated attribute",
            )
            for new, expr in computed.items()
        )
        return self._derive(heading=Heading(out, has_lineage=heading.has_lineage))

    # ---- counting ------------------------------------------------------------------------
    def __len__(self) -> int:
        inner = self.make_select(self.primary_key or None, distinct=True)
        if not self.primary_key:
            inner = replace(inner, items=(m.SelectItem(m.RawSQL("1"), "one"),), distinct=False)
        select = m.Select(
            source=m.SubquerySource(inner, "distinct_count"),
            items=(m.SelectItem(m.RawSQL("count(*)")),),
        )
        return int(self.connection.execute_model(select).fetchone()[0])

    def __bool__(self) -> bool:
        select = m.Select(
            source=self._source,
            items=(m.SelectItem(m.RawSQL("1")),),
            where=m.conjunction(list(self._restriction)),
        )
        return bool(self.connection.execute_model(m.Exists(select)).fetchone()[0])

    def __contains__(self, key: Mapping[str, Any]) -> bool:
        return bool(self & key)
