"""The plugin host: finds plugins through entry points and keeps named registries with provenance.

Loading is lazy (on first lookup), once per host, and thread-safe. A plugin that fails to import is
recorded and its error is raised, chained, when something it would have provided is asked for;
``DJ_STRICT_PLUGINS=1`` raises at load instead. Environment switches: ``DJ_LOAD_PLUGINS`` (allow-list
of entry-point or distribution names), ``DJ_DISABLE_PLUGINS`` (block-list), ``DJ_TRACE_PLUGINS``
(log every load and registration to stderr).
"""

from __future__ import annotations

import importlib
import importlib.metadata as im
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError

logger = logging.getLogger("datajoint.plugins")

PLUGIN_GROUP = "datajoint.plugins"
CODEC_GROUPS = ("datajoint.codecs", "datajoint.types")
STORAGE_GROUP = "datajoint.storage"

#: kind -> (hook name, human name)
KINDS: dict[str, tuple[str, str]] = {
    "backend": ("dj_register_backends", "database backend"),
    "codec": ("dj_register_codecs", "codec"),
    "storage_protocol": ("dj_register_storage_protocols", "storage protocol"),
    "fetch_format": ("dj_register_fetch_formats", "fetch format"),
}

#: what to install for first-party names that may be missing
INSTALL_HINTS: dict[tuple[str, str], str] = {
    ("backend", "mysql"): 'pip install "dj-kernel[mysql]"',
    ("backend", "postgresql"): 'pip install "dj-kernel[postgres]"',
    ("backend", "sqlite"): "pip install dj-backend-sqlite",
    ("storage_protocol", "s3"): 'pip install "dj-kernel[s3]"',
    ("storage_protocol", "gcs"): 'pip install "dj-kernel[gcs]"',
    ("storage_protocol", "azure"): 'pip install "dj-kernel[azure]"',
    ("fetch_format", "polars"): 'pip install "dj-kernel[polars]"',
    ("fetch_format", "arrow"): 'pip install "dj-kernel[arrow]"',
}


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _name_list(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {item.strip() for item in raw.split(",") if item.strip()}


def resolve_reference(target: Any) -> Any:
    """Import ``"module:attr"`` (attr may be dotted); anything else is returned as is."""
    if isinstance(target, im.EntryPoint):
        return target.load()
    if not isinstance(target, str):
        return target
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


@dataclass
class Registration:
    """One registered implementation and where it came from."""

    kind: str
    name: str
    target: Any
    distribution: str
    version: str
    plugin: str
    _resolved: Any = field(default=None, repr=False)
    _is_resolved: bool = field(default=False, repr=False)

    def load(self) -> Any:
        """The implementation, importing a lazy reference the first time."""
        if not self._is_resolved:
            try:
                self._resolved = resolve_reference(self.target)
            except Exception as error:
                raise PluginError(
                    f"The {KINDS[self.kind][1]} '{self.name}' from {self.distribution} "
                    f"{self.version} could not be loaded: {error}"
                ) from error
            self._is_resolved = True
        return self._resolved


@dataclass
class BrokenPlugin:
    """A plugin that failed while loading or registering."""

    name: str
    group: str
    distribution: str
    version: str
    error: BaseException

    def describe(self) -> str:
        return (
            f"{self.group} entry '{self.name}' from {self.distribution} {self.version}: "
            f"{type(self.error).__name__}: {self.error}"
        )


@dataclass
class _Source:
    name: str
    distribution: str
    version: str


class PluginHost:
    """Registries of backends, codecs, storage protocols and fetch formats, filled by plugins.

    ``use_entry_points=False`` gives an empty host for tests: register in-process plugins with
    :meth:`add_plugin`.
    """

    def __init__(self, *, use_entry_points: bool = True) -> None:
        self.use_entry_points = use_entry_points
        self._lock = threading.RLock()
        self._loaded = False
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._sources: dict[str, _Source] = {}
        self._pending: list[tuple[object, _Source]] = []
        self.registries: dict[str, dict[str, Registration]] = {kind: {} for kind in KINDS}
        self.aliases: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        self.broken: list[BrokenPlugin] = []
        self.conflicts: dict[tuple[str, str], PluginError] = {}

    # ---- adding plugins --------------------------------------------------------------------
    def add_plugin(
        self,
        plugin: object,
        name: str | None = None,
        *,
        distribution: str = "(in-process)",
        version: str = "",
    ) -> None:
        """Add a module or object with hook implementations; its hooks run at the next load."""
        source = _Source(name or getattr(plugin, "__name__", repr(plugin)), distribution, version)
        with self._lock:
            if self._loaded:
                self._register_plugin(plugin, source)
            else:
                self._pending.append((plugin, source))

    def _register_plugin(self, plugin: object, source: _Source) -> None:
        try:
            self._pm.register(plugin, name=source.name)
        except ValueError as error:
            self._record_broken(source.name, PLUGIN_GROUP, source, error)
            return
        self._sources[source.name] = source
        for kind, (hook_name, _) in KINDS.items():
            for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
                if impl.plugin is plugin:
                    self._run_hook(kind, impl.function, source)

    def _run_hook(self, kind: str, function: Callable[..., Any], source: _Source) -> None:
        def register(name: str, target: object, *, aliases: Iterable[str] = ()) -> None:
            self.register(kind, name, target, source=source, aliases=tuple(aliases))

        try:
            function(register=register)
        except PluginError:
            raise
        except Exception as error:
            self._record_broken(source.name, PLUGIN_GROUP, source, error)

    def register(
        self,
        kind: str,
        name: str,
        target: object,
        *,
        source: _Source | None = None,
        aliases: tuple[str, ...] = (),
    ) -> None:
        """Record one implementation; two providers of one name are a conflict."""
        source = source or _Source("(direct)", "(in-process)", "")
        if not isinstance(name, str) or not name:
            raise PluginError(f"A {KINDS[kind][1]} name must be a non-empty string, got {name!r}")
        with self._lock:
            existing = self.registries[kind].get(name)
            if existing is not None and existing.target is not target:
                error = PluginError(
                    f"Two plugins provide the {KINDS[kind][1]} '{name}': "
                    f"{existing.distribution} {existing.version} ({existing.plugin}) and "
                    f"{source.distribution} {source.version} ({source.name}). "
                    f"Uninstall one of them or block one with DJ_DISABLE_PLUGINS."
                )
                if _truthy("DJ_STRICT_PLUGINS"):
                    raise error
                self.conflicts[(kind, name)] = error
                return
            self.registries[kind][name] = Registration(
                kind, name, target, source.distribution, source.version, source.name
            )
            for alias in aliases:
                self.aliases[kind][alias] = name
            self._trace(f"registered {KINDS[kind][1]} '{name}' from {source.distribution}")

    def _record_broken(self, name: str, group: str, source: _Source, error: BaseException) -> None:
        broken = BrokenPlugin(name, group, source.distribution, source.version, error)
        self._trace("broken: " + broken.describe())
        if _truthy("DJ_STRICT_PLUGINS"):
            raise PluginError("Plugin failed to load: " + broken.describe()) from error
        logger.warning("DataJoint plugin failed to load: %s", broken.describe())
        self.broken.append(broken)

    def _trace(self, message: str) -> None:
        if _truthy("DJ_TRACE_PLUGINS"):
            print(f"[datajoint.plugins] {message}", file=sys.stderr)

    # ---- loading ---------------------------------------------------------------------------
    def load(self) -> None:
        """Load every plugin once; later calls return at once."""
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            from . import builtin_plugin

            self._register_plugin(builtin_plugin, _Source("datajoint", "dj-kernel", _version()))
            for plugin, source in self._pending:
                self._register_plugin(plugin, source)
            self._pending.clear()
            if self.use_entry_points:
                self._load_entry_points()

    def _allowed(self, ep: im.EntryPoint, dist: str) -> bool:
        allow, block = _name_list("DJ_LOAD_PLUGINS"), _name_list("DJ_DISABLE_PLUGINS") or set()
        names = {ep.name, dist}
        if names & block:
            self._trace(f"disabled by DJ_DISABLE_PLUGINS: {ep.group} {ep.name}")
            return False
        if allow is not None and not names & allow:
            self._trace(f"not in DJ_LOAD_PLUGINS: {ep.group} {ep.name}")
            return False
        return True

    def _load_entry_points(self) -> None:
        seen: set[tuple[str, str, str]] = set()
        for group in (PLUGIN_GROUP, *CODEC_GROUPS, STORAGE_GROUP):
            for ep in im.entry_points(group=group):
                dist = ep.dist.name if ep.dist else "(unknown)"
                version = ep.dist.version if ep.dist else ""
                if (group, ep.name, ep.value) in seen or not self._allowed(ep, dist):
                    continue
                seen.add((group, ep.name, ep.value))
                source = _Source(ep.name, dist, version)
                self._trace(f"loading {group} entry '{ep.name}' = {ep.value} from {dist} {version}")
                if group == PLUGIN_GROUP:
                    try:
                        module = ep.load()
                    except Exception as error:
                        self._record_broken(ep.name, group, source, error)
                        continue
                    self._register_plugin(module, source)
                elif group == STORAGE_GROUP:
                    self.register("storage_protocol", ep.name, ep, source=source)
                else:
                    self.register("codec", ep.name, ep, source=source)

    # ---- lookups ---------------------------------------------------------------------------
    def names(self, kind: str) -> list[str]:
        self.load()
        return sorted(self.registries[kind])

    def registration(self, kind: str, name: str) -> Registration:
        """The registration for ``name`` (or an alias), or a PluginError saying what to do."""
        self.load()
        name = self.aliases[kind].get(name, name)
        if (kind, name) in self.conflicts:
            raise self.conflicts[(kind, name)]
        found = self.registries[kind].get(name)
        if found is not None:
            return found
        human = KINDS[kind][1]
        for broken in self.broken:
            if broken.name == name or name in broken.distribution:
                raise PluginError(
                    f"The {human} '{name}' is unavailable because a plugin failed to load: "
                    + broken.describe()
                ) from broken.error
        installed = ", ".join(self.names(kind)) or "none"
        hint = INSTALL_HINTS.get((kind, name))
        message = f"No {human} '{name}' is installed."
        if hint:
            message += f" Install it with: {hint}."
        message += f" Installed: {installed}."
        if self.broken:
            message += " Plugins that failed to load: " + "; ".join(
                b.describe() for b in self.broken
            )
            raise PluginError(message) from self.broken[0].error
        raise PluginError(message)

    def get(self, kind: str, name: str) -> Any:
        """The implementation registered under ``name`` (loaded on first use)."""
        return self.registration(kind, name).load()

    def listing(self) -> dict[str, Any]:
        """Everything registered, with provenance, and every broken plugin with its error."""
        self.load()
        out: dict[str, Any] = {}
        for kind, registry in self.registries.items():
            out[kind + "s"] = [
                {
                    "name": r.name,
                    "distribution": r.distribution,
                    "version": r.version,
                    "plugin": r.plugin,
                }
                for r in sorted(registry.values(), key=lambda r: r.name)
            ]
        out["broken"] = [
            {
                "name": b.name,
                "group": b.group,
                "distribution": b.distribution,
                "version": b.version,
                "error": f"{type(b.error).__name__}: {b.error}",
            }
            for b in self.broken
        ] + [
            {"name": name, "group": kind, "distribution": "", "version": "", "error": str(err)}
            for (kind, name), err in self.conflicts.items()
        ]
        return out


def _version() -> str:
    try:
        return im.version("dj-kernel")
    except im.PackageNotFoundError:
        return "0"


_host: PluginHost | None = None
_host_lock = threading.Lock()


def host() -> PluginHost:
    """The process-wide plugin host."""
    global _host
    if _host is None:
        with _host_lock:
            if _host is None:
                _host = PluginHost()
    return _host


def set_host(new_host: PluginHost | None) -> PluginHost | None:
    """Replace the process-wide host (tests); returns the previous one."""
    global _host
    with _host_lock:
        previous, _host = _host, new_host
    return previous


def plugins() -> dict[str, Any]:
    """Every registered backend, codec, storage protocol and fetch format, and every broken plugin."""
    return host().listing()
