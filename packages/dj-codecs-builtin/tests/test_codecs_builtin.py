"""The built-in in-table codecs ``<blob>`` and ``<attach>`` (SPEC §4.2): laws, rules, registration."""

from __future__ import annotations

import os
import re
import string
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

import datajoint as dj
from datajoint.codecs import codec_chain, resolve_dtype
from datajoint.errors import DataJointError
from datajoint.testing.codec_laws import CodecLaws
from datajoint.testing.codec_laws import assert_same_value as assert_same
from dj_codecs_builtin import blob
from dj_codecs_builtin.codecs import AttachCodec, BlobCodec

from .test_blob_properties import arrays, nested, readback
from .test_blob_vectors import MANIFEST, NAMESPACE, READBACK, VECTORS


# ---- laws ---------------------------------------------------------------------------------------
class TestBlobCodecLaws(CodecLaws):
    """decode∘encode over nested containers of scalars, strings, bytes and numpy arrays of every
    supported dtype, shape and memory order (values compared with their documented read-back)."""

    codec = "blob"
    max_examples = 150

    def values(self) -> st.SearchStrategy[Any]:
        return st.one_of(nested, arrays())

    def expected(self, value: Any) -> Any:
        return readback(value)

    def assert_equivalent(self, decoded: Any, expected: Any) -> None:
        assert_same(decoded, expected)


_NAME_CHARS = st.characters(categories=["L", "N"]) | st.sampled_from("._- ")
_file_names = st.text(_NAME_CHARS, min_size=1, max_size=24).filter(
    lambda n: n.strip(".") != "" and n == n.strip()
)


class TestAttachCodecLaws(CodecLaws):
    """decode∘encode gives a file with the same contents and name (or ``stem_N.ext`` when another
    file already holds the name) in ``download_path``."""

    codec = "attach"
    max_examples = 80

    def values(self) -> st.SearchStrategy[Any]:
        source = Path(tempfile.mkdtemp(prefix="dj-attach-src-"))

        def write(name: str, contents: bytes, as_path: bool) -> Any:
            folder = Path(tempfile.mkdtemp(dir=source))
            path = folder / name
            path.write_bytes(contents)
            return path if as_path else str(path)

        return st.builds(write, _file_names, st.binary(max_size=2000), st.booleans())

    def expected(self, value: Any) -> Any:
        path = Path(value)
        return path.name, path.read_bytes()

    def assert_equivalent(self, decoded: Any, expected: Any) -> None:
        name, contents = expected
        assert isinstance(decoded, str)
        got = Path(decoded)
        assert got.read_bytes() == contents
        stem, suffix = Path(name).stem, Path(name).suffix
        assert got.name == name or re.fullmatch(
            re.escape(stem) + r"_\d+" + re.escape(suffix), got.name
        ), (got.name, name)


# ---- <blob> -------------------------------------------------------------------------------------
def test_blob_types_and_registration():
    codec = dj.get_codec("<blob>")
    assert isinstance(codec, BlobCodec)
    assert codec.get_dtype(False) == "bytes" and codec.get_dtype(True) == "<hash>"
    assert resolve_dtype("<blob>")[0] == "bytes"
    listed = {c["name"]: c for c in dj.plugins()["codecs"]}
    assert listed["blob"]["distribution"] == "dj-codecs-builtin"
    assert listed["attach"]["distribution"] == "dj-codecs-builtin"
    from datajoint.builtin_codecs import AttachCodec as CompatAttach
    from datajoint.builtin_codecs import BlobCodec as CompatBlob

    assert CompatBlob is BlobCodec and CompatAttach is AttachCodec


def test_blob_encoding_is_pack_with_compression():
    codec = dj.get_codec("blob")
    value = np.zeros(10_000)
    assert codec.encode(value) == blob.pack(value, compress=True)
    assert codec.encode(value).startswith(b"ZL123\0")
    assert_same(codec.decode(memoryview(codec.encode(value))), value)


@pytest.mark.skipif(not MANIFEST, reason="blob vectors are not available")
@pytest.mark.parametrize("vector", MANIFEST, ids=[v["name"] for v in MANIFEST])
def test_blob_codec_reads_and_writes_every_vector(vector):
    data = (VECTORS / vector["file"]).read_bytes()
    value = eval(vector["expr"], dict(NAMESPACE))
    codec = dj.get_codec("<blob>")  # a top-level None is packed by the codec, NULL in a table
    assert codec.encode(value) == data
    assert_same(codec.decode(data), READBACK.get(vector["name"], value))
    if value is not None:
        chain = codec_chain("<blob>")
        assert chain.encode(value) == data
        assert_same(chain.decode(data), READBACK.get(vector["name"], value))


def test_mat_markers_come_from_the_kernel():
    assert blob.MatCell is dj.MatCell
    assert blob.MatStruct is dj.MatStruct
    cell = np.array([1, "a"], dtype=object).view(dj.MatCell)
    assert type(blob.unpack(blob.pack(cell))) is dj.MatCell


# ---- <attach> -----------------------------------------------------------------------------------
@pytest.fixture
def download(tmp_path):
    folder = tmp_path / "downloads" / "nested"
    with dj.config.override(download_path=str(folder)):
        yield folder


def test_attach_validation_errors(tmp_path):
    codec = dj.get_codec("attach")
    assert codec.get_dtype(False) == "bytes" and codec.get_dtype(True) == "<hash>"
    with pytest.raises(TypeError, match="<attach> expects a file path, got int"):
        codec.validate(3)
    with pytest.raises(FileNotFoundError):
        codec.validate(tmp_path / "missing.txt")
    with pytest.raises(IsADirectoryError):
        codec.validate(tmp_path)


def test_attach_stores_name_and_contents(tmp_path):
    source = tmp_path / "notes é.txt"
    source.write_bytes(b"\x00body")
    assert dj.get_codec("attach").encode(source) == "notes é.txt".encode() + b"\0\x00body"


def test_attach_decode_writes_to_download_path(tmp_path, download):
    codec = dj.get_codec("attach")
    source = tmp_path / "data.csv"
    source.write_text("a,b\n1,2\n")
    stored = codec.encode(str(source))
    first = codec.decode(stored)
    assert first == str(download / "data.csv") and Path(first).read_text() == "a,b\n1,2\n"
    stamp = os.stat(first).st_mtime_ns
    os.utime(first, ns=(stamp - 10**9, stamp - 10**9))
    assert codec.decode(stored) == first  # identical contents: reused, not rewritten
    assert os.stat(first).st_mtime_ns == stamp - 10**9
    source.write_text("other")
    second = codec.decode(codec.encode(source))
    assert second == str(download / "data_1.csv")
    source.write_text("third")
    assert codec.decode(codec.encode(source)) == str(download / "data_2.csv")
    assert codec.decode(stored) == first


def test_attach_decode_uses_the_config_it_is_given(tmp_path):
    codec = dj.get_codec("attach")
    source = tmp_path / "x.bin"
    source.write_bytes(b"123")
    config = type("Cfg", (), {"download_path": str(tmp_path / "mine")})()
    path = codec.decode(codec.encode(source), key={"_config": config})
    assert path == str(tmp_path / "mine" / "x.bin")
    other = type("Cfg", (), {"download_path": str(tmp_path / "ctx")})()
    path = codec.decode(codec.encode(source), key={"_config": config}, context={"config": other})
    assert path == str(tmp_path / "ctx" / "x.bin")


def test_attach_never_writes_outside_download_path(tmp_path, download):
    stored = b"../escape.txt\0data"
    path = Path(dj.get_codec("attach").decode(stored))
    assert path.parent == download and path.name == "escape.txt"
    with pytest.raises(ValueError, match="no file name separator"):
        dj.get_codec("attach").decode(b"no separator")


def test_store_modes_chain_to_hash():
    for name in ("blob", "attach"):
        if "hash" in dj.list_codecs():
            assert resolve_dtype(f"<{name}@>")[1][1].name == "hash"
        else:
            with pytest.raises(DataJointError, match="<hash>"):
                resolve_dtype(f"<{name}@>")


def test_plugin_registers_lazily():
    from dj_codecs_builtin import plugin

    registered: dict[str, object] = {}
    plugin.dj_register_codecs(register=lambda name, target: registered.update({name: target}))
    assert registered == {
        "blob": "dj_codecs_builtin.codecs:BlobCodec",
        "attach": "dj_codecs_builtin.codecs:AttachCodec",
        "hash": "dj_codecs_builtin.store_codecs:HashCodec",
        "object": "dj_codecs_builtin.store_codecs:ObjectCodec",
        "npy": "dj_codecs_builtin.store_codecs:NpyCodec",
        "filepath": "dj_codecs_builtin.store_codecs:FilepathCodec",
    }
    assert set(string.ascii_lowercase) >= set("".join(registered))
