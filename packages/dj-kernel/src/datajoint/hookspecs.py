"""Hook specifications of the ``datajoint`` pluggy project.

The registry hooks are registrar style: the host passes a ``register`` callable, the plugin calls it
once per thing it provides. The host records which distribution registered what, refuses duplicate
names and resolves lazy ``"module:attr"`` references only when the name is first used.

Extension packages bring their own hooks without the kernel knowing them. dj-cli, for example,
adds ``dj_cli_register_commands(cli)``: its plugin module implements :func:`dj_add_hookspecs` and
calls ``add(dj_cli.hookspecs)``, and the ``dj`` command calls the hook over the same loaded plugins
with ``datajoint.plugin_host.host().run_hook("dj_cli_register_commands", cli=...)`` (pluggy's
``host().hook`` relay is there too). The same environment switches (``DJ_LOAD_PLUGINS``,
``DJ_DISABLE_PLUGINS``, ``DJ_STRICT_PLUGINS``, ``DJ_TRACE_PLUGINS``) apply to those hooks.

Every hook implementation must match a hook spec: after loading, the host runs pluggy's
``check_pending()``, and a plugin implementing a hook nobody declared (a misspelt name such as
``dj_register_codec``) is recorded as broken, or raises in strict mode. A plugin that implements
the hook of an *optional* extension (one that may not be installed, such as dj-cli's
``dj_cli_register_commands``) marks it ``@hookimpl(optionalhook=True)``, pluggy's documented way to
say "ignore this hook when nobody declares it".
"""

from __future__ import annotations

from types import ModuleType
from typing import Protocol

import pluggy

PROJECT = "datajoint"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class RegisterBackend(Protocol):
    def __call__(self, name: str, factory: object, *, aliases: tuple[str, ...] = ()) -> None:
        """Register a database backend.

        ``factory`` is a zero-argument callable returning a
        :class:`datajoint.backend.contract.Backend`, or a ``"module:attr"`` string naming one.
        """


class RegisterCodec(Protocol):
    def __call__(self, name: str, codec: object) -> None:
        """Register a codec class (or ``"module:Class"``) under ``name``."""


class RegisterStorageProtocol(Protocol):
    def __call__(self, name: str, adapter: object) -> None:
        """Register a storage protocol adapter (or ``"module:Class"``) under ``name``."""


class RegisterStorageService(Protocol):
    def __call__(self, name: str, service: object) -> None:
        """Register an object the kernel's storage layer uses (or ``"module:attr"``) under ``name``.

        The names the kernel looks up are ``StorageBackend``, ``ObjectRef``, ``NpyRef``,
        ``StagedInsert`` (classes) and ``gc`` (a module); see :mod:`datajoint.storage`.
        """


class RegisterFetchFormat(Protocol):
    def __call__(self, name: str, fetcher: object) -> None:
        """Register a fetch format: ``fetcher(query, **options)`` returns the results."""


class AddHookspecs(Protocol):
    def __call__(self, module: ModuleType | type) -> None:
        """Add the ``@hookspec`` functions of ``module`` (a module or class) to the host."""


@hookspec
def dj_add_hookspecs(add: AddHookspecs) -> None:
    """Called once per plugin as it is loaded, before its registry hooks and before the host
    checks that every hook implementation has a spec: an extension package adds its own hook specs
    with ``add(module)``."""


@hookspec
def dj_register_backends(register: RegisterBackend) -> None:
    """Called once, the first time a backend is looked up or listed: register database backends."""


@hookspec
def dj_register_codecs(register: RegisterCodec) -> None:
    """Called once, the first time a codec is looked up or listed: register codecs."""


@hookspec
def dj_register_storage_protocols(register: RegisterStorageProtocol) -> None:
    """Called once, the first time a storage protocol is looked up: register storage adapters."""


@hookspec
def dj_register_storage_services(register: RegisterStorageService) -> None:
    """Called once, the first time a storage service is looked up or listed: register the object
    store implementation the kernel reaches through :func:`datajoint.storage.storage_service`."""


@hookspec
def dj_register_fetch_formats(register: RegisterFetchFormat) -> None:
    """Called once, the first time a fetch format is looked up or listed: register fetch formats."""
