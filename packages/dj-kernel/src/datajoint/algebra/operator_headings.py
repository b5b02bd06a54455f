"""Headings of derived expressions: the primary-key and attribute-order laws of SPEC §6."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..errors import DataJointError
from ..heading import Attribute, Heading


def determines(a: Heading, b: Heading) -> bool:
    """``a → b``: every primary-key attribute of ``b`` is an attribute of ``a``."""
    return set(b.primary_key) <= set(a.names)


def _keyed(attr: Attribute, in_key: bool, nullable: bool = False) -> Attribute:
    changes: dict[str, Any] = {"in_key": in_key}
    if nullable:
        changes["nullable"] = True
    return replace(attr, **changes)


def join_heading(a: Heading, b: Heading, *, left: bool, allow_nullable_pk: bool) -> Heading:
    """The heading of ``a * b`` (or the left join) with its primary key (SPEC §6.3)."""
    pk_a, pk_b = a.primary_key, b.primary_key
    a_to_b, b_to_a = determines(a, b), determines(b, a)
    if left and not allow_nullable_pk and not a_to_b:
        missing = [n for n in pk_b if n not in a.names]
        raise DataJointError(
            "Left join requires the left operand to determine the right operand (A → B). "
            f"The following attributes from the right operand's primary key are not in the left "
            f"operand: {missing}. Use an inner join or restructure the query."
        )
    sec_a = [n for n in a.names if n not in pk_a]
    sec_b = [n for n in b.names if n not in pk_b]
    names_a = set(a.names)
    out: list[Attribute] = []
    if a_to_b and not allow_nullable_pk:
        out += [_keyed(a[n], True) for n in pk_a]
        out += [_keyed(a[n], False) for n in sec_a]
        out += [_keyed(b[n], False, left) for n in b.names if n not in names_a]
    elif b_to_a and not allow_nullable_pk:
        out += [_keyed(b[n], True) for n in pk_b]
        out += [_keyed(b[n], False) for n in sec_b]
        out += [_keyed(a[n], False) for n in a.names if n not in set(b.names)]
    else:
        key = pk_a + [n for n in pk_b if n not in pk_a]
        out += [
            _keyed(a[n] if n in names_a else b[n], True, left and n not in names_a) for n in key
        ]
        placed = set(key)
        for n in sec_a:
            if n not in placed:
                out.append(_keyed(a[n], False))
                placed.add(n)
        for n in sec_b:
            if n not in placed:
                out.append(_keyed(b[n], False, left))
                placed.add(n)
    return Heading(out, has_lineage=a.has_lineage and b.has_lineage)


def aggregation_heading(
    a: Heading, b: Heading, attributes: tuple[Any, ...], named: Mapping[str, str]
) -> tuple[Heading, list[str]]:
    """The heading of ``a.aggr(b, *attributes, **named)`` and the GROUP BY columns (SPEC §6.4).

    Grouping is by the primary key of ``a`` and every selected attribute of ``a`` (they depend on
    the key, so the groups are the same, and the SQL is valid without functional-dependency
    detection, e.g. on MariaDB under ONLY_FULL_GROUP_BY and on subqueries in PostgreSQL).
    """
    from .expression import classify_named, computed_attribute

    key = a.primary_key
    joined = {**{n: a[n] for n in a.names}, **{n: b[n] for n in b.names if n not in a.names}}
    selected: list[str] = []
    for item in attributes:
        if item is Ellipsis:
            selected += [n for n in a.names if n not in key and n not in selected]
        elif not isinstance(item, str):
            raise DataJointError(f"{item!r} is not a valid data type for an attribute in .aggr")
        elif item not in joined:
            raise DataJointError(f"Attribute `{item}` not found.")
        elif item not in key and item not in selected:
            selected.append(item)
    renames, duplicates, computed = classify_named(named)
    for old in {**renames, **duplicates}.values():
        if old not in joined:
            raise DataJointError(f"Attribute `{old}` not found.")
    joined_order = join_heading(a, b, left=False, allow_nullable_pk=False).names
    order = [n for n in joined_order if n in selected]
    out = [_keyed(a[n], True) for n in key]
    out += [_keyed(joined[n], False) for n in order]
    out += [
        _keyed(joined[old].renamed(new), False) for new, old in {**renames, **duplicates}.items()
    ]
    out += [computed_attribute(new, expr) for new, expr in computed.items()]
    group_by = key + [n for n in order if n in a.names]
    group_by += [old for old in {**renames, **duplicates}.values() if old in a.names]
    return Heading(out, has_lineage=a.has_lineage and b.has_lineage), group_by
