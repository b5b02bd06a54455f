"""dj.config (SPEC §1.1, §1.3, §4.6): keys, env, loading order, item API, stores, thread safety."""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from datajoint import settings, settings_files
from datajoint.errors import THREAD_SAFE_MESSAGE, DataJointError, ThreadSafetyError
from datajoint.settings import Config, DatabaseSettings, create_config


# ---------------------------------------------------------------- fixtures and helpers
@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No DJ_* variables, a project dir (bounded by .git) as cwd, no system secrets."""
    for name in list(os.environ):
        if name.startswith("DJ_"):
            monkeypatch.delenv(name)
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    monkeypatch.chdir(project)
    monkeypatch.setattr(settings_files, "SYSTEM_SECRETS_DIR", tmp_path / "run_secrets")
    dj_logger = logging.getLogger("datajoint")
    level = dj_logger.level
    yield project
    dj_logger.setLevel(level)


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def write_secrets(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def quiet_config() -> Config:
    """create_config() where a datajoint.json is present: it must not warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return create_config()


def project_config(project: Path, data: Any) -> Config:
    write_json(project / "datajoint.json", data)
    return quiet_config()


# ---------------------------------------------------------------- defaults and env vars
DEFAULTS = [
    ("database.host", "localhost"),
    ("database.user", None),
    ("database.password", None),
    ("database.backend", None),
    ("database.port", None),
    ("database.name", None),
    ("database.reconnect", True),
    ("database.use_tls", None),
    ("database.database_prefix", ""),
    ("database.create_tables", True),
    ("database.sqlite_file", "datajoint.sqlite3"),
    ("connection.charset", ""),
    ("display.limit", 12),
    ("display.width", 14),
    ("display.show_tuple_count", True),
    ("display.diagram_direction", "LR"),
    ("display.diagram_theme", "auto"),
    ("jobs.auto_refresh", True),
    ("jobs.keep_completed", False),
    ("jobs.stale_timeout", 3600),
    ("jobs.default_priority", 5),
    ("jobs.version_method", None),
    ("jobs.allow_new_pk_fields_in_computed_tables", False),
    ("jobs.add_job_metadata", False),
    ("provenance.capture", False),
    ("provenance.source", {}),
    ("stores", {}),
    ("loglevel", "INFO"),
    ("safemode", True),
    ("ignore_config_file", False),
    ("query_cache", None),
    ("download_path", "."),
]


@pytest.mark.parametrize(("key", "default"), DEFAULTS)
def test_default(key: str, default: Any) -> None:
    assert Config()[key] == default


def test_every_setting_has_a_listed_default() -> None:
    cfg = Config()
    keys = {
        f"{g}.{k}"
        for g in ("database", "connection", "display", "jobs", "provenance")
        for k in type(getattr(cfg, g)).model_fields
    }
    keys |= {
        n
        for n in Config.model_fields
        if n not in ("database", "connection", "display", "jobs", "provenance")
    }
    assert keys == {key for key, _ in DEFAULTS}


ENV_CASES = [
    ("DJ_HOST", "db.example.org", "database.host", "db.example.org"),
    ("DJ_USER", "alice", "database.user", "alice"),
    ("DJ_PASS", "s3cret", "database.password", "s3cret"),
    ("DJ_BACKEND", "postgresql", "database.backend", "postgresql"),
    ("DJ_PORT", "3307", "database.port", 3307),
    ("DJ_DATABASE_NAME", "lab", "database.name", "lab"),
    ("DJ_USE_TLS", "false", "database.use_tls", False),
    ("DJ_DATABASE_PREFIX", "u_", "database.database_prefix", "u_"),
    ("DJ_CREATE_TABLES", "0", "database.create_tables", False),
    ("DJ_SQLITE_FILE", "/data/pipe.db", "database.sqlite_file", "/data/pipe.db"),
    ("DJ_DIAGRAM_DIRECTION", "TB", "display.diagram_direction", "TB"),
    ("DJ_DIAGRAM_THEME", "dark", "display.diagram_theme", "dark"),
    ("DJ_JOBS_AUTO_REFRESH", "false", "jobs.auto_refresh", False),
    ("DJ_JOBS_KEEP_COMPLETED", "true", "jobs.keep_completed", True),
    ("DJ_JOBS_STALE_TIMEOUT", "60", "jobs.stale_timeout", 60),
    ("DJ_JOBS_DEFAULT_PRIORITY", "1", "jobs.default_priority", 1),
    ("DJ_JOBS_VERSION_METHOD", "git", "jobs.version_method", "git"),
    (
        "DJ_JOBS_ALLOW_NEW_PK_FIELDS_IN_COMPUTED_TABLES",
        "yes",
        "jobs.allow_new_pk_fields_in_computed_tables",
        True,
    ),
    ("DJ_JOBS_ADD_JOB_METADATA", "1", "jobs.add_job_metadata", True),
    ("DJ_PROVENANCE_CAPTURE", "true", "provenance.capture", True),
    ("DJ_PROVENANCE_SOURCE", '{"lab": "x"}', "provenance.source", {"lab": "x"}),
    ("DJ_LOG_LEVEL", "debug", "loglevel", "DEBUG"),
    ("DJ_IGNORE_CONFIG_FILE", "yes", "ignore_config_file", True),
]


@pytest.mark.parametrize(("var", "raw", "key", "expected"), ENV_CASES)
def test_env_var(monkeypatch: pytest.MonkeyPatch, var: str, raw: str, key: str, expected: Any):
    monkeypatch.setenv(var, raw)
    assert Config()[key] == expected


def test_env_table_matches_cases() -> None:
    assert {var for var, *_ in ENV_CASES} == set(settings.ENV_VARS.values())


def test_empty_env_var_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJ_PORT", "")
    monkeypatch.setenv("DJ_HOST", "")
    cfg = Config()
    assert cfg.database.host == "localhost"
    assert cfg.resolved_backend() == "sqlite"


def test_bad_env_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJ_PORT", "abc")
    with pytest.raises(ValidationError):
        Config()
    monkeypatch.delenv("DJ_PORT")
    monkeypatch.setenv("DJ_PROVENANCE_SOURCE", "{nope")
    with pytest.raises(ValueError, match="DJ_PROVENANCE_SOURCE contains invalid JSON"):
        Config()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("jobs.stale_timeout", -1),
        ("jobs.default_priority", 256),
        ("jobs.default_priority", -1),
        ("jobs.version_method", "svn"),
        ("display.diagram_direction", "RL"),
        ("display.diagram_theme", "blue"),
        ("database.backend", "oracle"),
        ("database.port", "abc"),
        ("loglevel", "LOUD"),
        ("safemode", "maybe"),
        ("database.host", None),
    ],
)
def test_invalid_values_raise_validation_error(key: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        Config()[key] = value


def test_valid_edge_values() -> None:
    cfg = Config()
    cfg["jobs.stale_timeout"] = 0
    cfg["jobs.default_priority"] = 255
    cfg["jobs.version_method"] = "none"
    cfg["query_cache"] = "/tmp/cache"
    assert cfg.query_cache == Path("/tmp/cache")
    cfg["loglevel"] = "warning"
    assert cfg.loglevel == "WARNING"


def test_provenance_source_must_be_json_serializable() -> None:
    cfg = Config()
    cfg["provenance.source"] = {"lab": "x", "n": [1, 2]}
    with pytest.raises(ValueError, match="JSON-serializable"):
        cfg["provenance.source"] = {"when": object()}
    assert cfg.provenance.source == {"lab": "x", "n": [1, 2]}


def test_password_is_secret() -> None:
    cfg = Config()
    cfg.database.password = "hunter2"
    assert isinstance(cfg.database.password, SecretStr)
    assert cfg["database.password"] == "hunter2"
    assert cfg.get("database.password") == "hunter2"
    assert "hunter2" not in repr(cfg)


def test_loglevel_assignment_sets_logger_level() -> None:
    cfg = Config()
    cfg.loglevel = "DEBUG"
    assert logging.getLogger("datajoint").level == logging.DEBUG
    cfg["loglevel"] = "error"
    assert logging.getLogger("datajoint").level == logging.ERROR


def test_groups_forbid_unknown_keys() -> None:
    cfg = Config()
    with pytest.raises(ValidationError):
        cfg.database.hots = "x"
    with pytest.raises(ValidationError):
        cfg.nonsense = 1
    with pytest.raises(ValidationError):
        cfg.display.limit = "many"


# ---------------------------------------------------------------- backend and port
def test_backend_defaults_to_sqlite_without_host() -> None:
    cfg = Config()
    assert cfg.resolved_backend() == "sqlite"
    assert cfg.database.port is None


def test_env_host_selects_mysql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJ_HOST", "localhost")
    cfg = Config()
    assert cfg.resolved_backend() == "mysql"
    assert cfg.database.port == 3306


def test_file_host_selects_mysql(isolated: Path) -> None:
    cfg = project_config(isolated, {"database": {"host": "db"}})
    assert cfg.resolved_backend() == "mysql"
    assert cfg.database.port == 3306


def test_runtime_host_selects_mysql_and_reset_returns_to_sqlite() -> None:
    cfg = Config()
    cfg["database.host"] = "db"
    assert (cfg.resolved_backend(), cfg.database.port) == ("mysql", 3306)
    del cfg["database.host"]
    assert cfg.database.host == "localhost"
    assert (cfg.resolved_backend(), cfg.database.port) == ("sqlite", None)


def test_explicit_backend_and_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DatabaseSettings(backend="postgres").backend == "postgresql"
    assert DatabaseSettings(backend="PostgreSQL").port == 5432
    monkeypatch.setenv("DJ_BACKEND", "postgres")
    cfg = Config()
    assert (cfg.resolved_backend(), cfg.database.port) == ("postgresql", 5432)
    cfg.database.backend = "sqlite"
    assert (cfg.resolved_backend(), cfg.database.port) == ("sqlite", None)
    cfg.database.backend = "mysql"
    assert cfg.database.port == 3306
    cfg.database.backend = None
    assert cfg.resolved_backend() == "sqlite"  # host still not configured


def test_explicit_port_survives_backend_change() -> None:
    cfg = Config()
    cfg.database.port = 6000
    cfg.database.backend = "postgresql"
    assert cfg.database.port == 6000
    cfg.database.port = None  # back to automatic
    assert cfg.database.port == 5432
    cfg.database.backend = "mysql"
    assert cfg.database.port == 3306
    del cfg["database.port"]
    assert cfg.database.port == 3306


def test_failed_port_assignment_keeps_port_automatic() -> None:
    cfg = Config()
    cfg.database.backend = "mysql"
    with pytest.raises(ValidationError):
        cfg.database.port = "abc"
    cfg.database.backend = "postgresql"
    assert cfg.database.port == 5432


def test_env_port_is_explicit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJ_PORT", "13306")
    cfg = Config()
    cfg.database.backend = "postgresql"
    assert cfg.database.port == 13306


# ---------------------------------------------------------------- file discovery and loading
def test_find_config_file_walks_up(isolated: Path) -> None:
    target = write_json(isolated / "datajoint.json", {})
    nested = isolated / "a" / "b"
    nested.mkdir(parents=True)
    assert settings_files.find_config_file(nested) == target


@pytest.mark.parametrize("marker", [".git", ".hg"])
def test_find_config_file_stops_at_repository_root(tmp_path: Path, marker: str) -> None:
    write_json(tmp_path / "outer" / "datajoint.json", {})
    repo = tmp_path / "outer" / "repo"
    (repo / marker).mkdir(parents=True)
    (repo / "src").mkdir()
    assert settings_files.find_config_file(repo / "src") is None
    inside = write_json(repo / "datajoint.json", {})  # the root itself is searched first
    assert settings_files.find_config_file(repo / "src") == inside


def test_find_config_file_marker_may_be_a_file(tmp_path: Path) -> None:
    write_json(tmp_path / "datajoint.json", {})
    (tmp_path / "worktree").mkdir()
    (tmp_path / "worktree" / ".git").write_text("gitdir: elsewhere")
    assert settings_files.find_config_file(tmp_path / "worktree") is None


def test_create_config_loads_file_from_parent(isolated: Path, monkeypatch) -> None:
    write_json(isolated / "datajoint.json", {"database": {"user": "bob"}})
    deep = isolated / "src" / "pkg"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    cfg = quiet_config()
    assert cfg.database.user == "bob"
    assert cfg._config_file == isolated / "datajoint.json"


def test_missing_file_warns() -> None:
    with pytest.warns(UserWarning, match=r"No datajoint\.json found.*save_template"):
        cfg = create_config()
    assert cfg.database.host == "localhost"


def test_missing_file_does_not_break_import_under_error_filter(caplog) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.WARNING, logger="datajoint.settings"):
            cfg = settings._create_global_config()
    assert cfg._global_state is True
    assert "No datajoint.json found" in caplog.text


@pytest.mark.parametrize(
    "content",
    ["{not json", "[1, 2]", json.dumps({"safemode": False, "database": {"port": "abc"}})],
)
def test_unloadable_file_only_warns(isolated: Path, content: str) -> None:
    write_json(isolated / "datajoint.json", content)
    with pytest.warns(UserWarning, match="Could not load configuration"):
        cfg = create_config()
    assert cfg.safemode is True  # nothing from the bad file was applied
    assert cfg.database.port is None


def test_nested_flat_and_unknown_keys(isolated: Path) -> None:
    cfg = project_config(
        isolated,
        {
            "database": {"user": "u", "no_such_key": 1},
            "display.limit": 3,
            "jobs": {"stale_timeout": 10},
            "safemode": False,
            "query_cache": "/tmp/qc",
            "unknown_top": 1,
            "unknown.dotted": 2,
            "database.host.deeper": 3,
            "provenance": {"source": {"lab": "l"}},
        },
    )
    assert cfg.database.user == "u"
    assert cfg.display.limit == 3
    assert cfg.jobs.stale_timeout == 10
    assert cfg.safemode is False
    assert cfg.query_cache == Path("/tmp/qc")
    assert cfg.provenance.source == {"lab": "l"}
    assert cfg.database.host == "localhost"


def test_stores_merge_one_entry_at_a_time(isolated: Path, tmp_path: Path) -> None:
    cfg = project_config(
        isolated,
        {
            "stores": {"default": "main", "main": {"protocol": "file", "location": "/a"}},
            "stores.main.subfolding": [2, 2],
            "stores.other.location": "/o",
        },
    )
    assert cfg.stores == {
        "default": "main",
        "main": {"protocol": "file", "location": "/a", "subfolding": [2, 2]},
        "other": {"location": "/o"},
    }
    second = write_json(
        tmp_path / "second.json", {"stores": {"main": {"protocol": "s3", "bucket": "b"}}}
    )
    cfg.load(second)
    assert cfg.stores["main"] == {"protocol": "s3", "bucket": "b"}  # the entry was replaced
    assert cfg.stores["other"] == {"location": "/o"} and cfg.stores["default"] == "main"


PROTECTED = [
    ("DJ_HOST", "env-host", "database.host", "file-host", "env-host"),
    ("DJ_USER", "env-user", "database.user", "file-user", "env-user"),
    ("DJ_PASS", "env-pass", "database.password", "file-pass", "env-pass"),
    ("DJ_BACKEND", "postgresql", "database.backend", "mysql", "postgresql"),
    ("DJ_PORT", "1111", "database.port", 2222, 1111),
    ("DJ_DATABASE_NAME", "env-db", "database.name", "file-db", "env-db"),
    ("DJ_DATABASE_PREFIX", "env_", "database.database_prefix", "file_", "env_"),
    ("DJ_CREATE_TABLES", "false", "database.create_tables", True, False),
    ("DJ_LOG_LEVEL", "ERROR", "loglevel", "DEBUG", "ERROR"),
    ("DJ_DIAGRAM_DIRECTION", "TB", "display.diagram_direction", "LR", "TB"),
    ("DJ_DIAGRAM_THEME", "dark", "display.diagram_theme", "light", "dark"),
]


@pytest.mark.parametrize(("var", "env", "key", "file_value", "expected"), PROTECTED)
def test_protected_env_beats_file(monkeypatch, isolated, var, env, key, file_value, expected):
    monkeypatch.setenv(var, env)
    group, _, name = key.rpartition(".")
    data = {group: {name: file_value}} if group else {name: file_value}
    assert project_config(isolated, data)[key] == expected


@pytest.mark.parametrize(
    ("var", "env", "key", "file_value"),
    [
        ("DJ_USE_TLS", "true", "database.use_tls", False),
        ("DJ_JOBS_STALE_TIMEOUT", "5", "jobs.stale_timeout", 7),
        ("DJ_PROVENANCE_CAPTURE", "true", "provenance.capture", False),
    ],
)
def test_unprotected_file_beats_env(monkeypatch, isolated, var, env, key, file_value) -> None:
    monkeypatch.setenv(var, env)
    group, _, name = key.partition(".")
    assert project_config(isolated, {group: {name: file_value}})[key] == file_value


def test_protected_env_also_guards_flat_keys_and_load(monkeypatch, isolated, tmp_path) -> None:
    monkeypatch.setenv("DJ_HOST", "env-host")
    cfg = project_config(isolated, {"database.host": "file-host"})
    assert cfg.database.host == "env-host"
    cfg.load(write_json(tmp_path / "x.json", {"database": {"host": "other"}}))
    assert cfg.database.host == "env-host"


def test_ignore_config_file(monkeypatch: pytest.MonkeyPatch, isolated: Path, tmp_path) -> None:
    write_json(isolated / "datajoint.json", {"database": {"user": "file"}})
    write_secrets(isolated / ".secrets", **{"database.password": "local"})
    write_secrets(settings_files.SYSTEM_SECRETS_DIR, **{"database.user": "system"})
    monkeypatch.setenv("DJ_IGNORE_CONFIG_FILE", "true")
    monkeypatch.setenv("DJ_STORES", '{"s": {"protocol": "file", "location": "/s"}}')
    cfg = quiet_config()  # no "not found" warning either
    assert cfg.database.user is None and cfg.database.password is None
    assert cfg.stores == {"s": {"protocol": "file", "location": "/s"}}


def test_dj_stores_replaces_file_stores(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    monkeypatch.setenv("DJ_STORES", '{"default": "env", "env": {"protocol": "file"}}')
    cfg = project_config(isolated, {"stores": {"file": {"protocol": "file", "location": "/f"}}})
    assert cfg.stores == {"default": "env", "env": {"protocol": "file"}}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{bad", "DJ_STORES contains invalid JSON"),
        ("[1, 2]", "DJ_STORES must be a JSON object"),
        ('"main"', "DJ_STORES must be a JSON object"),
    ],
)
def test_dj_stores_errors(monkeypatch: pytest.MonkeyPatch, isolated, raw, message) -> None:
    write_json(isolated / "datajoint.json", {})
    monkeypatch.setenv("DJ_STORES", raw)
    with pytest.raises(ValueError, match=message):
        create_config()


def test_empty_dj_stores_is_ignored(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    monkeypatch.setenv("DJ_STORES", "  ")
    cfg = project_config(isolated, {"stores": {"a": {"protocol": "file"}}})
    assert cfg.stores == {"a": {"protocol": "file"}}


# ---------------------------------------------------------------- secrets
def test_local_secrets_fill_missing_values(isolated: Path) -> None:
    write_secrets(
        isolated / ".secrets",
        **{
            "database.user": "  alice\n",
            "database.password": "pw\n",
            "stores.main.secret_key": "sk",
            "stores.main.location": "/from-secret",
            "stores.new.token": "tok",
            ".stores.main.access_key": "hidden",
            "stores.main": "two parts",
            "stores.main.a.b": "four parts",
            "database.host": "not a secret",
            "README": "ignored",
        },
    )
    (isolated / ".secrets" / "stores.sub.dir").mkdir()
    cfg = project_config(isolated, {"stores": {"main": {"protocol": "s3", "location": "/f"}}})
    assert cfg.database.user == "alice"
    assert cfg["database.password"] == "pw"
    assert cfg.database.host == "localhost"
    assert cfg.stores["main"] == {"protocol": "s3", "location": "/f", "secret_key": "sk"}
    assert cfg.stores["new"] == {"token": "tok"}
    assert set(cfg.stores) == {"main", "new"}


def test_secrets_do_not_override_env_or_file(monkeypatch, isolated: Path) -> None:
    write_secrets(isolated / ".secrets", **{"database.user": "s", "database.password": "s"})
    monkeypatch.setenv("DJ_USER", "env")
    cfg = project_config(isolated, {"database": {"password": "file"}})
    assert cfg.database.user == "env"
    assert cfg["database.password"] == "file"


def test_secrets_fill_attributes_missing_from_dj_stores(monkeypatch, isolated: Path) -> None:
    write_secrets(isolated / ".secrets", **{"stores.m.secret_key": "sk", "stores.m.bucket": "x"})
    monkeypatch.setenv("DJ_STORES", '{"m": {"protocol": "s3", "bucket": "env"}}')
    cfg = project_config(isolated, {})
    assert cfg.stores == {"m": {"protocol": "s3", "bucket": "env", "secret_key": "sk"}}


def test_system_secrets_when_no_local_dir(isolated: Path) -> None:
    write_secrets(settings_files.SYSTEM_SECRETS_DIR, **{"database.user": "sys"})
    (isolated / ".secrets").write_text("a file, not a directory")
    assert project_config(isolated, {}).database.user == "sys"


def test_local_secrets_preferred_over_system(isolated: Path) -> None:
    write_secrets(settings_files.SYSTEM_SECRETS_DIR, **{"database.user": "sys"})
    write_secrets(isolated / ".secrets", **{"database.password": "local"})
    cfg = project_config(isolated, {})
    assert cfg.database.user is None  # the system directory is not consulted
    assert cfg["database.password"] == "local"


def test_system_secrets_without_config_file() -> None:
    write_secrets(settings_files.SYSTEM_SECRETS_DIR, **{"database.password": "sys"})
    with pytest.warns(UserWarning, match="No datajoint.json"):
        cfg = create_config()
    assert cfg["database.password"] == "sys"


def test_precedence_chain(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    """runtime > env > json > secrets > defaults, shown on database.user."""
    assert project_config(isolated, {}).database.user is None
    write_secrets(isolated / ".secrets", **{"database.user": "secret"})
    assert project_config(isolated, {}).database.user == "secret"
    assert project_config(isolated, {"database": {"user": "json"}}).database.user == "json"
    monkeypatch.setenv("DJ_USER", "env")
    cfg = project_config(isolated, {"database": {"user": "json"}})
    assert cfg.database.user == "env"
    cfg["database.user"] = "runtime"
    assert cfg.database.user == "runtime"


# ---------------------------------------------------------------- item access
def test_getitem_walks_groups_and_dicts() -> None:
    cfg = Config()
    cfg.stores = {"main": {"location": "/data", "opts": {"a": 1}}}
    assert cfg["stores.main.location"] == "/data"
    assert cfg["stores.main.opts.a"] == 1
    assert cfg["database"] is cfg.database
    assert cfg["display.limit"] == 12


@pytest.mark.parametrize(
    "key",
    [
        "nope",
        "database.nope",
        "nope.host",
        "stores.x",
        "stores.x.location",
        "database.host.upper",
        "",
    ],
)
def test_getitem_unknown_raises_key_error(key: str) -> None:
    with pytest.raises(KeyError, match=f"Setting '{key}' not found"):
        Config()[key]


def test_get_with_default() -> None:
    cfg = Config()
    assert cfg.get("database.host") == "localhost"
    assert cfg.get("database.nope") is None
    assert cfg.get("stores.x.y", "fallback") == "fallback"


def test_setitem() -> None:
    cfg = Config()
    cfg["safemode"] = False
    cfg["database.user"] = "u"
    cfg["stores.main.location"] = "/x"  # intermediate store dicts are created
    cfg["stores.main.protocol"] = "file"
    assert cfg.safemode is False and cfg.database.user == "u"
    assert cfg.stores == {"main": {"location": "/x", "protocol": "file"}}


def test_setitem_errors() -> None:
    cfg = Config()
    with pytest.raises(KeyError, match="Setting 'nope' not found"):
        cfg["nope"] = 1
    with pytest.raises(ValidationError):
        cfg["database.nope"] = 1
    with pytest.raises(AttributeError):
        cfg["nope.host"] = 1
    with pytest.raises(AttributeError):
        cfg["database.host.deeper"] = 1
    with pytest.raises(ValidationError):
        cfg["display.limit"] = "lots"


def test_delitem_restores_defaults() -> None:
    cfg = Config()
    cfg["safemode"] = False
    cfg["display.limit"] = 3
    cfg["database.host"] = "db"
    cfg["database.user"] = "u"
    cfg["stores"] = {"main": {"location": "/x", "protocol": "file"}, "other": {}}
    cfg["loglevel"] = "DEBUG"
    del cfg["safemode"]
    del cfg["display.limit"]
    del cfg["database.host"]
    del cfg["stores.main.location"]
    del cfg["stores.other"]
    del cfg["loglevel"]
    assert cfg.safemode is True and cfg.display.limit == 12
    assert cfg.database.host == "localhost" and cfg.resolved_backend() == "sqlite"
    assert cfg.stores == {"main": {"protocol": "file"}}
    assert logging.getLogger("datajoint").level == logging.INFO
    del cfg["database"]
    assert cfg.database.user is None
    del cfg["stores"]
    assert cfg.stores == {}


@pytest.mark.parametrize("key", ["nope", "database.nope", "nope.x", "stores.x", "stores.x.y"])
def test_delitem_unknown_raises_key_error(key: str) -> None:
    with pytest.raises(KeyError, match=f"Setting '{key}' not found"):
        del Config()[key]


# ---------------------------------------------------------------- load
def test_load(tmp_path: Path) -> None:
    cfg = Config()
    cfg.load(write_json(tmp_path / "c.json", {"database.user": "x", "display": {"width": 20}}))
    assert cfg.database.user == "x" and cfg.display.width == 20


def test_load_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(FileNotFoundError, match=f"Config file not found: {missing}"):
        Config().load(missing)


def test_load_is_all_or_nothing(tmp_path: Path) -> None:
    cfg = Config()
    cfg.stores = {"a": {"protocol": "file"}}
    bad = write_json(
        tmp_path / "bad.json",
        {
            "safemode": False,
            "loglevel": "DEBUG",
            "stores.a.location": "/x",
            "database": {"host": "h", "port": "abc"},
        },
    )
    with pytest.raises(ValidationError):
        cfg.load(bad)
    assert cfg.safemode is True and cfg.loglevel == "INFO"
    assert cfg.stores == {"a": {"protocol": "file"}}
    assert cfg.resolved_backend() == "sqlite"
    assert logging.getLogger("datajoint").level == logging.INFO


# ---------------------------------------------------------------- override
def test_override_sets_and_restores() -> None:
    cfg = Config()
    with cfg.override(safemode=False, database__host="db", display__limit=1) as inside:
        assert inside is cfg
        assert cfg.safemode is False and cfg.database.host == "db"
        assert cfg.display.limit == 1
        assert (cfg.resolved_backend(), cfg.database.port) == ("mysql", 3306)
    assert cfg.safemode is True and cfg.database.host == "localhost"
    assert cfg.display.limit == 12
    assert (cfg.resolved_backend(), cfg.database.port) == ("sqlite", None)


def test_override_ignores_unknown_names() -> None:
    cfg = Config()
    before = cfg.model_dump()
    with cfg.override(nope=1, database__nope=2, nope__host=3, safemode__x=4, a__b__c=5):
        assert cfg.model_dump() == before


def test_override_restores_on_exception() -> None:
    cfg = Config()
    with pytest.raises(RuntimeError), cfg.override(safemode=False, database__user="u"):
        raise RuntimeError("boom")
    assert cfg.safemode is True and cfg.database.user is None


def test_override_invalid_value_restores_applied_ones() -> None:
    cfg = Config()
    with pytest.raises(ValidationError), cfg.override(safemode=False, database__port="abc"):
        pass  # pragma: no cover
    assert cfg.safemode is True and cfg.database.port is None


def test_override_port_and_backend_restore_derivation() -> None:
    cfg = Config()
    cfg.database.backend = "mysql"
    with cfg.override(database__port=1234):
        assert cfg.database.port == 1234
    cfg.database.backend = "postgresql"
    assert cfg.database.port == 5432
    with cfg.override(database__backend="mysql"):
        assert cfg.database.port == 3306
    assert cfg.database.port == 5432


def test_override_stores_entry_and_loglevel() -> None:
    cfg = Config()
    cfg.stores = {"keep": {"protocol": "file"}}
    with cfg.override(stores__tmp={"protocol": "file", "location": "/t"}, loglevel="DEBUG"):
        assert set(cfg.stores) == {"keep", "tmp"}
        assert logging.getLogger("datajoint").level == logging.DEBUG
    assert cfg.stores == {"keep": {"protocol": "file"}}
    assert cfg.loglevel == "INFO"
    assert logging.getLogger("datajoint").level == logging.INFO


def test_override_leaves_other_changes_alone() -> None:
    cfg = Config()
    with cfg.override(safemode=False):
        cfg.display.limit = 99
    assert cfg.display.limit == 99 and cfg.safemode is True


# ---------------------------------------------------------------- save_template
def test_save_template_minimal(isolated: Path) -> None:
    path = Config.save_template()
    assert path == isolated / "datajoint.json" and path.is_absolute()
    assert json.loads(path.read_text()) == {"database": {"host": "localhost", "port": 3306}}
    secrets = isolated / ".secrets"
    assert (secrets / "database.user").read_text() == "your_username"
    assert (secrets / "database.password").read_text() == "your_password"
    assert (secrets / ".gitignore").read_text().splitlines() == [
        "# Never commit secrets",
        "*",
        "!.gitignore",
    ]
    cfg = quiet_config()  # the template loads, and names a MySQL server
    assert cfg.database.user == "your_username"
    assert (cfg.resolved_backend(), cfg.database.port) == ("mysql", 3306)


def test_save_template_exists(isolated: Path) -> None:
    write_json(isolated / "datajoint.json", {})
    with pytest.raises(FileExistsError):
        Config.save_template()
    assert not (isolated / ".secrets").exists()


def test_save_template_keeps_existing_secrets(tmp_path: Path) -> None:
    write_secrets(tmp_path / "proj" / ".secrets", **{"database.user": "real"})
    path = Config.save_template(tmp_path / "proj" / "dj.json")
    assert path == tmp_path / "proj" / "dj.json"
    assert (tmp_path / "proj" / ".secrets" / "database.user").read_text() == "real"
    assert (tmp_path / "proj" / ".secrets" / "database.password").exists()


def test_save_template_full_without_secrets_dir(isolated: Path) -> None:
    path = Config.save_template("full.json", minimal=False, create_secrets_dir=False)
    assert not (isolated / ".secrets").exists()
    data = json.loads(path.read_text())
    assert {"database", "connection", "display", "jobs", "provenance", "stores"} <= set(data)
    assert "user" not in data["database"] and "password" not in data["database"]
    assert data["database"]["port"] == 3306
    cfg = Config()
    cfg.load(path)
    assert cfg.display.limit == 12


# ---------------------------------------------------------------- get_store_spec
def store_config(**stores: Any) -> Config:
    cfg = Config()
    cfg.stores = stores
    return cfg


def test_store_default_errors() -> None:
    with pytest.raises(DataJointError, match=r"^stores\.default is not configured$"):
        store_config().get_store_spec()
    with pytest.raises(
        DataJointError,
        match=r"stores\.filepath_default is not configured\. Set stores\.filepath_default or "
        r"specify store explicitly with <filepath@store>",
    ):
        store_config(default="main").get_store_spec(use_filepath_default=True)
    with pytest.raises(DataJointError, match=r"stores\.default must be a string"):
        store_config(default=3).get_store_spec()
    with pytest.raises(DataJointError, match=r"stores\.filepath_default must be a string"):
        store_config(filepath_default=["x"]).get_store_spec(use_filepath_default=True)


@pytest.mark.parametrize("name", ["x", "default"])
def test_store_not_configured(name: str) -> None:
    with pytest.raises(
        DataJointError, match=f"Storage '{name}' is requested but not configured in stores"
    ):
        store_config(default="main").get_store_spec(name)


def test_store_entry_must_be_an_object() -> None:
    with pytest.raises(DataJointError, match="must be an object"):
        store_config(main="file").get_store_spec("main")


def test_store_defaults_on_a_copy() -> None:
    entry = {"protocol": "File", "location": "/data"}
    cfg = store_config(default="main", filepath_default="main", main=entry)
    spec = cfg.get_store_spec()
    assert spec == {
        "protocol": "file",
        "location": "/data",
        "subfolding": None,
        "partition_pattern": None,
        "token_length": 8,
        "hash_prefix": "_hash",
        "schema_prefix": "_schema",
        "filepath_prefix": None,
    }
    assert cfg.get_store_spec(use_filepath_default=True) == spec
    assert entry == {"protocol": "File", "location": "/data"}
    spec["location"] = "changed"
    assert cfg.stores["main"]["location"] == "/data"


COMMON = {
    "subfolding": [2],
    "partition_pattern": "{a}",
    "token_length": 10,
    "hash_prefix": "h",
    "schema_prefix": "s",
    "filepath_prefix": "f",
    "stage": "/tmp",
}
PROTOCOLS = {
    "file": ({"location": "/d"}, {}),
    "s3": (
        {"endpoint": "e", "bucket": "b", "location": "l"},
        {"access_key": "a", "secret_key": "k", "secure": False, "proxy_server": "p"},
    ),
    "gcs": ({"bucket": "b", "location": "l"}, {"token": "t", "project": "p"}),
    "azure": (
        {"container": "c", "location": "l"},
        {"account_name": "n", "account_key": "k", "connection_string": "cs"},
    ),
}


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_store_protocol_keys(protocol: str) -> None:
    required, optional = PROTOCOLS[protocol]
    full = {"protocol": protocol, **required, **optional, **COMMON}
    assert store_config(s=full).get_store_spec("s") == full
    missing_names = list(required)
    with pytest.raises(
        DataJointError,
        match=rf'^config\.stores\["s"\] is missing: {", ".join(missing_names)}$',
    ):
        store_config(s={"protocol": protocol}).get_store_spec("s")
    with pytest.raises(DataJointError, match=r'^Invalid key\(s\) in config\.stores\["s"\]: a, zz$'):
        store_config(s={"protocol": protocol, **required, "zz": 1, "a": 2}).get_store_spec("s")
    # a key allowed for another protocol is not allowed here
    foreign = {"file": "bucket", "s3": "container", "gcs": "endpoint", "azure": "bucket"}[protocol]
    with pytest.raises(DataJointError, match="Invalid key"):
        store_config(s={"protocol": protocol, **required, foreign: "x"}).get_store_spec("s")


def test_store_missing_checked_before_invalid() -> None:
    with pytest.raises(DataJointError, match=r"is missing: location$"):
        store_config(s={"protocol": "file", "bogus": 1}).get_store_spec("s")
    with pytest.raises(DataJointError, match=r"is missing: protocol$"):
        store_config(s={"location": "/x"}).get_store_spec("s")


def test_s3_secure_defaults_true_and_protocol_case() -> None:
    spec = store_config(s={"protocol": "S3", "endpoint": "e", "bucket": "b", "location": "l"})
    assert spec.get_store_spec("s")["secure"] is True
    assert spec.get_store_spec("s")["protocol"] == "s3"


@pytest.mark.parametrize(
    ("prefixes", "message"),
    [
        (
            {"hash_prefix": "data", "schema_prefix": "data"},
            'hash_prefix="data" and schema_prefix="data" overlap',
        ),
        (
            {"schema_prefix": "/data/", "filepath_prefix": "data/files"},
            'schema_prefix="/data/" and filepath_prefix="data/files" overlap',
        ),
        (
            {"hash_prefix": "a/b/c", "filepath_prefix": "/a/b"},
            'hash_prefix="a/b/c" and filepath_prefix="/a/b" overlap',
        ),
    ],
)
def test_store_prefix_overlap(prefixes: dict[str, str], message: str) -> None:
    cfg = store_config(s={"protocol": "file", "location": "/d", **prefixes})
    with pytest.raises(DataJointError) as info:
        cfg.get_store_spec("s")
    assert str(info.value) == (
        f'config.stores["s"]: {message}. Storage section prefixes must be mutually exclusive.'
    )


def test_store_prefixes_that_do_not_nest() -> None:
    cfg = store_config(
        s={
            "protocol": "file",
            "location": "/d",
            "hash_prefix": "_hash",
            "schema_prefix": "_hash2",
            "filepath_prefix": "/",
        }
    )
    assert cfg.get_store_spec("s")["schema_prefix"] == "_hash2"


def test_unknown_protocol() -> None:
    with pytest.raises(DataJointError) as info:
        store_config(s={"protocol": "Ftp", "location": "/d"}).get_store_spec("s")
    assert str(info.value) == (
        'Unknown protocol "Ftp" in config.stores["s"]. Built-in: file, s3, gcs, azure. '
        "Install a plugin package for additional protocols."
    )


def test_plugin_protocol_validates_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []

    class Adapter:
        def validate_spec(self, spec: dict[str, Any]) -> None:
            seen.append(dict(spec))
            if "volume" not in spec:
                raise DataJointError("uc store is missing: volume")

    asked: list[str] = []

    def lookup(protocol: str) -> Any:
        asked.append(protocol)
        return Adapter() if protocol == "uc" else None

    monkeypatch.setattr(settings, "lookup_storage_adapter", lookup)
    spec = store_config(s={"protocol": "UC", "volume": "v", "anything": 1}).get_store_spec("s")
    assert asked == ["uc"] and spec["anything"] == 1 and seen[0]["token_length"] == 8
    with pytest.raises(DataJointError, match="missing: volume"):
        store_config(s={"protocol": "uc"}).get_store_spec("s")
    with pytest.raises(DataJointError, match="overlap"):
        store_config(s={"protocol": "uc", "volume": "v", "hash_prefix": "_schema"}).get_store_spec(
            "s"
        )


def test_lookup_storage_adapter_hook_defaults_to_none() -> None:
    assert settings.lookup_storage_adapter("anything") is None


# ---------------------------------------------------------------- thread-safe mode
GUARDED = {
    "attribute get": lambda c, p: c.database,
    "stores get": lambda c, p: c.stores,
    "attribute set": lambda c, p: setattr(c, "safemode", False),
    "item get": lambda c, p: c["database.host"],
    "item set": lambda c, p: c.__setitem__("safemode", False),
    "item del": lambda c, p: c.__delitem__("safemode"),
    "get": lambda c, p: c.get("database.host"),
    "override": lambda c, p: c.override(safemode=False),
    "load": lambda c, p: c.load(p),
    "get_store_spec": lambda c, p: c.get_store_spec(),
    "resolved_backend": lambda c, p: c.resolved_backend(),
}


@pytest.mark.parametrize("operation", list(GUARDED))
@pytest.mark.parametrize("value", ["true", "1", "yes", "TRUE", " Yes "])
def test_thread_safe_mode_guards_global_config(monkeypatch, tmp_path, operation, value) -> None:
    path = write_json(tmp_path / "c.json", {})
    monkeypatch.setenv("DJ_THREAD_SAFE", value)
    with pytest.raises(ThreadSafetyError) as info:
        GUARDED[operation](settings.config, path)
    assert str(info.value) == THREAD_SAFE_MESSAGE


def test_thread_safe_mode_does_not_guard_repr_or_save_template(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DJ_THREAD_SAFE", "true")
    assert repr(settings.config).startswith("Config(")
    assert str(settings.config)
    path = settings.config.save_template(tmp_path / "t.json")
    assert path.exists()


@pytest.mark.parametrize("value", ["", "0", "false", "no", "off"])
def test_thread_safe_mode_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DJ_THREAD_SAFE", value)
    assert settings.thread_safe_mode() is False
    settings.check_thread_safety()
    assert settings.config.get("database.sqlite_file") is not None


def test_thread_safe_mode_is_read_on_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = settings.config
    assert isinstance(cfg.safemode, bool)
    monkeypatch.setenv("DJ_THREAD_SAFE", "1")
    with pytest.raises(ThreadSafetyError):
        cfg.safemode  # noqa: B018
    with pytest.raises(ThreadSafetyError):
        settings.check_thread_safety()
    monkeypatch.setenv("DJ_THREAD_SAFE", "0")
    assert isinstance(cfg.safemode, bool)


def test_instance_configs_work_in_thread_safe_mode(monkeypatch, isolated: Path) -> None:
    monkeypatch.setenv("DJ_THREAD_SAFE", "true")
    cfg = project_config(isolated, {"database": {"user": "u"}})
    assert cfg.database.user == "u"
    cfg["safemode"] = False
    with cfg.override(database__host="db"):
        assert cfg.resolved_backend() == "mysql"
    assert cfg is not settings.config and isinstance(settings.config, Config)
