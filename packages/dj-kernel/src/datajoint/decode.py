"""Decoding of fetched column values into Python values (fetch), codecs included."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .codecs import CodecChain, column_chain
from .parallel import ordered_map

Decoder = Callable[[Any], Any]

logger = logging.getLogger("datajoint")

#: rows of a store-backed column whose objects are read ahead in one batch
PREFETCH_ROWS = 512


def decoders_for(query: Any, names: list[str], *, squeeze: bool = False) -> list[Decoder | None]:
    """One decoder per fetched column (None where the driver's value is already right).

    Decoders are applied to non-NULL values only. For a codec column the backend's decoder of
    the chain's final type runs first (JSON text parsed, ``binary(16)`` made a UUID), then the
    codecs innermost → outermost with ``key={"_config": config}`` (and ``context`` where an
    ``decode`` declares it); ``squeeze`` squeezes an ndarray result.
    """
    dialect = query.connection.dialect
    heading = query.heading
    config = query.connection.config
    decoders: list[Decoder | None] = []
    for name in names:
        attr = heading[name]
        base = dialect.column_decoder(attr.core, attr.sql_type)
        if attr.codec_name is None:
            decoders.append(base)
            continue
        chain = column_chain(attr.type)
        if chain.store_io:
            decoders.append(StoreDecoder(chain, base, config, squeeze))
        else:
            decoders.append(_codec_decoder(chain, base, config, squeeze))
    return decoders


def _codec_decoder(chain: CodecChain, base: Decoder | None, config: Any, squeeze: bool) -> Decoder:
    key = {"_config": config}
    context = {"config": config}
    decode = chain.decode

    def run(stored: Any) -> Any:
        if base is not None:
            stored = base(stored)
        elif isinstance(stored, memoryview):
            stored = stored.tobytes()
        value = decode(stored, key=dict(key), context=context)
        if squeeze and isinstance(value, np.ndarray):
            value = value.squeeze()
        return value

    return run


class StoreDecoder:
    """The decoder of a column whose codecs read objects from a store (``Codec.store_io``).

    Called on one value it decodes that value. :meth:`column` decodes many: when the innermost
    codec declares ``prefetch``, the objects of up to :data:`PREFETCH_ROWS` rows are first read
    in one batch (the backend's ``get_buffers``: one ``cat`` on an asynchronous filesystem) and
    the decodes are served from it; the decodes themselves run on the I/O pool, as far as the
    chain's codecs may run on several threads (:meth:`CodecChain.split`): the outer rest runs in
    the calling thread in row order.
    """

    def __init__(self, chain: CodecChain, base: Decoder | None, config: Any, squeeze: bool):
        self.chain = chain
        self.outer, self.inner = chain.split()
        self.base = base
        self.config = config
        self.squeeze = squeeze

    def prepare(self, stored: Any) -> Any:
        """The value the innermost codec receives: the backend's decoding of the final type."""
        if self.base is not None:
            return self.base(stored)
        return stored.tobytes() if isinstance(stored, memoryview) else stored

    def _decode(self, chain: CodecChain, value: Any) -> Any:
        return chain.decode(value, key={"_config": self.config}, context={"config": self.config})

    def decode_inner(self, prepared: Any) -> Any:
        """Run the chain's thread-safe inner codecs on a prepared value."""
        return self._decode(self.inner, prepared)

    def finish(self, value: Any) -> Any:
        """Run the chain's outer codecs on what the inner ones gave (squeezing an array
        result when asked)."""
        if self.outer.codecs:
            value = self._decode(self.outer, value)
        if self.squeeze and isinstance(value, np.ndarray):
            value = value.squeeze()
        return value

    def __call__(self, stored: Any) -> Any:
        return self.finish(self.decode_inner(self.prepare(stored)))

    def column(self, values: Sequence[Any]) -> list[Any]:
        """Decode every value of a column (NULL stays None), in order; the first error is raised."""
        from .transfers import serving

        out: list[Any] = [None] * len(values)
        present = [i for i, v in enumerate(values) if v is not None]
        for start in range(0, len(present), PREFETCH_ROWS):
            rows = present[start : start + PREFETCH_ROWS]
            prepared = [self.prepare(values[i]) for i in rows]
            objects = self._prefetch(prepared) if self.chain.prefetch and len(rows) > 1 else {}
            with serving(objects):
                if len(rows) > 1:
                    decoded = ordered_map(self.decode_inner, prepared, io=True)
                else:
                    decoded = [self.decode_inner(p) for p in prepared]
            for i, value in zip(rows, decoded, strict=True):
                out[i] = self.finish(value)
        return out

    def _prefetch(self, prepared: list[Any]) -> dict[Any, bytes]:
        """The objects the innermost codec will read, read in one batch per store.

        A batch that fails (a missing object, say) is left out: each decode then reads its own
        object and raises its own error.
        """
        from .storage import get_backend
        from .transfers import prefetch

        codec = self.chain.codecs[-1]
        by_store: dict[str | None, list[str]] = {}
        for stored in prepared:
            for path, store in codec.referenced_paths(stored):
                by_store.setdefault(store, []).append(path)
        objects: dict[Any, bytes] = {}
        for store, paths in by_store.items():
            try:
                objects.update(prefetch(get_backend(store, self.config), paths))
            except Exception as error:
                logger.debug(
                    "Reading %d objects ahead failed (%s); reading one by one.", len(paths), error
                )
        return objects
