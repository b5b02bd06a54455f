"""Sources and checks behind ``dj.config``: environment variables, ``datajoint.json`` discovery,
secrets, the template, and store specs (SPEC §1.1, §4.6).

Nothing here holds state; :mod:`datajoint.settings` applies the values to the settings model.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import DataJointError

logger = logging.getLogger("datajoint.settings")

CONFIG_FILENAME = "datajoint.json"
SECRETS_DIRNAME = ".secrets"
#: where container platforms (Docker, Kubernetes) mount secrets; tests point it elsewhere
SYSTEM_SECRETS_DIR = Path("/run/secrets/datajoint")
#: a directory holding one of these is a repository root: the search for the file stops there
REPOSITORY_MARKERS = (".git", ".hg")

MINIMAL_TEMPLATE: dict[str, Any] = {"database": {"host": "localhost", "port": 3306}}
SECRET_PLACEHOLDERS: dict[str, str] = {
    "database.user": "your_username",
    "database.password": "your_password",
}
SECRETS_GITIGNORE = "# Never commit secrets\n*\n!.gitignore\n"
#: top-level keys whose object value in a file is applied one entry at a time
NESTED_KEYS = frozenset({"database", "connection", "display", "jobs", "provenance", "stores"})

# ---------------------------------------------------------------- environment
#: setting (dotted key) -> environment variable read when the config is built
ENV_VARS: dict[str, str] = {
    "database.host": "DJ_HOST",
    "database.user": "DJ_USER",
    "database.password": "DJ_PASS",
    "database.backend": "DJ_BACKEND",
    "database.port": "DJ_PORT",
    "database.name": "DJ_DATABASE_NAME",
    "database.use_tls": "DJ_USE_TLS",
    "database.database_prefix": "DJ_DATABASE_PREFIX",
    "database.create_tables": "DJ_CREATE_TABLES",
    "database.sqlite_file": "DJ_SQLITE_FILE",
    "display.diagram_direction": "DJ_DIAGRAM_DIRECTION",
    "display.diagram_theme": "DJ_DIAGRAM_THEME",
    "jobs.auto_refresh": "DJ_JOBS_AUTO_REFRESH",
    "jobs.keep_completed": "DJ_JOBS_KEEP_COMPLETED",
    "jobs.stale_timeout": "DJ_JOBS_STALE_TIMEOUT",
    "jobs.default_priority": "DJ_JOBS_DEFAULT_PRIORITY",
    "jobs.version_method": "DJ_JOBS_VERSION_METHOD",
    "jobs.allow_new_pk_fields_in_computed_tables": (
        "DJ_JOBS_ALLOW_NEW_PK_FIELDS_IN_COMPUTED_TABLES"
    ),
    "jobs.add_job_metadata": "DJ_JOBS_ADD_JOB_METADATA",
    "provenance.capture": "DJ_PROVENANCE_CAPTURE",
    "provenance.source": "DJ_PROVENANCE_SOURCE",
    "loglevel": "DJ_LOG_LEVEL",
    "ignore_config_file": "DJ_IGNORE_CONFIG_FILE",
}
#: settings whose env var, when set and non-empty, beats the value in ``datajoint.json``
ENV_PROTECTED_KEYS = frozenset(
    {
        "database.host",
        "database.user",
        "database.password",
        "database.backend",
        "database.port",
        "database.name",
        "database.database_prefix",
        "database.create_tables",
        "database.sqlite_file",
        "loglevel",
        "display.diagram_direction",
        "display.diagram_theme",
    }
)
_JSON_ENV_KEYS = frozenset({"provenance.source"})


def _parse_json_env(var: str, raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{var} contains invalid JSON: {exc}") from None


def read_env_settings() -> dict[str, Any]:
    """The nested settings given by ``DJ_*`` environment variables; empty variables are unset."""
    values: dict[str, Any] = {}
    for key, var in ENV_VARS.items():
        raw = os.environ.get(var)
        if not raw:
            continue
        *groups, name = key.split(".")
        node = values
        for group in groups:
            node = node.setdefault(group, {})
        node[name] = _parse_json_env(var, raw) if key in _JSON_ENV_KEYS else raw
    return values


def read_env_stores() -> dict[str, Any] | None:
    """``DJ_STORES`` as a dict, or None when unset; invalid JSON or a non-object is a ValueError."""
    raw = os.environ.get("DJ_STORES", "")
    if not raw.strip():
        return None
    value = _parse_json_env("DJ_STORES", raw)
    if not isinstance(value, dict):
        raise ValueError(f"DJ_STORES must be a JSON object, not {type(value).__name__}")
    return value


def env_protects(key: str) -> bool:
    """Whether the env var of setting ``key`` is protected and set, so a file may not change it."""
    return key in ENV_PROTECTED_KEYS and bool(os.environ.get(ENV_VARS[key]))


# ---------------------------------------------------------------- files
def find_config_file(start: Path | None = None) -> Path | None:
    """Return the nearest ``datajoint.json`` in ``start`` (default: the cwd) or a parent directory.

    Each directory is searched for the file first; the walk then stops at a directory that holds
    ``.git`` or ``.hg`` (the repository root) or at the filesystem root.
    """
    directory = (start if start is not None else Path.cwd()).absolute()
    while True:
        candidate = directory / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
        if any((directory / marker).exists() for marker in REPOSITORY_MARKERS):
            return None
        if directory.parent == directory:
            return None
        directory = directory.parent


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a ``datajoint.json`` file; its top level must be a JSON object (else ValueError)."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError(
            f"{path} must hold a JSON object at the top level, not {type(data).__name__}"
        )
    return data


def secrets_dir(config_file: Path | None) -> Path | None:
    """Choose the secrets directory: ``.secrets/`` beside the config file, else the system one."""
    if config_file is not None:
        local = config_file.parent / SECRETS_DIRNAME
        if local.is_dir():
            return local
    if SYSTEM_SECRETS_DIR.is_dir():
        return SYSTEM_SECRETS_DIR
    return None


def read_secrets(directory: Path) -> dict[str, str]:
    """Read every regular, non-hidden file of ``directory``: name -> stripped text, sorted by name.

    A file that cannot be read is skipped with a logged warning so that one bad mount does not
    hide the other secrets.
    """
    secrets: dict[str, str] = {}
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        try:
            secrets[entry.name] = entry.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning("Skipping unreadable secrets file %s: %s", entry, exc)
    return secrets


def file_entries(data: Mapping[str, Any]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Flatten a file's settings into (dotted path, value) pairs.

    An object under a key of ``NESTED_KEYS`` is opened one level, so each of its entries is
    applied on its own: groups are merged key by key and each store entry replaces that store.
    """
    for key, value in data.items():
        path = tuple(key.split("."))
        if len(path) == 1 and key in NESTED_KEYS and isinstance(value, Mapping):
            for sub, sub_value in value.items():
                yield (key, *sub.split(".")), sub_value
        else:
            yield path, value


_NOT_IN_TEMPLATE = frozenset({"user", "password", "database_prefix", "ignore_config_file"})


def full_template(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting of the model ``fields`` at its default, except the credentials (they belong
    in ``.secrets/``) and deprecated or loader-only switches; the database is a local MySQL."""
    template: dict[str, Any] = {}
    for name, field in fields.items():
        if name in _NOT_IN_TEMPLATE:
            continue
        default = field.get_default(call_default_factory=True)
        if hasattr(default, "model_dump"):
            dumped = default.model_dump(mode="json")
            default = {k: v for k, v in dumped.items() if k not in _NOT_IN_TEMPLATE}
        template[name] = default
    template["database"].update(backend="mysql", host="localhost", port=3306)
    return template


def write_template(
    path: str | os.PathLike[str], template: Mapping[str, Any], *, create_secrets_dir: bool
) -> Path:
    """Write ``template`` as JSON to ``path`` (which must not exist) and the ``.secrets/`` stubs.

    The secrets directory sits next to the new file and receives, only where absent, placeholder
    ``database.user`` and ``database.password`` files and a ``.gitignore`` that keeps every secret
    out of version control. Returns the absolute path of the written file.
    """
    target = Path(path).expanduser().resolve()
    if target.exists():
        raise FileExistsError(f"{target} already exists; remove it or choose another path.")
    with open(target, "x", encoding="utf-8") as handle:
        handle.write(json.dumps(template, indent=2) + "\n")
    logger.info("Wrote configuration template %s", target)
    if create_secrets_dir:
        directory = target.parent / SECRETS_DIRNAME
        directory.mkdir(exist_ok=True)
        for name, placeholder in SECRET_PLACEHOLDERS.items():
            _write_if_absent(directory / name, placeholder, private=True)
        _write_if_absent(directory / ".gitignore", SECRETS_GITIGNORE, private=False)
    return target


def _write_if_absent(path: Path, text: str, *, private: bool) -> None:
    if path.exists():
        return
    path.write_text(text, encoding="utf-8")
    if private:
        try:
            path.chmod(0o600)
        except OSError:  # e.g. a filesystem without POSIX permissions
            pass


# ---------------------------------------------------------------- store specs (SPEC §4.6)
STORE_DEFAULTS: dict[str, Any] = {
    "subfolding": None,
    "partition_pattern": None,
    "token_length": 8,
    "hash_prefix": "_hash",
    "schema_prefix": "_schema",
    "filepath_prefix": None,
}
COMMON_STORE_KEYS = (
    "subfolding",
    "partition_pattern",
    "token_length",
    "hash_prefix",
    "schema_prefix",
    "filepath_prefix",
    "stage",
)
#: protocol -> (required keys, further allowed keys)
PROTOCOL_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "file": (("protocol", "location"), ()),
    "s3": (
        ("protocol", "endpoint", "bucket", "location"),
        ("access_key", "secret_key", "secure", "proxy_server"),
    ),
    "gcs": (("protocol", "bucket", "location"), ("token", "project")),
    "azure": (
        ("protocol", "container", "location"),
        ("account_name", "account_key", "connection_string"),
    ),
}
PREFIX_KEYS = ("hash_prefix", "schema_prefix", "filepath_prefix")


def validate_store_spec(
    name: str, entry: Mapping[str, Any], lookup_adapter: Callable[[str], Any | None]
) -> dict[str, Any]:
    """Check the settings of store ``name`` and return a copy completed with the defaults.

    Built-in protocols are checked here; for any other, ``lookup_adapter(protocol)`` must return a
    plugin adapter, whose ``validate_spec(spec)`` (when present) checks the settings instead.
    """
    spec = copy.deepcopy(dict(entry))
    for key, default in STORE_DEFAULTS.items():
        spec.setdefault(key, default)
    where = f'config.stores["{name}"]'
    if "protocol" not in spec:
        raise DataJointError(f"{where} is missing: protocol")
    configured = spec["protocol"]
    protocol = spec["protocol"] = str(configured).lower()
    if protocol in PROTOCOL_KEYS:
        required, optional = PROTOCOL_KEYS[protocol]
        if protocol == "s3":
            spec.setdefault("secure", True)
        missing = [key for key in required if key not in spec]
        if missing:
            raise DataJointError(f"{where} is missing: {', '.join(missing)}")
        allowed = {*required, *optional, *COMMON_STORE_KEYS}
        invalid = sorted(str(key) for key in spec if key not in allowed)
        if invalid:
            raise DataJointError(f"Invalid key(s) in {where}: {', '.join(invalid)}")
    else:
        adapter = lookup_adapter(protocol)
        if adapter is None:
            raise DataJointError(
                f'Unknown protocol "{configured}" in {where}. Built-in: file, s3, gcs, azure. '
                "Install a plugin package for additional protocols."
            )
        validate = getattr(adapter, "validate_spec", None)
        if callable(validate):
            validate(spec)
    _check_prefixes(where, spec)
    return spec


def _check_prefixes(where: str, spec: Mapping[str, Any]) -> None:
    """Prefixes may not nest: one equal to another or lying below it (as paths) is rejected."""
    prefixes = [
        (key, spec[key], spec[key].strip("/"))
        for key in PREFIX_KEYS
        if isinstance(spec.get(key), str) and spec[key].strip("/")
    ]
    for i, (key_a, raw_a, a) in enumerate(prefixes):
        for key_b, raw_b, b in prefixes[i + 1 :]:
            if a == b or a.startswith(b + "/") or b.startswith(a + "/"):
                raise DataJointError(
                    f'{where}: {key_a}="{raw_a}" and {key_b}="{raw_b}" overlap. '
                    "Storage section prefixes must be mutually exclusive."
                )
