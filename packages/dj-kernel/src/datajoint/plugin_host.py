"""The plugin host: finds plugins through entry points and keeps named registries with provenance.

Loading is lazy (on first lookup), once per host, and thread-safe. A plugin that fails to import, or
whose hook raises or has no hook spec, is recorded and its error is raised, chained, when something
it would have provided is asked for; ``DJ_STRICT_PLUGINS=1`` raises at load instead. Environment
switches: ``DJ_LOAD_PLUGINS`` (allow-list of entry-point or distribution names),
``DJ_DISABLE_PLUGINS`` (block-list), ``DJ_TRACE_PLUGINS`` (log every load and registration to
stderr).

Every registry entry goes through one of two doors: :meth:`PluginHost.register` (an implementation a
plugin provides: hooks and the compatibility entry-point groups) and :meth:`PluginHost.define` (an
implementation defined by code running in this process, e.g. a ``Codec`` subclass). Extension
packages (dj-cli) add their own hook specs with :meth:`PluginHost.add_hookspecs` and call them over
the same loaded plugins with :meth:`PluginHost.run_hook`.
"""

from __future__ import annotations

import importlib
import importlib.metadata as im
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError
from .version import DISTRIBUTION, __version__

logger = logging.getLogger("datajoint.plugins")

PLUGIN_GROUP = "datajoint.plugins"
CODEC_GROUPS = ("datajoint.codecs", "datajoint.types")
STORAGE_GROUP = "datajoint.storage"

#: provenance of registrations made by code running in this process rather than by a plugin
IN_PROCESS = "(in-process)"

#: kind -> (hook name, human name)
KINDS: dict[str, tuple[str, str]] = {
    "backend": ("dj_register_backends", "database backend"),
    "codec": ("dj_register_codecs", "codec"),
    "storage_protocol": ("dj_register_storage_protocols", "storage protocol"),
    "storage_service": ("dj_register_storage_services", "storage service"),
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


def normalize_distribution(name: str) -> str:
    """A distribution name as PEP 503 compares them: lower case, runs of ``-_.`` become ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


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
    """One registered implementation and where it came from.

    ``plugin`` is the plugin (entry-point or plugin-module name) that registered it, or for a
    definition made in this process the identity it was defined with (e.g. ``module.Class``).
    """

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

    def describe(self) -> dict[str, str]:
        """Name and provenance, as :meth:`PluginHost.listing` shows them."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "plugin": self.plugin,
        }


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
    """Registries of backends, codecs, storage protocols and services and fetch formats, filled by
    plugins.

    ``use_entry_points=False`` gives an empty host for tests: register in-process plugins with
    :meth:`add_plugin`.
    """

    def __init__(self, *, use_entry_points: bool = True) -> None:
        self.use_entry_points = use_entry_points
        # loading imports plugin modules; the state lock is never held while a module imports, so
        # a class defined during another thread's load (Codec.__init_subclass__) cannot deadlock
        self._load_lock = threading.RLock()
        self._lock = threading.RLock()
        self._loaded = False
        self._loading = False
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._hookspec_modules: list[ModuleType | type] = [hookspecs]
        self._sources: dict[str, _Source] = {}
        self._pending: list[tuple[object, _Source]] = []
        self._provided: dict[str, dict[str, Registration]] = {kind: {} for kind in KINDS}
        self._defined: dict[str, dict[str, Registration]] = {kind: {} for kind in KINDS}
        self._aliases: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        self._broken: list[BrokenPlugin] = []
        self._conflicts: dict[tuple[str, str], PluginError] = {}

    # ---- adding plugins and hook specs -----------------------------------------------------
    def add_plugin(
        self,
        plugin: object,
        name: str | None = None,
        *,
        distribution: str = IN_PROCESS,
        version: str = "",
    ) -> None:
        """Add a module or object with hook implementations; its hooks run at the next load.

        Adding the same object again does nothing.
        """
        source = _Source(
            name or str(getattr(plugin, "__name__", repr(plugin))), distribution, version
        )
        with self._load_lock:
            if self._pm.is_registered(plugin) or any(p is plugin for p, _ in self._pending):
                return
            if self._loaded:
                self._register_plugin(plugin, source)
                self._check_hooks()
            else:
                self._pending.append((plugin, source))

    def add_hookspecs(self, module: ModuleType | type) -> None:
        """Add an extension's hook specs (a module or class of ``@hookspec`` functions).

        Plugins may then implement them without tripping the unknown-hook check, and the
        extension calls them with :meth:`run_hook`. Adding the same module again does nothing.
        """
        with self._load_lock:
            if any(known is module for known in self._hookspec_modules):
                return
            self._pm.add_hookspecs(module)
            self._hookspec_modules.append(module)
            self._trace(f"added hook specs from {getattr(module, '__name__', module)!r}")

    def _register_plugin(self, plugin: object, source: _Source) -> None:
        try:
            self._pm.register(plugin, name=source.name)
        except (ValueError, pluggy.PluginValidationError) as error:
            self._record_broken(source.name, PLUGIN_GROUP, source, error)
            return
        self._sources[source.name] = source
        self._call_own(plugin, "dj_add_hookspecs", source, add=self.add_hookspecs)
        for kind, (hook_name, _) in KINDS.items():
            self._call_own(plugin, hook_name, source, register=self._registrar(kind, source))

    def _registrar(self, kind: str, source: _Source) -> Any:
        def register(name: str, target: object, *, aliases: Iterable[str] = ()) -> None:
            self.register(
                kind,
                name,
                target,
                aliases=tuple(aliases),
                distribution=source.distribution,
                version=source.version,
                plugin=source.name,
            )

        return register

    def _call_own(self, plugin: object, hook_name: str, source: _Source, **kwargs: Any) -> None:
        for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
            if impl.plugin is plugin:
                self._call(impl, source, kwargs)

    def _call(self, impl: Any, source: _Source, kwargs: dict[str, Any]) -> tuple[bool, Any]:
        """Call one hook implementation; a plugin whose hook raises is recorded as broken."""
        try:
            return True, impl.function(**{name: kwargs[name] for name in impl.argnames})
        except PluginError:
            raise
        except Exception as error:
            self._record_broken(source.name, PLUGIN_GROUP, source, error)
            return False, None

    def _check_hooks(self) -> None:
        """Refuse hook implementations without a hook spec (pluggy's ``check_pending``).

        A misspelt hook name would otherwise be ignored: the plugin is recorded as broken (raised
        in strict mode) and removed from the hook calls.
        """
        while True:
            try:
                self._pm.check_pending()
                return
            except pluggy.PluginValidationError as error:
                plugin = error.plugin
                name = self._pm.get_name(plugin) or repr(plugin)
                unknown = sorted(
                    caller.name
                    for caller in self._pm.get_hookcallers(plugin) or []
                    if not caller.has_spec()
                )
                known = sorted(
                    hook_name
                    for hook_name, caller in vars(self._pm.hook).items()
                    if not hook_name.startswith("_") and caller.has_spec()
                )
                self._pm.unregister(plugin)
                source = self._sources.get(name, _Source(name, IN_PROCESS, ""))
                problem = PluginError(
                    f"plugin '{name}' implements the unknown hook "
                    + ", ".join(repr(hook) for hook in unknown)
                    + f". Known hooks: {', '.join(known)}. Check the spelling; an implementation "
                    "of a hook that an optional extension package adds needs "
                    "@hookimpl(optionalhook=True)."
                )
                problem.__cause__ = error
                self._record_broken(name, PLUGIN_GROUP, source, problem)

    # ---- registering -----------------------------------------------------------------------
    def register(
        self,
        kind: str,
        name: str,
        target: object,
        *,
        aliases: tuple[str, ...] = (),
        distribution: str = IN_PROCESS,
        version: str = "",
        plugin: str = "(direct)",
    ) -> None:
        """Record an implementation a plugin provides; two providers of one name are a conflict.

        ``target`` may be a lazy ``"module:attr"`` reference or an entry point, imported on first
        use. In strict mode a conflict raises here; otherwise it is raised when the name is used.
        """
        human = self._human(kind)
        if not isinstance(name, str) or not name:
            raise PluginError(f"A {human} name must be a non-empty string, got {name!r}")
        with self._lock:
            existing = self._provided[kind].get(name)
            if existing is not None and existing.target is not target:
                error = PluginError(
                    f"Two plugins provide the {human} '{name}': "
                    f"{existing.distribution} {existing.version} ({existing.plugin}) and "
                    f"{distribution} {version} ({plugin}). "
                    f"Uninstall one of them or block one with DJ_DISABLE_PLUGINS."
                )
                if _truthy("DJ_STRICT_PLUGINS"):
                    raise error
                self._conflicts[(kind, name)] = error
                return
            self._provided[kind][name] = Registration(
                kind, name, target, distribution, version, plugin
            )
            for alias in aliases:
                self._aliases[kind][alias] = name
        self._trace(f"registered {human} '{name}' from {distribution}")

    def define(self, kind: str, name: str, target: object, *, identity: str) -> Registration:
        """Record an implementation defined by code running in this process (a Codec subclass).

        A definition replaces an earlier one with the same ``identity`` (a re-run cell, a
        reloaded module); one with another identity keeps the name. Returns the definition that
        holds the name, so the caller can report a clash. Definitions and plugin registrations of
        one name are both kept: the caller decides whether they agree (:meth:`definition`,
        :meth:`provided`). Defining does not load the plugins.
        """
        with self._lock:
            existing = self._defined[self._check_kind(kind)].get(name)
            if existing is not None and existing.plugin != identity:
                return existing
            definition = Registration(
                kind, name, target, IN_PROCESS, "", identity, _resolved=target, _is_resolved=True
            )
            self._defined[kind][name] = definition
        self._trace(f"defined {self._human(kind)} '{name}' by {identity}")
        return definition

    def unregister(self, kind: str, name: str) -> bool:
        """Remove ``name`` (or an alias) from the plugin registrations and the definitions.

        Plugins are loaded first, so a removed plugin registration does not come back. Returns
        whether anything was registered under the name.
        """
        self.load()
        with self._lock:
            name = self._aliases[kind].get(name, name)
            found = self._provided[kind].pop(name, None) or self._defined[kind].get(name)
            self._defined[kind].pop(name, None)
            self._conflicts.pop((kind, name), None)
            for alias in [a for a, target in self._aliases[kind].items() if target == name]:
                del self._aliases[kind][alias]
        if found is not None:
            self._trace(f"unregistered {self._human(kind)} '{name}'")
        return found is not None

    def _record_broken(self, name: str, group: str, source: _Source, error: BaseException) -> None:
        broken = BrokenPlugin(name, group, source.distribution, source.version, error)
        self._trace("broken: " + broken.describe())
        if _truthy("DJ_STRICT_PLUGINS"):
            raise PluginError("Plugin failed to load: " + broken.describe()) from error
        logger.warning("DataJoint plugin failed to load: %s", broken.describe())
        with self._lock:
            self._broken.append(broken)

    def _trace(self, message: str) -> None:
        if _truthy("DJ_TRACE_PLUGINS"):
            print(f"[datajoint.plugins] {message}", file=sys.stderr)

    @staticmethod
    def _check_kind(kind: str) -> str:
        if kind not in KINDS:
            raise PluginError(f"Unknown registry kind {kind!r}; the kinds are {', '.join(KINDS)}")
        return kind

    def _human(self, kind: str) -> str:
        return KINDS[self._check_kind(kind)][1]

    # ---- loading ---------------------------------------------------------------------------
    def load(self) -> None:
        """Load every plugin once; later calls return at once.

        Another thread waits until loading has finished; a plugin module that looks something up
        while it is being imported sees what is registered so far.
        """
        if self._loaded:
            return
        with self._load_lock:
            if self._loaded or self._loading:
                return
            self._loading = True
            try:
                from . import builtin_plugin

                self._register_plugin(
                    builtin_plugin, _Source("datajoint", DISTRIBUTION, __version__)
                )
                for plugin, source in self._pending:
                    self._register_plugin(plugin, source)
                self._pending.clear()
                if self.use_entry_points:
                    self._load_entry_points()
                self._check_hooks()
            finally:
                self._loading = False
                self._loaded = True

    def _allowed(self, ep: im.EntryPoint, dist: str) -> bool:
        allow, block = _name_list("DJ_LOAD_PLUGINS"), _name_list("DJ_DISABLE_PLUGINS") or set()
        names = {ep.name, normalize_distribution(dist)}
        if names & ({normalize_distribution(n) for n in block} | block):
            self._trace(f"disabled by DJ_DISABLE_PLUGINS: {ep.group} {ep.name}")
            return False
        if allow is not None and not names & ({normalize_distribution(n) for n in allow} | allow):
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
                    continue
                kind = "storage_protocol" if group == STORAGE_GROUP else "codec"
                self.register(kind, ep.name, ep, distribution=dist, version=version, plugin=ep.name)

    # ---- calling an extension's hooks ------------------------------------------------------
    @property
    def hook(self) -> Any:
        """pluggy's hook relay over the loaded plugins (``host.hook.<name>(**kwargs)``)."""
        self.load()
        return self._pm.hook

    def run_hook(
        self,
        hook_name: str,
        per_plugin: Callable[[_Source], Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> list[Any]:
        """Call every implementation of ``hook_name`` one plugin at a time, in registration order.

        ``per_plugin(source)``, when given, adds arguments for one plugin's call from its
        provenance (``source.name``, ``.distribution``, ``.version``), so an extension can record
        which distribution provided what. A plugin whose implementation raises is recorded as
        broken (raised in strict mode) and the others still run. Returns the results of the calls
        that succeeded.
        """
        self.load()
        caller = getattr(self._pm.hook, hook_name, None)
        if caller is None or not caller.has_spec():
            raise PluginError(
                f"There is no hook spec named {hook_name!r}. An extension package adds its hook "
                "specs with PluginHost.add_hookspecs() or a dj_add_hookspecs hook."
            )
        results = []
        for impl in caller.get_hookimpls():
            source = self._sources.get(impl.plugin_name, _Source(impl.plugin_name, IN_PROCESS, ""))
            call_kwargs = kwargs if per_plugin is None else {**kwargs, **per_plugin(source)}
            succeeded, result = self._call(impl, source, call_kwargs)
            if succeeded:
                results.append(result)
        return results

    # ---- lookups ---------------------------------------------------------------------------
    def names(self, kind: str) -> list[str]:
        """Every name registered by a plugin or defined in this process, sorted."""
        self.load()
        with self._lock:
            return sorted(set(self._provided[kind]) | set(self._defined[kind]))

    def has(self, kind: str, name: str) -> bool:
        """Whether ``name`` (or an alias) is registered; never imports an implementation."""
        self.load()
        with self._lock:
            name = self._aliases[kind].get(name, name)
            return name in self._provided[kind] or name in self._defined[kind]

    def provided(self, kind: str, name: str) -> Registration | None:
        """A plugin's registration of ``name`` (or an alias), or None; a conflict raises."""
        self.load()
        with self._lock:
            name = self._aliases[kind].get(name, name)
            if (kind, name) in self._conflicts:
                raise self._conflicts[(kind, name)]
            return self._provided[kind].get(name)

    def definition(self, kind: str, name: str) -> Registration | None:
        """The definition of ``name`` made in this process, or None; does not load plugins."""
        with self._lock:
            return self._defined[kind].get(self._aliases[kind].get(name, name))

    def broken_plugins(self) -> list[BrokenPlugin]:
        """The plugins that failed to load, register or pass the hook check."""
        self.load()
        with self._lock:
            return list(self._broken)

    def registration(self, kind: str, name: str) -> Registration:
        """The registration for ``name`` (or an alias), or a PluginError saying what to do.

        A plugin's registration comes before a definition made in this process.
        """
        found = self.provided(kind, name) or self.definition(kind, name)
        if found is not None:
            return found
        human = self._human(kind)
        wanted = normalize_distribution(name)
        broken_plugins = self.broken_plugins()
        for broken in broken_plugins:
            # blame by exact entry-point or distribution name: "oracle" is not "dj-oracle-tools"
            if broken.name == name or normalize_distribution(broken.distribution) == wanted:
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
        if broken_plugins:
            message += " Plugins that failed to load: " + "; ".join(
                b.describe() for b in broken_plugins
            )
            raise PluginError(message) from broken_plugins[0].error
        raise PluginError(message)

    def get(self, kind: str, name: str) -> Any:
        """The implementation registered under ``name`` (loaded on first use)."""
        return self.registration(kind, name).load()

    def listing(self) -> dict[str, Any]:
        """Everything registered, with provenance, and every broken plugin with its error."""
        self.load()
        out: dict[str, Any] = {}
        with self._lock:
            for kind in KINDS:
                merged = {**self._defined[kind], **self._provided[kind]}
                out[kind + "s"] = [merged[name].describe() for name in sorted(merged)]
            out["broken"] = [
                {
                    "name": b.name,
                    "group": b.group,
                    "distribution": b.distribution,
                    "version": b.version,
                    "error": f"{type(b.error).__name__}: {b.error}",
                }
                for b in self._broken
            ] + [
                {"name": name, "group": kind, "distribution": "", "version": "", "error": str(err)}
                for (kind, name), err in self._conflicts.items()
            ]
        return out


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
    """Every registered backend, codec, storage protocol, storage service and fetch format, and
    every broken plugin."""
    return host().listing()
