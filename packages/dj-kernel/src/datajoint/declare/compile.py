"""Compiles a parsed definition into a backend-neutral TableSpec plus the table's lineage."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..backend.contract import ColumnSpec, ForeignKeySpec, IndexSpec, TableSpec
from ..errors import DataJointError
from .defaults import InvalidDefaultError, default_sql
from .parser import AttributeLine, ForeignKeyLine, IndexLine, parse_definition
from .types import TypeSpec, enum_values, normalize_core_type, parse_type

logger = logging.getLogger("datajoint")

_AUTO_INCREMENT = re.compile(r"\s+auto_increment\b", re.I)

JOB_METADATA = (
    "_job_start_time = null : datetime(3) # when computation began",
    "_job_duration = null : float32 # computation duration in seconds",
    '_job_version = "" : varchar(64) # code version',
)
PROVENANCE = "_prov = null : json # extrinsic provenance for a row that entered from outside"
SINGLETON = "_singleton = 1 : bool # singleton primary key"

#: ``(reference, context, line) -> (parent table, {child_attr: parent_attr})``: evaluates a
#: foreign-key reference. The table layer supplies it, so declaration never imports tables.
ReferenceResolver = Callable[[str, dict[str, Any], str], tuple[Any, dict[str, str]]]


@dataclass
class CompiledTable:
    """What declaring a table needs: the DDL spec and the lineage of each attribute."""

    spec: TableSpec
    lineage: dict[str, str] = field(default_factory=dict)


@dataclass
class _Builder:
    dialect: Any
    schema: str
    table: str
    columns: dict[str, ColumnSpec] = field(default_factory=dict)
    primary_key: list[str] = field(default_factory=list)
    foreign_keys: list[ForeignKeySpec] = field(default_factory=list)
    indexes: list[IndexSpec] = field(default_factory=list)
    lineage: dict[str, str] = field(default_factory=dict)
    fk_attributes: set[str] = field(default_factory=set)

    def add(self, column: ColumnSpec, in_key: bool) -> None:
        if column.name in self.columns:
            return  # a second declaration of the same name is ignored: the first wins
        self.columns[column.name] = column
        if in_key:
            self.primary_key.append(column.name)


def compile_attribute(
    dialect: Any, schema: str, line: AttributeLine, *, table: str | None = None
) -> ColumnSpec:
    """A ColumnSpec for one attribute line; checks the default and key rules.

    ``table`` names the table in error messages.
    """
    spec = parse_type(line.type)
    nullable = line.default is not None and line.default.lower() == "null"
    if nullable and line.in_key:
        raise DataJointError(f'Primary key attributes cannot be nullable in line "{line.line}"')
    autoincrement = False
    enum = None
    codec_blob = False
    final_type = None  # the type a codec stores in
    if spec.kind == "core":
        assert spec.core is not None
        try:
            sql_type = dialect.core_type_sql(normalize_core_type(spec.text), schema=schema)
        except ValueError as error:
            raise DataJointError(f'{error} in line "{line.line}"') from None
        if spec.core == "enum":
            enum = enum_values(spec.text)
    elif spec.kind == "native":
        logger.warning(
            'Native type %s in line "%s" is not portable across backends; '
            "consider a core type (int32, float64, varchar(n), ...).",
            spec.text,
            line.line,
        )
        if spec.is_blob_like:
            logger.warning("Native type %s stores raw bytes without serialization.", spec.text)
        autoincrement = bool(_AUTO_INCREMENT.search(spec.text))
        sql_type = _AUTO_INCREMENT.sub("", spec.text).strip()
    else:
        final = _codec_final_type(spec, line)
        final_type = final.text
        if final.kind == "core":
            try:
                sql_type = dialect.core_type_sql(normalize_core_type(final.text), schema=schema)
            except ValueError as error:
                raise DataJointError(f'{error} in line "{line.line}"') from None
            enum = enum_values(final.text) if final.core == "enum" else None
        else:
            sql_type = _AUTO_INCREMENT.sub("", final.text).strip()
        if line.in_key:  # the heading loader refuses codec columns in the key
            raise DataJointError("Blob or JSON attributes are not allowed in the primary key")
        codec_blob = final.is_blob_like
    try:
        default = default_sql(dialect, line.default, spec.text, final_type=final_type)
    except InvalidDefaultError as error:
        where = f" of table `{schema}`.`{table}`" if table else f" in schema `{schema}`"
        raise InvalidDefaultError(
            f"Invalid default {line.default} of attribute `{line.name}`{where}: {error}. "
            f"Declare a literal of type {spec.text}, null, or no default "
            f'(in line "{line.line}").'
        ) from None
    # checked on every backend (not only where the native type is a BLOB) so that a definition
    # that declares on one backend declares on all of them
    blob_like = spec.is_blob_like or codec_blob or "blob" in sql_type.lower()
    if blob_like and line.default is not None and not nullable:
        raise DataJointError(
            f"The default value for blob attributes can only be NULL in:\n{line.line}"
        )
    if line.in_key and (spec.core == "json" or spec.is_blob_like or "blob" in sql_type.lower()):
        raise DataJointError("Blob or JSON attributes are not allowed in the primary key")
    return ColumnSpec(
        name=line.name,
        sql_type=sql_type,
        nullable=nullable,
        default=None if nullable else default,
        comment=f":{spec.text}:{line.comment}",
        autoincrement=autoincrement,
        enum_values=enum,
    )


def _codec_final_type(spec: TypeSpec, line: AttributeLine) -> TypeSpec:
    """The core or native type a codec column's chain ends in (SPEC §3.3, §4.1)."""
    from ..codecs import resolve_dtype

    try:
        final, chain, _store = resolve_dtype(spec.text)
    except DataJointError as error:
        message = error.args[0] if error.args else str(error)
        raise type(error)(f'{message} (in line "{line.line}")') from error
    try:
        final_spec = parse_type(final)
    except DataJointError:
        final_spec = None
    if final_spec is None or final_spec.kind == "codec":
        raise DataJointError(f"Invalid dtype '{final}' in codec <{chain[-1].name}>.")
    return final_spec


def _compile_foreign_key(
    builder: _Builder,
    line: ForeignKeyLine,
    context: dict[str, Any],
    resolve_reference: ReferenceResolver,
) -> None:
    parent, attr_map = resolve_reference(line.ref, context, line.line)
    parent_heading = parent.heading
    child_columns, parent_columns = [], []
    for parent_attr in parent_heading.full_primary_key:
        child_attr = next((c for c, p in attr_map.items() if p == parent_attr), parent_attr)
        attr = parent_heading[parent_attr]
        child_columns.append(child_attr)
        parent_columns.append(parent_attr)
        builder.fk_attributes.add(child_attr)
        if child_attr not in builder.columns:
            # a singleton parent's hidden key (_singleton) has one value: the child's column
            # defaults to it, so rows are written without naming the hidden attribute
            inherit_default = attr.is_hidden and attr.default is not None and not line.nullable
            builder.add(
                ColumnSpec(
                    name=child_attr,
                    sql_type=_inherited_sql_type(builder, parent, attr),
                    nullable=line.nullable,
                    default=f"'{attr.default}'" if inherit_default else None,
                    comment=attr.stored_comment,
                    enum_values=enum_values(attr.sql_type)
                    if attr.sql_type.startswith("enum")
                    else None,
                ),
                line.in_key,
            )
            if attr.lineage is not None:
                builder.lineage[child_attr] = attr.lineage
            else:
                fallback = f"{parent.database}.{parent.table_name}.{parent_attr}"
                logger.warning("No lineage for %s; using %s.", fallback, fallback)
                builder.lineage[child_attr] = fallback
    builder.foreign_keys.append(
        ForeignKeySpec(
            tuple(child_columns), parent.database, parent.table_name, tuple(parent_columns)
        )
    )
    if line.unique:
        builder.indexes.append(IndexSpec(tuple(child_columns), unique=True))


def _inherited_sql_type(builder: _Builder, parent: Any, attr: Any) -> str:
    """The parent's column type; enum types on PostgreSQL are re-qualified by the dialect."""
    if attr.core == "enum" or attr.sql_type.startswith("enum"):
        return builder.dialect.core_type_sql(attr.sql_type, schema=parent.database)
    return attr.sql_type


def _foreign_key_indexes(builder: _Builder) -> None:
    """Index FK columns that no key or index covers (backends that do not do it themselves)."""
    covered = [tuple(builder.primary_key)] + [i.columns for i in builder.indexes]
    for fk in sorted(builder.foreign_keys, key=lambda f: -len(f.columns)):
        if any(c[: len(fk.columns)] == fk.columns for c in covered):
            continue
        builder.indexes.append(IndexSpec(fk.columns))
        covered.append(fk.columns)


def compile_definition(
    definition: str,
    *,
    dialect: Any,
    schema: str,
    table: str,
    context: dict[str, Any],
    resolve_reference: ReferenceResolver,
    auto_populated: bool = False,
    settings: Any = None,
    is_manual: bool = False,
) -> CompiledTable:
    """Compile a table definition; every error is raised before any DDL is produced."""
    parsed = parse_definition(definition)
    builder = _Builder(dialect, schema, table)
    indexes: list[IndexLine] = []
    for line in parsed.lines:
        if isinstance(line, ForeignKeyLine):
            _compile_foreign_key(builder, line, context, resolve_reference)
        elif isinstance(line, IndexLine):
            indexes.append(line)
        else:
            builder.add(compile_attribute(dialect, schema, line, table=table), line.in_key)
    for line in indexes:
        for item in line.items:
            if item not in builder.columns:
                raise DataJointError(
                    f'Index attribute `{item}` is not declared in line "{line.line}"'
                )
        builder.indexes.append(IndexSpec(line.items, unique=line.unique))
    if not builder.primary_key:
        builder.add(compile_attribute(dialect, schema, _hidden(SINGLETON, True), table=table), True)
    for name in builder.primary_key:
        if name not in builder.fk_attributes:
            builder.lineage[name] = f"{schema}.{table}.{name}"
    if auto_populated:
        native = [n for n in builder.primary_key if n not in builder.fk_attributes and n[0] != "_"]
        allow = settings is not None and settings.jobs.allow_new_pk_fields_in_computed_tables
        if native and not allow:  # accepted, as DataJoint 2.x does in practice (SPEC §3.3)
            logger.warning(
                "Auto-populated table `%s`.`%s` has non-FK primary key attribute(s): %s. Each "
                "make() call must insert every row of its key at once, and its jobs table keeps "
                "only the foreign-key attributes, so job granularity is the key_source key. "
                "Consider moving these attributes into a Part table. Set "
                "dj.config['jobs.allow_new_pk_fields_in_computed_tables'] = True to silence this.",
                schema,
                table,
                ", ".join(native),
            )
        if settings is not None and settings.jobs.add_job_metadata:
            for text in JOB_METADATA:
                builder.add(
                    compile_attribute(dialect, schema, _hidden(text, False), table=table), False
                )
    if is_manual and settings is not None and settings.provenance.capture:
        builder.add(
            compile_attribute(dialect, schema, _hidden(PROVENANCE, False), table=table), False
        )
    if not dialect.capabilities.auto_indexes_foreign_keys:
        _foreign_key_indexes(builder)
    spec = TableSpec(
        schema=schema,
        name=table,
        columns=tuple(builder.columns.values()),
        primary_key=tuple(builder.primary_key),
        foreign_keys=tuple(builder.foreign_keys),
        indexes=tuple(builder.indexes),
        comment=parsed.table_comment,
    )
    return CompiledTable(spec, builder.lineage)


def _hidden(text: str, in_key: bool) -> AttributeLine:
    """A platform attribute line (names starting with _ bypass the user-name check)."""
    head, _, comment = text.partition("#")
    name_default, _, type_text = head.partition(":")
    name, _, default = name_default.partition("=")
    return AttributeLine(
        name=name.strip(),
        type=type_text.strip(),
        default=default.strip() or None,
        comment=comment.strip(),
        in_key=in_key,
        line=text,
    )
