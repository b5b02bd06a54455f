"""``CodecLaws``: the laws every codec obeys, as a pytest suite a codec package runs in a few lines.

    from hypothesis import strategies as st
    from datajoint.testing.codec_laws import CodecLaws

    class TestPointCodec(CodecLaws):
        codec = "point"                      # a registered name, or a Codec instance

        def values(self):
            return st.builds(Point, st.floats(allow_nan=False), st.floats(allow_nan=False))

Laws: decode∘encode is the identity over ``values()`` (after the encoded value has gone through
the representation its final type has in the database: bytes, or JSON text); encoding is
deterministic; ``get_dtype`` is stable and the chain ends in a core or native type; ``None`` is
never validated nor encoded; a registered codec is found by its name. Override :meth:`expected`
or :meth:`assert_equivalent` where a codec's read-back differs from its input by design.
Requires ``hypothesis``.
"""

from __future__ import annotations

import decimal
import json
import struct
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis.strategies import SearchStrategy

from ..codecs import Codec, CodecChain, get_codec, list_codecs, resolve_dtype
from ..declare.types import parse_type

__all__ = ["CodecLaws", "assert_same_value"]


def assert_same_value(actual: Any, expected: Any, where: str = "value") -> None:
    """Exact equality: same types; numpy arrays with the same dtype, shape and bytes; floats
    compared bitwise (so NaN equals NaN and -0.0 differs from 0.0)."""
    assert type(actual) is type(expected), f"{where}: {type(actual)} is not {type(expected)}"
    if isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype, f"{where}: dtype {actual.dtype} != {expected.dtype}"
        assert actual.shape == expected.shape, f"{where}: shape {actual.shape} != {expected.shape}"
        if expected.dtype.names:
            for name in expected.dtype.names:
                assert_same_value(
                    np.asarray(actual[name]), np.asarray(expected[name]), f"{where}.{name}"
                )
        elif expected.dtype.kind == "O":
            for i, (a, e) in enumerate(zip(actual.flat, expected.flat, strict=True)):
                assert_same_value(a, e, f"{where}[{i}]")
        else:
            assert actual.tobytes() == expected.tobytes(), f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, np.generic):
        assert actual.tobytes() == expected.tobytes(), f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, float):
        assert struct.pack("<d", actual) == struct.pack("<d", expected), f"{where}"
    elif isinstance(expected, complex):
        assert struct.pack("<dd", actual.real, actual.imag) == struct.pack(
            "<dd", expected.real, expected.imag
        ), f"{where}"
    elif isinstance(expected, decimal.Decimal):
        assert str(actual) == str(expected), f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, dict):
        assert len(actual) == len(expected), f"{where}: keys {list(actual)} != {list(expected)}"
        for (ak, av), (ek, ev) in zip(actual.items(), expected.items(), strict=True):
            assert_same_value(ak, ek, f"{where} key")
            assert_same_value(av, ev, f"{where}[{ek!r}]")
    elif isinstance(expected, list | tuple):
        assert len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same_value(a, e, f"{where}[{i}]")
    elif isinstance(expected, set | frozenset):
        assert len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for e in expected:
            assert any(_same_value(a, e) for a in actual), f"{where}: {e!r} missing from {actual!r}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def _same_value(actual: Any, expected: Any) -> bool:
    try:
        assert_same_value(actual, expected)
    except AssertionError:
        return False
    return True


def _through_database(stored: Any, final_dtype: str) -> Any:
    """The encoded value as the database gives it back: bytes, or JSON parsed from text."""
    final = parse_type(final_dtype)
    if final.core == "bytes" or final.is_blob_like:
        assert isinstance(stored, bytes | bytearray | memoryview), (
            f"a codec chain ending in {final_dtype} must encode to bytes, got {type(stored)}"
        )
        return bytes(stored)
    if final.core == "json":
        return json.loads(json.dumps(stored))
    return stored


def _comparable(stored: Any) -> Any:
    if isinstance(stored, bytes | bytearray | memoryview):
        return bytes(stored)
    try:
        return json.dumps(stored, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(stored)


class CodecLaws:
    """The laws of a codec; subclass it (named ``Test…``), set ``codec`` and define ``values``."""

    #: the codec under test: a registered name (``"blob"``, ``"<blob>"``) or a Codec instance
    codec: ClassVar[str | Codec]
    #: run the chain with this store (``""``: the default store); None: in-table
    store: ClassVar[str | None] = None
    #: False for codecs whose encoding is random by design (e.g. schema-addressed tokens)
    deterministic: ClassVar[bool] = True
    max_examples: ClassVar[int] = 60

    # ---- hooks ---------------------------------------------------------------------------------
    def values(self) -> SearchStrategy[Any]:
        """The Hypothesis strategy of values the codec accepts."""
        raise NotImplementedError("CodecLaws subclasses define values() -> a Hypothesis strategy")

    def expected(self, value: Any) -> Any:
        """The value ``decode(encode(value))`` must give back (the value itself by default)."""
        return value

    def assert_equivalent(self, decoded: Any, expected: Any) -> None:
        """Compare a decoded value with :meth:`expected` (exact equality by default)."""
        assert_same_value(decoded, expected)

    def law_config(self, folder: Path) -> Any:
        """The configuration codecs receive (``download_path`` is a fresh folder); override it
        to add stores."""
        from ..settings import Config

        config = Config()
        config.download_path = str(folder)
        return config

    # ---- helpers -------------------------------------------------------------------------------
    def codec_instance(self) -> Codec:
        return self.codec if isinstance(self.codec, Codec) else get_codec(self.codec)

    def chain(self) -> CodecChain:
        codec = self.codec_instance()
        is_store = self.store is not None
        final, inner, store = resolve_dtype(codec.get_dtype(is_store), store_name=self.store)
        return CodecChain((codec, *inner), final, store)

    def _run(self, law: Any) -> None:
        # a top-level None is stored as NULL without touching the codec (its own law below)
        strategy = self.values().filter(lambda value: value is not None)
        with tempfile.TemporaryDirectory(prefix="dj-codec-laws-") as folder:
            config = self.law_config(Path(folder))

            @settings(
                max_examples=self.max_examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(strategy)
            def check(value: Any) -> None:
                law(value, config)

            check()

    def _encode(self, chain: CodecChain, value: Any, config: Any) -> Any:
        key = {"_schema": "codec_laws", "_table": "laws", "_field": "value", "_config": config}
        context = {"schema": "codec_laws", "table": "laws", "field": "value", "config": config}
        return chain.encode(value, key=key, context=context, store_name=chain.store or None)

    # ---- the laws ------------------------------------------------------------------------------
    def test_decode_encode_is_identity(self) -> None:
        chain = self.chain()

        def law(value: Any, config: Any) -> None:
            expected = self.expected(value)
            stored = _through_database(self._encode(chain, value, config), chain.final_dtype)
            decoded = chain.decode(stored, key={"_config": config}, context={"config": config})
            self.assert_equivalent(decoded, expected)

        self._run(law)

    def test_encoding_is_deterministic(self) -> None:
        if not self.deterministic:
            return
        chain = self.chain()

        def law(value: Any, config: Any) -> None:
            first = _comparable(self._encode(chain, value, config))
            assert first == _comparable(self._encode(chain, value, config))

        self._run(law)

    def test_get_dtype_is_stable(self) -> None:
        codec = self.codec_instance()
        for is_store in (False, True):
            outcomes = []
            for _ in range(3):
                try:
                    outcomes.append(("dtype", codec.get_dtype(is_store)))
                except Exception as error:  # a mode the codec refuses must refuse every time
                    outcomes.append((type(error).__name__, str(error)))
            assert outcomes.count(outcomes[0]) == len(outcomes), outcomes
        final = self.chain().final_dtype
        assert parse_type(final).kind in ("core", "native"), final

    def test_none_is_neither_validated_nor_encoded(self) -> None:
        assert self.chain().encode(None) is None
        assert self.chain().decode(None) is None

    def test_registered_under_its_name(self) -> None:
        codec = self.codec_instance()
        if isinstance(self.codec, Codec) and codec.name not in list_codecs():
            return  # an unregistered instance under test
        assert codec.name in list_codecs()
        assert type(get_codec(codec.name)) is type(codec)
        assert get_codec(f"<{codec.name}>") is get_codec(codec.name)
