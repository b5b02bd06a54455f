"""Codecs: the ``Codec`` base class, the codec registry and codec chains (SPEC §4.1).

A codec turns Python values into column values and back. Subclassing :class:`Codec` with a
``name`` registers one instance under that name (``register=False`` opts out). Codecs provided by
plugins come through the plugin host: ``dj_register_codecs`` hooks and the ``datajoint.codecs`` /
``datajoint.types`` entry-point groups, both loaded lazily on the first lookup or listing. Every
registration, in-process or from a plugin, goes through the plugin host's registration API.

A column declared ``<a@s>`` runs a *chain*: ``a.get_dtype(is_store)`` names the next type, which
may be another codec ``<b>`` (inheriting the store) and so on down to a core or native type.
Encoding runs outermost to innermost, decoding the other way round.
"""

from __future__ import annotations

import functools
import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import DataJointError, PluginError
from .plugin_host import PluginHost, Registration
from .plugin_host import host as plugin_host

__all__ = [
    "Codec",
    "CodecChain",
    "codec_chain",
    "codec_or_placeholder",
    "column_chain",
    "column_final_dtype",
    "get_codec",
    "is_codec_registered",
    "list_codecs",
    "lookup_codec",
    "parse_codec_spec",
    "resolve_dtype",
    "unregister_codec",
]


class Codec(ABC):
    """Base class of codecs. Subclass it with ``name = "x"`` to make ``<x>`` usable in definitions.

    ``get_dtype(is_store)`` names the type the encoded value is stored as: ``"bytes"``,
    ``"json"``, another core or native type, or another codec ``"<y>"`` (chaining). ``is_store`` is
    true when the column names a store (``<x@>`` or ``<x@store>``). ``encode`` may also declare
    ``context=None`` to receive ``{"schema", "table", "field", "config"}``; so may ``decode``
    (``{"config"}``).
    """

    name: str | None = None
    #: ``encode``/``decode`` are pure functions of their arguments, safe to run on several
    #: threads at once: many large values of a column are then encoded/decoded in parallel
    concurrent: bool = False
    #: ``encode`` or ``decode`` reads or writes objects in a store (and is safe to run on several
    #: threads at once): the kernel runs a column's values on its I/O thread pool, whatever their
    #: size, so that the transfers overlap
    store_io: bool = False
    #: ``decode`` reads each object that ``referenced_paths(stored)`` names in full, through the
    #: store backend's ``get_buffer``: when the codec is the innermost of a column's chain, the
    #: kernel fetches the objects of many rows in one batch (``get_buffers``) before decoding
    prefetch: bool = False
    #: the ``stores.<setting>`` a bare ``@`` selects for a column declared with this codec
    #: (``<filepath@>`` uses ``stores.filepath_default``)
    default_store_setting: str = "default"

    def __init_subclass__(cls, *, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if register and cls.name is not None:
            _register_class(cls)

    @abstractmethod
    def get_dtype(self, is_store: bool) -> str:
        """The type the encoded value is stored as (a core/native type or ``"<codec>"``)."""

    @abstractmethod
    def encode(self, value: Any, *, key: dict | None = None, store_name: str | None = None) -> Any:
        """Turn a Python value into the value of the next type in the chain."""

    @abstractmethod
    def decode(self, stored: Any, *, key: dict | None = None) -> Any:
        """Turn a stored value back into the Python value."""

    def validate(self, value: Any) -> None:
        """Check a value before encoding; raise TypeError or ValueError. Accepts anything."""
        return None

    def referenced_paths(self, stored: Any) -> list[tuple[str, str | None]]:
        """The store paths a stored value refers to, as ``(path, store)`` pairs (for GC)."""
        if isinstance(stored, str):
            try:
                stored = json.loads(stored)
            except ValueError:
                return []
        if isinstance(stored, Mapping) and "path" in stored:
            return [(stored["path"], stored.get("store"))]
        return []

    def _codec_config(self, key: Mapping | None = None, context: Mapping | None = None) -> Any:
        """The configuration of the connection in use: ``context["config"]``, else
        ``key["_config"]``, else the global ``dj.config``."""
        if context and context.get("config") is not None:
            return context["config"]
        if key and key.get("_config") is not None:
            return key["_config"]
        from .settings import config

        return config

    def __repr__(self) -> str:
        return f"<{self.name}> codec ({_class_name(type(self))})"


# ---- the registry -------------------------------------------------------------------------------
# Codecs live in the plugin host's "codec" registry: plugins register them (hooks, the
# datajoint.codecs / datajoint.types entry-point groups) and Codec subclasses define them. A plugin
# registration that resolves to the class defined under the name is one codec, not two.
_KIND = "codec"


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _instantiate(cls: type[Codec]) -> Codec:
    # ABCMeta has not computed __abstractmethods__ yet while __init_subclass__ runs
    missing = ", ".join(
        sorted(n for n in dir(cls) if getattr(getattr(cls, n, None), "__isabstractmethod__", False))
    )
    if missing:
        raise DataJointError(
            f"Codec <{cls.name}> ({_class_name(cls)}) cannot be registered: it does not "
            f"implement {missing}."
        )
    return cls()


def _register_class(cls: type[Codec]) -> None:
    name = cls.name
    if not isinstance(name, str) or not name:
        raise DataJointError(f"Codec name must be a non-empty string, got {name!r}")
    # a redefinition of the same class (a re-run cell, a reloaded module) takes its place
    identity = _class_name(cls)
    holder = plugin_host().define(_KIND, name, _instantiate(cls), identity=identity)
    if holder.plugin != identity:
        raise DataJointError(f"Codec <{name}> already registered by {holder.plugin}")


def _provided_codec(host: PluginHost, registration: Registration) -> Codec:
    """The codec instance a plugin's registration stands for (importing it the first time)."""
    target = registration.load()  # a PluginError, chained, when its import fails
    if isinstance(target, Codec):
        return target
    if not (isinstance(target, type) and issubclass(target, Codec)):
        raise PluginError(
            f"The codec '{registration.name}' from {registration.distribution} "
            f"{registration.version} is not a Codec subclass: {target!r}"
        )
    for name in (target.name, registration.name):
        defined = host.definition(_KIND, name) if name else None
        if defined is not None and type(defined.target) is target:
            return defined.target  # the class's own instance, made when it was defined
    codec = _instantiate(target)  # a class that did not register itself (register=False)
    if host.definition(_KIND, registration.name) is None:
        # kept as the definition of the name, so every lookup returns this one instance
        return host.define(_KIND, registration.name, codec, identity=_class_name(target)).target
    return codec


def _find(name: str) -> Codec | None:
    """The codec registered under ``name``, or None; broken or doubly claimed names raise."""
    host = plugin_host()
    registration = host.provided(_KIND, name)  # a conflict between two plugins raises
    if registration is None:
        defined = host.definition(_KIND, name)
        return None if defined is None else defined.target
    provided = _provided_codec(host, registration)
    defined = host.definition(_KIND, registration.name)
    if defined is None or type(defined.target) is type(provided):
        return provided
    if _class_name(type(defined.target)) == _class_name(type(provided)):
        return defined.target  # the plugin's class was defined again (a reloaded module)
    raise PluginError(
        f"The codec <{name}> is claimed twice: by {registration.distribution} "
        f"{registration.version} ({_class_name(type(provided))}) and by "
        f"{_class_name(type(defined.target))} defined in this process. Rename one of them or "
        "block the plugin with DJ_DISABLE_PLUGINS."
    )


def parse_codec_spec(spec: str) -> tuple[str, str | None]:
    """Split ``"<name@store>"`` (angle brackets optional) into (name, store).

    The store is None without ``@`` and ``""`` for a bare ``@`` (the default store).
    """
    text = spec.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    name, at, store = text.partition("@")
    return name.strip(), (store.strip() if at else None)


def _installed_hint() -> str:
    names = ", ".join(list_codecs()) or "none"
    hint = f" Registered codecs: {names}."
    broken = plugin_host().broken_plugins()
    if broken:
        hint += " Plugins that failed to load: " + "; ".join(b.describe() for b in broken)
    return hint


def get_codec(name: str) -> Codec:
    """The codec registered under ``name`` (``"x"``, ``"<x>"`` or ``"<x@store>"``)."""
    codec_name, _ = parse_codec_spec(name)
    codec = _find(codec_name)
    if codec is None:
        raise DataJointError(
            f"Unknown codec: <{codec_name}>. Ensure the codec is defined (a Codec subclass with "
            f"name='{codec_name}') or the package that provides it is installed."
            + _installed_hint()
        )
    return codec


def lookup_codec(spec: str) -> tuple[Codec, str | None]:
    """The codec and store of a column type ``"<x@store>"`` (store ``""`` for a bare ``@``)."""
    name, store = parse_codec_spec(spec)
    codec = _find(name)
    if codec is None:
        raise DataJointError(
            f"Codec <{name}> is not registered. Define a Codec subclass with name='{name}' or "
            "install the package that provides it." + _installed_hint()
        )
    return codec, store


def list_codecs() -> list[str]:
    """The names of every registered codec, sorted (plugin entry points are listed, not loaded)."""
    return plugin_host().names(_KIND)


def is_codec_registered(name: str) -> bool:
    """Whether a codec is registered under ``name`` (``"<x@s>"`` accepted); never imports it."""
    return plugin_host().has(_KIND, parse_codec_spec(name)[0])


def unregister_codec(name: str) -> None:
    """Remove a codec from the registry (plugin registrations of the name are removed too)."""
    codec_name, _ = parse_codec_spec(name)
    if not plugin_host().unregister(_KIND, codec_name):
        raise DataJointError(f"Codec <{codec_name}> is not registered")


#: class name -> codec name of the built-in codec classes DataJoint 2.x code imports from
#: ``datajoint.builtin_codecs``; a plugin package provides them, so they are looked up on access
BUILTIN_CLASSES = {
    "BlobCodec": "blob",
    "AttachCodec": "attach",
    "HashCodec": "hash",
    "FilepathCodec": "filepath",
    "ObjectCodec": "object",
    "NpyCodec": "npy",
}


def builtin_codec_class(name: str) -> type[Codec]:
    """The class of a built-in codec by its DataJoint 2.x class name (``"BlobCodec"``).

    The module ``__getattr__`` of ``datajoint.builtin_codecs``, so the kernel never imports the
    plugin package that provides the classes: an unknown or uninstalled one is an AttributeError.
    """
    codec_name = BUILTIN_CLASSES.get(name)
    if codec_name is None:
        raise AttributeError(f"module 'datajoint.builtin_codecs' has no attribute {name!r}")
    try:
        return type(get_codec(codec_name))
    except DataJointError as error:
        raise AttributeError(
            f"{name} is not available: the codec <{codec_name}> is not installed ({error})"
        ) from error


def _is_codec_type(dtype: str) -> bool:
    text = dtype.strip()
    return text.startswith("<") and text.endswith(">")


def resolve_dtype(
    dtype: str, seen: set[str] | None = None, store_name: str | None = None
) -> tuple[str, list[Codec], str | None]:
    """Follow a codec chain down to a core or native type.

    Returns ``(final_dtype, chain, store)``: the chain outermost first, and the store the chain
    runs with (a codec type without ``@`` inherits ``store_name``). A type that is not a codec
    comes back unchanged with an empty chain.
    """
    if not _is_codec_type(dtype):
        return dtype.strip(), [], store_name
    name = parse_codec_spec(dtype)[0]
    seen = set() if seen is None else seen
    if name in seen:
        raise DataJointError(f"Circular codec reference detected: <{name}>")
    codec, store = lookup_codec(dtype)
    if store is None:
        store = store_name
    inner = codec.get_dtype(store is not None)
    final, chain, store = resolve_dtype(inner, seen | {name}, store)
    return final, [codec, *chain], store


# ---- unknown codecs -----------------------------------------------------------------------------
class _UnknownCodec(Codec, register=False):
    """Stands for a codec that is not available when a heading loads; using it raises."""

    def __init__(self, name: str, error: BaseException | None = None) -> None:
        self.name = name
        self._error = error

    def _fail(self) -> BaseException:
        if self._error is not None:
            return self._error.__class__(*self._error.args)
        return DataJointError(
            f"Codec <{self.name}> is not registered. Define a Codec subclass with "
            f"name='{self.name}'."
        )

    def _raise(self) -> Any:
        error = self._fail()
        raise error from self._error

    def get_dtype(self, is_store: bool) -> str:
        return self._raise()

    def encode(self, value: Any, *, key: dict | None = None, store_name: str | None = None) -> Any:
        return self._raise()

    def decode(self, stored: Any, *, key: dict | None = None) -> Any:
        return self._raise()

    def validate(self, value: Any) -> None:
        self._raise()

    def __repr__(self) -> str:
        return f"<{self.name}> codec (not registered)"


def codec_or_placeholder(name: str) -> Codec:
    """The codec registered under ``name``, else a placeholder that raises when used."""
    codec_name, _ = parse_codec_spec(name)
    try:
        codec = _find(codec_name)
    except PluginError as error:  # a broken or doubly claimed plugin: raise that when used
        return _UnknownCodec(codec_name, error)
    return codec if codec is not None else _UnknownCodec(codec_name)


# ---- running a chain ----------------------------------------------------------------------------
@functools.lru_cache(maxsize=512)
def _extra_parameters(function: Any) -> tuple[bool, bool]:
    """Whether ``function`` accepts ``store_name`` and ``context`` keyword arguments."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return True, False
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return True, True
    names = {p.name for p in parameters if p.kind is not inspect.Parameter.POSITIONAL_ONLY}
    return "store_name" in names, "context" in names


def _call_options(codec: Codec, method: str) -> tuple[bool, bool]:
    function = getattr(type(codec), method, None)
    if function is None or isinstance(codec, _UnknownCodec):
        return True, False
    return _extra_parameters(function)


@dataclass(frozen=True)
class CodecChain:
    """The codecs a column's values pass through, outermost first, and where they are stored.

    ``final_dtype`` is the core or native type of the column; ``store`` the store as declared
    (None: in-table, ``""``: the default store).
    """

    codecs: tuple[Codec, ...]
    final_dtype: str
    store: str | None

    @property
    def concurrent(self) -> bool:
        """Whether every codec of the chain may run on several threads at once."""
        return all(codec.concurrent for codec in self.codecs)

    @property
    def store_io(self) -> bool:
        """Whether a codec of the chain reads or writes objects in a store."""
        return any(codec.store_io for codec in self.codecs)

    @property
    def prefetch(self) -> bool:
        """Whether the innermost codec's decode reads the objects its stored value names."""
        return bool(self.codecs) and self.codecs[-1].prefetch

    def split(self) -> tuple[CodecChain, CodecChain]:
        """``(outer, inner)``: ``inner`` is the innermost run of codecs that may run on several
        threads at once (``concurrent`` or ``store_io``), ``outer`` the codecs before it.

        Encoding with ``outer`` then ``inner`` (or decoding with ``inner`` then ``outer``) is
        encoding (decoding) with the whole chain.
        """
        cut = len(self.codecs)
        while cut and (self.codecs[cut - 1].concurrent or self.codecs[cut - 1].store_io):
            cut -= 1
        return (
            CodecChain(self.codecs[:cut], self.final_dtype, self.store),
            CodecChain(self.codecs[cut:], self.final_dtype, self.store),
        )

    def encode(
        self,
        value: Any,
        *,
        key: dict[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        store_name: str | None = None,
        validate: bool = True,
    ) -> Any:
        """Validate with the outermost codec, then encode outermost → innermost.

        ``store_name`` is the resolved store passed to encoders that declare it;
        ``validate=False`` skips the validation (the inner part of a :meth:`split` chain, whose
        value the outer part produced).
        """
        if value is None:
            return None
        if validate:
            self.codecs[0].validate(value)
        for codec in self.codecs:
            wants_store, wants_context = _call_options(codec, "encode")
            options: dict[str, Any] = {"key": key}
            if wants_store:
                options["store_name"] = store_name
            if wants_context:
                options["context"] = context
            value = codec.encode(value, **options)
        return value

    def decode(
        self,
        stored: Any,
        *,
        key: dict[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        """Decode innermost → outermost; ``None`` stays ``None``."""
        if stored is None:
            return None
        for codec in reversed(self.codecs):
            _, wants_context = _call_options(codec, "decode")
            if wants_context:
                # ``context`` is optional in the Codec API: _call_options found it declared
                stored = codec.decode(stored, key=key, context=context)  # type: ignore[call-arg]
            else:
                stored = codec.decode(stored, key=key)
        return stored


def codec_chain(declared_type: str) -> CodecChain:
    """The chain of a column declared ``<x@store>``; unknown codecs raise DataJointError."""
    final, chain, store = resolve_dtype(declared_type)
    return CodecChain(tuple(chain), final, store)


def column_chain(declared_type: str) -> CodecChain:
    """The chain of an existing column; a codec that cannot be resolved becomes a placeholder
    that raises when a value is encoded or decoded (the heading still loads)."""
    name, store = parse_codec_spec(declared_type)
    try:
        return codec_chain(declared_type)
    except DataJointError as error:
        outer_known = is_codec_registered(name)
        placeholder = _UnknownCodec(name, error if outer_known else None)
        return CodecChain((placeholder,), "", store)


def column_final_dtype(declared_type: str) -> str | None:
    """The final type of an existing column's chain, or None while a codec in it is unavailable.

    A chain that ends in a type that is neither core nor native raises DataJointError
    "Invalid dtype '…' in codec <…>.".
    """
    from .declare.types import parse_type

    try:
        final, chain, _ = resolve_dtype(declared_type)
    except DataJointError:
        return None
    try:
        parse_type(final)
    except DataJointError:
        raise DataJointError(f"Invalid dtype '{final}' in codec <{chain[-1].name}>.") from None
    return final


def resolved_store_name(store: str | None, config: Any, setting: str = "default") -> str | None:
    """The store name encoders receive: a bare ``@`` (``""``) means the store that
    ``stores.<setting>`` names (``stores.default`` unless the column's codec says otherwise)."""
    if store != "":
        return store
    stores = getattr(config, "stores", None) or {}
    default = stores.get(setting) if isinstance(stores, Mapping) else None
    return default if isinstance(default, str) and default else None


def encode_key(
    schema: str, table: str, field: str, config: Any, primary_key: Sequence[str], row: Any
) -> dict[str, Any]:
    """The ``key`` an encoder receives for one row (SPEC §4.1)."""
    key: dict[str, Any] = {"_schema": schema, "_table": table, "_field": field, "_config": config}
    if isinstance(row, Mapping):
        for name in primary_key:
            if name in row:
                key[name] = row[name]
    return key
