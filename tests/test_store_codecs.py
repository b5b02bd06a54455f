"""Store-backed codecs in tables on every backend, on file and s3 stores (SPEC §4.1-§4.4):
``<blob@>``, ``<attach@>``, ``<hash@>``, ``<object@>``, ``<npy@>``, ``<filepath@>``, a third-party
SchemaCodec, ``ObjectRef`` / ``NpyRef``, the layouts of §4.3, and stores written by DataJoint 2.3.5."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import tempfile
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

import datajoint as dj
from datajoint import codecs, storage
from datajoint.errors import DataJointError
from dj_codecs_builtin.store_codecs import content_hash

TOKEN = r"[A-Za-z0-9_-]{8}"


def declare(schema, name: str, definition: str) -> type:
    table = type(name, (dj.Manual,), {"definition": definition})
    schema(table, context={})
    return table


def stored_json(table, column: str, **restriction) -> dict:
    """The JSON metadata a row holds in ``column``, read with plain SQL."""
    dialect = table.connection.dialect
    where = " AND ".join(f"{dialect.quote(k)} = {dialect.placeholder}" for k in restriction)
    sql = f"SELECT {dialect.quote(column)} FROM {table.full_table_name} WHERE {where}"
    (value,) = table.connection.run(sql, list(restriction.values()))[0]
    return json.loads(value) if isinstance(value, str | bytes) else value


def insert_raw(table, row: dict) -> None:
    """Insert a row with plain SQL (JSON values given as text), as another client would."""
    dialect = table.connection.dialect
    names = ", ".join(dialect.quote(k) for k in row)
    marks = ", ".join([dialect.placeholder] * len(row))
    values = [json.dumps(v) if isinstance(v, dict) else v for v in row.values()]
    table.connection.query(
        f"INSERT INTO {table.full_table_name} ({names}) VALUES ({marks})", values
    )


@pytest.fixture
def backend(store):
    return storage.get_backend(store, dj.config)


@pytest.fixture
def restore_codecs():
    before = set(codecs.list_codecs())
    yield
    for name in set(codecs.list_codecs()) - before:
        codecs.unregister_codec(name)


def store_spec(store: str, **changes) -> dict:
    return {**dj.config.stores[store], **changes}


# ---- hash-addressed: <blob@>, <attach@>, <hash@> -------------------------------------------------


def test_blob_in_store_round_trip_and_dedup(dj_schema, store, backend):
    Data = declare(
        dj_schema,
        "BlobStore",
        f"""
        id : int32
        ---
        value : <blob@>
        named = null : <blob@{store}>
        """,
    )
    array = np.arange(30.0).reshape(5, 6)
    Data.insert(
        [
            {"id": 1, "value": array, "named": {"a": [1, 2]}},
            {"id": 2, "value": array, "named": None},
            {"id": 3, "value": "text", "named": None},
        ]
    )
    rows = {r["id"]: r for r in Data.to_dicts()}
    assert np.array_equal(rows[1]["value"], array) and np.array_equal(rows[2]["value"], array)
    assert rows[1]["named"] == {"a": [1, 2]} and rows[2]["named"] is None
    assert rows[3]["value"] == "text"
    meta = stored_json(Data, "value", id=1)
    packed = dj.get_codec("blob").encode(array)
    digest = content_hash(packed)
    assert meta == {
        "hash": digest,
        "path": f"_hash/{dj_schema.database}/{digest}",
        "schema": dj_schema.database,
        "store": store,  # the bare @ resolved to stores.default
        "size": len(packed),
    }
    assert stored_json(Data, "value", id=2) == meta  # identical bytes: one object
    assert stored_json(Data, "named", id=1)["store"] == store
    assert backend.get_buffer(meta["path"]) == packed
    assert len(backend.list_files(f"_hash/{dj_schema.database}")) == 3


def test_hash_subfolding_and_prefix(dj_schema, store, backend):
    spec = store_spec(store, subfolding=[2, 3], hash_prefix="content")
    with dj.config.override(stores__main=spec):
        Data = declare(dj_schema, "Folded", "id : int32\n---\nraw : <hash@main>")
        Data.insert1({"id": 1, "raw": b"folded bytes"})
        digest = content_hash(b"folded bytes")
        meta = stored_json(Data, "raw", id=1)
        path = f"content/{dj_schema.database}/{digest[:2]}/{digest[2:5]}/{digest}"
        assert meta["path"] == path and meta["store"] == "main"
        assert storage.get_backend("main", dj.config).get_buffer(path) == b"folded bytes"
        assert Data.fetch1("raw") == b"folded bytes"


def test_hash_codec_errors(dj_schema, store, backend):
    Data = declare(dj_schema, "Hashed", "id : int32\n---\nraw : <hash@>")
    with pytest.raises(TypeError, match=r"^<hash> expects bytes, got str$"):
        Data.insert1({"id": 1, "raw": "not bytes"})
    Data.insert1({"id": 1, "raw": b"original"})
    meta = stored_json(Data, "raw", id=1)
    assert Data.fetch1("raw") == b"original"
    backend.put_buffer(b"tampered", meta["path"])
    expected = (
        f"Hash mismatch: expected {meta['hash']}, got {content_hash(b'tampered')}. "
        f"Data at {meta['path']} may be corrupted."
    )
    with pytest.raises(DataJointError, match=f"^{re.escape(expected)}$"):
        Data.fetch1("raw")
    with pytest.raises(DataJointError, match=r"^<hash> requires @ \(in-store storage only\)"):
        declare(dj_schema, "NoStore", "id : int32\n---\nraw : <hash>")


def test_attach_in_store(dj_schema, store, tmp_path):
    Data = declare(dj_schema, "Attached", "id : int32\n---\nfile : <attach@>")
    source = tmp_path / "src" / "notes.txt"
    source.parent.mkdir()
    source.write_text("attached text")
    Data.insert1({"id": 1, "file": source})
    meta = stored_json(Data, "file", id=1)
    assert meta["path"].startswith(f"_hash/{dj_schema.database}/") and meta["store"] == store
    with dj.config.override(download_path=str(tmp_path / "downloads")):
        path = Data.fetch1("file")
    assert Path(path) == tmp_path / "downloads" / "notes.txt"
    assert Path(path).read_text() == "attached text"


# ---- schema-addressed: <object@> -----------------------------------------------------------------


def test_object_paths_and_values(dj_schema, store, backend, tmp_path):
    Data = declare(
        dj_schema,
        "Recording",
        """
        subject : varchar(200)
        started : datetime
        ---
        raw : <object@>
        """,
    )
    when = datetime.datetime(2024, 1, 2, 3, 4, 5)
    source = tmp_path / "trace.dat"
    source.write_bytes(b"\x00\x01\x02")
    long_subject = "s" * 120
    Data.insert(
        [
            {"subject": "m/1", "started": when, "raw": b"bytes value"},
            {"subject": "m2", "started": when, "raw": ("json", b"{}")},
            {"subject": long_subject, "started": when, "raw": str(source)},
        ]
    )
    prefix = f"_schema/{dj_schema.database}/{Data.table_name}"
    meta = stored_json(Data, "raw", subject="m/1")
    assert set(meta) == {"path", "store", "size", "ext", "is_dir", "item_count", "timestamp"}
    assert re.fullmatch(
        rf"{prefix}/subject=m%2F1/started=2024-01-02T03-04-05/raw_{TOKEN}", meta["path"]
    )
    assert (meta["store"], meta["size"], meta["ext"], meta["is_dir"]) == (store, 11, None, False)
    assert meta["item_count"] is None
    assert datetime.datetime.fromisoformat(meta["timestamp"]).tzinfo is not None
    assert re.fullmatch(
        rf"{prefix}/subject=m2/.*/raw_{TOKEN}\.json", stored_json(Data, "raw", subject="m2")["path"]
    )
    shortened = long_subject[:50] + "_" + hashlib.md5(long_subject.encode()).hexdigest()[:8]
    long_meta = stored_json(Data, "raw", subject=long_subject)
    assert f"/subject={urllib.parse.quote(shortened, safe='')}/" in long_meta["path"]
    assert long_meta["path"].endswith(".dat") and long_meta["ext"] == ".dat"

    ref = (Data & {"subject": "m/1"}).fetch1("raw")
    assert isinstance(ref, dj.ObjectRef)
    assert ref.read() == b"bytes value" and ref.store == store
    assert str(ref) == meta["path"]
    assert repr(ref) == f"ObjectRef(file: {meta['path']}, size=11)"
    assert (Data & {"subject": long_subject}).fetch1("raw").read() == b"\x00\x01\x02"
    with pytest.raises(DataJointError, match=r"^Source path not found: "):
        Data.insert1({"subject": "x", "started": when, "raw": tmp_path / "missing"})
    with pytest.raises(TypeError, match=r"^<object> expects bytes or path, got int$"):
        Data.insert1({"subject": "x", "started": when, "raw": 5})


def test_object_partition_pattern_and_token_length(dj_schema, store):
    spec = store_spec(store, partition_pattern="{session}/{subject}", token_length=30)
    with dj.config.override(stores__parted=spec):
        Data = declare(
            dj_schema,
            "Session",
            "subject : varchar(16)\nsession : int32\ntrial : int32\n---\nclip : <object@parted>",
        )
        Data.insert1({"subject": "m1", "session": 4, "trial": 2, "clip": (".mp4", b"video")})
        meta = stored_json(Data, "clip", subject="m1")
        assert re.fullmatch(
            rf"_schema/session=4/subject=m1/{dj_schema.database}/{Data.table_name}/trial=2/"
            r"clip_[A-Za-z0-9_-]{16}\.mp4",
            meta["path"],
        )
        assert meta["store"] == "parted"
        assert Data.fetch1("clip").read() == b"video"


def test_object_folder_manifest_and_objectref(dj_schema, store, backend, tmp_path):
    folder = tmp_path / "session"
    (folder / "imaging" / "raw").mkdir(parents=True)
    (folder / "info.json").write_text('{"ok": true}')
    (folder / "imaging" / "frames.bin").write_bytes(bytes(range(100)))
    (folder / "imaging" / "raw" / "a.tif").write_bytes(b"tif")
    Data = declare(dj_schema, "Folder", "id : int32\n---\ndata : <object@>")
    Data.insert1({"id": 1, "data": folder})
    meta = stored_json(Data, "data", id=1)
    assert (meta["is_dir"], meta["item_count"], meta["size"], meta["ext"]) == (True, 3, 115, None)
    manifest = json.loads(backend.get_buffer(meta["path"] + ".manifest.json"))
    assert set(manifest) == {"files", "total_size", "item_count", "created"}
    assert sorted((f["path"], f["size"]) for f in manifest["files"]) == [
        ("imaging/frames.bin", 100),
        ("imaging/raw/a.tif", 3),
        ("info.json", 12),
    ]
    ref = Data.fetch1("data")
    assert repr(ref) == f"ObjectRef(folder: {meta['path']}, size=115)"
    assert ref.listdir() == ["imaging", "info.json"]
    assert ref.listdir("imaging") == ["frames.bin", "raw"]
    walked = {root: (dirs, files) for root, dirs, files in ref.walk()}
    assert walked[""] == (["imaging"], ["info.json"])
    assert walked["imaging"] == (["raw"], ["frames.bin"])
    assert walked["imaging/raw"] == ([], ["a.tif"])
    assert ref.open("imaging/raw/a.tif").read() == b"tif"
    assert ref.exists() and ref.exists("info.json") and not ref.exists("nope.txt")
    target = ref.download(tmp_path / "copy")
    assert (target / "imaging" / "frames.bin").read_bytes() == bytes(range(100))
    assert (target / "info.json").read_text() == '{"ok": true}'
    one = ref.download(tmp_path / "single", subpath="imaging/raw/a.tif")
    assert one == tmp_path / "single" and one.read_bytes() == b"tif"
    assert ref.fsmap["imaging/raw/a.tif"] == b"tif"
    assert ref.verify() is True
    with pytest.raises(DataJointError, match=r"Cannot read"):
        ref.read()

    from dj_storage.objectref import IntegrityError

    assert issubclass(IntegrityError, DataJointError)
    assert not issubclass(IntegrityError, dj.errors.IntegrityError)
    backend.put_buffer(b"short", meta["path"] + "/imaging/frames.bin")
    with pytest.raises(IntegrityError, match=r"frames.bin"):
        ref.verify()
    backend.remove(meta["path"] + "/info.json")
    with pytest.raises(IntegrityError, match=r"missing file info.json"):
        ref.verify()
    backend.remove(meta["path"] + ".manifest.json")
    assert ref.verify() is True  # no manifest: nothing to check against


def test_objectref_file_methods(dj_schema, store, backend, tmp_path):
    Data = declare(dj_schema, "OneFile", "id : int32\n---\ndata : <object@>")
    Data.insert1({"id": 7, "data": (".txt", b"hello object")})
    ref = Data.fetch1("data")
    meta = stored_json(Data, "data", id=7)
    spec = dj.config.get_store_spec(store)
    if spec["protocol"] == "file":
        assert ref.full_path == f"{spec['location']}/{meta['path']}"
    else:
        assert ref.full_path == f"s3://{spec['bucket']}/{spec['location']}/{meta['path']}"
    assert ref.fs is backend.fs
    with ref.open() as handle:
        assert handle.read() == b"hello object"
    assert ref.exists()
    downloaded = ref.download(tmp_path)
    assert downloaded == tmp_path / meta["path"].rsplit("/", 1)[1]
    assert downloaded.read_bytes() == b"hello object"
    assert ref.download(tmp_path / "named.txt").read_text() == "hello object"
    for call in (
        lambda: ref.open("x"),
        lambda: ref.exists("x"),
        lambda: ref.download(tmp_path, subpath="x"),
    ):
        with pytest.raises(DataJointError, match=r"^Cannot use subpath on a file object$"):
            call()
    for call in (ref.listdir, lambda: list(ref.walk())):
        with pytest.raises(DataJointError, match=r"not a folder"):
            call()
    assert ref.verify() is True
    backend.put_buffer(b"hello", meta["path"])
    from dj_storage.objectref import IntegrityError

    with pytest.raises(IntegrityError, match=r"Size mismatch"):
        ref.verify()
    backend.remove(meta["path"])
    with pytest.raises(IntegrityError, match=r"not found"):
        ref.verify()


def test_objectref_json_and_missing_backend():
    meta = {
        "path": "_schema/lab/t/id=1/data_abcdefgh.bin",
        "size": 4,
        "ext": ".bin",
        "is_dir": False,
        "timestamp": "2025-03-04T05:06:07Z",
        "store": "main",
    }
    ref = dj.ObjectRef.from_json(json.dumps(meta))
    assert ref.timestamp == datetime.datetime(2025, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)
    assert ref.to_json() == {
        "path": meta["path"],
        "size": 4,
        "hash": None,
        "ext": ".bin",
        "is_dir": False,
        "timestamp": "2025-03-04T05:06:07+00:00",
        "store": "main",
    }
    full = dj.ObjectRef.from_json({**meta, "url": "s3://b/x", "mime_type": "a/b", "item_count": 2})
    assert {"url", "mime_type", "item_count"} <= set(full.to_json())
    for call in (ref.read, ref.open, ref.exists, ref.verify, lambda: ref.fs, lambda: ref.fsmap):
        with pytest.raises(DataJointError, match=r"^ObjectRef has no storage backend configured"):
            call()
    with pytest.raises(DataJointError, match=r"missing size"):
        dj.ObjectRef.from_json({"path": "x"})
    assert dj.ObjectRef.from_json({"path": "x", "size": None}).timestamp is None


def test_objectref_hash_verification(store, backend):
    backend.put_buffer(b"content", "files/a.bin")
    ref = dj.ObjectRef.from_json(
        {"path": "files/a.bin", "size": 7, "hash": content_hash(b"content")}, backend=backend
    )
    assert ref.verify() is True
    sha = "sha256:" + hashlib.sha256(b"content").hexdigest()
    assert dj.ObjectRef.from_json({"path": "files/a.bin", "size": 7, "hash": sha}, backend).verify()
    from dj_storage.objectref import IntegrityError

    wrong = dj.ObjectRef.from_json(
        {"path": "files/a.bin", "size": None, "hash": content_hash(b"other")}, backend=backend
    )
    with pytest.raises(IntegrityError, match=r"Hash mismatch"):
        wrong.verify()


# ---- <npy@> --------------------------------------------------------------------------------------


def test_npy_round_trip_and_npyref(dj_schema, store, backend):
    Data = declare(dj_schema, "Arrays", "id : int32\n---\nwave : <npy@>")
    array = np.linspace(0, 1, 12).reshape(3, 4)
    Data.insert([{"id": 1, "wave": array}, {"id": 2, "wave": np.array(5, dtype=np.int16)}])
    meta = stored_json(Data, "wave", id=1)
    assert meta == {"path": meta["path"], "store": store, "dtype": "float64", "shape": [3, 4]}
    assert re.fullmatch(
        rf"_schema/{dj_schema.database}/{Data.table_name}/id=1/wave_{TOKEN}\.npy", meta["path"]
    )
    ref = (Data & {"id": 1}).fetch1("wave")
    assert isinstance(ref, dj.NpyRef)
    assert (ref.shape, ref.dtype, ref.ndim, ref.size, ref.nbytes) == ((3, 4), np.float64, 2, 12, 96)
    assert (ref.path, ref.store, len(ref)) == (meta["path"], store, 3)
    assert repr(ref) == str(ref) == "NpyRef(shape=(3, 4), dtype=float64, not loaded)"
    assert not ref.is_loaded
    assert np.array_equal(ref[1], array[1])
    assert ref.is_loaded and repr(ref).endswith("loaded)") and "not" not in repr(ref)
    assert ref.load() is ref.load()
    assert np.allclose(np.mean(ref), array.mean())
    assert np.asarray(ref, dtype=np.float32).dtype == np.float32
    scalar = (Data & {"id": 2}).fetch1("wave")
    with pytest.raises(TypeError, match=r"^len\(\) of 0-dimensional array$"):
        len(scalar)
    assert scalar.load() == 5
    with pytest.raises(DataJointError, match=r"^<npy> requires numpy\.ndarray, got list$"):
        Data.insert1({"id": 3, "wave": [1, 2]})
    with pytest.raises(DataJointError, match=r"^<npy> does not support object dtype arrays$"):
        Data.insert1({"id": 3, "wave": np.array([None, 1])})


def test_npy_mmap(dj_schema, store, backend, monkeypatch):
    Data = declare(dj_schema, "Mapped", "id : int32\n---\nwave : <npy@>")
    array = np.arange(1000, dtype=np.int32)
    Data.insert1({"id": 1, "wave": array})
    ref = Data.fetch1("wave")
    mapped = ref.load(mmap_mode="r")
    assert isinstance(mapped, np.memmap) and np.array_equal(mapped, array)
    assert not ref.is_loaded  # a memory map is not kept
    if backend.protocol == "file":
        assert Path(mapped.filename) == Path(backend.full_path(ref.path)).resolve()
    else:
        cache = Path(tempfile.gettempdir()) / "datajoint_mmap"
        copy = cache / f"{hashlib.md5(ref.path.encode()).hexdigest()[:12]}.npy"
        assert Path(mapped.filename) == copy.resolve()
        del mapped

        def no_download(relpath):
            raise AssertionError("the local copy is made once")

        monkeypatch.setattr(ref._backend, "get_buffer", no_download)
        assert ref.load(mmap_mode="r")[999] == 999
        copy.unlink()


# ---- <filepath@> ---------------------------------------------------------------------------------


def test_filepath_references(dj_schema, store, backend, monkeypatch):
    backend.put_buffer(b"acquired", "raw/s1/run.bin")
    backend.put_buffer(b"1", "raw/s1/frames/0001.tif")
    # a bare <filepath@> names the store of stores.filepath_default
    monkeypatch.setitem(dj.config.stores, "filepath_default", store)
    Data = declare(
        dj_schema,
        "Acquired",
        f"id : int32\n---\nfile : <filepath@>\nother = null : <filepath@{store}>",
    )
    Data.insert([{"id": 1, "file": "raw/s1/run.bin"}, {"id": 2, "file": Path("raw/s1/frames")}])
    meta = stored_json(Data, "file", id=1)
    assert set(meta) == {"path", "store", "size", "is_dir", "timestamp"}
    assert (meta["path"], meta["store"], meta["size"], meta["is_dir"]) == (
        "raw/s1/run.bin",
        store,
        8,
        False,
    )
    ref = (Data & {"id": 1}).fetch1("file")
    assert isinstance(ref, dj.ObjectRef) and ref.read() == b"acquired"
    folder = (Data & {"id": 2}).fetch1("file")
    assert folder.is_dir and folder.size is None and folder.listdir() == ["0001.tif"]
    assert backend.list_files("_schema") == {}  # nothing was copied
    with pytest.raises(FileNotFoundError) as info:
        Data.insert1({"id": 3, "file": "raw/absent.bin"})
    assert str(info.value) == f"File not found in store '{store}': raw/absent.bin"
    with pytest.raises(ValueError, match=r"^<filepath@> cannot use reserved section '_hash'"):
        Data.insert1({"id": 3, "file": "/_hash/x"})
    with pytest.raises(ValueError, match=r"^<filepath@> cannot use reserved section '_schema'"):
        Data.insert1({"id": 3, "other": "_schema/x", "file": "raw/s1/run.bin"})
    with pytest.raises(TypeError, match=r"^<filepath> expects a path string or Path, got int$"):
        Data.insert1({"id": 3, "file": 3})
    with pytest.raises(DataJointError, match=r"^<filepath> requires @ symbol"):
        declare(dj_schema, "NoStorePath", "id : int32\n---\nfile : <filepath>")


def test_bare_filepath_uses_filepath_default(dj_schema, store, backend, monkeypatch):
    """``<filepath@>`` selects ``stores.filepath_default`` (not ``stores.default``) for its
    section checks, the existence check, the recorded store and reading back."""
    Data = declare(dj_schema, "BareRef", "id : int32\n---\nfile : <filepath@>")
    backend.put_buffer(b"d", "raw/d.bin")
    with pytest.raises(DataJointError) as info:
        Data.insert1({"id": 1, "file": "raw/d.bin"})
    assert str(info.value) == (
        "stores.filepath_default is not configured. Set stores.filepath_default or specify "
        "store explicitly with <filepath@store>"
    )
    location = store_spec(store)["location"] + "/acq"
    if store_spec(store)["protocol"] == "file":
        Path(location).mkdir()
    with dj.config.override(stores__acq=store_spec(store, location=location)):
        monkeypatch.setitem(dj.config.stores, "filepath_default", "acq")
        acq = storage.get_backend("acq")
        acq.put_buffer(b"a", "raw/a.bin")
        with pytest.raises(FileNotFoundError, match=r"^File not found in store 'acq': raw/d\.bin$"):
            Data.insert1({"id": 1, "file": "raw/d.bin"})  # only in stores.default
        Data.insert1({"id": 1, "file": "raw/a.bin"})
        assert stored_json(Data, "file", id=1)["store"] == "acq"
        assert Data.fetch1("file").read() == b"a"


def test_filepath_prefix(dj_schema, store, backend):
    backend.put_buffer(b"x", "incoming/x.bin")
    backend.put_buffer(b"y", "acq/y.bin")
    with dj.config.override(stores__acq=store_spec(store, filepath_prefix="/acq")):
        Data = declare(dj_schema, "Prefixed", "id : int32\n---\nfile : <filepath@acq>")
        with pytest.raises(ValueError) as info:
            Data.insert1({"id": 1, "file": "incoming/x.bin"})
        assert str(info.value) == (
            "<filepath@> must use prefix '/acq' (filepath_prefix). Got path: incoming/x.bin"
        )
        Data.insert1({"id": 1, "file": "acq/y.bin"})
        assert Data.fetch1("file").read() == b"y"


# ---- a memory store -------------------------------------------------------------------------------


def test_memory_store_round_trip(dj_schema, memory_store, tmp_path):
    Data = declare(
        dj_schema,
        "InMemory",
        "id : int32\n---\nvalue : <blob@>\nfile : <object@>\nwave : <npy@>",
    )
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    Data.insert1({"id": 1, "value": [1, "two"], "file": folder, "wave": np.eye(3)})
    row = Data.fetch1()
    assert row["value"] == [1, "two"]
    assert row["file"].listdir() == ["a.txt"] and row["file"].verify()
    assert row["file"].open("a.txt").read() == b"a"
    assert np.array_equal(row["wave"], np.eye(3))
    assert stored_json(Data, "value", id=1)["store"] == memory_store


# ---- a third-party SchemaCodec -------------------------------------------------------------------


def test_third_party_schema_codec(dj_schema, store, backend, restore_codecs):
    class TextDoc(dj.SchemaCodec):
        """A str kept as a .txt object at a schema-addressed path."""

        name = "text_doc"

        def encode(self, value, *, key=None, store_name=None, context=None):
            schema, table, field, pk = self._extract_context(key, context)
            config = self._codec_config(key, context)
            path, _ = self._build_path(
                schema, table, field, pk, ext="txt", store_name=store_name, config=config
            )
            self._get_backend(store_name, config).put_buffer(value.encode("utf-8"), path)
            return {"path": path, "store": store_name}

        def decode(self, stored, *, key=None, context=None):
            backend = self._get_backend(stored["store"], self._codec_config(key, context))
            return backend.get_buffer(stored["path"]).decode("utf-8")

    Notes = declare(dj_schema, "Notes", "day : date\n---\nbody : <text_doc@>")
    Notes.insert1({"day": datetime.date(2025, 5, 6), "body": "Dear diary ✓"})
    assert Notes.fetch1("body") == "Dear diary ✓"
    meta = stored_json(Notes, "body", day=datetime.date(2025, 5, 6))
    assert re.fullmatch(
        rf"_schema/{dj_schema.database}/{Notes.table_name}/day=2025-05-06/body_{TOKEN}\.txt",
        meta["path"],
    )
    assert backend.get_buffer(meta["path"]) == "Dear diary ✓".encode()
    with pytest.raises(DataJointError, match=r"^<text_doc> requires @ \(store only\)"):
        declare(dj_schema, "NotesInTable", "id : int32\n---\nbody : <text_doc>")


# ---- a store written by DataJoint 2.3.5 ----------------------------------------------------------


def test_reads_metadata_written_by_datajoint_2_3_5(dj_schema, store, backend):
    """Rows and objects laid out exactly as 2.3.5 writes them read back here."""
    Data = declare(
        dj_schema,
        "Legacy",
        f"""
        id : int32
        ---
        value : <blob@{store}>
        raw = null : <object@{store}>
        wave = null : <npy@{store}>
        ref = null : <filepath@{store}>
        """,
    )
    packed = dj.get_codec("blob").encode({"legacy": [1, 2, 3]})
    digest = content_hash(packed)
    hash_path = f"_hash/{dj_schema.database}/{digest}"
    backend.put_buffer(packed, hash_path)
    object_path = f"_schema/{dj_schema.database}/{Data.table_name}/id=1/raw_Ab3-_x9Z.dat"
    backend.put_buffer(b"12345", object_path)
    npy_path = f"_schema/{dj_schema.database}/{Data.table_name}/id=1/wave_Qw12Er34.npy"
    array = np.arange(4, dtype="<f4").reshape(2, 2)
    with backend.open(npy_path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)
    backend.put_buffer(b"abc", "shared/raw.bin")
    insert_raw(
        Data,
        {
            "id": 1,
            "value": {
                "hash": digest,
                "path": hash_path,
                "schema": dj_schema.database,
                "store": store,
                "size": len(packed),
            },
            "raw": {
                "path": object_path,
                "store": store,
                "size": 5,
                "ext": ".dat",
                "is_dir": False,
                "item_count": None,
                "timestamp": "2025-06-01T12:00:00.123456+00:00",
            },
            "wave": {"path": npy_path, "store": None, "dtype": "float32", "shape": [2, 2]},
            "ref": {
                "path": "shared/raw.bin",
                "store": None,
                "size": 3,
                "is_dir": False,
                "timestamp": "2025-06-01T12:00:00+00:00",
            },
        },
    )
    row = Data.fetch1()
    assert row["value"] == {"legacy": [1, 2, 3]}
    assert row["raw"].read() == b"12345" and row["raw"].ext == ".dat"
    assert row["raw"].timestamp == datetime.datetime(2025, 6, 1, 12, 0, 0, 123456, datetime.UTC)
    assert row["raw"].verify()
    assert np.array_equal(row["wave"], array) and row["wave"].store is None
    assert row["ref"].read() == b"abc"
    # and what is written here has the keys 2.3.5 reads
    Data.insert1({"id": 2, "value": 1, "raw": b"x", "wave": array, "ref": "shared/raw.bin"})
    assert set(stored_json(Data, "value", id=2)) == {"hash", "path", "schema", "store", "size"}
    assert set(stored_json(Data, "raw", id=2)) == {
        "path",
        "store",
        "size",
        "ext",
        "is_dir",
        "item_count",
        "timestamp",
    }
    assert set(stored_json(Data, "wave", id=2)) == {"path", "store", "dtype", "shape"}
