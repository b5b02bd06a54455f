"""The store-backed codecs ``<hash@>``, ``<object@>``, ``<npy@>``, ``<filepath@>`` without a
database (SPEC §4.2, §4.3): path rules, validation messages, and encode/decode against file and
memory stores."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import re
import urllib.parse
import uuid
from pathlib import Path

import numpy as np
import pytest

import datajoint as dj
from datajoint.errors import DataJointError
from datajoint.schema_codec import path_value
from dj_codecs_builtin.store_codecs import (
    FilepathCodec,
    HashCodec,
    NpyCodec,
    ObjectCodec,
    check_filepath_sections,
    check_hash,
    content_hash,
    hash_path,
)

# ---- content hash and hash-addressed paths -----------------------------------------------------


def test_content_hash_is_lowercase_unpadded_base32_of_md5():
    assert content_hash(b"") == "2qoyzwmpaczaj2mabgmoz6ccpy"
    assert content_hash(b"datajoint") == "5a7q22pa7u7hoszr5er4i3a3vq"
    assert re.fullmatch(r"[a-z2-7]{26}", content_hash(np.arange(100).tobytes()))


@pytest.mark.parametrize(
    ("subfolding", "prefix", "expected"),
    [
        (None, "_hash", "_hash/lab/{h}"),
        ((), "_hash", "_hash/lab/{h}"),
        ((2, 2), "_hash", "_hash/lab/5a/7q/{h}"),
        ([1, 3, 2], "_hash", "_hash/lab/5/a7q/22/{h}"),
        ((2,), "/blobs/", "blobs/lab/5a/{h}"),
        (None, "", "lab/{h}"),
        (None, None, "lab/{h}"),
    ],
)
def test_hash_path_layout(subfolding, prefix, expected):
    digest = content_hash(b"datajoint")
    assert hash_path(digest, "lab", subfolding, prefix) == expected.format(h=digest)


@pytest.mark.parametrize(
    "bad",
    [
        "5A7Q22PA7U7HOSZR5ER4I3A3VQ",  # upper case
        "5a7q22pa7u7hoszr5er4i3a3v",  # 25 characters
        "5a7q22pa7u7hoszr5er4i3a3vqq",  # 27
        "5a7q22pa7u7hoszr5er4i3a3v1",  # 1 is not base32
        "5a7q22pa7u7hoszr5er4i3a3v=",
        "../../../../etc/passwd/xxxx",
        None,
    ],
)
def test_invalid_content_hash_is_refused(bad):
    with pytest.raises(DataJointError, match=r"Invalid content hash"):
        check_hash(bad)
    with pytest.raises(DataJointError, match=r"Invalid content hash"):
        hash_path(bad, "lab")


# ---- column types without a store ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "message"),
    [
        (HashCodec(), "<hash> requires @ (in-store storage only)"),
        (ObjectCodec(), "<object> requires @ (store only)"),
        (NpyCodec(), "<npy> requires @ (store only)"),
        (
            FilepathCodec(),
            "<filepath> requires @ symbol. Use <filepath@> for default store or "
            "<filepath@store> to specify store.",
        ),
    ],
)
def test_store_codecs_require_a_store(codec, message):
    assert codec.get_dtype(True) == "json"
    with pytest.raises(DataJointError) as info:
        codec.get_dtype(False)
    assert str(info.value) == message


@pytest.mark.parametrize("spec", ["<hash@>", "<object@>", "<npy@x>", "<filepath@>", "<blob@>"])
def test_store_codecs_resolve_to_json(spec):
    final, chain, _ = dj.codecs.resolve_dtype(spec)
    assert final == "json"
    assert chain[-1].name in ("hash", "object", "npy", "filepath")


def test_blob_and_attach_chain_to_hash_in_a_store():
    for name in ("blob", "attach"):
        final, chain, store = dj.codecs.resolve_dtype(f"<{name}@archive>")
        assert (final, [c.name for c in chain], store) == ("json", [name, "hash"], "archive")


def test_registered_lazily_through_the_plugin():
    from dj_codecs_builtin import plugin

    for name in ("hash", "object", "npy", "filepath"):
        assert plugin.CODECS[name].startswith("dj_codecs_builtin.store_codecs:")
        assert type(dj.get_codec(name)).__module__ == "dj_codecs_builtin.store_codecs"
    assert isinstance(dj.get_codec("object"), dj.SchemaCodec)
    assert isinstance(dj.get_codec("npy"), dj.SchemaCodec)


# ---- validation messages ------------------------------------------------------------------------


def test_validation_messages():
    with pytest.raises(TypeError, match=r"^<hash> expects bytes, got str$"):
        HashCodec().validate("text")
    with pytest.raises(TypeError, match=r"^<object> expects bytes or path, got int$"):
        ObjectCodec().validate(3)
    with pytest.raises(TypeError, match=r"^<object> expects bytes or path, got list$"):
        ObjectCodec().validate([b"x"])
    with pytest.raises(DataJointError, match=r"^<npy> requires numpy\.ndarray, got list$"):
        NpyCodec().validate([1, 2])
    with pytest.raises(DataJointError, match=r"^<npy> does not support object dtype arrays$"):
        NpyCodec().validate(np.array([1, "a"], dtype=object))
    with pytest.raises(TypeError, match=r"^<filepath> expects a path string or Path, got int$"):
        FilepathCodec().validate(7)
    HashCodec().validate(b"x")
    ObjectCodec().validate(("csv", b"a,b"))
    ObjectCodec().validate({"path": "x"})
    NpyCodec().validate(np.zeros(3))
    FilepathCodec().validate(Path("a/b"))


# ---- <filepath@> sections ------------------------------------------------------------------------
DEFAULTS = {"hash_prefix": "_hash", "schema_prefix": "_schema", "filepath_prefix": None}


@pytest.mark.parametrize(
    ("path", "section", "setting"),
    [
        ("_hash/lab/abc", "_hash", "hash_prefix"),
        ("/_hash/lab/abc", "_hash", "hash_prefix"),
        ("_schema/lab/t/x.dat", "_schema", "schema_prefix"),
        ("_schema", "_schema", "schema_prefix"),
    ],
)
def test_filepath_reserved_sections(path, section, setting):
    with pytest.raises(ValueError) as info:
        check_filepath_sections(path, DEFAULTS)
    assert str(info.value).startswith(f"<filepath@> cannot use reserved section '{section}'")
    assert setting in str(info.value) and path in str(info.value)


def test_filepath_sections_compare_whole_segments_and_custom_prefixes():
    check_filepath_sections("_hashes/x.bin", DEFAULTS)
    check_filepath_sections("raw/_hash/x.bin", DEFAULTS)
    custom = {"hash_prefix": "/managed/h/", "schema_prefix": "managed/s", "filepath_prefix": None}
    check_filepath_sections("_hash/x.bin", custom)
    with pytest.raises(ValueError, match=r"reserved section '/managed/h/'"):
        check_filepath_sections("managed/h/x", custom)


def test_filepath_prefix_is_enforced():
    spec = {**DEFAULTS, "filepath_prefix": "/raw/"}
    check_filepath_sections("raw/s1/x.bin", spec)
    check_filepath_sections("/raw/s1/x.bin", spec)
    with pytest.raises(ValueError) as info:
        check_filepath_sections("rawdata/x.bin", spec)
    assert str(info.value) == (
        "<filepath@> must use prefix '/raw/' (filepath_prefix). Got path: rawdata/x.bin"
    )


# ---- schema-addressed paths (SchemaCodec._build_path) --------------------------------------------


@pytest.fixture
def path_config(tmp_path):
    def make(**extra):
        spec = {"protocol": "file", "location": str(tmp_path), **extra}
        return dj.config.override(stores={"default": "main", "main": spec})

    return make


def build(codec, config, pk, ext=None, field="data"):
    return codec._build_path("lab", "__rec", field, pk, ext=ext, store_name=None, config=config)


def test_schema_path_layout(path_config):
    with path_config() as config:
        path, token = build(NpyCodec(), config, {"subject": "mouse1", "session": 2}, ".npy")
    assert path == f"_schema/lab/__rec/subject=mouse1/session=2/data_{token}.npy"
    assert re.fullmatch(r"[A-Za-z0-9_-]{8}", token)


def test_schema_path_partition_pattern_and_prefix(path_config):
    pk = {"lab_id": "L", "subject": "m1", "session": 3, "trial": 9}
    with path_config(partition_pattern="{session}/{subject}", schema_prefix="/objs/") as config:
        path, token = build(ObjectCodec(), config, pk, "zarr", field="raw")
    assert path == f"objs/session=3/subject=m1/lab/__rec/lab_id=L/trial=9/raw_{token}.zarr"
    with path_config(schema_prefix="") as config:
        path, token = build(ObjectCodec(), config, {"id": 1})
    assert path == f"lab/__rec/id=1/data_{token}"


@pytest.mark.parametrize(("configured", "length"), [(None, 8), (1, 4), (4, 4), (12, 12), (40, 16)])
def test_token_length_is_clamped(path_config, configured, length):
    extra = {} if configured is None else {"token_length": configured}
    with path_config(**extra) as config:
        tokens = {build(NpyCodec(), config, {"id": 1})[1] for _ in range(20)}
    assert all(re.fullmatch(rf"[A-Za-z0-9_-]{{{length}}}", t) for t in tokens)
    assert len(tokens) > 1


def test_path_value_encoding():
    assert path_value(7) == "7"
    assert path_value(2.5) == "2.5"
    assert path_value(True) == "True"
    assert path_value(datetime.datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02T03-04-05"
    assert path_value(datetime.date(2024, 1, 2)) == "2024-01-02"
    assert path_value(datetime.time(10, 30)) == urllib.parse.quote("10:30:00", safe="")
    assert path_value("a/b c") == "a%2Fb%20c"
    assert path_value('w:*?"<>|\\') == urllib.parse.quote('w:*?"<>|\\', safe="")
    identifier = uuid.UUID(int=5)
    assert path_value(identifier) == str(identifier)
    long = "x" * 101
    assert path_value(long) == "x" * 50 + "_" + hashlib.md5(long.encode()).hexdigest()[:8]
    long_unsafe = "a/" * 60
    shortened = long_unsafe[:50] + "_" + hashlib.md5(long_unsafe.encode()).hexdigest()[:8]
    assert path_value(long_unsafe) == urllib.parse.quote(shortened, safe="")
    assert path_value("y" * 100) == "y" * 100


# ---- encode / decode against file and memory stores ----------------------------------------------


@pytest.fixture(params=["file", "memory"])
def store_config(request, tmp_path):
    if request.param == "file":
        (tmp_path / "store").mkdir()
        spec = {"protocol": "file", "location": str(tmp_path / "store")}
    else:
        spec = {"protocol": "memory", "location": f"/dj-unit-{uuid.uuid4().hex}"}
    with dj.config.override(stores={"default": "main", "main": spec}) as config:
        yield config


def context_for(config, table="__rec", field="data"):
    return {"schema": "lab", "table": table, "field": field, "config": config}


def test_hash_codec_round_trip_and_dedup(store_config):
    codec = HashCodec()
    context = context_for(store_config)
    meta = codec.encode(b"payload", key={"id": 1}, store_name="main", context=context)
    digest = content_hash(b"payload")
    assert meta == {
        "hash": digest,
        "path": f"_hash/lab/{digest}",
        "schema": "lab",
        "store": "main",
        "size": 7,
    }
    backend = dj.storage.get_backend("main", store_config)
    assert backend.get_buffer(meta["path"]) == b"payload"
    assert codec.decode(meta, key={"_config": store_config}) == b"payload"
    assert codec.decode(json.dumps(meta), key={"_config": store_config}) == b"payload"
    # written only when absent: the same bytes do not rewrite the object
    backend.put_buffer(b"sentinel", meta["path"])
    assert codec.encode(b"payload", key={}, store_name="main", context=context) == meta
    assert backend.get_buffer(meta["path"]) == b"sentinel"
    with pytest.raises(DataJointError) as info:
        codec.decode(meta, key={"_config": store_config})
    assert str(info.value) == (
        f"Hash mismatch: expected {digest}, got {content_hash(b'sentinel')}. "
        f"Data at {meta['path']} may be corrupted."
    )
    with pytest.raises(DataJointError, match=r"Invalid content hash"):
        codec.decode({**meta, "hash": "NOT-A-HASH"}, key={"_config": store_config})


def test_object_codec_values(store_config, tmp_path):
    codec = ObjectCodec()
    context = context_for(store_config, field="raw")
    ObjectRef = dj.ObjectRef
    meta = codec.encode(b"abc", key={"id": 1}, store_name="main", context=context)
    assert set(meta) == {"path", "store", "size", "ext", "is_dir", "item_count", "timestamp"}
    assert (meta["size"], meta["ext"], meta["is_dir"], meta["item_count"]) == (3, None, False, None)
    assert re.fullmatch(r"_schema/lab/__rec/id=1/raw_[A-Za-z0-9_-]{8}", meta["path"])
    datetime.datetime.fromisoformat(meta["timestamp"])
    ref = codec.decode(meta, key={"_config": store_config})
    assert isinstance(ref, ObjectRef) and ref.read() == b"abc" and ref.store == "main"

    meta = codec.encode(
        ("csv", io.BytesIO(b"a,b\n")), key={"id": 2}, store_name="main", context=context
    )
    assert meta["ext"] == "csv" and meta["path"].endswith(".csv") and meta["size"] == 4
    meta = codec.encode((".txt", b"hello"), key={"id": 3}, store_name="main", context=context)
    assert meta["ext"] == ".txt" and meta["path"].endswith(".txt")

    source = tmp_path / "notes.md"
    source.write_text("# hi")
    meta = codec.encode(source, key={"id": 4}, store_name="main", context=context)
    assert (meta["ext"], meta["size"], meta["is_dir"]) == (".md", 4, False)
    assert codec.decode(meta, key={"_config": store_config}).read() == b"# hi"
    plain = tmp_path / "README"
    plain.write_bytes(b"plain")
    meta = codec.encode(plain, key={"id": 5}, store_name="main", context=context)
    assert meta["ext"] == "" and re.search(r"/raw_[A-Za-z0-9_-]{8}$", meta["path"])

    passthrough = {"path": "somewhere/else", "store": "main", "size": 1}
    assert codec.encode(passthrough, key={}, store_name="main", context=context) == passthrough
    with pytest.raises(DataJointError, match=r"^Source path not found: "):
        codec.encode(tmp_path / "missing.bin", key={}, store_name="main", context=context)
    with pytest.raises(TypeError, match=r"<object> expects bytes or path, got float"):
        codec.encode(1.5, key={}, store_name="main", context=context)


def test_object_codec_folder_and_manifest(store_config, tmp_path):
    folder = tmp_path / "run"
    (folder / "sub" / "deep").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"12345")
    (folder / "sub" / "b.bin").write_bytes(b"xy")
    (folder / "sub" / "deep" / "c").write_bytes(b"")
    meta = ObjectCodec().encode(
        str(folder), key={"id": 1}, store_name="main", context=context_for(store_config)
    )
    assert (meta["is_dir"], meta["item_count"], meta["size"], meta["ext"]) == (True, 3, 7, None)
    backend = dj.storage.get_backend("main", store_config)
    manifest = json.loads(backend.get_buffer(meta["path"] + ".manifest.json"))
    assert manifest["item_count"] == 3 and manifest["total_size"] == 7
    assert sorted((f["path"], f["size"]) for f in manifest["files"]) == [
        ("a.txt", 5),
        ("sub/b.bin", 2),
        ("sub/deep/c", 0),
    ]
    ref = ObjectCodec().decode(meta, key={"_config": store_config})
    assert ref.is_dir and ref.item_count == 3
    assert ref.listdir() == ["a.txt", "sub"]
    assert ref.open("sub/b.bin").read() == b"xy"
    assert ref.verify() is True


def test_npy_codec_round_trip(store_config):
    codec = NpyCodec()
    array = np.arange(24, dtype=">i4").reshape(2, 3, 4)
    meta = codec.encode(array, key={"id": 5}, store_name="main", context=context_for(store_config))
    assert set(meta) == {"path", "store", "dtype", "shape"}
    assert (meta["dtype"], meta["shape"], meta["store"]) == (">i4", [2, 3, 4], "main")
    assert re.fullmatch(r"_schema/lab/__rec/id=5/data_[A-Za-z0-9_-]{8}\.npy", meta["path"])
    raw = dj.storage.get_backend("main", store_config).get_buffer(meta["path"])
    assert np.array_equal(np.load(io.BytesIO(raw), allow_pickle=False), array)
    ref = codec.decode(meta, key={"_config": store_config})
    assert isinstance(ref, dj.NpyRef) and not ref.is_loaded
    assert ref.shape == (2, 3, 4) and ref.dtype == np.dtype(">i4")
    assert np.array_equal(np.asarray(ref), array) and ref.is_loaded


def test_filepath_codec(store_config):
    backend = dj.storage.get_backend("main", store_config)
    backend.put_buffer(b"raw bytes", "raw/s1/data.bin")
    backend.put_buffer(b"1", "raw/s1/folder/one.txt")
    codec = FilepathCodec()
    context = context_for(store_config)
    meta = codec.encode("raw/s1/data.bin", key={}, store_name="main", context=context)
    assert set(meta) == {"path", "store", "size", "is_dir", "timestamp"}
    assert (meta["path"], meta["store"], meta["size"], meta["is_dir"]) == (
        "raw/s1/data.bin",
        "main",
        9,
        False,
    )
    assert datetime.datetime.fromisoformat(meta["timestamp"]).utcoffset() == datetime.timedelta(0)
    ref = codec.decode(meta, key={"_config": store_config})
    assert isinstance(ref, dj.ObjectRef) and ref.read() == b"raw bytes"
    folder = codec.encode(Path("raw/s1/folder"), key={}, store_name="main", context=context)
    assert (folder["size"], folder["is_dir"]) == (None, True)
    with pytest.raises(FileNotFoundError) as info:
        codec.encode("raw/nothing.bin", key={}, store_name="main", context=context)
    assert str(info.value) == "File not found in store 'main': raw/nothing.bin"
    with pytest.raises(ValueError, match=r"reserved section '_hash'"):
        codec.encode("_hash/lab/x", key={}, store_name="main", context=context)


def test_filepath_without_store_checks_filepath_default_sections(store_config):
    """No store name: sections from stores.filepath_default, the file from stores.default."""
    backend = dj.storage.get_backend("main", store_config)
    backend.put_buffer(b"x", "inbox/x.bin")
    backend.put_buffer(b"y", "raw/y.bin")
    acquisition = {**store_config.stores["main"], "filepath_prefix": "raw"}
    codec = FilepathCodec()
    with dj.config.override(stores__acq=acquisition, stores__filepath_default="acq"):
        context = context_for(dj.config)
        with pytest.raises(ValueError, match=r"must use prefix 'raw'"):
            codec.encode("inbox/x.bin", key={}, store_name=None, context=context)
        with pytest.raises(FileNotFoundError, match=r"^File not found in store 'default': raw/n$"):
            codec.encode("raw/n", key={}, store_name=None, context=context)
        meta = codec.encode("raw/y.bin", key={}, store_name=None, context=context)
        assert meta["store"] is None and meta["size"] == 1
        assert codec.decode(meta, key={"_config": dj.config}).read() == b"y"
    with pytest.raises(DataJointError, match=r"stores.filepath_default is not configured"):
        codec.encode("raw/y.bin", key={}, store_name=None, context=context_for(store_config))
