"""Cascade delete and ``delete_quick`` (SPEC §8).

``delete`` builds the plan of :mod:`datajoint.write.cascade` and runs one ``DELETE`` per table,
leaves first, inside one transaction (or a savepoint of the caller's). Foreign keys stay
``ON DELETE RESTRICT``: a child the plan does not know about makes the server refuse, and the whole
delete is rolled back; the blocking table is then looked up in the catalog, never in the driver's
error text.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from ..algebra import model as m
from ..connection import UnitOfWork
from ..errors import DataJointError, IntegrityError
from .atomic import atomic
from .cascade import CascadePlan, check_part_integrity
from .prompt import ask_yes

logger = logging.getLogger("datajoint")


# ---- delete_quick ----------------------------------------------------------------------------
def _reads_table(node: Any, schema: str, table: str) -> bool:
    """Whether a query-model node reads ``schema.table`` anywhere inside."""
    if isinstance(node, m.TableSource):
        return node.schema == schema and node.table == table
    if dataclasses.is_dataclass(node):
        return any(
            _reads_table(getattr(node, f.name), schema, table) for f in dataclasses.fields(node)
        )
    if isinstance(node, tuple | list):
        return any(_reads_table(item, schema, table) for item in node)
    return False


def _detach(node: m.Node, schema: str, table: str) -> m.Node:
    """Read subqueries over the table being deleted from through a materialized derived table
    (MySQL refuses a DELETE whose subquery reads its own target)."""
    if isinstance(node, m.InSelect) and _reads_table(node.select, schema, table):
        inner = dataclasses.replace(node.select, distinct=True)
        wrapped = m.Select(source=m.SubquerySource(inner, "_dj_target_keys"))
        return dataclasses.replace(node, select=wrapped)
    if isinstance(node, m.And | m.Or):
        return type(node)(tuple(_detach(i, schema, table) for i in node.items))
    if isinstance(node, m.Not):
        return m.Not(_detach(node.item, schema, table))
    return node


def delete_statement(expr: Any) -> tuple[str, list[Any]]:
    """The ``DELETE FROM t WHERE ...`` of a restricted table, with its parameters."""
    conn = expr.connection
    schema, table = expr.database, expr.table_name
    if getattr(expr, "_top", None) is not None:  # delete exactly the rows the Top selects
        expr = expr._free_table(f"{schema}.{table}").restrict(expr.keys(), semantic_check=False)
    nodes = [_detach(n, schema, table) for n in expr._restriction]
    where = m.conjunction(nodes)
    where_sql, params = conn.dialect.render(where) if where is not None else (None, [])
    return conn.dialect.delete_sql(schema, table, where_sql), params


def _run(expr: Any) -> int:
    sql, params = delete_statement(expr)
    return int(expr.connection.query(sql, params).rowcount)


def delete_quick(table: Any, get_count: bool = False) -> int | None:
    """One ``DELETE`` with no cascade and no prompt; the row count when ``get_count``."""
    with atomic(table.connection, f"Delete from {table.full_table_name}", single=True):
        count = _run(table)
    return count if get_count else None


# ---- cascade delete --------------------------------------------------------------------------
def _part_error(plan: CascadePlan, part: str, master: str) -> DataJointError:
    return DataJointError(
        f"Attempt to delete part table {plan.quoted(part)} before its master "
        f"{plan.quoted(master)}. Delete from the master first, or use part_integrity='ignore' "
        "or 'cascade'."
    )


def _check_counts(plan: CascadePlan, counts: dict[str, int]) -> None:
    """part_integrity="enforce": a part may lose rows only when its master loses rows too."""
    for node in plan.order:
        master = plan.master(node)
        if master is None:
            continue
        if counts.get(node, 0) > 0 and counts.get(master, 0) == 0:
            raise _part_error(plan, node, master)


class _Blocked(Exception):
    """A DELETE refused by a foreign key the plan did not know about."""

    def __init__(self, node: str, error: IntegrityError) -> None:
        super().__init__(node)
        self.node, self.error = node, error


def _run_plan(plan: CascadePlan, unit: UnitOfWork) -> dict[str, int]:
    """Every DELETE of the plan, leaves first; the counts by table."""
    counts: dict[str, int] = {}
    steps = list(reversed(plan.order))
    unit.begin()
    try:
        for number, node in enumerate(steps, 1):
            try:
                counts[node] = _run(plan.tables[node])
            except IntegrityError as error:
                raise _Blocked(node, error) from error
            except BaseException as error:
                if hasattr(error, "add_note"):
                    error.add_note(
                        f"Deleting from {plan.quoted(node)} (step {number} of {len(steps)} "
                        "of the cascade) failed."
                    )
                raise
        if plan.part_integrity == "enforce":
            _check_counts(plan, counts)
    except _Blocked:
        unit.rollback()
        raise
    except BaseException as error:
        unit.rollback(error)
        raise
    return counts


def _blocking_table(plan: CascadePlan, node: str) -> str | None:
    """A table outside the plan whose foreign key references ``node``, found in the catalog."""
    conn = plan.connection
    intro, run = conn.introspection, conn.run
    schema, _, table = node.partition(".")
    try:
        schemas = intro.list_schemas(run)
        references = intro.foreign_keys(run, schemas)
    except Exception:  # the catalog may be partly inaccessible: then the child stays unknown
        return None
    for fk in references:
        child = f"{fk.schema}.{fk.table}"
        if (fk.ref_schema, fk.ref_table) == (schema, table) and child not in plan.tables:
            return conn.dialect.full_table_name(fk.schema, fk.table)
    return None


def _execute(table: Any, plan: CascadePlan, unit: UnitOfWork) -> tuple[CascadePlan, dict[str, int]]:
    """Run the plan; when a foreign key blocks it, reload the graph once and try again."""
    try:
        return plan, _run_plan(plan, unit)
    except _Blocked as first:
        blocked = first
    fresh = CascadePlan(table, plan.part_integrity, force=True)
    if set(fresh.tables) - set(plan.tables):  # the cached graph missed a table: run again
        try:
            return fresh, _run_plan(fresh, unit)
        except _Blocked as second:
            blocked, plan = second, fresh
    child = _blocking_table(plan, blocked.node)
    if child is not None:
        message = (
            f"Delete blocked by table {child} in an unloaded schema. "
            "Activate all dependent schemas before deleting."
        )
    else:
        message = "Delete blocked by FK in unloaded/inaccessible schema."
    raise DataJointError(message) from blocked.error


def delete(
    table: Any,
    transaction: bool = True,
    prompt: bool | None = None,
    part_integrity: str = "enforce",
) -> int:
    """Delete the table's rows and, leaves first, every row that depends on them (SPEC §8).

    Returns the number of rows deleted from ``table`` itself.
    """
    check_part_integrity(part_integrity)
    conn = table.connection
    if prompt is None:
        prompt = bool(conn.config.safemode)
    if transaction and conn.in_transaction and prompt:
        raise DataJointError(
            "Delete cannot use a transaction within an ongoing transaction. "
            "Set transaction=False or prompt=False."
        )
    plan = CascadePlan(table, part_integrity)
    if part_integrity == "enforce":
        orphaned = plan.orphaned_parts()
        if orphaned:
            raise _part_error(plan, *orphaned[0])
    unit = conn.unit(f"Delete from {table.full_table_name}", enabled=transaction)
    plan, counts = _execute(table, plan, unit)
    try:
        deleted = counts.get(plan.seed_node, 0)
        if prompt:
            for node in plan.order:
                logger.info("%s (%d tuples)", plan.quoted(node), counts.get(node, 0))
        if deleted == 0:
            unit.rollback()
            if prompt:
                logger.info("Nothing to delete.")
            return 0
        if unit.owns_transaction and prompt and not ask_yes("Commit deletes?"):
            unit.rollback()
            logger.info("Delete cancelled")
            return 0
        unit.commit()
    except BaseException as error:
        unit.rollback(error)
        raise
    if prompt and unit.owns_transaction:
        logger.info("Delete committed.")
    return deleted
