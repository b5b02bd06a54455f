"""Restriction conditions (SPEC §6.1) compiled to query-model nodes with bound parameters."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..errors import DataJointError
from ..heading import derived
from ..sqltext import segments
from ..values import comparable, pass_through, plain, to_uuid
from . import model as m

_SQL_WORDS = frozenset(
    [
        "is",
        "in",
        "between",
        "like",
        "and",
        "or",
        "null",
        "not",
        "interval",
        "second",
        "minute",
        "hour",
        "day",
        "month",
        "week",
        "year",
    ]
)
_WORD = re.compile(r"\w+")
_BARE = re.compile(r"\b([a-z_][a-z0-9_]*)\b(?!\s*\()")


class AndList(list):
    """A conjunction of conditions: ``A & AndList([a, b])`` is ``A & a & b``."""


class Not:
    """The negation of a condition: ``A & Not(c)`` is ``A - c``."""

    def __init__(self, restriction: Any) -> None:
        self.restriction = restriction

    def __repr__(self) -> str:
        return f"Not({self.restriction!r})"


def attributes_in_sql(text: str) -> set[str]:
    """Attribute names a restriction string mentions: backquoted names and bare lower-case
    identifiers outside quotes that are not function calls or SQL words."""
    names: set[str] = set()
    unquoted: list[str] = []
    for segment in segments(text, backslash=True):
        piece = text[segment.start : segment.end]
        if not segment.quote:
            unquoted.append(piece)
        elif segment.quote == "`" and segment.closed and _WORD.fullmatch(piece[1:-1]):
            names.add(piece[1:-1])
    names |= {n for n in _BARE.findall(" ".join(unquoted)) if n not in _SQL_WORDS}
    return names


def _binder(query: Any, name: str):
    """A function turning a value compared with attribute ``name`` into a bound parameter."""
    attr = query.heading[name]
    encode = query.connection.dialect.encode_param
    core = attr.core
    simple = pass_through(core)

    def bind(value: Any) -> m.Node:
        if type(value) in simple:
            return m.Param(value)
        value = plain(value)
        if attr.is_uuid:
            value = to_uuid(value, name, " in a restriction")
        return m.Param(encode(comparable(value, core), core))

    return bind


def _bind(query: Any, name: str, value: Any) -> m.Node:
    return _binder(query, name)(value)


_JSON_PATH = re.compile(r"^([a-z_]\w*)((?:\.\w+|\[\d+\])+)(?::\s*([\w\s(),]+))?$", re.I)


def json_path(heading: Any, text: str) -> m.JsonPath | None:
    """``attr.path.to.key[:type]`` on a JSON attribute as a query-model node, else None."""
    match = _JSON_PATH.match(text.strip())
    if not match or match.group(1) not in heading.names or not heading[match.group(1)].is_json:
        return None
    return m.JsonPath(match.group(1), match.group(2).lstrip("."), match.group(3))


def _json_comparison(path: m.JsonPath, value: Any) -> m.Node:
    """Compare a JSON path with a value: as text unless the path is typed."""
    if value is None:
        return m.IsNull(path)
    if isinstance(value, dict | list):
        value = json.dumps(value)
    elif path.return_type is None:
        value = json.dumps(value) if isinstance(value, bool) else str(plain(value))
    return m.Compare(path, "=", m.Param(plain(value)))


def mapping_condition(
    query: Any, condition: Mapping[str, Any], heading: Any = None
) -> m.Node | bool:
    """The equalities of a key dict (or any mapping) against ``query`` (whose ``heading`` a
    caller that has it passes); True when no key names an attribute or a JSON path."""
    if heading is None:
        heading = query.heading
    items: list[m.Node] = []
    plan = _key_plan(heading, tuple(condition))
    for (key, value), entry in zip(condition.items(), plan, strict=True):
        if entry is None:
            continue
        if isinstance(entry, m.JsonPath):
            items.append(_json_comparison(entry, value))
            continue
        column, simple = entry
        if value is None:
            items.append(m.IsNull(column))
        elif type(value) in simple:  # the common case, bound as is
            items.append(m.Compare(column, "=", m.Param(value)))
        else:
            items.append(m.Compare(column, "=", _bind(query, key, value)))
    if not items:
        return True
    return items[0] if len(items) == 1 else m.And(tuple(items))


#: per key of a restriction mapping: its column and the types bound as they are, its JSON path,
#: or None for a key that restricts nothing
KeyPlan = tuple[tuple[m.Column, tuple[type, ...]] | m.JsonPath | None, ...]


def _key_plan(heading: Any, keys: tuple[Any, ...]) -> KeyPlan:
    """How each of ``keys`` restricts, worked out once per heading and key set (a make's
    ``(Parent & key)`` restricts by the same keys for every key)."""
    cache = derived(heading)
    plan = cache.get(("key plan", keys))
    if plan is None:
        plan = cache[("key plan", keys)] = tuple(_key_entry(heading, key) for key in keys)
    return plan


def _key_entry(heading: Any, key: Any) -> tuple[m.Column, tuple[type, ...]] | m.JsonPath | None:
    attr = heading._attributes.get(key)
    if attr is None or (attr.is_hidden and not attr.in_key):
        return json_path(heading, key)
    return m.Column(key), pass_through(attr.core)


def _values_list(query: Any, condition: list) -> m.Node | None:
    """A list of dicts over the same attributes (no NULLs) as one ``IN`` list, else None."""
    if len(condition) < 2 or not all(type(c) is dict for c in condition):
        return None
    names = set(query.heading.names) | set(query.heading.full_primary_key)
    columns = tuple(k for k in condition[0] if k in names)
    if not columns or any(k not in names for k in condition[0] if "." in k):
        return None
    binders = [_binder(query, c) for c in columns]
    rows = []
    for item in condition:
        same_keys = item.keys() == condition[0].keys()
        if not same_keys and tuple(k for k in item if k in names) != columns:
            return None
        values = [item[c] for c in columns]
        if any(v is None for v in values):
            return None
        rows.append(tuple(bind(v) for bind, v in zip(binders, values, strict=True)))
    return m.InValues(columns, tuple(rows))


def _query_condition(query: Any, other: Any, semantic_check: bool) -> m.Node | bool:
    from .semantics import assert_join_compatibility

    assert_join_compatibility(query, other, semantic_check)
    common = [n for n in query.heading.names if n in other.heading.names]
    if not common:  # emptiness decides; a Top counts (bool() alone would ignore it)
        return len(other) > 0 if other._top is not None else bool(other)
    return m.InSelect(tuple(common), other.make_select(common, distinct=True))


def _compile(query: Any, condition: Any, semantic_check: bool = True) -> m.Node | bool:
    """A node, or True/False for conditions that are constant."""
    if type(condition) is dict:  # a key: the common case, tested before the imports below
        return mapping_condition(query, condition)
    from .expression import QueryExpression
    from .universal import U

    if isinstance(condition, U):
        return True
    if isinstance(condition, Not):
        inner = _compile(query, condition.restriction, semantic_check)
        return (not inner) if isinstance(inner, bool) else m.Not(inner)
    if isinstance(condition, bool | np.bool_):
        return bool(condition)
    if isinstance(condition, str):
        text = condition.strip()
        missing = (
            attributes_in_sql(text) - set(query.heading.names) - set(query.heading.full_primary_key)
        )
        if missing:
            raise DataJointError(f"Attribute `{sorted(missing)[0]}` is not found in query.")
        return m.RawSQL(f"({text})")
    if isinstance(condition, type) and issubclass(condition, QueryExpression):
        condition = condition()
    if isinstance(condition, QueryExpression):
        return _query_condition(query, condition, semantic_check)
    if isinstance(condition, Mapping):
        return mapping_condition(query, condition)
    if isinstance(condition, np.void):
        return mapping_condition(query, {n: condition[n] for n in condition.dtype.names or ()})
    if isinstance(condition, AndList):
        items = [_compile(query, c, semantic_check) for c in condition]
        if any(i is False for i in items):
            return False
        nodes = [i for i in items if not isinstance(i, bool)]
        return True if not nodes else (nodes[0] if len(nodes) == 1 else m.And(tuple(nodes)))
    if _is_dataframe(condition):
        return _compile(query, list(condition.to_records()), semantic_check)
    if isinstance(condition, Iterable) and not isinstance(condition, bytes | bytearray):
        condition = list(condition)
        as_values = _values_list(query, condition)
        if as_values is not None:
            return as_values
        items = [_compile(query, c, semantic_check) for c in condition]
        if any(i is True for i in items):
            return True
        nodes = [i for i in items if not isinstance(i, bool)]
        return False if not nodes else (nodes[0] if len(nodes) == 1 else m.Or(tuple(nodes)))
    raise DataJointError(f"Invalid restriction type {condition!r}")


def unmatched_keys(query: Any, condition: Any) -> list[str]:
    """The keys of the dict restrictions in ``condition`` that name no attribute of ``query``.

    Such a dict restricts nothing (SPEC §6.1, as in DataJoint 2.x), and so does a list holding
    one; this finds them so that a delete, drop or update can refuse what is most likely a typo.
    A dict with at least one known key, or one inside ``Not``, restricts (or empties) the query
    and is not reported.
    """
    if not isinstance(condition, Mapping | list | tuple):
        return []
    heading = query.heading
    names = set(heading.names) | set(
        heading.full_primary_key
    )  # once, also for a list of 1,000 dicts

    def unmatched(item: Any) -> list[str]:
        if isinstance(item, Mapping):
            if any(k in names or json_path(heading, k) is not None for k in item):
                return []
            return [str(k) for k in item]
        if isinstance(item, list | tuple):  # an AndList is a list too
            return [key for element in item for key in unmatched(element)]
        return []

    return unmatched(condition)


def _is_dataframe(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "to_records")


def compile_condition(
    query: Any, condition: Any, *, negate: bool, semantic_check: bool = True
) -> m.Node | bool:
    """Compile ``condition`` against ``query``'s heading; True/False when it is constant."""
    compiled = _compile(query, condition, semantic_check)
    if negate:
        return (not compiled) if isinstance(compiled, bool) else m.Not(compiled)
    return compiled
