"""Encoding of attribute values for binding as query parameters (insert, update), codecs included."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .codecs import CodecChain, column_chain, encode_key, resolved_store_name
from .errors import DataJointError
from .parallel import ordered_map, pipelined_map, value_size, worth_parallel
from .values import DEFAULT, pass_through, stored, to_uuid
from .write.data_errors import value_rule


def _first_size(pair: tuple[Any, Any]) -> int:
    return value_size(pair[0])


class AttributeEncoder:
    """Encodes the values of one attribute for binding; :data:`DEFAULT` marks a value left out.

    A codec column runs its codec chain first (SPEC §4.1): ``None`` skips validate and encode,
    any other value is validated by the outermost codec and encoded outermost → innermost, each
    encoder receiving the row's ``key`` (``_schema``, ``_table``, ``_field``, ``_config`` and the
    primary-key values the row gives). The result is then bound as the chain's final type.
    """

    def __init__(self, table: Any, name: str) -> None:
        self.attr = table.heading[name]
        self.dialect = table.connection.dialect
        self.name = name
        self.numeric = self.attr.is_numeric
        self.rule = value_rule(table.full_table_name, self.attr)
        self.native_binary = self.attr.codec_name is None and self.attr.is_blob
        self.chain: CodecChain | None = None
        if self.attr.codec_name is not None:
            config = table.connection.config
            self.chain = column_chain(self.attr.type)
            self.store_name = resolved_store_name(
                self.chain.store, config, self.chain.codecs[0].default_store_setting
            )
            self.context = {
                "schema": table.database,
                "table": table.table_name,
                "field": name,
                "config": config,
            }
            self.primary_key = tuple(table.primary_key)
            self.pass_through: tuple[type, ...] = ()
        else:
            self.pass_through = pass_through(self.attr.core)

    def column(
        self, values: list[Any], rows: Sequence[Any] | None = None, *, pipelined: bool = False
    ) -> list[Any]:
        """Encode a whole column; plain values of the column's own type are bound unchanged.

        ``rows`` (the rows the values come from, in the same order) supply the primary-key
        values that codec encoders receive in ``key``. With ``pipelined``, the values of a
        binary column that the pool packs are returned as :class:`~datajoint.parallel.Pending`
        placeholders (None still gives :data:`DEFAULT`), for the caller to collect while it
        sends earlier rows.
        """
        if self.chain is not None:
            pairs = (
                zip(values, rows, strict=True) if rows is not None else ((v, None) for v in values)
            )
            if self.chain.store_io and len(values) > 1:
                return self._encode_in_store(list(pairs))
            if self.chain.concurrent and worth_parallel(values):
                # several large values (e.g. arrays to compress): packed on the pool, in order
                if pipelined and self.attr.is_blob:
                    present = [pair for pair in pairs if pair[0] is not None]
                    pending = iter(pipelined_map(self._encode_pair, present, size=_first_size))
                    return [DEFAULT if v is None else next(pending) for v in values]
                return ordered_map(self._encode_pair, pairs)
            return [self.encode_codec(v, r) for v, r in pairs]
        simple, encode = self.pass_through, self.bind
        return [(v if v == v else DEFAULT) if type(v) in simple else encode(v) for v in values]

    def _encode_pair(self, pair: tuple[Any, Any]) -> Any:
        return self.encode_codec(*pair)

    def _encode_in_store(self, pairs: list[tuple[Any, Any]]) -> list[Any]:
        """Encode a column whose chain writes to a store: the uploads overlap on the I/O pool.

        Only the chain's inner part of thread-safe codecs (:meth:`CodecChain.split`) runs on the
        pool; the codecs outside it encode here first, one value after the other in row order.
        """
        assert self.chain is not None
        outer, inner = self.chain.split()
        if not outer.codecs:
            return ordered_map(self._encode_pair, pairs, io=True)
        context, store_name = self.context, self.store_name
        staged = [
            (
                None
                if v is None
                else outer.encode(v, key=self.key_for(r), context=context, store_name=store_name),
                r,
            )
            for v, r in pairs
        ]

        def finish(pair: tuple[Any, Any]) -> Any:
            value, row = pair
            if value is None:
                return DEFAULT
            encoded = inner.encode(
                value,
                key=self.key_for(row),
                context=context,
                store_name=store_name,
                validate=False,
            )
            return self.bind(encoded)

        return ordered_map(finish, staged, io=True)

    def __call__(self, value: Any, row: Any = None) -> Any:
        if self.chain is not None:
            return self.encode_codec(value, row)
        return self.bind(value)

    def key_for(self, row: Any) -> dict[str, Any]:
        """The ``key`` the codec encoders receive for ``row``."""
        context = self.context
        return encode_key(
            context["schema"],
            context["table"],
            self.name,
            context["config"],
            self.primary_key,
            row,
        )

    def encode_codec(self, value: Any, row: Any) -> Any:
        """Run the codec chain on one value, then bind the result."""
        if value is None:
            return DEFAULT
        assert self.chain is not None
        encoded = self.chain.encode(
            value, key=self.key_for(row), context=self.context, store_name=self.store_name
        )
        return self.bind(encoded)

    def bind(self, value: Any) -> Any:
        """Adapt a value of the column's (final) type for binding."""
        value = stored(value, self.numeric)
        if value is DEFAULT:
            return value
        if self.attr.is_uuid:
            value = to_uuid(value, self.name)
        if self.native_binary and not isinstance(value, bytes | bytearray | memoryview):
            raise DataJointError(
                f"Attribute `{self.name}` is declared as the native binary type {self.attr.sql_type}, "
                "which accepts only bytes. Declare the attribute as '<blob>' to store Python objects."
            )
        if self.rule is not None:
            value = self.rule(value)
        return self.dialect.encode_param(value, self.attr.core)
