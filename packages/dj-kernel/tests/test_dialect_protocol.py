"""The backend contract's signature check fails for a dialect that does not follow the protocol."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from datajoint.backend.contract import (
    Backend,
    Dialect,
    OnDuplicate,
    Statement,
    protocol_mismatches,
)
from datajoint.backend.dialect import BaseDialect
from datajoint.testing.contracts import BackendContract


class WrongSignature(BaseDialect):
    """``on_duplicate`` positional, ``primary_key`` missing: every name is still there."""

    def insert_sql(  # type: ignore[override]
        self,
        schema: str,
        table: str,
        columns: Sequence[str],
        n_rows: int,
        on_duplicate: OnDuplicate = "error",
    ) -> str:
        return super().insert_sql(schema, table, columns, n_rows, on_duplicate=on_duplicate)


class WrongDefault(BaseDialect):
    def json_path_sql(self, column: str, path: str, return_type: str | None = "text") -> str:
        return super().json_path_sql(column, path, return_type)


# BaseDialect's members without savepoint_sql, in a class that does not inherit it
MissingMethod = type(
    "MissingMethod", (), {k: v for k, v in vars(BaseDialect).items() if k != "savepoint_sql"}
)


def _backend(dialect: object) -> Backend:
    from dj_backend_sqlite.backend import create_backend

    real = create_backend()
    return Backend("sqlite", dialect, real.driver, real.introspection, real.errors)  # type: ignore[arg-type]


def test_base_dialect_follows_the_protocol() -> None:
    assert protocol_mismatches(BaseDialect(), Dialect) == []


def test_a_missing_method_is_reported() -> None:
    problems = protocol_mismatches(MissingMethod(), Dialect)
    assert problems == ["MissingMethod lacks the method savepoint_sql()"]


def test_a_wrong_signature_is_reported_where_isinstance_sees_nothing() -> None:
    dialect = WrongSignature()
    assert isinstance(dialect, Dialect)  # the runtime protocol check looks at names only
    (problem,) = protocol_mismatches(dialect, Dialect)
    assert problem.startswith("WrongSignature.insert_sql(") and "primary_key" in problem


def test_a_wrong_default_is_reported() -> None:
    (problem,) = protocol_mismatches(WrongDefault(), Dialect)
    assert "json_path_sql" in problem


def test_a_missing_or_mistyped_attribute_is_reported() -> None:
    dialect = BaseDialect()
    dialect.max_table_name_length = "64"  # type: ignore[assignment]
    assert protocol_mismatches(dialect, Dialect) == [
        "BaseDialect.max_table_name_length is '64', not of type <class 'int'>"
    ]


@pytest.mark.parametrize("dialect", [MissingMethod(), WrongSignature(), WrongDefault()])
def test_backend_contract_fails_for_a_dialect_off_the_protocol(dialect: object) -> None:
    contract = BackendContract()
    contract.backend_name = "sqlite"
    with pytest.raises(AssertionError):
        contract.test_parts_follow_the_protocols(_backend(dialect))


def test_statement_carries_its_parameters() -> None:
    statement = Statement("DELETE FROM t WHERE a = ?", ["x"])
    assert statement == "DELETE FROM t WHERE a = ?" and statement.params == ("x",)
    assert isinstance(statement, str)
