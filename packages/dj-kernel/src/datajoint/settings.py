"""``dj.config``: the settings of DataJoint (SPEC §1.1, §1.3 and §4.6).

:class:`Config` is a pydantic-settings model with one nested group per topic (``database``,
``connection``, ``display``, ``jobs``, ``provenance``) and a few top-level values. It is built by
:func:`create_config` in this order, later sources winning for the values they set:

1. defaults and ``DJ_*`` environment variables;
2. ``datajoint.json`` (the nearest one in the cwd or a parent directory, stopping at the repository
   root), except that a value whose protected env var is set keeps the env value;
3. ``DJ_STORES``, which replaces ``stores``;
4. the secrets directory, which only fills credentials and store attributes still missing.

Assignments at run time win over all of these. With ``DJ_THREAD_SAFE`` on, the process-wide
``config`` refuses every use (``ThreadSafetyError``); configs built for ``dj.Instance`` do not.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from . import settings_files as files
from .errors import THREAD_SAFE_MESSAGE, DataJointError, ThreadSafetyError
from .settings_files import ENV_PROTECTED_KEYS, ENV_VARS

__all__ = [
    "ENV_PROTECTED_KEYS",
    "ENV_VARS",
    "Config",
    "ConnectionSettings",
    "DatabaseSettings",
    "DisplaySettings",
    "JobsSettings",
    "ProvenanceSettings",
    "check_thread_safety",
    "config",
    "create_config",
    "lookup_storage_adapter",
    "thread_safe_mode",
]

logger = logging.getLogger("datajoint.settings")

BackendName = Literal["sqlite", "mysql", "postgresql"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
BACKEND_ALIASES = {"postgres": "postgresql"}
DEFAULT_PORTS: dict[str, int] = {"mysql": 3306, "postgresql": 5432}


# ---------------------------------------------------------------- thread-safe mode (SPEC §1.3)
def thread_safe_mode() -> bool:
    """Whether ``DJ_THREAD_SAFE`` is on (true/1/yes); read anew on every call."""
    return os.environ.get("DJ_THREAD_SAFE", "").strip().lower() in ("true", "1", "yes")


def check_thread_safety() -> None:
    """Raise ThreadSafetyError when thread-safe mode forbids the use of global DataJoint state."""
    if thread_safe_mode():
        raise ThreadSafetyError(THREAD_SAFE_MESSAGE)


def _guard(cfg: Config) -> None:
    try:
        private = object.__getattribute__(cfg, "__pydantic_private__")
    except AttributeError:  # still being built
        return
    if private and private.get("_global_state"):
        check_thread_safety()


def _set_logger_level(level: str) -> None:
    logging.getLogger("datajoint").setLevel(level)


# ---------------------------------------------------------------- setting groups
class _Group(BaseModel):
    """A group of settings: unknown keys and badly typed values raise ValidationError."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    def _refresh(self) -> None:
        """Re-derive values that depend on which fields are configured (none by default)."""

    def _reset_field(self, name: str) -> None:
        """Restore the default of ``name`` and forget that it was ever configured."""
        setattr(self, name, type(self).model_fields[name].get_default(call_default_factory=True))
        self.__pydantic_fields_set__.discard(name)
        self._refresh()

    def _field_state(self, name: str) -> tuple[Any, ...]:
        return self.__dict__[name], name in self.__pydantic_fields_set__

    def _restore_field_state(self, name: str, state: tuple[Any, ...]) -> None:
        self.__dict__[name] = state[0]
        if state[1]:
            self.__pydantic_fields_set__.add(name)
        else:
            self.__pydantic_fields_set__.discard(name)
        self._refresh()


class DatabaseSettings(_Group):
    """``database.*``: where and how to connect.

    ``backend`` None means automatic (see :meth:`resolved_backend`); ``port`` None means the
    default port of that backend, derived again whenever the backend or host changes.
    """

    host: str = "localhost"
    user: str | None = None
    password: SecretStr | None = None
    backend: BackendName | None = None
    port: int | None = None
    name: str | None = None
    reconnect: bool = True
    use_tls: bool | None = None
    database_prefix: str = ""
    create_tables: bool = True
    sqlite_file: str = "datajoint.sqlite3"

    _port_derived: bool = PrivateAttr(default=False)

    @field_validator("backend", mode="before")
    @classmethod
    def _normalize_backend(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return BACKEND_ALIASES.get(value, value)
        return value

    @model_validator(mode="after")
    def _derive_port(self) -> DatabaseSettings:
        self._refresh()
        return self

    def _refresh(self) -> None:
        if self.__dict__["port"] is None or self._port_derived:
            self.__dict__["port"] = DEFAULT_PORTS.get(self.resolved_backend())
            self._port_derived = True

    def __setattr__(self, name: str, value: Any) -> None:
        if name != "port":
            super().__setattr__(name, value)
            return
        previous = self._port_derived
        self._port_derived = False  # an explicit port; None is derived again by the validator
        try:
            super().__setattr__(name, value)
        except Exception:
            self._port_derived = previous
            raise

    def _field_state(self, name: str) -> tuple[Any, ...]:
        return (*super()._field_state(name), self._port_derived)

    def _restore_field_state(self, name: str, state: tuple[Any, ...]) -> None:
        if name == "port":
            self._port_derived = state[2]
        super()._restore_field_state(name, state)

    def resolved_backend(self) -> str:
        """The backend to use: ``backend`` when set, else mysql if ``host`` was configured by any
        source (env, file, assignment), else the embedded sqlite."""
        if self.backend is not None:
            return self.backend
        return "mysql" if "host" in self.__pydantic_fields_set__ else "sqlite"


class ConnectionSettings(_Group):
    """``connection.*``."""

    charset: str = ""


class DisplaySettings(_Group):
    """``display.*``: previews and diagrams."""

    limit: int = 12
    width: int = 14
    show_tuple_count: bool = True
    diagram_direction: Literal["TB", "LR"] = "LR"
    diagram_theme: Literal["light", "dark", "auto"] = "auto"


class JobsSettings(_Group):
    """``jobs.*``: autopopulate and the jobs tables."""

    auto_refresh: bool = True
    keep_completed: bool = False
    stale_timeout: int = Field(default=3600, ge=0)
    default_priority: int = Field(default=5, ge=0, le=255)
    version_method: Literal["git", "none"] | None = None
    allow_new_pk_fields_in_computed_tables: bool = False
    add_job_metadata: bool = False


class ProvenanceSettings(_Group):
    """``provenance.*``."""

    capture: bool = False
    source: dict[str, Any] = Field(default_factory=dict)

    @field_validator("source")
    @classmethod
    def _json_serializable(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"provenance.source must be JSON-serializable: {exc}") from None
        return value


# ---------------------------------------------------------------- sources and store specs
class _EnvSource(PydanticBaseSettingsSource):
    """Reads exactly the variables of :data:`ENV_VARS` (no prefixes or JSON guessing)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads everything at once

    def __call__(self) -> dict[str, Any]:
        return files.read_env_settings()


def lookup_storage_adapter(protocol: str) -> Any | None:
    """The storage adapter that a plugin registered for ``protocol``, or None.

    Used for protocols other than the built-in file, s3, gcs and azure: the adapter's
    ``validate_spec(spec)``, when present, checks the store settings instead of the built-in key
    rules (see :func:`datajoint.storage.get_storage_adapter`).
    """
    from .storage import get_storage_adapter

    return get_storage_adapter(protocol)


# ---------------------------------------------------------------- the config object
class Config(BaseSettings):
    """``dj.config``: every DataJoint setting; dotted item access (``config["database.host"]``).

    Built from defaults and ``DJ_*`` variables; :func:`create_config` adds the files.
    """

    model_config = SettingsConfigDict(extra="forbid", validate_assignment=True)

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    connection: ConnectionSettings = Field(default_factory=ConnectionSettings)
    display: DisplaySettings = Field(default_factory=DisplaySettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    provenance: ProvenanceSettings = Field(default_factory=ProvenanceSettings)
    stores: dict[str, Any] = Field(default_factory=dict)
    loglevel: LogLevel = "INFO"
    safemode: bool = True
    ignore_config_file: bool = False
    query_cache: Path | None = None
    download_path: str = "."

    _global_state: bool = PrivateAttr(default=False)
    _config_file: Path | None = PrivateAttr(default=None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _EnvSource(settings_cls)

    @field_validator("loglevel", mode="before")
    @classmethod
    def _upper_loglevel(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    # -- thread-safe guard: the global instance refuses every use in thread-safe mode
    def __getattribute__(self, name: str) -> Any:
        if name in _GUARDED_FIELDS:
            _guard(self)
        return super().__getattribute__(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            _guard(self)
        super().__setattr__(name, value)
        if name == "loglevel":
            _set_logger_level(self.__dict__["loglevel"])

    # -- dotted item access
    def __getitem__(self, key: str) -> Any:
        _guard(self)
        value = self._lookup(key)
        return value.get_secret_value() if isinstance(value, SecretStr) else value

    def __setitem__(self, key: str, value: Any) -> None:
        _guard(self)
        *parents, name = key.split(".")
        if not parents:
            if name not in type(self).model_fields:
                raise KeyError(f"Setting '{key}' not found")
            setattr(self, name, value)
            return
        node = self._container(key, parents)
        if isinstance(node, BaseModel):
            setattr(node, name, value)  # an unknown name raises pydantic's ValidationError
        else:
            node[name] = value

    def __delitem__(self, key: str) -> None:
        """Restore the default of a setting (a store entry or attribute is removed)."""
        _guard(self)
        *parents, name = key.split(".")
        missing = KeyError(f"Setting '{key}' not found")
        if not parents:
            if name not in type(self).model_fields:
                raise missing
            default = type(self).model_fields[name].get_default(call_default_factory=True)
            setattr(self, name, default)
            self.__pydantic_fields_set__.discard(name)
            return
        try:
            node = self._lookup(".".join(parents))
        except KeyError:
            raise missing from None
        if isinstance(node, _Group) and name in type(node).model_fields:
            node._reset_field(name)
        elif isinstance(node, dict) and name in node:
            del node[name]
        else:
            raise missing

    def _lookup(self, key: str) -> Any:
        node: Any = self
        for part in key.split("."):
            if isinstance(node, BaseModel) and part in type(node).model_fields:
                node = getattr(node, part)
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise KeyError(f"Setting '{key}' not found")
        return node

    def _container(self, key: str, parts: list[str]) -> BaseModel | dict[str, Any]:
        """Walk to the group or dict that holds the last part of ``key``, creating store dicts."""
        node: Any = self
        for depth, part in enumerate(parts):
            where = ".".join(parts[: depth + 1])
            if isinstance(node, BaseModel):
                if part not in type(node).model_fields:
                    raise AttributeError(f"Unknown setting group '{where}' in '{key}'")
                child = getattr(node, part)
            else:
                child = node.setdefault(part, {})
            if not isinstance(child, BaseModel | dict):
                raise AttributeError(f"Setting '{where}' is not a group of settings (in '{key}')")
            node = child
        return node

    def get(self, key: str, default: Any = None) -> Any:
        """``config[key]``, or ``default`` when no such setting exists."""
        _guard(self)
        try:
            return self[key]
        except KeyError:
            return default

    # -- derived values
    def resolved_backend(self) -> str:
        """``database.backend`` when set; else mysql if ``database.host`` was configured
        explicitly (env, file, assignment), else sqlite."""
        _guard(self)
        return self.database.resolved_backend()

    def get_store_spec(
        self, store: str | None = None, *, use_filepath_default: bool = False
    ) -> dict[str, Any]:
        """The checked settings of a store, completed with defaults (SPEC §4.6).

        ``store=None`` selects ``stores.default`` (``stores.filepath_default`` with
        ``use_filepath_default=True``).
        """
        _guard(self)
        stores = self.stores
        if store is None:
            key = "filepath_default" if use_filepath_default else "default"
            if key not in stores:
                if use_filepath_default:
                    raise DataJointError(
                        "stores.filepath_default is not configured. Set stores.filepath_default "
                        "or specify store explicitly with <filepath@store>"
                    )
                raise DataJointError("stores.default is not configured")
            store = stores[key]
            if not isinstance(store, str):
                raise DataJointError(f"stores.{key} must be a string")
        entry = stores.get(store)
        if entry is None or store in ("default", "filepath_default"):
            raise DataJointError(f"Storage '{store}' is requested but not configured in stores")
        if not isinstance(entry, Mapping):
            raise DataJointError(
                f'config.stores["{store}"] must be an object of store settings, '
                f"not {type(entry).__name__}"
            )
        return files.validate_store_spec(store, entry, lookup_storage_adapter)

    # -- temporary values
    def override(self, **settings: Any) -> AbstractContextManager[Config]:
        """Change settings for the duration of a ``with`` block, restoring them on exit.

        ``name=value`` sets a top-level setting, ``group__name=value`` a nested one (also a store:
        ``stores__main={...}``); names that match no setting are ignored.
        """
        _guard(self)
        return self._override(settings)

    @contextmanager
    def _override(self, settings: Mapping[str, Any]) -> Iterator[Config]:
        undo: list[Callable[[], None]] = []
        try:
            for name, value in settings.items():
                step = self._override_one(name, value)
                if step is not None:
                    undo.append(step)
            yield self
        finally:
            for step in reversed(undo):
                step()

    def _override_one(self, name: str, value: Any) -> Callable[[], None] | None:
        fields = type(self).model_fields
        if name in fields:
            old, was_set = self.__dict__[name], name in self.__pydantic_fields_set__
            setattr(self, name, value)

            def restore_top() -> None:
                self.__dict__[name] = old
                if was_set:
                    self.__pydantic_fields_set__.add(name)
                else:
                    self.__pydantic_fields_set__.discard(name)
                if name == "loglevel":
                    _set_logger_level(old)

            return restore_top
        group_name, sep, attr = name.partition("__")
        if not sep or group_name not in fields:
            return None
        target = self.__dict__[group_name]
        if isinstance(target, _Group):
            if attr not in type(target).model_fields:
                return None
            state = target._field_state(attr)
            setattr(target, attr, value)
            return lambda: target._restore_field_state(attr, state)
        if isinstance(target, dict):
            existed, previous = attr in target, target.get(attr)
            target[attr] = value

            def restore_entry() -> None:
                if existed:
                    target[attr] = previous
                else:
                    target.pop(attr, None)

            return restore_entry
        return None

    # -- files
    def load(self, path: str | os.PathLike[str]) -> None:
        """Apply the settings of a ``datajoint.json`` file (same rules as the automatic load)."""
        _guard(self)
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"Config file not found: {path}")
        self._load_file(path)

    def _load_file(self, path: Path) -> None:
        entries = [
            (key_path, value)
            for key_path, value in files.file_entries(files.read_config_file(path))
            if not files.env_protects(".".join(key_path))
        ]
        try:  # all or nothing: a bad value leaves this config untouched
            trial = self.model_copy(deep=True)
            for key_path, value in entries:
                trial._apply_entry(key_path, value)
        finally:
            _set_logger_level(self.__dict__["loglevel"])
        for key_path, value in entries:
            self._apply_entry(key_path, value)
        self._config_file = path.absolute()

    def _apply_entry(self, path: tuple[str, ...], value: Any) -> None:
        """Set one file value; a path that names no setting is ignored."""
        head, rest = path[0], path[1:]
        if head not in type(self).model_fields:
            return
        if not rest:
            setattr(self, head, value)
            return
        target = self.__dict__[head]
        if isinstance(target, _Group):
            if len(rest) == 1 and rest[0] in type(target).model_fields:
                setattr(target, rest[0], value)
        elif isinstance(target, dict):
            node = target
            for part in rest[:-1]:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    return
                node = child
            node[rest[-1]] = copy.deepcopy(value)

    def _apply_secrets(self, secrets: Mapping[str, str]) -> None:
        """Fill credentials and store attributes that no other source has set."""
        database = self.database
        for name, value in secrets.items():
            if name in ("database.user", "database.password"):
                attr = name.partition(".")[2]
                if getattr(database, attr) is None:
                    setattr(database, attr, value)
                continue
            parts = name.split(".")
            if len(parts) != 3 or parts[0] != "stores" or not all(parts):
                continue
            store = self.stores.setdefault(parts[1], {})
            if isinstance(store, dict) and parts[2] not in store:
                store[parts[2]] = value

    @classmethod
    def save_template(
        cls,
        path: str | os.PathLike[str] = files.CONFIG_FILENAME,
        minimal: bool = True,
        create_secrets_dir: bool = True,
    ) -> Path:
        """Write a starter ``datajoint.json`` (FileExistsError if ``path`` exists) and, unless
        ``create_secrets_dir`` is false, placeholder credentials in ``.secrets/`` beside it.
        Returns the absolute path of the new file."""
        template = files.MINIMAL_TEMPLATE if minimal else files.full_template(cls.model_fields)
        return files.write_template(path, template, create_secrets_dir=create_secrets_dir)


_GUARDED_FIELDS = frozenset(Config.model_fields)


# ---------------------------------------------------------------- building the config
def _build_config() -> tuple[Config, list[str]]:
    """Run the loading order; returns the config and the warnings to issue."""
    notices: list[str] = []
    cfg = Config()
    found: Path | None = None
    if not cfg.ignore_config_file:
        found = files.find_config_file()
        if found is None:
            notices.append(
                f"No {files.CONFIG_FILENAME} found in {Path.cwd()} or its parent directories "
                "(the search stops at the repository root). Using defaults and environment "
                "variables; run dj.config.save_template() to create a configuration file."
            )
        else:
            try:
                cfg._load_file(found)
            except (OSError, ValueError) as exc:
                notices.append(f"Could not load configuration from {found}: {exc}")
    stores = files.read_env_stores()
    if stores is not None:
        cfg.stores = stores
    if not cfg.ignore_config_file:
        directory = files.secrets_dir(found)
        if directory is not None:
            cfg._apply_secrets(files.read_secrets(directory))
    return cfg, notices


def create_config() -> Config:
    """A new Config built in the documented loading order (env, datajoint.json, DJ_STORES, secrets).

    Warns (UserWarning) when no ``datajoint.json`` is found or when it cannot be loaded.
    """
    cfg, notices = _build_config()
    for notice in notices:
        warnings.warn(notice, UserWarning, stacklevel=2)
    return cfg


def _create_global_config() -> Config:
    cfg, notices = _build_config()
    for notice in notices:
        try:
            warnings.warn(notice, UserWarning, stacklevel=3)
        except Warning:  # a filter escalated it; `import datajoint` must still succeed
            logger.warning(notice)
    _set_logger_level(cfg.loglevel)
    cfg._global_state = True
    return cfg


config: Config = _create_global_config()
