"""Reconstructs a table's definition from the catalog (SPEC §3.2 ``describe``)."""

from __future__ import annotations

from typing import Any

from .algebra.expression import QueryExpression
from .naming import to_camel_case


def _class_reference(table: Any, schema: str, name: str, context: dict[str, Any]) -> str:
    """How the definition refers to a parent: a class found in the context, else its CamelCase.

    A table class is the query-expression class whose ``database`` is set (this module sits
    below :mod:`datajoint.table` and does not import it).
    """
    for key, value in context.items():
        if (
            isinstance(value, type)
            and issubclass(value, QueryExpression)
            and getattr(value, "database", None) == schema
        ):
            try:
                if getattr(value(), "table_name", None) == name:
                    return key
            except Exception:
                continue
    base = name.lstrip("#_")
    if "__" in base:
        master, _, part = base.partition("__")
        return f"{to_camel_case(master)}.{to_camel_case(part)}"
    return to_camel_case(base)


def _default_text(attr: Any) -> str:
    default = attr.default
    if default is None:
        return ""
    if default == "null":
        return "=null"
    if default.upper().startswith("CURRENT_TIMESTAMP") or attr.is_numeric:
        return f"={default}"
    return '="' + default.replace('"', '\\"') + '"'


def describe_table(table: Any, context: dict[str, Any] | None = None) -> str:
    """The definition of ``table``; declaring it again gives the same table."""
    conn = table.connection
    heading = table.heading
    context = context if context is not None else (table.declaration_context or {})
    foreign_keys = [
        fk
        for fk in conn.introspection.foreign_keys(conn.run, [table.database])
        if fk.table == table.table_name
    ]
    fk_by_first = {fk.columns[0]: fk for fk in foreign_keys}
    fk_columns = {c for fk in foreign_keys for c in fk.columns}
    lines: list[str] = []
    if heading.table_comment:
        lines.append(f"# {heading.table_comment}")
    in_key = True
    unique_fk: set[tuple[str, ...]] = set()
    indexes = conn.introspection.indexes(conn.run, table.database, table.table_name)
    unique_sets = {ix.columns for ix in indexes if ix.unique}
    for attr in heading.all_attributes:
        if in_key and not attr.in_key:
            lines.append("---")
            in_key = False
        if attr.is_hidden:
            continue
        fk = fk_by_first.get(attr.name)
        if fk is not None:
            ref = _class_reference(table, fk.ref_schema, fk.ref_table, context)
            renames = {c: r for c, r in zip(fk.columns, fk.ref_columns, strict=True) if c != r}
            if renames:
                ref += ".proj(" + ", ".join(f'{c}="{r}"' for c, r in renames.items()) + ")"
            options = []
            if attr.nullable:
                options.append("nullable")
            if fk.columns in unique_sets:
                options.append("unique")
                unique_fk.add(fk.columns)
            lines.append("-> " + (f"[{', '.join(options)}] " if options else "") + ref)
            continue
        if attr.name in fk_columns:
            continue
        declared = attr.declared_type + (
            " auto_increment"
            if attr.autoincrement and "auto_increment" not in attr.declared_type
            else ""
        )
        name = attr.name + _default_text(attr)
        comment = f"# {attr.comment}" if attr.comment else ""
        lines.append(f"{name:<20} : {declared:<28} {comment}".rstrip())
    if in_key:
        lines.append("---")
    fk_sets = {fk.columns for fk in foreign_keys}
    for ix in indexes:
        if ix.columns in unique_fk or (not ix.unique and ix.columns in fk_sets):
            continue
        if not ix.unique and any(f[: len(ix.columns)] == ix.columns for f in fk_sets):
            continue
        lines.append(("UNIQUE INDEX" if ix.unique else "INDEX") + f" ({', '.join(ix.columns)})")
    return "\n".join(lines) + "\n"
