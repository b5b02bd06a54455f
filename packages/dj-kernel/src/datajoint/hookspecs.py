"""Hook specifications of the ``datajoint`` pluggy project.

Every hook is registrar style: the host passes a ``register`` callable, the plugin calls it once per
thing it provides. The host records which distribution registered what, refuses duplicate names and
resolves lazy ``"module:attr"`` references only when the name is first used.
"""

from __future__ import annotations

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


class RegisterFetchFormat(Protocol):
    def __call__(self, name: str, fetcher: object) -> None:
        """Register a fetch format: ``fetcher(query, **options)`` returns the results."""


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
def dj_register_fetch_formats(register: RegisterFetchFormat) -> None:
    """Called once, the first time a fetch format is looked up or listed: register fetch formats."""
