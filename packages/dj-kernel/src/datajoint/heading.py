"""Headings: the attributes of a table or query result, with their types, keys and lineage.

A declared table's heading is read from the catalog once per connection (:func:`load_heading`);
writes that change a table's columns drop it from :func:`heading_cache`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from .declare.types import core_type_name
from .errors import DataJointError
from .lineage import read_lineage
from .sqltext import find_top_level

_NATIVE_TO_CORE = {
    "tinyint": "int8",
    "smallint": "int16",
    "int": "int32",
    "integer": "int32",
    "bigint": "int64",
    "float": "float32",
    "real": "float32",
    "double": "float64",
    "double precision": "float64",
    "boolean": "bool",
    "uuid": "uuid",
    "binary(16)": "uuid",
    "bytea": "bytes",
    "longblob": "bytes",
    "blob": "bytes",
    "json": "json",
    "jsonb": "json",
    "date": "date",
}


def split_comment(stored: str) -> tuple[str | None, str]:
    """Split a stored column comment ``:<type>:<comment>`` into (declared type, comment).

    The type ends at the first ``:`` outside quotes and parentheses, so ``enum('a:b')`` survives.
    A comment without the marker gives (None, comment).
    """
    if not stored.startswith(":"):
        return None, stored
    end = find_top_level(stored, ":", "'\"", brackets="()<>", start=1)
    if end < 0:
        return None, stored
    return stored[1:end], stored[end + 1 :]


def core_of_sql_type(sql_type: str) -> str | None:
    """The core type a native column type stands for, when there is one."""
    t = sql_type.lower().strip()
    if t in _NATIVE_TO_CORE:
        return _NATIVE_TO_CORE[t]
    for prefix in ("datetime", "timestamp"):
        if t.startswith(prefix):
            return "datetime"
    for prefix in ("varchar", "char", "decimal", "numeric", "enum"):
        if t.startswith(prefix):
            return "decimal" if prefix == "numeric" else prefix
    return None


@dataclass(frozen=True)
class Attribute:
    """One attribute of a heading.

    ``type`` is the declared type (core type text, native SQL type or ``<codec@store>``), ``core``
    the core type name the stored column has (used to bind and decode values), ``sql_type`` the
    backend's native column type. ``expression`` is set for computed attributes and ``source`` for
    renamed ones (the attribute name it was renamed from).
    """

    name: str
    type: str
    sql_type: str
    in_key: bool = False
    nullable: bool = False
    default: str | None = None
    comment: str = ""
    autoincrement: bool = False
    core: str | None = None
    codec: str | None = None
    store: str | None = None
    lineage: str | None = None
    expression: Any = None  # SQL text the user wrote, or a query-model node
    source: str | None = None

    @property
    def is_hidden(self) -> bool:
        return self.name.startswith("_")

    @property
    def is_blob(self) -> bool:
        return self.core == "bytes" or "blob" in self.sql_type.lower()

    @property
    def is_json(self) -> bool:
        return self.core == "json"

    @property
    def is_uuid(self) -> bool:
        return self.core == "uuid"

    @property
    def is_numeric(self) -> bool:
        return self.core is not None and (
            self.core.startswith(("int", "float")) or self.core in ("decimal", "bool")
        )

    @property
    def is_renamed(self) -> bool:
        return self.source is not None and self.source != self.name

    @property
    def stored_comment(self) -> str:
        """The column comment as stored in the catalog."""
        return f":{self.type}:{self.comment}"

    def renamed(self, new_name: str) -> Attribute:
        return replace(self, name=new_name, source=self.source or self.name)

    @classmethod
    def from_column(cls, column, lineage: str | None = None) -> Attribute:
        """Build an attribute from a catalog ColumnInfo, reading the ``:type:`` comment marker."""
        declared, comment = split_comment(column.comment)
        if declared is not None and declared.startswith("external"):
            raise DataJointError(
                f"Legacy datatype `{declared}`. See the migration guide: migrate the column "
                "with dj.migrate before using it."
            )
        codec = store = None
        if declared is not None and declared.startswith("<"):
            from .codecs import column_final_dtype, parse_codec_spec

            codec, store = parse_codec_spec(declared)
            final = column_final_dtype(declared)  # None while the codec is not available
            core = (final and core_type_name(final)) or core_of_sql_type(column.sql_type)
        elif declared is not None:
            core = core_type_name(declared) or core_of_sql_type(column.sql_type)
        else:
            core = core_of_sql_type(column.sql_type)
        return cls(
            name=column.name,
            type=declared or column.sql_type,
            sql_type=column.sql_type,
            in_key=column.in_key,
            nullable=column.nullable,
            default=column.default,
            comment=comment,
            autoincrement=column.autoincrement,
            core=core,
            codec=codec,
            store=store,
            lineage=lineage,
        )


class Heading:
    """An ordered collection of attributes; hidden attributes (names starting with ``_``) are
    kept but left out of :attr:`names`, fetches and joins."""

    def __init__(
        self, attributes: Iterable[Attribute], *, table_comment: str = "", has_lineage: bool = True
    ) -> None:
        self._attributes: dict[str, Attribute] = {a.name: a for a in attributes}
        self.table_comment = table_comment
        self.has_lineage = has_lineage

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self._attributes and not str(name).startswith("_")

    def __getitem__(self, name: str) -> Attribute:
        return self._attributes[name]

    def __repr__(self) -> str:
        key = [a for a in self.visible if a.in_key]
        rest = [a for a in self.visible if not a.in_key]
        lines = [f"{a.name:<20} : {a.type}" for a in key] + ["---"]
        lines += [f"{a.name:<20} : {a.type}" for a in rest]
        return "\n".join(lines)

    @property
    def all_attributes(self) -> list[Attribute]:
        """Every attribute, hidden ones included, in order."""
        return list(self._attributes.values())

    @property
    def visible(self) -> list[Attribute]:
        return [a for a in self._attributes.values() if not a.is_hidden]

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.visible]

    @property
    def attributes(self) -> dict[str, Attribute]:
        """Visible attributes by name."""
        return {a.name: a for a in self.visible}

    @property
    def primary_key(self) -> list[str]:
        return [a.name for a in self._attributes.values() if a.in_key]

    @property
    def secondary_attributes(self) -> list[str]:
        return [a.name for a in self.visible if not a.in_key]

    def lineage(self, name: str) -> str | None:
        return self._attributes[name].lineage

    def select(self, names: Iterable[str]) -> Heading:
        """A heading with just ``names`` (hidden primary-key attributes are kept)."""
        wanted = set(names)
        return Heading(
            (
                a
                for a in self._attributes.values()
                if a.name in wanted or (a.in_key and a.is_hidden)
            ),
            table_comment=self.table_comment,
            has_lineage=self.has_lineage,
        )


# ---- headings of declared tables, read from the catalog ----------------------------------------
def heading_cache(connection: Any) -> dict[tuple[str, str], Heading]:
    """Headings loaded through ``connection``, by (schema, table)."""
    cache = getattr(connection, "_heading_cache", None)
    if cache is None:
        cache = connection._heading_cache = {}
    return cache


def load_heading(connection: Any, schema: str, table: str) -> Heading:
    """Read a table's heading from the catalog, with lineage when the schema records it."""
    cache = heading_cache(connection)
    if (schema, table) in cache:
        return cache[(schema, table)]
    intro, run = connection.introspection, connection.run
    columns = intro.columns(run, schema, table)
    if not columns:
        raise DataJointError(f"Table `{schema}`.`{table}` is not declared.")
    lineage = read_lineage(connection, schema)
    table_lineage = (lineage or {}).get(table, {})
    attributes = [Attribute.from_column(c, table_lineage.get(c.name)) for c in columns]
    for attr in attributes:
        if attr.in_key and (attr.is_json or attr.is_blob or attr.codec):
            raise DataJointError("Blob or JSON attributes are not allowed in the primary key")
    heading = Heading(
        attributes,
        table_comment=intro.table_comment(run, schema, table),
        has_lineage=lineage is not None,
    )
    cache[(schema, table)] = heading
    return heading
