"""Unit tests of catalog normalisation, error translation, driver settings and the plugin."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from datajoint import errors
from datajoint.backend.contract import (
    Backend,
    ConnectParams,
    Driver,
    ErrorTranslator,
    Introspection,
)
from datajoint.plugin_host import PluginHost
from dj_backend_postgres import plugin
from dj_backend_postgres.driver import connect_kwargs, tls_kwargs
from dj_backend_postgres.errors import PostgresErrors
from dj_backend_postgres.normalize import enum_sql_type, normalize_default, normalize_type


@pytest.mark.parametrize(
    ("formatted", "expected"),
    [
        ("integer", "integer"),
        ("smallint", "smallint"),
        ("double precision", "double precision"),
        ("real", "real"),
        ("boolean", "boolean"),
        ("character varying(255)", "varchar(255)"),
        ("character varying", "varchar"),
        ("character(4)", "char(4)"),
        ("timestamp(3) without time zone", "timestamp(3)"),
        ("timestamp without time zone", "timestamp"),
        ("timestamp with time zone", "timestamptz"),
        ("time(2) without time zone", "time(2)"),
        ("numeric(10,2)", "numeric(10,2)"),
        ("jsonb", "jsonb"),
        ("uuid", "uuid"),
        ("bytea", "bytea"),
        ("date", "date"),
        ("character varying(3)[]", "varchar(3)[]"),
    ],
)
def test_normalize_type(formatted: str, expected: str) -> None:
    assert normalize_type(formatted) == expected


def test_enum_sql_type() -> None:
    assert enum_sql_type(["b", "it's"]) == "enum('b','it''s')"


@pytest.mark.parametrize(
    ("expr", "nullable", "expected"),
    [
        (None, False, (None, False)),
        (None, True, ("null", False)),
        ("NULL::character varying", True, ("null", False)),
        ("nextval('s.t_id_seq'::regclass)", False, (None, True)),
        ("'it''s'::character varying", False, ("it's", False)),
        ("'-1'::integer", False, ("-1", False)),
        ("'-1.5'::numeric", False, ("-1.5", False)),
        ("1.5", False, ("1.5", False)),
        ("0", False, ("0", False)),
        ("true", False, ("true", False)),
        ("'{}'::jsonb", False, ("{}", False)),
        ('\'a\'::"s"."enum_1234abcd"', False, ("a", False)),
        ("'2020-01-01'::date", False, ("2020-01-01", False)),
        ("CURRENT_TIMESTAMP", False, ("CURRENT_TIMESTAMP", False)),
        ("CURRENT_TIMESTAMP(3)", False, ("CURRENT_TIMESTAMP(3)", False)),
        ("now()", False, ("CURRENT_TIMESTAMP", False)),
        ("LOCALTIMESTAMP(6)", False, ("CURRENT_TIMESTAMP(6)", False)),
        ("(now())::timestamp(3) without time zone", False, ("CURRENT_TIMESTAMP", False)),
        ("('x'::text || 'y'::text)", False, ("'x'::text || 'y'::text", False)),
    ],
)
def test_normalize_default(expr: str | None, nullable: bool, expected: tuple) -> None:
    assert normalize_default(expr, nullable) == expected


def _pg_error(sqlstate: str) -> psycopg.Error:
    cls = psycopg.errors.lookup(sqlstate)
    return cls(f"message {sqlstate}")


@pytest.mark.parametrize(
    ("sqlstate", "cls"),
    [
        ("23505", errors.DuplicateError),
        ("23503", errors.IntegrityError),
        ("23502", errors.MissingAttributeError),
        ("42601", errors.QuerySyntaxError),
        ("42P01", errors.MissingTableError),
        ("42703", errors.UnknownAttributeError),
        ("08000", errors.LostConnectionError),
        ("08003", errors.LostConnectionError),
        ("08006", errors.LostConnectionError),
        ("57P01", errors.LostConnectionError),
        ("42501", errors.AccessError),
    ],
)
def test_translate_sqlstates(sqlstate: str, cls: type) -> None:
    translated = PostgresErrors().translate(_pg_error(sqlstate), "SELECT 1")
    assert type(translated) is cls
    assert f"message {sqlstate}" in translated.args


def test_translate_details() -> None:
    t = PostgresErrors()
    access = t.translate(_pg_error("42501"), "SELECT 1")
    assert access is not None and access.args == ("Insufficient privileges.", "message 42501", "")
    syntax = t.translate(_pg_error("42601"), "SELEC 1")
    assert syntax is not None and syntax.args == ("message 42601", "SELEC 1")
    assert t.translate(_pg_error("22012"), "SELECT 1/0") is None
    assert t.translate(ValueError("x"), "") is None
    closed = psycopg.OperationalError("the connection is closed")
    assert t.is_lost_connection(closed)
    assert isinstance(t.translate(closed, ""), errors.LostConnectionError)
    assert not t.is_lost_connection(_pg_error("57014"))  # query cancelled: the session lives on


def test_tls_settings() -> None:
    assert tls_kwargs(None) == {"sslmode": "prefer"}
    assert tls_kwargs(True) == {"sslmode": "require"}
    assert tls_kwargs(False) == {"sslmode": "disable"}
    assert tls_kwargs({"ca": "/ca.pem"}) == {"sslrootcert": "/ca.pem", "sslmode": "verify-ca"}
    assert tls_kwargs({"sslmode": "verify-full"}) == {"sslmode": "verify-full"}


def test_connect_kwargs() -> None:
    kw = connect_kwargs(
        ConnectParams(host="h", port=5433, user="u", password="", charset="utf8mb4")
    )
    assert kw == {
        "host": "h",
        "port": 5433,
        "user": "u",
        "dbname": "postgres",
        "client_encoding": "UTF8",
        "autocommit": True,
    }
    kw = connect_kwargs(ConnectParams(database_name="lab", options={"connect_timeout": 3}))
    assert kw["dbname"] == "lab" and kw["connect_timeout"] == 3


def test_plugin_import_is_lazy() -> None:
    code = (
        "import sys, dj_backend_postgres.plugin; "
        "print('psycopg' in sys.modules, 'dj_backend_postgres.backend' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_plugin_registers_backend() -> None:
    host = PluginHost(use_entry_points=False)
    host.add_plugin(plugin)
    factory = host.get("backend", "postgres")
    backend = factory()
    assert isinstance(backend, Backend)
    assert backend.name == "postgresql" and backend.default_port == 5432
    assert backend.requires_server
    assert isinstance(backend.driver, Driver)
    assert isinstance(backend.introspection, Introspection)
    assert isinstance(backend.errors, ErrorTranslator)
    assert host.get("backend", "postgresql") is factory
