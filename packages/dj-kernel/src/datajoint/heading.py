"""Headings: the attributes of a table or query result, with their types, keys and lineage.

A declared table's heading is read from the catalog once per connection (:func:`load_heading`);
writes that change a table's columns drop it from :func:`heading_cache`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .declare.types import core_type_name
from .errors import DataJointError
from .lineage import forget_lineage, read_lineage
from .numeric_types import OBJECT, wide_dtype
from .sqltext import find_top_level

if TYPE_CHECKING:
    from .codecs import Codec

#: native column types (as the catalog reports them) that stand for exactly one core type
NATIVE_TO_CORE = {
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
    if t in NATIVE_TO_CORE:
        return NATIVE_TO_CORE[t]
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

    ``declared_type`` is the type as declared (core type text, native SQL type or
    ``<codec@store>``), ``core`` the core type name the stored column has (used to bind and decode
    values), ``sql_type`` the backend's native column type; :attr:`type` is what DataJoint 2.x
    gives (the column type, or ``<codec@store>``). ``codec_name`` and ``store`` are set for codec
    columns (:attr:`codec` is the codec object, as DataJoint 2.x gives it). ``expression`` is set
    for computed attributes and ``source`` for renamed ones (the attribute name it was renamed
    from).
    """

    name: str
    declared_type: str
    sql_type: str
    in_key: bool = False
    nullable: bool = False
    default: str | None = None
    comment: str = ""
    autoincrement: bool = False
    core: str | None = None
    codec_name: str | None = None
    store: str | None = None
    lineage: str | None = None
    expression: Any = None  # SQL text the user wrote, or a query-model node
    source: str | None = None

    @property
    def codec(self) -> Codec | None:
        """The codec of a codec column (None for other columns), looked up in the codec registry
        when read: a codec that is not registered is a stand-in with its ``name`` whose
        ``encode``/``decode`` raise a DataJointError saying so."""
        if self.codec_name is None:
            return None
        from .codecs import codec_or_placeholder

        return codec_or_placeholder(self.codec_name)

    def _codec_chain(self) -> list[Codec]:
        """The codecs a codec column's value runs through, outermost first (just :attr:`codec`
        when the chain cannot be resolved, e.g. an unregistered codec)."""
        if self.codec_name is None:
            return []
        from .codecs import resolve_dtype

        try:
            return resolve_dtype(self.declared_type)[1]
        except DataJointError:
            codec = self.codec
            return [codec] if codec is not None else []

    @property
    def is_hash_object(self) -> bool:
        """Whether values live in hash-addressed object storage: a codec column with a store
        whose chain runs through ``<hash>`` (``<hash@>``, ``<blob@>``, ``<attach@>``)."""
        return self.store is not None and any(c.name == "hash" for c in self._codec_chain())

    @property
    def is_schema_object(self) -> bool:
        """Whether values live in schema-addressed object storage: a codec column with a store
        whose chain has a :class:`~datajoint.SchemaCodec` (``<object@>``, ``<npy@>``, ...)."""
        if self.store is None:
            return False
        from .schema_codec import SchemaCodec

        return any(isinstance(c, SchemaCodec) for c in self._codec_chain())

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

    # ---- the names DataJoint 2.x code reads on an attribute ---------------------------------
    @property
    def type(self) -> str:
        """The type as DataJoint 2.x gives it: ``<codec@store>`` for a codec column, ``expression``
        for a computed attribute, else the column's native type (``tinyint`` for ``int8``,
        ``binary(16)`` for ``uuid`` on MySQL); :attr:`original_type` is the declared core type."""
        if self.codec_name or self.expression is not None:
            return self.declared_type
        return self.sql_type

    @property
    def original_type(self) -> str | None:
        """The declared core type (``int8`` on a ``tinyint`` column, ``uuid`` on ``binary(16)``);
        None for codec, native-typed and computed attributes."""
        if (
            self.codec_name
            or self.expression is not None
            or core_type_name(self.declared_type) is None
        ):
            return None
        return self.declared_type

    @property
    def json(self) -> bool:
        return self.is_json

    @property
    def uuid(self) -> bool:
        return self.is_uuid

    @property
    def numeric(self) -> bool:
        return self.is_numeric and not self.codec_name

    @property
    def string(self) -> bool:
        """Character, enumeration, time, timestamp and year attributes, as DataJoint 2.x flags
        them (``date`` and ``datetime`` are not)."""
        if self.codec_name or self.core in ("date", "datetime"):
            return False
        if self.core in ("varchar", "char", "enum"):
            return True
        return self.sql_type.lower().startswith(("varchar", "char", "enum", "time", "year"))

    @property
    def dtype(self) -> np.dtype:
        """The numpy type of this attribute's values as DataJoint 2.x gives it: int64 or float64
        for numbers, object for everything else and for integers that may be NULL."""
        dtype = wide_dtype(self)
        if dtype.kind in "iub" and self.nullable:
            return OBJECT
        return dtype

    @property
    def attribute_expression(self) -> Any:
        """The SQL of a computed attribute (None for a stored one)."""
        return self.expression

    @property
    def original_name(self) -> str:
        """The name before a rename (the name itself when not renamed)."""
        return self.source or self.name

    @property
    def sql_comment(self) -> str:
        return self.stored_comment

    @property
    def sql(self) -> str:
        """The attribute as a column clause, as DataJoint 2.x gives it: the backquoted name,
        :attr:`type`, ``NOT NULL`` and ``COMMENT "<sql_comment>"``, whatever the attribute's
        nullability and default (neither is included) and on every backend."""
        return f'`{self.name}` {self.type} NOT NULL COMMENT "{self.sql_comment}"'

    @property
    def unsupported(self) -> bool:
        """True for an attribute that is neither numeric nor stored as bytes, as DataJoint 2.x
        flags it (character, enum, date/time, UUID and JSON attributes are flagged)."""
        return not (self.is_blob or self.is_numeric)

    def todict(self) -> dict[str, Any]:
        """The attribute's fields as a dict, with its ``codec`` object."""
        return {**asdict(self), "type": self.type, "codec": self.codec}

    @property
    def is_renamed(self) -> bool:
        return self.source is not None and self.source != self.name

    @property
    def stored_comment(self) -> str:
        """The column comment as stored in the catalog."""
        return f":{self.declared_type}:{self.comment}"

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
        codec_name = store = None
        if declared is not None and declared.startswith("<"):
            from .codecs import column_final_dtype, parse_codec_spec

            codec_name, store = parse_codec_spec(declared)
            final = column_final_dtype(declared)  # None while the codec is not available
            core = (final and core_type_name(final)) or core_of_sql_type(column.sql_type)
        elif declared is not None:
            core = core_type_name(declared) or core_of_sql_type(column.sql_type)
        else:
            core = core_of_sql_type(column.sql_type)
        return cls(
            name=column.name,
            declared_type=declared or column.sql_type,
            sql_type=column.sql_type,
            in_key=column.in_key,
            nullable=column.nullable,
            default=column.default,
            comment=comment,
            autoincrement=column.autoincrement,
            core=core,
            codec_name=codec_name,
            store=store,
            lineage=lineage,
        )


class Heading:
    """An ordered collection of attributes; hidden attributes (names starting with ``_``) are
    kept but left out of :attr:`names`, fetches and joins."""

    def __init__(
        self,
        attributes: Iterable[Attribute],
        *,
        table_comment: str = "",
        has_lineage: bool = True,
        table: tuple[str, str] | None = None,
        connection: Any = None,
    ) -> None:
        """``table`` is the (schema, table name) a declared table's heading was read from and
        ``connection`` the connection it was read through (both None for a query's heading)."""
        self._attributes: dict[str, Attribute] = {a.name: a for a in attributes}
        self.table_comment = table_comment
        self.has_lineage = has_lineage
        self._table = table
        self._connection = connection
        self._indexes: dict[tuple[str, ...], dict[str, bool]] | None = None
        # a heading never changes once built: name lists are computed once (every query and
        # fetch reads them); the properties hand out copies
        self._names = [a.name for a in self._attributes.values() if not a.is_hidden]
        self._full_key = [a.name for a in self._attributes.values() if a.in_key]
        self._key = [name for name in self._full_key if not name.startswith("_")]
        #: whether an attribute is renamed or computed (a query over it restricts a subquery)
        self.has_renames = any(a.is_renamed or a.expression for a in self._attributes.values())
        #: what other layers work out from this heading alone, under keys of their own: read it
        #: through :func:`derived`, which bounds it
        self._derived: dict[Any, Any] = {}

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._attributes and not str(name).startswith("_")

    def __getitem__(self, name: str) -> Attribute:
        return self._attributes[name]

    def __repr__(self) -> str:
        key = [a for a in self.visible if a.in_key]
        rest = [a for a in self.visible if not a.in_key]
        lines = [f"{a.name:<20} : {a.declared_type}" for a in key] + ["---"]
        lines += [f"{a.name:<20} : {a.declared_type}" for a in rest]
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
        return list(self._names)

    @property
    def attributes(self) -> dict[str, Attribute]:
        """Visible attributes by name."""
        return {a.name: a for a in self.visible}

    @property
    def primary_key(self) -> list[str]:
        """The visible primary-key attributes (a singleton table's key is empty), as DataJoint
        2.x gives them."""
        return list(self._key)

    @property
    def full_primary_key(self) -> list[str]:
        """Every primary-key column, hidden ones (``_singleton``) included: the key the table's
        DDL, foreign keys and conflict targets use."""
        return list(self._full_key)

    @property
    def secondary_attributes(self) -> list[str]:
        return [a.name for a in self.visible if not a.in_key]

    def lineage(self, name: str) -> str | None:
        return self._attributes[name].lineage

    # ---- the names DataJoint 2.x code reads on a heading -----------------------------------
    @property
    def lineage_available(self) -> bool:
        return self.has_lineage

    @property
    def table_status(self) -> dict[str, Any] | None:
        """A declared table's ``table_schema``, ``table_name``, ``table_comment`` and
        ``comment`` (the same text); None for a query's heading."""
        if self._table is None:
            return None
        schema, table = self._table
        return {
            "table_schema": schema,
            "table_name": table,
            "table_comment": self.table_comment,
            "comment": self.table_comment,
        }

    @property
    def indexes(self) -> dict[tuple[str, ...], dict[str, bool]] | None:
        """A declared table's secondary indexes (the primary key is not one), as DataJoint 2.x
        gives them: ``{(column, ...): {"unique": bool, "nullable": bool}}``, ``nullable`` when
        any of the index's columns is; None for a query's heading.

        Read from the catalog on first access (one query), then kept with the heading.
        """
        if self._table is None or self._connection is None:
            return None
        if self._indexes is None:
            conn = self._connection
            found = conn.introspection.indexes(conn.run, *self._table)
            self._indexes = {
                tuple(index.columns): {
                    "unique": index.unique,
                    "nullable": any(
                        self._attributes[c].nullable for c in index.columns if c in self._attributes
                    ),
                }
                for index in found
            }
        return {columns: dict(flags) for columns, flags in self._indexes.items()}

    @property
    def blobs(self) -> list[str]:
        """Visible attributes stored as bytes (blobs and byte-valued codecs)."""
        return [a.name for a in self.visible if a.is_blob]

    @property
    def non_blobs(self) -> list[str]:
        """Visible attributes that are neither blobs nor JSON."""
        return [a.name for a in self.visible if not (a.is_blob or a.is_json)]

    @property
    def hash_objects(self) -> list[str]:
        """Visible attributes stored in hash-addressed object storage
        (:attr:`Attribute.is_hash_object`)."""
        return [a.name for a in self.visible if a.is_hash_object]

    @property
    def schema_objects(self) -> list[str]:
        """Visible attributes stored in schema-addressed object storage
        (:attr:`Attribute.is_schema_object`)."""
        return [a.name for a in self.visible if a.is_schema_object]

    @property
    def new_attributes(self) -> list[str]:
        """Visible attributes computed by a projection."""
        return [a.name for a in self.visible if a.expression is not None]

    @property
    def has_autoincrement(self) -> bool:
        return any(a.autoincrement for a in self.visible)

    @property
    def as_dtype(self) -> np.dtype:
        """A numpy structured dtype of the visible attributes (see :attr:`Attribute.dtype`)."""
        return np.dtype([(a.name, a.dtype) for a in self.visible])

    def as_sql(
        self, fields: Iterable[str], include_aliases: bool = True, dialect: Any = None
    ) -> str:
        """The SELECT list of ``fields``: quoted names (by ``dialect``, else ANSI double quotes),
        renamed attributes as ``source AS name`` and computed ones as ``expression AS name``
        (without the aliases when ``include_aliases`` is false)."""

        def quote(name: str) -> str:
            return dialect.quote(name) if dialect is not None else '"' + name + '"'

        def field(name: str) -> str:
            attr = self._attributes[name]
            if attr.expression is not None:
                if not isinstance(attr.expression, str):
                    raise DataJointError(
                        f"Attribute `{name}` is computed by the query model, which has no SQL "
                        "text without its bound parameters; render the query instead."
                    )
                text = attr.expression
            elif attr.is_renamed:
                text = quote(attr.source or name)
            else:
                return quote(name)
            return f"{text} AS {quote(name)}" if include_aliases else text

        return ",".join(field(name) for name in fields)

    def determines(self, other: Heading) -> bool:
        """Whether every primary-key attribute of ``other`` is an attribute of this heading."""
        names = set(self.names)
        return all(name in names for name in other.primary_key)

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


#: entries kept per heading by :func:`derived` (ad-hoc projections must not grow it without bound)
MAX_DERIVED = 256


def derived(heading: Heading) -> dict[Any, Any]:
    """What other layers work out from ``heading`` alone (select lists, projected headings,
    restriction and insert plans), under keys of their own: a heading never changes, so each is
    worked out once and dropped with the heading."""
    cache = heading._derived
    if len(cache) >= MAX_DERIVED:
        cache.clear()
    return cache


def compiled(heading: Heading, dialect: Any, shape: Any, make: Callable[[], Any]) -> Any:
    """What ``make()`` builds for ``dialect`` (a statement rendered once, say), kept with
    ``heading`` (:func:`derived`) under ``shape`` and made anew when asked for another dialect."""
    cache = derived(heading)
    entry = cache.get(shape)
    if entry is None or entry[0] is not dialect:
        entry = cache[shape] = (dialect, make())
    return entry[1]


# ---- headings of declared tables, read from the catalog ----------------------------------------
def heading_cache(connection: Any) -> dict[tuple[str, str], Heading]:
    """Headings loaded through ``connection``, by (schema, table)."""
    cache = getattr(connection, "_heading_cache", None)
    if cache is None:
        cache = connection._heading_cache = {}
    return cache


def _bulk_loaded(connection: Any) -> set[str]:
    """Schemas whose every table's heading ``connection`` has read in one bulk load."""
    loaded = getattr(connection, "_bulk_loaded_schemas", None)
    if loaded is None:
        loaded = connection._bulk_loaded_schemas = set()
    return loaded


def forget_schema(connection: Any, schema: str) -> None:
    """Drop everything ``connection`` has cached of ``schema``'s catalog (after creating or
    dropping the schema)."""
    cache = heading_cache(connection)
    for key in [k for k in cache if k[0] == schema]:
        del cache[key]
    _bulk_loaded(connection).discard(schema)
    forget_lineage(connection, schema)


def _build_heading(
    connection: Any,
    schema: str,
    table: str,
    columns: list[Any],
    comment: str,
    lineage: dict[str, dict[str, str]] | None,
) -> Heading:
    table_lineage = (lineage or {}).get(table, {})
    attributes = [Attribute.from_column(c, table_lineage.get(c.name)) for c in columns]
    for attr in attributes:
        if attr.in_key and (attr.is_json or attr.is_blob or attr.codec_name):
            raise DataJointError("Blob or JSON attributes are not allowed in the primary key")
    return Heading(
        attributes,
        table_comment=comment,
        has_lineage=lineage is not None,
        table=(schema, table),
        connection=connection,
    )


def load_schema_headings(connection: Any, schema: str) -> None:
    """Read the headings of every table of ``schema`` into the cache in a constant number of
    queries (columns, table comments, lineage), keeping the ones already cached.

    A table whose heading cannot be built (a legacy type, a blob in the key) is left out: reading
    that table's heading on its own reports the error.
    """
    intro, run = connection.introspection, connection.run
    columns = intro.schema_columns(run, schema)
    comments = intro.table_comments(run, schema) if columns else {}
    lineage = read_lineage(connection, schema) if columns else None
    cache = heading_cache(connection)
    for table, table_columns in columns.items():
        if (schema, table) in cache:
            continue
        try:
            heading = _build_heading(
                connection, schema, table, table_columns, comments.get(table, ""), lineage
            )
        except DataJointError:
            continue
        cache[(schema, table)] = heading
    _bulk_loaded(connection).add(schema)


def schema_primary_keys(connection: Any, schema: str) -> dict[str, list[str]]:
    """The primary key of every table of ``schema`` (hidden ones included), by table name.

    Taken from the cached headings when every table has one (loading the schema's headings in
    bulk on first use, so that opening a schema reads its columns once), else from one bulk
    read of the schema's columns.
    """
    intro, run = connection.introspection, connection.run
    tables = intro.list_tables(run, schema)
    if schema not in _bulk_loaded(connection):
        load_schema_headings(connection, schema)
    cache = heading_cache(connection)
    if all((schema, t) in cache for t in tables):
        return {t: cache[(schema, t)].full_primary_key for t in tables}
    columns = intro.schema_columns(run, schema)
    return {t: [c.name for c in cols if c.in_key] for t, cols in columns.items()}


def load_heading(connection: Any, schema: str, table: str) -> Heading:
    """A table's heading, with lineage when the schema records it.

    The first heading read of a schema loads every table of it at once
    (:func:`load_schema_headings`); a table missing after that (declared or altered since) is
    read on its own.
    """
    cache = heading_cache(connection)
    heading = cache.get((schema, table))
    if heading is not None:
        return heading
    if schema not in _bulk_loaded(connection):
        load_schema_headings(connection, schema)
        heading = cache.get((schema, table))
        if heading is not None:
            return heading
    intro, run = connection.introspection, connection.run
    columns = intro.columns(run, schema, table)
    if not columns:
        raise DataJointError(f"Table `{schema}`.`{table}` is not declared.")
    heading = _build_heading(
        connection,
        schema,
        table,
        columns,
        intro.table_comment(run, schema, table),
        read_lineage(connection, schema),
    )
    cache[(schema, table)] = heading
    return heading
