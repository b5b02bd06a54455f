"""Tables: base tables as query expressions, with declaration, insert, drop and describe."""

from __future__ import annotations

import logging
from typing import Any

from .algebra import model as m
from .algebra.expression import QueryExpression
from .declare.compile import compile_definition
from .errors import AccessError, DataJointError
from .heading import Heading, heading_cache, load_heading
from .lineage import ensure_lineage_table, forget_lineage, write_lineage
from .write.insert import insert_rows

logger = logging.getLogger("datajoint")

#: the source node of each table, built once (a dialect keeps its rendered text by identity)
_SOURCES: dict[tuple[str, str], m.TableSource] = {}
_MAX_SOURCES = 4096

#: methods and properties that work on the class itself (``Table.insert(...)``)
CLASS_LEVEL_API = frozenset(
    [
        "to",
        "to_polars",
        "to_arrow",
        "to_dicts",
        "fetch1",
        "keys",
        "insert",
        "insert1",
        "staged_insert1",
        "drop",
        "drop_quick",
        "describe",
        "proj",
        "restrict",
        "heading",
        "primary_key",
        "full_table_name",
        "is_declared",
        "parents",
        "children",
        "ancestors",
        "descendants",
        "make_sql",
        "cursor",
        "restriction",
        "delete",
        "delete_quick",
        "update1",
        "alter",
        "join",
        "aggr",
        "extend",
        "to_pandas",
        "to_arrays",
        "fetch",
        "head",
        "tail",
        "preview",
        "validate",
        "populate",
        "progress",
        "key_source",
        "jobs",
        "parts",
        "insert_dataframe",
        "connection",
        "table_name",
        "master",
    ]
)


class TableMeta(type):
    """Lets the query operators and table methods be used on the class itself."""

    def __getattribute__(cls, name: str) -> Any:
        # a class a schema has bound (its database set) answers for an instance of itself
        if name in CLASS_LEVEL_API and type.__getattribute__(cls, "database") is not None:
            return getattr(cls(), name)
        return type.__getattribute__(cls, name)

    def __and__(cls, condition: Any) -> QueryExpression:
        return cls() & condition

    def __sub__(cls, condition: Any) -> QueryExpression:
        return cls() - condition

    def __mul__(cls, other: Any) -> QueryExpression:
        return cls() * other

    def __add__(cls, other: Any) -> QueryExpression:
        return cls() + other

    def __len__(cls) -> int:
        return len(cls())

    def __iter__(cls):
        return iter(cls())

    def __bool__(cls) -> bool:
        return True

    def __contains__(cls, key: Any) -> bool:
        return key in cls()

    def __neg__(cls) -> Any:
        return -cls()

    def __xor__(cls, other: Any) -> QueryExpression:
        return cls() ^ other

    def __matmul__(cls, other: Any) -> QueryExpression:
        return cls() @ other


def _not_configured(class_name: str) -> str:
    """The error for a table class no activated schema has bound (wording of SPEC §3)."""
    return (
        f"Table `{class_name}` is not properly configured: its schema is not activated. "
        "Decorate the class with an activated schema, e.g. schema = dj.Schema('database_name') "
        "or schema.activate('database_name')."
    )


def resolve_reference(ref: str, context: dict[str, Any], line: str) -> tuple[Any, dict[str, str]]:
    """Evaluate a foreign-key reference: a table, or a projection of one with renames only.

    Returns the parent table and the rename map {child_attr: parent_attr}.
    """
    try:
        target = eval(ref, dict(context))  # the definition's own Python expression
    except Exception as error:
        raise DataJointError(
            f"Foreign key reference {ref} could not be resolved: {error}"
        ) from None
    if isinstance(target, type) and issubclass(target, Table):
        target = target()
    if isinstance(target, Table) and not target._restriction:
        return target, {}
    if isinstance(target, QueryExpression) and not target._restriction:
        source = target._source
        if isinstance(source, m.TableSource):
            attr_map = {
                a.name: a.source
                for a in target.heading.all_attributes
                if a.source is not None and a.is_renamed
            }
            if not any(a.expression for a in target.heading.all_attributes):
                parent = FreeTable(target.connection, f"{source.schema}.{source.table}")
                return parent, attr_map
    raise DataJointError(
        f'Dependency "{ref}" is not supported (yet). Use a base table or its projection.'
    )


class Table(QueryExpression, metaclass=TableMeta):
    """A base table. Subclasses are declared with a ``definition`` and a schema decorator."""

    # None only on a class no schema has bound yet, which no query or write reaches
    database: str = None  # type: ignore[assignment]
    definition: str = ""
    declaration_context: dict[str, Any] | None = None
    tier_prefix: str = ""
    _table_name: str | None = None

    # ---- identity --------------------------------------------------------------------------
    @classmethod
    def class_name(cls) -> str:
        return cls.__name__

    @property
    def table_name(self) -> str:
        if self._table_name is None:
            raise DataJointError(_not_configured(type(self).__name__))
        return self._table_name

    @property
    def connection(self) -> Any:
        if self._connection is None:
            raise DataJointError(_not_configured(type(self).__name__))
        return self._connection

    @property
    def full_table_name(self) -> str:
        return self.connection.dialect.full_table_name(self.database, self.table_name)

    @property
    def _source(self) -> m.Node:
        key = (self.database, self.table_name)
        source = _SOURCES.get(key)
        if source is None:
            if len(_SOURCES) >= _MAX_SOURCES:
                _SOURCES.clear()
            source = _SOURCES[key] = m.TableSource(*key)
        return source

    @_source.setter
    def _source(self, value: m.Node) -> None:
        pass  # a base table's source is always itself

    @property
    def heading(self) -> Heading:
        return load_heading(self.connection, self.database, self.table_name)

    @property
    def is_declared(self) -> bool:
        return self.table_name in self.connection.introspection.list_tables(
            self.connection.run, self.database
        )

    @property
    def jobs(self) -> Any:
        """The jobs table of this auto-populated table (SPEC §9), declared on first use."""
        from .populate.jobs import jobs_of

        return jobs_of(self)

    # ---- declaration -----------------------------------------------------------------------
    def _compile(self, context: dict[str, Any]):
        dialect = self.connection.dialect
        limit = dialect.max_table_name_length
        if len(self.table_name) > limit:
            raise DataJointError(
                f"Table name `{self.table_name}` exceeds the max length of {limit}"
            )
        return compile_definition(
            self.definition,
            dialect=dialect,
            schema=self.database,
            table=self.table_name,
            context=context,
            resolve_reference=resolve_reference,
            auto_populated=getattr(self, "_auto_populated", False),
            settings=self.connection.config,
            is_manual=self.tier_prefix == "" and not getattr(self, "_master", None),
        )

    def declare(self, context: dict[str, Any] | None = None) -> None:
        """Create the table (CREATE TABLE IF NOT EXISTS) and record its lineage."""
        conn = self.connection
        if conn.in_transaction:
            raise DataJointError(
                "Cannot declare new tables inside a transaction, e.g. from inside a populate/make call"
            )
        compiled = self._compile(
            context if context is not None else (self.declaration_context or {})
        )
        ensure_lineage_table(conn, self.database)
        statements = conn.dialect.create_table_sql(compiled.spec)
        transactional = conn.dialect.capabilities.transactional_ddl
        try:
            if transactional:
                with conn.transaction:
                    for sql in statements:
                        conn.query(sql)
                    write_lineage(conn, self.database, self.table_name, compiled.lineage)
            else:
                for sql in statements:
                    conn.query(sql)
                try:
                    write_lineage(conn, self.database, self.table_name, compiled.lineage)
                except Exception:
                    self._drop_statements()
                    raise
        except AccessError:
            heading_cache(conn).pop((self.database, self.table_name), None)
            if not self.is_declared:
                raise AccessError(
                    f"Cannot declare table {self.full_table_name}. Check that you have CREATE "
                    f"privilege on schema `{self.database}` and REFERENCES privilege on any "
                    "referenced parent tables."
                ) from None
        except BaseException:
            forget_lineage(conn, self.database)  # the lineage rows may have been rolled back
            raise
        heading_cache(conn).pop((self.database, self.table_name), None)
        conn.dependencies.clear()

    # ---- writing ---------------------------------------------------------------------------
    def insert(
        self,
        rows: Any,
        replace: bool = False,
        skip_duplicates: bool = False,
        ignore_extra_fields: bool = False,
        allow_direct_insert: bool | None = None,
        chunk_size: int | None = None,
    ) -> None:
        """Insert rows (dicts, records, DataFrame, query expression, ...), all or nothing."""

        insert_rows(
            self,
            rows,
            replace=replace,
            skip_duplicates=skip_duplicates,
            ignore_extra_fields=ignore_extra_fields,
            allow_direct_insert=allow_direct_insert,
            chunk_size=chunk_size,
        )

    def insert1(self, row: Any, **kwargs: Any) -> None:
        """Insert one row."""
        self.insert((row,), **kwargs)

    @property
    def staged_insert1(self) -> Any:
        """A context manager that inserts one row whose ``<object@>`` values are written
        straight into the store (SPEC §4.5): ``with Table.staged_insert1 as st: ...``."""
        from .storage import storage_service

        return storage_service("StagedInsert")(self)

    # ---- dropping --------------------------------------------------------------------------
    def _drop_statements(self) -> None:
        for sql in self.connection.dialect.drop_table_sql(self.database, self.table_name):
            self.connection.query(sql)

    def drop_quick(self) -> None:
        """Drop this table with no cascade and no prompt (its lineage rows go too)."""
        from .write.drop import drop_quick

        drop_quick(self)

    def drop(self, prompt: bool | None = None, part_integrity: str = "enforce") -> None:
        """Drop this table and every table that depends on it, leaves first."""
        from .write.drop import drop
        from .write.safety import refuse_unmatched_restriction

        refuse_unmatched_restriction(self, "drop")
        drop(self, prompt=prompt, part_integrity=part_integrity)

    # ---- deleting, updating, validating, altering ------------------------------------------
    def delete(
        self,
        transaction: bool = True,
        prompt: bool | None = None,
        part_integrity: str = "enforce",
    ) -> int:
        """Delete the rows of this (restricted) table and every row that depends on them.

        Returns the number of rows deleted from this table itself (SPEC §8).
        """
        from .write.delete import delete
        from .write.safety import refuse_unmatched_restriction

        refuse_unmatched_restriction(self, "delete")
        return delete(self, transaction=transaction, prompt=prompt, part_integrity=part_integrity)

    def delete_quick(self, get_count: bool = False) -> int | None:
        """One DELETE of this (restricted) table: no cascade, no prompt."""
        from .write.delete import delete_quick
        from .write.safety import refuse_unmatched_restriction

        refuse_unmatched_restriction(self, "delete_quick")
        return delete_quick(self, get_count=get_count)

    def update1(self, row: Any) -> None:
        """Update the secondary attributes of one existing row, identified by its primary key."""
        from .write.safety import refuse_unmatched_restriction
        from .write.update import update1

        refuse_unmatched_restriction(self, "update1")
        update1(self, row)

    def validate(self, rows: Any, *, ignore_extra_fields: bool = False) -> Any:
        """Check rows as insert would, without inserting; returns a ValidationResult."""
        from .write.validate import validate_rows

        return validate_rows(self, rows, ignore_extra_fields=ignore_extra_fields)

    def alter(self, prompt: bool = True, context: dict[str, Any] | None = None) -> None:
        """Change the declared table to match the class's current definition (SPEC §3.4)."""
        from .write.alter import alter

        alter(self, prompt=prompt, context=context)

    def insert_dataframe(self, df: Any, index_as_pk: bool | None = None, **kwargs: Any) -> None:
        """Insert a pandas DataFrame; ``index_as_pk`` says whether its index holds the key."""
        from .write.frames import insert_dataframe

        insert_dataframe(self, df, index_as_pk=index_as_pk, **kwargs)

    # ---- navigation and description --------------------------------------------------------
    def _node(self) -> str:
        return f"{self.database}.{self.table_name}"

    def _free_table(self, node: str) -> FreeTable:
        """The table ``schema.table`` on this table's connection (how the write layer, which
        does not import this module, reaches the tables a cascade or drop touches)."""
        return FreeTable(self.connection, node)

    def _loaded_dependencies(self):
        deps = self.connection.dependencies
        deps.load(force=False, schema_names=set(self.connection.schemas) | {self.database})
        return deps

    def parents(
        self, primary: bool | None = None, as_objects: bool = False, foreign_key_info: bool = False
    ) -> list[Any]:
        """Tables this table references."""
        edges = self._loaded_dependencies().parents(self._node(), primary)
        return self._edge_result(edges, as_objects, foreign_key_info)

    def children(
        self, primary: bool | None = None, as_objects: bool = False, foreign_key_info: bool = False
    ) -> list[Any]:
        """Tables that reference this table."""
        edges = self._loaded_dependencies().children(self._node(), primary)
        return self._edge_result(edges, as_objects, foreign_key_info)

    def _edge_result(
        self, edges: list[tuple[str, dict]], as_objects: bool, info: bool
    ) -> list[Any]:
        out = []
        for name, props in edges:
            item = self._free_table(name) if as_objects else self._quoted(name)
            out.append((item, props) if info else item)
        return out

    def _quoted(self, node: str) -> str:
        schema, _, table = node.partition(".")
        return self.connection.dialect.full_table_name(schema, table)

    def ancestors(self, as_objects: bool = False) -> list[Any]:
        names = self._loaded_dependencies().ancestors(self._node())
        return [self._free_table(n) if as_objects else self._quoted(n) for n in names]

    def descendants(self, as_objects: bool = False) -> list[Any]:
        names = self._loaded_dependencies().descendants(self._node())
        return [self._free_table(n) if as_objects else self._quoted(n) for n in names]

    def describe(self, context: dict[str, Any] | None = None, printout: bool = False) -> str:
        """The definition that declares this table again."""
        from .describe import describe_table

        text = describe_table(self, context)
        if printout:
            logger.info("\n" + text)
        return text


class FreeTable(Table):
    """A table addressed by its name, with no class: ``FreeTable(conn, "schema.table")``."""

    def __init__(self, conn_or_name: Any, full_table_name: str | None = None) -> None:
        if full_table_name is None:
            from .connection import conn, guard_global_state

            guard_global_state()
            connection, full_table_name = conn(), conn_or_name
        else:
            connection = conn_or_name
        schema, table = _split_full_name(full_table_name)
        self._connection = connection
        self.database = schema
        self._table_name = table
        self._restriction = ()

    def __repr__(self) -> str:
        return f"FreeTable({self.full_table_name})\n" + super().__repr__()


def _split_full_name(name: str) -> tuple[str, str]:
    """``schema.table``, `` `schema`.`table` `` or ``"schema"."table"`` -> (schema, table)."""
    cleaned = name.replace("`", "").replace('"', "")
    schema, sep, table = cleaned.partition(".")
    if not sep:
        raise DataJointError(f"Full table name {name} must have the form schema.table")
    return schema, table
