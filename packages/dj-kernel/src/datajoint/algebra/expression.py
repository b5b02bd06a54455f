"""QueryExpression: a relation defined by a source, a heading and a restriction.

Every operator returns a new expression; nothing runs until results are asked for. Expressions
compile to the query model (:mod:`datajoint.algebra.model`), which the backend's dialect renders.
Operands that cannot be combined in place (renamed or computed attributes, aggregations, unions,
limits) are first wrapped in a FROM-clause subquery, so every name in a query is a plain column.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..errors import DataJointError
from ..heading import Attribute, Heading
from ..heading import derived as _derived
from . import model as m
from .conditions import (
    AndList,
    Not,
    compile_condition,
    json_path,
    mapping_condition,
    unmatched_keys,
)
from .operator_headings import aggregation_heading, join_heading
from .semantics import assert_join_compatibility
from .top import Top

_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")
_DUPLICATE = re.compile(r"^\(\s*([A-Za-z_]\w*)\s*\)$")
_alias_counter = itertools.count()
_alias_lock = threading.Lock()


#: the changes after which an expression keeps its class (a shallow copy)
_SAME_CLASS_CHANGES = frozenset(["restriction", "top"])


def _all_columns(heading: Heading, derived: dict[tuple, Any]) -> frozenset[str]:
    """The names of every attribute of ``heading`` (hidden ones too); ``derived`` is its cache."""
    columns = derived.get(("columns",))
    if columns is None:
        columns = derived[("columns",)] = frozenset(a.name for a in heading.all_attributes)
    return columns


def next_alias() -> str:
    """A process-unique subquery alias ``$<hex>``."""
    with _alias_lock:
        return f"${next(_alias_counter):x}"


def instantiate(operand: Any) -> Any:
    """A table class used as an operand stands for its instance."""
    if isinstance(operand, type) and issubclass(operand, QueryExpression):
        return operand()
    return operand


def classify_named(named: Mapping[str, str]) -> tuple[dict, dict, dict]:
    """Split ``new=value`` arguments into renames, duplicates ``"(old)"`` and computations."""
    renames, duplicates, computed = {}, {}, {}
    for new, value in named.items():
        text = value.strip()
        duplicate = _DUPLICATE.match(text)
        if _IDENTIFIER.match(text) and not text.upper().startswith(("NULL", "CURRENT_TIMESTAMP")):
            renames[new] = text
        elif duplicate:
            duplicates[new] = duplicate.group(1)
        else:
            computed[new] = text
    return renames, duplicates, computed


def computed_attribute(name: str, expression: str) -> Attribute:
    """A calculated attribute: no type of its own, no lineage, never in the key."""
    return Attribute(
        name=name,
        declared_type="expression",
        sql_type="expression",
        expression=expression,
        comment="calculated attribute",
    )


class QueryExpression:
    """A query over one connection; see SPEC §6 for the operators.

    The ways to read results (``to_dicts``, ``fetch1``, iteration, previews, ...) are the fetch
    layer's: ``import datajoint`` installs them here (:func:`datajoint.fetch.api.install_fetch_api`),
    so the algebra never imports the fetch package.
    """

    _connection: Any = None
    _heading: Heading | None = None
    _source: m.Node  # set by _derive; a Table's is a property naming the table itself
    _restriction: tuple[m.Node, ...] = ()
    _top: Top | None = None
    _distinct: bool = False
    _group_by: tuple[str, ...] | None = None
    _columns: frozenset[str] | None = None
    #: keys of dict restrictions that named no attribute and so restricted nothing
    _unmatched_keys: tuple[str, ...] = ()

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

    @property
    def source_columns(self) -> frozenset[str]:
        """The column names the FROM clause exposes unqualified."""
        if self._columns is not None:
            return self._columns
        heading = self.heading
        return _all_columns(heading, _derived(heading))

    def _derive(self, **changes: Any) -> QueryExpression:
        """A new expression; a restriction alone keeps the class (``(Table & key).delete()``)."""
        if changes.keys() <= _SAME_CLASS_CHANGES:
            # a shallow copy of the instance (what copy.copy does, without its protocol lookups)
            result = object.__new__(type(self))
            result.__dict__.update(self.__dict__)
            for key, value in changes.items():
                setattr(result, "_" + key, value)
            return result
        result = QueryExpression.__new__(QueryExpression)
        result._connection = self.connection
        # each default read only when not given (what .get(key, default) would not do): a
        # table's heading, source and columns are lookups
        result._heading = changes["heading"] if "heading" in changes else self.heading  # noqa: SIM401
        result._source = changes["source"] if "source" in changes else self._source  # noqa: SIM401
        result._restriction = changes.get("restriction", self._restriction)
        result._top = changes.get("top", self._top)
        result._distinct = changes.get("distinct", self._distinct)
        result._group_by = changes.get("group_by", self._group_by)
        result._columns = changes["columns"] if "columns" in changes else self.source_columns  # noqa: SIM401
        return result

    @property
    def _has_renames(self) -> bool:
        return self.heading.has_renames

    @property
    def _is_plain(self) -> bool:
        """Whether the FROM clause's visible columns are exactly this heading, unmodified."""
        if self._top is not None or self._distinct or self._group_by is not None:
            return False
        if self._has_renames:
            return False
        visible = {c for c in self.source_columns if not c.startswith("_")}
        return visible == set(self.heading.names)

    def make_subquery(self) -> QueryExpression:
        """This expression as a FROM-clause subquery, so that its names become plain columns."""
        heading = Heading(
            (replace(a, source=None, expression=None) for a in self.heading.visible),
            table_comment=self.heading.table_comment,
            has_lineage=self.heading.has_lineage,
        )
        return self._derive(
            heading=heading,
            source=m.SubquerySource(self.make_select(), next_alias()),
            restriction=(),
            top=None,
            distinct=False,
            group_by=None,
            columns=frozenset(heading.names),
        )

    # ---- compilation -----------------------------------------------------------------------
    def _select_items(self, names: list[str]) -> tuple[m.SelectItem, ...]:
        derived = _derived(self.heading)
        shape = ("items", tuple(names))
        items = derived.get(shape)
        if items is None:
            items = derived[shape] = self._new_select_items(names)
        return items

    def _new_select_items(self, names: list[str]) -> tuple[m.SelectItem, ...]:
        items = []
        for name in names:
            attr = self.heading[name]
            if attr.expression is not None:
                expr = attr.expression
                node = m.RawSQL(expr) if isinstance(expr, str) else expr
                items.append(m.SelectItem(node, name))
            elif attr.source is not None and attr.source != name:
                items.append(m.SelectItem(m.Column(attr.source), name))
            else:
                items.append(m.SelectItem(m.Column(name)))
        return tuple(items)

    def _order_items(self, order_by: str | list[str]) -> tuple[m.OrderItem, ...]:
        """ORDER BY entries: attribute names with ASC/DESC, ``KEY`` for the primary key."""
        items: list[m.OrderItem] = []
        texts = [order_by] if isinstance(order_by, str) else order_by
        for entry in (part for text in texts for part in text.split(",")):
            words = entry.split()
            if not words:
                continue
            if len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
                raise DataJointError(
                    f"Invalid order_by item {entry.strip()!r}: use an attribute name (or KEY) "
                    "with an optional ASC or DESC."
                )
            descending = len(words) > 1 and words[-1].upper() == "DESC"
            name = words[0]
            names = self.heading.primary_key if name.upper() == "KEY" else [name]
            items.extend(m.OrderItem(m.Column(n), descending) for n in names)
        return tuple(items)

    def make_select(
        self,
        fields: list[str] | None = None,
        *,
        distinct: bool = False,
        max_rows: int | None = None,
    ) -> m.Select:
        """The query model of this expression (all visible attributes unless ``fields``).

        ``max_rows`` sets a bare LIMIT on a statement that has none of its own (a Top's limit
        is kept).
        """
        if fields is None:
            fields = self.heading.names
        top = self._top
        if top is not None and (distinct or list(fields) != self.heading.names):
            # ORDER BY may name attributes left out of a narrower (or DISTINCT) select list.
            # MariaDB ignores an ORDER BY without LIMIT inside a derived table, so a plain
            # narrower select repeats the order outside (the subquery exposes every name).
            outer = self.make_subquery().make_select(fields, distinct=distinct, max_rows=max_rows)
            if distinct:
                return outer
            return replace(outer, order_by=self._order_items(top.order_by or ["KEY"]))
        group = self._group_by
        limit = top.limit if top else None
        return m.Select(
            source=self._source,
            items=self._select_items(fields),
            where=m.conjunction(list(self._restriction)),
            group_by=tuple(m.Column(g) for g in group) if group else (),
            distinct=self._distinct or distinct,
            order_by=self._order_items(top.order_by or ["KEY"]) if top else (),
            limit=max_rows if limit is None else limit,
            offset=top.offset if top else 0,
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
        if type(condition) is dict:  # a key, the common case: the heading is read once
            heading = self.heading
            if self._top is None and self._group_by is None and not heading.has_renames:
                return self._restricted(
                    self, condition, mapping_condition(self, condition, heading)
                )
        else:
            from .universal import U

            if isinstance(condition, Top):
                return self._apply_top(condition)
            if isinstance(condition, U):
                return self
        restrictable = self._top is None and self._group_by is None and not self._has_renames
        base = self if restrictable else self.make_subquery()
        compiled = compile_condition(base, condition, negate=False, semantic_check=semantic_check)
        return self._restricted(base, condition, compiled)

    def _restricted(
        self, base: QueryExpression, condition: Any, compiled: m.Node | bool
    ) -> QueryExpression:
        """``base`` restricted by ``condition``, compiled against it as ``compiled``."""
        if compiled is True:
            result = self
        else:
            if compiled is False:
                compiled = m.Literal(False)
            result = base._derive(restriction=(*base._restriction, compiled))
        if type(condition) is dict:
            # a dict compiles to True exactly when none of its keys names an attribute (or a
            # JSON path): then all of them are unmatched, without a second pass over the keys
            unmatched = [str(k) for k in condition] if compiled is True else []
        else:
            unmatched = unmatched_keys(base, condition)
        if unmatched:  # remembered for the writes that refuse them (datajoint.write.safety)
            result = result._derive(restriction=result._restriction)  # a copy of the same class
            result._unmatched_keys = (*result._unmatched_keys, *unmatched)
        return result

    def _apply_top(self, top: Top) -> QueryExpression:
        if self._has_renames and self._group_by is None:
            return self.make_subquery()._apply_top(top)
        if self._top is None:
            order = top.order_by if top.order_by is not None else ["KEY"]
            return self._derive(top=Top(top.limit, order, top.offset))
        merged = self._top.merge(top)
        if merged is not None:
            return self._derive(top=merged)
        return self.make_subquery()._apply_top(top)

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
        in_place = (
            self._top is None
            and self._group_by is None
            and not self._distinct
            and not (named and self._has_renames)
        )
        base = self if in_place else self.make_subquery()
        return base._project(attributes, named)

    def _project(self, attributes: tuple[Any, ...], named: dict[str, str]) -> QueryExpression:
        # a projection's heading depends only on the heading and the arguments: built once
        # (fetch1("attr") in a make projects the same way for every key)
        own = self.heading  # read once: a table's heading is a lookup
        derived = _derived(own)
        shape = ("proj", attributes, tuple(named.items()))
        try:
            heading = derived.get(shape)
        except TypeError:  # an unhashable argument: the checks of a fresh build report it
            return self._derive(heading=self._projected_heading(attributes, named))
        if heading is None:
            heading = derived[shape] = self._projected_heading(attributes, named)
        columns = self._columns if self._columns is not None else _all_columns(own, derived)
        return self._derive(heading=heading, columns=columns)

    def _projected_heading(self, attributes: tuple[Any, ...], named: dict[str, str]) -> Heading:
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
        renames, duplicates, computed = classify_named(named)
        computed = {new: json_path(heading, expr) or expr for new, expr in computed.items()}
        sources = set(renames.values())
        selected = set(heading.primary_key) | set(positional)
        if Ellipsis in attributes:
            selected |= set(heading.secondary_attributes) - sources
        selected = {n for n in selected if n not in excluded}
        selected -= {s for s in sources if s not in positional}
        seen: set[str] = set()
        for new in named:
            if new in selected or new in seen:
                raise DataJointError(f"Attribute `{new}` already exists")
            seen.add(new)
        out = []
        for attr in heading.visible:
            if attr.name in selected:
                out.append(attr)
            out.extend(attr.renamed(new) for new, old in renames.items() if old == attr.name)
            out.extend(attr.renamed(new) for new, old in duplicates.items() if old == attr.name)
        out.extend(computed_attribute(new, expr) for new, expr in computed.items())
        return Heading(out, has_lineage=heading.has_lineage)

    # ---- join ------------------------------------------------------------------------------
    def join(
        self,
        other: Any,
        semantic_check: bool = True,
        left: bool = False,
        allow_nullable_pk: bool = False,
    ) -> QueryExpression:
        """Rows of both operands that agree on their common attributes (SPEC §6.3)."""
        from .universal import U

        other = instantiate(other)
        if isinstance(other, U):
            raise DataJointError(
                "table * dj.U(...) is no longer supported in DataJoint 2.0. "
                "Use dj.U(...) & table for the distinct values, or dj.U(...).aggr(table, ...)."
            )
        if not isinstance(other, QueryExpression):
            raise DataJointError("The argument of join must be a QueryExpression")
        assert_join_compatibility(self, other, semantic_check)
        common = [n for n in self.heading.names if n in other.heading.names]
        a = self if self._is_plain and not (common and _is_joined(self)) else self.make_subquery()
        plain_b = other._is_plain and not _is_joined(other)  # a join nests only as a subquery
        plain_b = plain_b and not (left and other._restriction) and not _shares_tables(a, other)
        b = other if plain_b else other.make_subquery()
        heading = join_heading(a.heading, b.heading, left=left, allow_nullable_pk=allow_nullable_pk)
        return a._derive(
            heading=heading,
            source=m.JoinSource(a._source, b._source, using=tuple(common), left_outer=left),
            restriction=(*a._restriction, *b._restriction),
            columns=a.source_columns | b.source_columns,
        )

    def __mul__(self, other: Any) -> QueryExpression:
        return self.join(other)

    def extend(self, other: Any, semantic_check: bool = True) -> QueryExpression:
        """Every row of this expression with the attributes of ``other`` where they match."""
        return self.join(other, semantic_check=semantic_check, left=True)

    # ---- aggregation -----------------------------------------------------------------------
    def aggr(
        self, group: Any, *attributes: Any, exclude_nonmatching: bool = False, **named: str
    ) -> QueryExpression:
        """Per row of this expression, aggregates computed over the matching rows of ``group``
        (SPEC §6.4). The primary key stays this expression's."""
        group = instantiate(group)
        if not isinstance(group, QueryExpression):
            raise DataJointError("The argument of aggr must be a QueryExpression")
        key = self.heading.primary_key
        missing = [n for n in key if n not in group.heading.names]
        if missing:
            raise DataJointError(
                "Aggregation requires the group expression to contain all primary key attributes "
                f"of the grouping expression. Missing attributes: {missing}."
            )
        assert_join_compatibility(self, group, True)
        common = [n for n in self.heading.names if n in group.heading.names]
        a = self if self._is_plain else self.make_subquery()
        keep_all = not exclude_nonmatching
        plain_b = group._is_plain and not _is_joined(group)
        plain_b = plain_b and not (keep_all and group._restriction)
        b = group if plain_b and not _shares_tables(a, group) else group.make_subquery()
        heading, group_by = aggregation_heading(a.heading, b.heading, attributes, named)
        result = a._derive(
            heading=heading,
            source=m.JoinSource(a._source, b._source, using=tuple(common), left_outer=keep_all),
            restriction=(*a._restriction, *b._restriction),
            group_by=tuple(group_by),
            distinct=heading.names == key,
            columns=a.source_columns | b.source_columns,
        )
        return result

    aggregate = aggr

    # ---- union -----------------------------------------------------------------------------
    def __add__(self, other: Any) -> QueryExpression:
        from .union import union

        return union(self, instantiate(other))

    # ---- counting --------------------------------------------------------------------------
    def __len__(self) -> int:
        key = self.heading.primary_key
        inner = self.make_select(key, distinct=True) if key else self.make_select()
        select = m.Select(
            source=m.SubquerySource(inner, "distinct_count"),
            items=(m.SelectItem(m.RawSQL("count(*)")),),
        )
        return int(self.connection.execute_model(select).fetchone()[0])

    def __bool__(self) -> bool:
        inner = self.make_select()
        if inner.order_by or inner.limit is not None or inner.offset:
            inner = replace(inner, order_by=(), limit=None, offset=0)
        return bool(self.connection.execute_model(m.Exists(inner)).fetchone()[0])

    def __contains__(self, key: Mapping[str, Any]) -> bool:
        return bool(self & key)


def _base_tables(node: m.Node) -> set[tuple[str, str]]:
    """The base tables and subquery aliases named directly in a FROM clause."""
    if isinstance(node, m.TableSource):
        return {(node.schema, node.table)}
    if isinstance(node, m.SubquerySource):
        return {("", node.alias)}  # one subquery reused in both operands needs a second alias
    if isinstance(node, m.JoinSource):
        return _base_tables(node.left) | _base_tables(node.right)
    return set()


def _shares_tables(a: QueryExpression, b: QueryExpression) -> bool:
    """Whether both FROM clauses name the same table or subquery (it would need two aliases)."""
    return bool(_base_tables(a._source) & _base_tables(b._source))


def _is_joined(query: QueryExpression) -> bool:
    """Whether the FROM clause already has several entries."""
    return isinstance(query._source, m.JoinSource)
