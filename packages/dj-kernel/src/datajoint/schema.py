"""Schemas: a database namespace whose decorator binds table classes and declares them (SPEC §2)."""

from __future__ import annotations

import inspect
import logging
import re
import types
import warnings
from collections.abc import Iterator
from typing import Any

from .connection import Connection, conn, guard_global_state
from .errors import AccessError, DataJointError
from .heading import forget_schema, heading_cache
from .lineage import LINEAGE_TABLE, lineage_table_exists, read_lineage, write_lineage
from .naming import to_snake_case
from .table import FreeTable, Table
from .user_tables import Computed, Imported, Lookup, Manual, Part

logger = logging.getLogger("datajoint")


def _caller_locals(depth: int = 1) -> dict[str, Any]:
    frame = inspect.currentframe()
    for _ in range(depth + 1):
        frame = frame.f_back if frame is not None else None
    return dict(frame.f_locals) if frame is not None else {}


class Schema:
    """A database schema. Decorate table classes with it to bind and declare them."""

    def __init__(
        self,
        schema_name: str | None = None,
        context: dict[str, Any] | None = None,
        *,
        connection: Connection | None = None,
        create_schema: bool = True,
        create_tables: bool | None = None,
        add_objects: dict[str, Any] | None = None,
    ) -> None:
        self.context = context
        self.database: str | None = None
        self._connection = connection
        self.create_schema = create_schema
        self.create_tables = create_tables
        self.add_objects = add_objects
        self._deferred: list[tuple[type, dict[str, Any]]] = []
        if schema_name is not None:
            self.activate(schema_name)

    # ---- activation ------------------------------------------------------------------------
    @property
    def connection(self) -> Connection:
        if self._connection is None:
            guard_global_state()
            self._connection = conn()
        return self._connection

    def is_activated(self) -> bool:
        return self.database is not None

    @property
    def _schema_name(self) -> str:
        """The database name of the activated schema."""
        if self.database is None:
            raise DataJointError("Schema must be activated first.")
        return self.database

    def activate(
        self,
        schema_name: str | None = None,
        *,
        connection: Connection | None = None,
        create_schema: bool | None = None,
        create_tables: bool | None = None,
        add_objects: dict[str, Any] | None = None,
    ) -> None:
        """Bind this schema to a database, creating it when allowed."""
        if schema_name is None:
            if self.database is not None and self.exists:
                return
            raise DataJointError("Please provide a schema_name to activate the schema.")
        if self.database is not None:
            if self.database == schema_name:
                return
            raise DataJointError(f"The schema is already activated for schema {self.database}.")
        if create_schema is not None:
            self.create_schema = create_schema
        if create_tables is not None:
            self.create_tables = create_tables
        if add_objects:
            self.add_objects = {**(self.add_objects or {}), **add_objects}
        if connection is not None:
            self._connection = connection
        config = self.connection.config
        if getattr(config.database, "database_prefix", ""):
            warnings.warn(
                "database.database_prefix is deprecated and is not applied.", DeprecationWarning
            )
        self.database = schema_name
        conn_ = self.connection
        if not self._exists_in_catalog():
            if not self.create_schema:
                self.database = None
                raise DataJointError(
                    f"Database `{schema_name}` has not yet been declared. "
                    "Set argument create_schema=True to create it."
                )
            forget_schema(conn_, schema_name)  # anything cached of a schema of that name is gone
            try:
                for sql in conn_.dialect.create_schema_sql(schema_name):
                    conn_.query(sql)
            except AccessError:
                self.database = None
                raise DataJointError(
                    f"Schema `{schema_name}` does not exist and could not be created. Check permissions."
                ) from None
        conn_.schemas[schema_name] = self
        conn_.dependencies.clear()
        deferred, self._deferred = self._deferred, []
        for cls, context in deferred:
            self._bind(cls, {**context, **(self.add_objects or {})})

    def _exists_in_catalog(self) -> bool:
        return self.connection.introspection.schema_exists(self.connection.run, self.database)

    @property
    def exists(self) -> bool:
        if self.database is None:
            raise DataJointError("Schema must be activated first.")
        return self._exists_in_catalog()

    @property
    def _create_tables(self) -> bool:
        if self.create_tables is not None:
            return self.create_tables
        return bool(self.connection.config.database.create_tables)

    # ---- decorating ------------------------------------------------------------------------
    def __call__(self, cls: type, *, context: dict[str, Any] | None = None) -> type:
        """The decorator: bind ``cls`` (and its parts) to this schema and declare it."""
        if issubclass(cls, Part):
            raise DataJointError("The schema decorator should not be applied to Part tables.")
        context = context if context is not None else (self.context or _caller_locals(1))
        if self.database is None:
            self._deferred.append((cls, context))
        else:
            self._bind(cls, context)
        return cls

    def _bind(self, cls: type[Any], context: dict[str, Any]) -> None:
        context = {**context, "self": cls, cls.__name__: cls}
        self._bind_one(cls, context)
        for part in part_classes(cls):
            part._master = cls
            self._bind_one(part, {**context, "master": cls, "self": part})

    def _bind_one(self, cls: type[Any], context: dict[str, Any]) -> None:
        cls.database = self._schema_name
        cls._connection = self.connection
        cls.declaration_context = context
        cls._table_name_cache = None
        if (
            isinstance(cls.definition, str)
            and cls.definition
            and "Table definition:" not in (cls.__doc__ or "")
        ):
            cls.__doc__ = (cls.__doc__ or "") + "\nTable definition:\n\n" + cls.definition
        instance = cls()
        declared = instance.is_declared
        if not declared and self._create_tables:
            instance.declare(context)  # raises unless the table exists afterwards
            declared = True
        if declared and issubclass(cls, Lookup) and cls.contents is not None:
            self._insert_contents(instance)

    def _insert_contents(self, table: Table) -> None:
        contents = list(type(table).contents)
        if len(contents) > len(table):
            if any(a.autoincrement for a in table.heading.all_attributes):
                logger.warning(
                    "Contents has changed but cannot be inserted because %s has autoincrement.",
                    type(table).__name__,
                )
                return
            names = table.heading.names
            rows = [
                r if isinstance(r, dict) else dict(zip(names, r, strict=True)) for r in contents
            ]
            table.insert(rows, skip_duplicates=True)

    # ---- contents --------------------------------------------------------------------------
    def _table_names(self) -> list[str]:
        return self.connection.introspection.list_tables(self.connection.run, self.database)

    def list_tables(self) -> list[str]:
        """The user tables of this schema in topological order (hidden ``~`` tables left out)."""
        deps = self.connection.dependencies
        deps.load(force=False, schema_names=set(self.connection.schemas) | {self._schema_name})
        prefix = self._schema_name + "."
        ordered = [n[len(prefix) :] for n in deps.topo_sort() if n.startswith(prefix)]
        rest = [t for t in self._table_names() if not t.startswith("~") and t not in ordered]
        return ordered + sorted(rest)

    def get_table(self, name: str) -> FreeTable:
        """The table named ``name`` (a class name or a table name, with or without tier prefix)."""
        if name[:1].isupper():
            name = to_snake_case(name)
        existing = set(self._table_names())
        for prefix in ("", "#", "_", "__"):
            if prefix + name in existing:
                return FreeTable(self.connection, f"{self.database}.{prefix + name}")
        raise DataJointError(f"Table `{name}` does not exist in schema `{self.database}`.")

    def __getitem__(self, name: str) -> FreeTable:
        return self.get_table(name)

    def __contains__(self, name: str) -> bool:
        try:
            self.get_table(name)
        except DataJointError:
            return False
        return True

    def __iter__(self) -> Iterator[FreeTable]:
        for name in self.list_tables():
            yield FreeTable(self.connection, f"{self.database}.{name}")

    def __repr__(self) -> str:
        return f"Schema `{self.database}`\n"

    @property
    def jobs(self) -> list[Any]:
        """The Job of each Computed/Imported table of this schema whose jobs table exists."""
        from .populate.jobs import schema_jobs

        return schema_jobs(self)

    # ---- lineage ---------------------------------------------------------------------------
    @property
    def lineage_table_exists(self) -> bool:
        return lineage_table_exists(self.connection, self._schema_name)

    @property
    def lineage(self) -> dict[str, str]:
        rows = read_lineage(self.connection, self._schema_name) or {}
        return {
            f"{self.database}.{table}.{attr}": origin
            for table, attrs in rows.items()
            for attr, origin in attrs.items()
        }

    def rebuild_lineage(self) -> None:
        """Recompute every lineage row of this schema from its keys and foreign keys."""
        from .lineage import ensure_lineage_table

        conn_, name = self.connection, self._schema_name
        ensure_lineage_table(conn_, name)
        fks = conn_.introspection.foreign_keys(conn_.run, [name])
        catalog = conn_.introspection.schema_columns(conn_.run, name)
        for table in self.list_tables():
            heading_cache(conn_).pop((name, table), None)
            columns = catalog.get(table, [])
            lineage: dict[str, str] = {}
            for fk in (f for f in fks if f.table == table and not f.ref_table.startswith("~")):
                parent_rows = (read_lineage(conn_, fk.ref_schema) or {}).get(fk.ref_table, {})
                for child, parent in zip(fk.columns, fk.ref_columns, strict=True):
                    if parent not in parent_rows:
                        raise DataJointError(
                            f"Cannot rebuild lineage for `{self.database}`.`{table}`: referenced "
                            f"attribute `{fk.ref_schema}`.`{fk.ref_table}`.`{parent}` has no lineage. "
                            f"Rebuild lineage for schema `{fk.ref_schema}` first."
                        )
                    lineage[child] = parent_rows[parent]
            for column in columns:
                if column.in_key and column.name not in lineage and not column.name.startswith("_"):
                    lineage[column.name] = f"{self.database}.{table}.{column.name}"
            write_lineage(conn_, name, table, lineage)

    # ---- classes ---------------------------------------------------------------------------
    def make_classes(self, into: dict[str, Any] | None = None) -> None:
        """Create a class for each table of the schema that ``into`` does not have yet."""
        if into is None:
            into = self.context if self.context is not None else _caller_locals(1)
        for cls in classes_for_schema(self):
            if cls.__name__ not in into:
                into[cls.__name__] = cls

    # ---- dropping --------------------------------------------------------------------------
    def drop(self, prompt: bool | None = None) -> None:
        """Drop the whole schema with every table in it (refused while tables of other schemas
        depend on it)."""
        from .write.drop import drop_schema

        drop_schema(self, prompt=prompt)


def part_classes(master: type) -> list[type[Part]]:
    """The Part classes nested in ``master``, its own and those it inherits, in declaration order.

    An inherited part becomes a subclass of its own set on ``master``, so that binding it (to
    ``master``'s schema, with ``-> master`` meaning ``master``) leaves the base class's part as it
    was: ``class D(B)`` declares ``d__h`` referencing ``d`` while ``B.H`` stays ``B``'s.
    """
    names: list[str] = []
    for klass in reversed(master.__mro__):
        for name, value in vars(klass).items():
            is_part = isinstance(value, type) and issubclass(value, Part)
            if is_part and name[:1].isupper() and name not in names:
                names.append(name)
    parts: list[type[Part]] = []
    for name in names:
        part = getattr(master, name)
        if name not in master.__dict__:
            qualname = f"{master.__qualname__}.{part.__name__}"
            attrs = {"__module__": master.__module__, "__qualname__": qualname}
            part = type(part.__name__, (part,), attrs)
            setattr(master, name, part)
        parts.append(part)
    return parts


_TIER_PATTERNS = (
    (re.compile(r"^__[a-z]"), Computed),
    (re.compile(r"^_[a-z]"), Imported),
    (re.compile(r"^#[a-z]"), Lookup),
    (re.compile(r"^[a-z]"), Manual),
)


def _class_name(table_name: str) -> str:
    return "".join(p.capitalize() for p in table_name.lstrip("#_").split("_"))


def classes_for_schema(schema: Schema) -> list[type]:
    """One bound class per table of an existing schema; parts nested in their masters."""
    masters: dict[str, type] = {}
    out: list[type] = []
    for table_name in schema.list_tables():
        master_name, sep, part_name = table_name.partition("__")
        if table_name.startswith("__"):
            master_name, sep, part_name = table_name[2:].partition("__")
            master_name = "__" + master_name
        if sep and part_name:
            master = masters.get(master_name)
            if master is None:
                raise DataJointError(
                    f"The table {table_name} does not follow DataJoint naming conventions"
                )
            part = type(_class_name(part_name), (Part,), {"_master": master})
            _bind_existing(part, schema, table_name)
            setattr(master, part.__name__, part)
            continue
        tier = next(t for pattern, t in _TIER_PATTERNS if pattern.match(table_name))
        cls = type(_class_name(table_name), (tier,), {})
        _bind_existing(cls, schema, table_name)
        masters[table_name] = cls
        out.append(cls)
    return out


def _bind_existing(cls: type[Any], schema: Schema, table_name: str) -> None:
    cls.database = schema._schema_name
    cls._connection = schema.connection
    cls._table_name_cache = table_name
    cls.declaration_context = {}


class VirtualModule(types.ModuleType):
    """A module with a ``schema`` attribute and one class per table of an existing schema."""

    def __init__(
        self,
        module_name: str,
        schema_name: str,
        *,
        create_schema: bool = False,
        create_tables: bool = False,
        connection: Connection | None = None,
        add_objects: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(module_name)
        if add_objects:
            self.__dict__.update(add_objects)
        schema = Schema(
            schema_name,
            connection=connection,
            create_schema=create_schema,
            create_tables=create_tables,
        )
        self.__dict__["schema"] = schema
        for cls in classes_for_schema(schema):
            self.__dict__[cls.__name__] = cls


def virtual_schema(
    schema_name: str,
    *,
    connection: Connection | None = None,
    create_schema: bool = False,
    create_tables: bool = False,
    add_objects: dict[str, Any] | None = None,
) -> VirtualModule:
    """A :class:`VirtualModule` for an existing schema."""
    return VirtualModule(
        schema_name,
        schema_name,
        connection=connection,
        create_schema=create_schema,
        create_tables=create_tables,
        add_objects=add_objects,
    )


def list_schemas(connection: Connection | None = None) -> list[str]:
    """Every schema on the server (or in the SQLite file)."""
    connection = connection or conn()
    return connection.introspection.list_schemas(connection.run)


__all__ = ["LINEAGE_TABLE", "Schema", "VirtualModule", "list_schemas", "virtual_schema"]
