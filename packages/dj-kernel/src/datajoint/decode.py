"""Decoding of fetched column values into Python values (fetch), codecs included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .codecs import CodecChain, column_chain

Decoder = Callable[[Any], Any]


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
        if attr.codec is None:
            decoders.append(base)
        else:
            decoders.append(_codec_decoder(column_chain(attr.type), base, config, squeeze))
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
