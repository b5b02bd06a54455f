"""``Table.alter()``: bring a declared table in line with its class's definition (SPEC §3.4).

The new definition is compiled as if declared afresh and compared with the catalog. Secondary
attributes may be added, modified, renamed (a comment starting ``{old_name}``) and dropped, the
table comment changed, secondary foreign keys and indexes added or removed. Primary-key changes,
and foreign keys that touch the primary key, raise NotImplementedError.

Atomicity: PostgreSQL and SQLite run every statement in one transaction (DDL is transactional
there; SQLite rebuilds the table when it cannot alter in place, with foreign keys checked before
commit). MySQL/MariaDB run all changes as one ``ALTER TABLE`` statement, which InnoDB applies
completely or not at all; the lineage rows of added or removed foreign keys are written right
after it, in their own transaction -- that step, and only that step, is not atomic with the ALTER.
"""

from __future__ import annotations

import inspect
import logging
import re
from dataclasses import replace
from typing import Any

from ..backend.contract import ColumnSpec, IndexSpec
from ..backend.dialect import AlterClause
from ..declare.compile import compile_attribute, default_sql
from ..declare.parser import AttributeLine
from ..errors import AccessError, DataJointError, IntegrityError
from ..heading import heading_cache, split_comment
from ..lineage import forget_lineage, lineage_table_exists, write_lineage
from .atomic import atomic
from .prompt import ask_yes

logger = logging.getLogger("datajoint")

_RENAME = re.compile(r"^\{\s*(?P<old>[a-z][a-z0-9_]*)\s*\}\s*(?P<rest>.*)$", re.S)


def _declared_default(attr: Any) -> str | None:
    """A catalog default written as a definition would declare it."""
    default = attr.default
    if default is None or default == "null":
        return default
    if default.upper().startswith("CURRENT_TIMESTAMP"):
        return default
    return '"' + default.replace('"', '\\"') + '"'


def _same_type(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


class AlterPlan:
    """The clauses that turn the declared table into its class's current definition."""

    def __init__(self, table: Any, context: dict[str, Any]) -> None:
        self.table = table
        conn = self.conn = table.connection
        self.dialect = conn.dialect
        heading_cache(conn).pop((table.database, table.table_name), None)
        heading = self.heading = table.heading
        intro, run = conn.introspection, conn.run
        compiled = table._compile(context)
        self.lineage = compiled.lineage
        spec = compiled.spec
        if list(spec.primary_key) != heading.full_primary_key:
            raise NotImplementedError("table.alter cannot alter the primary key (yet).")
        self.old_fks = [
            fk for fk in intro.foreign_keys(run, [table.database]) if fk.table == table.table_name
        ]
        self.old_indexes = intro.indexes(run, table.database, table.table_name)
        spec, renames = self._renames(spec)
        self.spec = spec
        self.clauses: list[AlterClause] = []
        self.fk_changed = False
        self._foreign_keys()
        self._attributes(renames)
        self._indexes()
        comment = spec.comment
        if comment != heading.table_comment:
            self.clauses.append(AlterClause("table_comment", comment=comment))

    # ---- renames ---------------------------------------------------------------------------
    def _renames(self, spec: Any) -> tuple[Any, dict[str, str]]:
        """Strip ``{old}`` rename markers from comments; returns the spec and {new: old}."""
        old_names = set(self.heading._attributes)
        renames: dict[str, str] = {}
        columns = []
        for column in spec.columns:
            declared, comment = split_comment(column.comment)
            match = _RENAME.match(comment) if declared is not None else None
            if match is None:
                columns.append(column)
                continue
            old = match.group("old")
            column = replace(column, comment=f":{declared}:{match.group('rest')}")
            columns.append(column)
            if old in renames.values():
                raise DataJointError(f"Alter attempted to rename attribute {{{old}}} twice.")
            if old not in old_names:
                if column.name in old_names:
                    continue  # renamed by an earlier alter(): nothing left to do
                raise DataJointError(f"Attribute {old} does not exist in the original definition")
            if old != column.name:
                renames[column.name] = old
        if renames and not self.dialect.capabilities.rename_column:
            new, old = next(iter(renames.items()))
            raise DataJointError(
                f"Renaming attribute `{old}` to `{new}` with alter() is not supported on "
                f"{self.dialect.name}. No change was made."
            )
        return replace(spec, columns=tuple(columns)), renames

    # ---- foreign keys ----------------------------------------------------------------------
    def _foreign_keys(self) -> None:
        def signature(fk: Any) -> tuple:
            return (tuple(fk.columns), fk.ref_schema, fk.ref_table, tuple(fk.ref_columns))

        old = {signature(fk): fk for fk in self.old_fks}
        new = {signature(fk): fk for fk in self.spec.foreign_keys}
        key = set(self.spec.primary_key)
        changed = [old[s] for s in old if s not in new] + [new[s] for s in new if s not in old]
        if any(set(fk.columns) & key for fk in changed):
            raise NotImplementedError("table.alter cannot alter foreign keys (yet).")
        self.added_fks = [new[s] for s in new if s not in old]
        self.removed_fks = [old[s] for s in old if s not in new]
        self.fk_columns = {c for fk in self.old_fks for c in fk.columns} | {
            c for fk in self.spec.foreign_keys for c in fk.columns
        }
        for fk in self.removed_fks:
            self.clauses.append(AlterClause("drop_foreign_key", name=fk.name))
        self.fk_changed = bool(self.added_fks or self.removed_fks)

    # ---- attributes ------------------------------------------------------------------------
    def _old_column(self, attr: Any, new: ColumnSpec) -> ColumnSpec | None:
        """The current column as a ColumnSpec (for dialects that compare definitions)."""
        if attr.name in self.fk_columns:
            return replace(new, nullable=attr.nullable, name=attr.name)
        line = AttributeLine(
            name=attr.name,
            type=attr.declared_type,
            default=_declared_default(attr),
            comment=attr.comment,
            in_key=False,
            line=f"{attr.name} : {attr.declared_type}",
        )
        try:
            return compile_attribute(self.dialect, self.table.database, line)
        except Exception:  # an unknown codec or native type: compare nothing, change everything
            return None

    def _changed(self, attr: Any, new: ColumnSpec) -> bool:
        if attr.name in self.fk_columns:
            return attr.nullable != new.nullable
        declared, comment = split_comment(new.comment)
        if (
            declared is None
            or not _same_type(declared, attr.declared_type)
            or comment != attr.comment
        ):
            return True
        if attr.nullable != new.nullable:
            return True
        return not new.nullable and new.default != default_sql(
            self.dialect, _declared_default(attr)
        )

    def _attributes(self, renames: dict[str, str]) -> None:
        heading, spec = self.heading, self.spec
        key = set(spec.primary_key)
        new_columns = [c for c in spec.columns if not c.name.startswith("_")]
        sources = {c.name: renames.get(c.name, c.name) for c in new_columns}
        kept_sources = set(sources.values())
        current = [a.name for a in heading.all_attributes if not a.is_hidden]
        for attr in heading.all_attributes:
            if attr.is_hidden or attr.in_key or attr.name in kept_sources:
                continue
            self.clauses.append(AlterClause("drop_column", name=attr.name))
            current.remove(attr.name)
        inverse = {old: new for new, old in renames.items()}
        current = [inverse.get(n, n) for n in current]
        positions = self.dialect.capabilities.column_positions
        previous = ""
        for column in new_columns:
            if column.name in key:
                if self._changed(heading[column.name], column):
                    raise NotImplementedError("table.alter cannot alter the primary key (yet).")
                previous = column.name
                continue
            source = sources[column.name]
            at = current.index(previous) + 1 if previous else 0
            if source not in heading._attributes or heading[source].is_hidden:
                self.clauses.append(
                    AlterClause("add_column", column=column, after=previous if positions else None)
                )
                current.insert(at, column.name)
            else:
                attr = heading[source]
                moved = positions and current.index(column.name) != at
                if moved:
                    current.remove(column.name)
                    current.insert(current.index(previous) + 1 if previous else 0, column.name)
                after = previous if moved else None
                old_column = self._old_column(attr, column)
                if source != column.name:
                    self.clauses.append(
                        AlterClause(
                            "rename_column",
                            column=column,
                            old_column=old_column,
                            name=source,
                            after=after,
                        )
                    )
                elif moved or self._changed(attr, column):
                    self.clauses.append(
                        AlterClause(
                            "modify_column", column=column, old_column=old_column, after=after
                        )
                    )
            previous = column.name
        for fk in self.added_fks:
            self.clauses.append(AlterClause("add_foreign_key", foreign_key=fk))

    # ---- indexes ---------------------------------------------------------------------------
    def _indexes(self) -> None:
        def declared(indexes: list[tuple[tuple[str, ...], bool, str | None]], fks: Any) -> dict:
            support = {tuple(fk.columns) for fk in fks}
            return {
                (cols, unique): name
                for cols, unique, name in indexes
                if unique or cols not in support
            }

        old = declared(
            [(tuple(ix.columns), ix.unique, ix.name) for ix in self.old_indexes], self.old_fks
        )
        new = declared(
            [(tuple(ix.columns), ix.unique, None) for ix in self.spec.indexes],
            self.spec.foreign_keys,
        )
        names = set(self.heading._attributes) | {c.name for c in self.spec.columns}
        for cols, _unique in list(old) + list(new):
            if any(c not in names for c in cols):
                raise NotImplementedError("table.alter cannot alter indexes (yet)")
        dropped = {c.name for c in self.clauses if c.action == "drop_column"}
        for (cols, unique), name in old.items():
            if (cols, unique) not in new and not set(cols) & dropped:
                self.clauses.insert(0, AlterClause("drop_index", name=name))
        for cols, unique in new:
            if (cols, unique) not in old:
                self.clauses.append(AlterClause("add_index", index=IndexSpec(cols, unique)))
        if not self.dialect.capabilities.auto_indexes_foreign_keys:
            for fk in self.added_fks:
                support = IndexSpec(tuple(fk.columns))
                if support in self.spec.indexes:
                    self.clauses.append(AlterClause("add_index", index=support))


def _caller_context() -> dict[str, Any]:
    frame = inspect.currentframe()
    for _ in range(3):  # _caller_context <- alter <- Table.alter <- the user's code
        frame = frame.f_back if frame is not None else None
    if frame is None:
        return {}
    return {**frame.f_globals, **frame.f_locals}


def _check_foreign_keys(conn: Any, table: Any) -> None:
    """Where the backend cannot enforce foreign keys during a rebuild, check them afterwards."""
    dialect = conn.dialect
    names = [(table.database, table.table_name)]
    for fk in conn.introspection.foreign_keys(conn.run, conn.introspection.list_schemas(conn.run)):
        if (fk.ref_schema, fk.ref_table) == names[0] and (fk.schema, fk.table) not in names:
            names.append((fk.schema, fk.table))
    for schema, name in names:
        sql = dialect.foreign_key_check_sql(schema, name)
        if sql is not None and conn.query(sql).fetchall():
            raise IntegrityError(
                f"alter() would break foreign keys of {dialect.full_table_name(schema, name)}; "
                "no change was made."
            )


def alter(table: Any, prompt: bool = True, context: dict[str, Any] | None = None) -> None:
    """Alter the declared table to match ``table.definition`` (SPEC §3.4)."""
    conn = table.connection
    if conn.in_transaction:
        raise DataJointError(
            "Cannot update table declaration inside a transaction, e.g. from inside a "
            "populate/make call"
        )
    if not isinstance(table.definition, str) or not table.definition.strip():
        raise DataJointError(f"Table {table.full_table_name} has no definition to alter to.")
    if context is None:
        context = table.declaration_context or _caller_context()
    plan = AlterPlan(table, context)
    if not plan.clauses:
        if prompt:
            logger.warning("Nothing to alter.")
        return
    dialect = conn.dialect
    statements = dialect.alter_table_sql(plan.spec, plan.clauses)
    if prompt:
        print("\n".join(statements))
        if not ask_yes("Execute?"):
            return
    before, after = dialect.alter_session_sql(plan.spec, plan.clauses)
    what = f"Alter of {table.full_table_name}"
    record_lineage = plan.fk_changed and lineage_table_exists(conn, table.database)
    try:
        for sql in before:
            conn.query(sql)
        if dialect.capabilities.transactional_ddl:
            with atomic(conn, what):
                for sql in statements:
                    conn.query(sql)
                if before:
                    _check_foreign_keys(conn, table)
                if record_lineage:
                    write_lineage(conn, table.database, table.table_name, plan.lineage)
        else:
            with atomic(conn, what, single=len(statements) == 1):
                for sql in statements:
                    conn.query(sql)
            if record_lineage:
                with atomic(conn, f"Lineage update after {what}"):
                    write_lineage(conn, table.database, table.table_name, plan.lineage)
    except AccessError as error:  # SPEC §3.4: an access error during ALTER is not raised
        logger.warning("%s was refused: %s", what, error)
    finally:
        for sql in after:
            conn.query(sql)
        heading_cache(conn).pop((table.database, table.table_name), None)
        if record_lineage:  # the lineage rows may have been rolled back with the ALTER
            forget_lineage(conn, table.database)
        conn.dependencies.clear()
