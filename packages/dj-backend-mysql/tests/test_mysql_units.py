"""Server-free tests: catalog normalisation, error translation, TLS options, the plugin module."""

from __future__ import annotations

import subprocess
import sys

import pymysql
import pytest

from datajoint import errors
from datajoint.backend.contract import Backend, Driver, ErrorTranslator, Introspection
from dj_backend_mysql.backend import create_backend
from dj_backend_mysql.catalog import (
    current_time_default,
    json_check_column,
    normalize_default,
    normalize_type,
    unescape_string,
)
from dj_backend_mysql.driver import _tls_option
from dj_backend_mysql.errors import TOO_LONG_MESSAGE, MySQLErrors


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("int(11)", "int"),
        ("INT(10) UNSIGNED", "int unsigned"),
        ("bigint(20) unsigned", "bigint unsigned"),
        ("tinyint(1)", "tinyint"),
        ("tinyint(4)", "tinyint"),
        ("smallint", "smallint"),
        ("mediumint(9)", "mediumint"),
        ("varchar(255)", "varchar(255)"),
        ("datetime(3)", "datetime(3)"),
        ("decimal(10,2)", "decimal(10,2)"),
        ("DOUBLE", "double"),
        ("binary(16)", "binary(16)"),
        ("enum('A','b''c','Int(3)')", "enum('A','b''c','Int(3)')"),
    ],
)
def test_normalize_type(raw: str, normal: str) -> None:
    assert normalize_type(raw) == normal


def test_unescape_and_current_time() -> None:
    assert unescape_string("it''s \\\\ \"q\"") == 'it\'s \\ "q"'
    assert unescape_string("a\\nb\\'c\\%") == "a\nb'c\\%"
    assert current_time_default("current_timestamp()") == "CURRENT_TIMESTAMP"
    assert current_time_default("current_timestamp(3)") == "CURRENT_TIMESTAMP(3)"
    assert current_time_default("CURRENT_TIMESTAMP") == "CURRENT_TIMESTAMP"
    assert current_time_default("now(6)") == "CURRENT_TIMESTAMP(6)"
    assert current_time_default("'current_timestamp'") is None
    assert json_check_column("json_valid(`doc`)") == "doc"
    assert json_check_column("`x` > 0") is None


@pytest.mark.parametrize(
    ("raw", "nullable", "extra", "expected"),
    [
        (None, False, "", None),
        ("NULL", True, "", "null"),
        ("'NULL'", True, "", "NULL"),
        ("'abc'", False, "", "abc"),
        ("''", False, "", ""),
        ("'it''s'", False, "", "it's"),
        ("1.50", False, "", "1.50"),
        ("current_timestamp(3)", False, "", "CURRENT_TIMESTAMP(3)"),
    ],
)
def test_defaults_mariadb(
    raw: str | None, nullable: bool, extra: str, expected: str | None
) -> None:
    assert normalize_default(raw, nullable=nullable, extra=extra, mariadb=True) == expected


@pytest.mark.parametrize(
    ("raw", "nullable", "extra", "expected"),
    [
        (None, False, "", None),
        (None, True, "", "null"),
        ("abc", False, "", "abc"),
        ("NULL", True, "", "NULL"),
        ("", False, "", ""),
        ("0", False, "", "0"),
        ("CURRENT_TIMESTAMP", False, "DEFAULT_GENERATED", "CURRENT_TIMESTAMP"),
        ("CURRENT_TIMESTAMP(3)", False, "DEFAULT_GENERATED", "CURRENT_TIMESTAMP(3)"),
        ("(rand())", False, "DEFAULT_GENERATED", "rand()"),
    ],
)
def test_defaults_mysql8(raw: str | None, nullable: bool, extra: str, expected: str | None) -> None:
    assert normalize_default(raw, nullable=nullable, extra=extra, mariadb=False) == expected


def _op(code: int, msg: str = "message") -> pymysql.err.OperationalError:
    return pymysql.err.OperationalError(code, msg)


@pytest.mark.parametrize(
    ("error", "cls", "args"),
    [
        (pymysql.err.ProgrammingError(1064, "bad"), errors.QuerySyntaxError, ("bad", "SQL")),
        (_op(1044, "no"), errors.AccessError, ("Insufficient privileges.", "no", "SQL")),
        (_op(1142, "no"), errors.AccessError, ("Insufficient privileges.", "no", "SQL")),
        (_op(1143, "no"), errors.AccessError, ("Insufficient privileges.", "no", "SQL")),
        (pymysql.err.IntegrityError(1062, "dup"), errors.DuplicateError, ("dup",)),
        (pymysql.err.IntegrityError(1217, "fk"), errors.IntegrityError, ("fk",)),
        (pymysql.err.IntegrityError(1451, "fk"), errors.IntegrityError, ("fk",)),
        (pymysql.err.IntegrityError(1452, "fk"), errors.IntegrityError, ("fk",)),
        (_op(3730, "fk"), errors.IntegrityError, ("fk",)),
        (_op(1054, "col"), errors.UnknownAttributeError, ("col",)),
        (_op(1364, "nodef"), errors.MissingAttributeError, ("nodef",)),
        (pymysql.err.ProgrammingError(1146, "gone"), errors.MissingTableError, ("gone", "SQL")),
        (
            pymysql.err.InterfaceError(0, ""),
            errors.LostConnectionError,
            ("Server connection lost due to an interface error.",),
        ),
        (_op(2006, "gone away"), errors.LostConnectionError, ("Connection timed out",)),
        (_op(2013, "lost"), errors.LostConnectionError, ("Server connection lost",)),
    ],
)
def test_translate(error: Exception, cls: type, args: tuple) -> None:
    translated = MySQLErrors().translate(error, "SQL")
    assert type(translated) is cls
    assert translated.args == args


@pytest.mark.parametrize(
    "error",
    [
        _op(1105, "Parameter ... is longer than 'max_allowed_packet' bytes"),
        _op(1153, "Got a packet bigger than 'max_allowed_packet' bytes"),
    ],
)
def test_translate_packet_limit(error: Exception) -> None:
    translated = MySQLErrors().translate(error, "SQL")
    assert type(translated) is errors.DataError
    assert translated.args == (TOO_LONG_MESSAGE,)


def test_translate_passthrough() -> None:
    t = MySQLErrors()
    assert t.translate(_op(1105, "some other unknown error"), "SQL") is None
    assert t.translate(_op(1205, "lock wait"), "SQL") is None
    assert t.translate(ValueError("x"), "SQL") is None
    assert t.translate(errors.DuplicateError("x"), "SQL") is None
    assert t.is_lost_connection(pymysql.err.InterfaceError(0, ""))
    assert t.is_lost_connection(pymysql.err.Error("Already closed"))
    assert t.is_lost_connection(_op(2013))
    assert not t.is_lost_connection(_op(1062))
    assert not t.is_lost_connection(ConnectionError("not pymysql"))


def test_tls_options() -> None:
    assert _tls_option(False) is None
    default = _tls_option(None)
    assert default and _tls_option(True) == default
    assert _tls_option({}) == default
    assert _tls_option({"ca": "/ca.pem"}) == {"ca": "/ca.pem"}


def test_backend_bundle() -> None:
    backend = create_backend()
    assert isinstance(backend, Backend)
    assert backend.name == "mysql" and backend.default_port == 3306 and backend.requires_server
    assert isinstance(backend.driver, Driver)
    assert isinstance(backend.introspection, Introspection)
    assert isinstance(backend.errors, ErrorTranslator)


def test_plugin_is_lazy_and_registers() -> None:
    code = (
        "import sys, dj_backend_mysql.plugin as p\n"
        "assert 'pymysql' not in sys.modules, 'pymysql imported'\n"
        "seen = []\n"
        "p.dj_register_backends(lambda *a, **k: seen.append((a, k)))\n"
        "assert seen == [(('mysql', 'dj_backend_mysql.backend:create_backend'),"
        " {'aliases': ('mariadb',)})], seen\n"
        "assert 'pymysql' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plugin_host_resolves_alias() -> None:
    from datajoint.plugin_host import PluginHost
    from dj_backend_mysql import plugin

    host = PluginHost(use_entry_points=False)
    host.add_plugin(plugin)
    factory = host.get("backend", "mariadb")
    assert factory().name == "mysql"
