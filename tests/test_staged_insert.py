"""``Table.staged_insert1`` (SPEC §4.5) on every backend, on file and S3 stores: a zarr array
written in place through ``st.store(field)`` and read back through the fetched ObjectRef, files
through ``st.open``, every error, and cleanup of the staged objects on any exception."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

import datajoint as dj
from datajoint.errors import DataJointError, DuplicateError
from datajoint.storage import get_backend


def declare(schema):
    @schema
    class Recording(dj.Manual):
        definition = """
        recording_id : int32
        ---
        traces = null : <object@>
        raw = null : <object@>
        note = "" : varchar(64)
        settings = null : <blob>
        """

    return Recording


def stored_files(store: str, schema) -> dict[str, int]:
    """Every file the store holds under this schema's schema-addressed section."""
    spec = dj.config.get_store_spec(store)
    return get_backend(store).list_files(f"{spec['schema_prefix']}/{schema.database}")


def test_zarr_array_written_in_place_reads_back_through_the_object_ref(dj_schema, store):
    Recording = declare(dj_schema)
    data = np.arange(600, dtype="float32").reshape(20, 30)
    with Recording.staged_insert1 as st:
        st.rec["recording_id"] = 7
        st.rec["note"] = "zarr"
        array = zarr.open_array(
            st.store("traces", ext=".zarr"),
            mode="w",
            shape=data.shape,
            dtype=data.dtype,
            chunks=(10, 30),
        )
        array[:] = data
    ref = (Recording & {"recording_id": 7}).fetch1("traces")
    assert isinstance(ref, dj.ObjectRef)
    # the table segment of the path is the class name, not the SQL table name
    prefix = f"_schema/{dj_schema.database}/Recording/recording_id=7/traces_"
    assert ref.path.startswith(prefix) and ref.path.endswith(".zarr"), ref.path
    assert ref.is_dir and ref.ext == ".zarr" and ref.store == store
    files = stored_files(store, dj_schema)
    inside = {p: s for p, s in files.items() if p.startswith(ref.path + "/")}
    assert ref.item_count == len(inside) >= 3  # metadata and two chunks
    assert ref.size == sum(inside.values())
    assert ref.verify()
    back = zarr.open_array(ref.fsmap, mode="r")
    np.testing.assert_array_equal(back[:], data)
    assert (Recording & {"recording_id": 7}).fetch1("note") == "zarr"


def test_open_writes_one_file_with_metadata_from_what_was_written(dj_schema, store):
    Recording = declare(dj_schema)
    payload = b"\x00\x01raw samples" * 100
    with Recording.staged_insert1 as st:
        st.rec.update(recording_id=1)
        with st.open("raw", ext="bin") as f:
            f.write(payload)
    ref = (Recording & {"recording_id": 1}).fetch1("raw")
    assert not ref.is_dir and ref.ext == ".bin" and ref.size == len(payload)
    assert ref.path.endswith(".bin") and "/Recording/recording_id=1/raw_" in ref.path
    assert ref.read() == payload
    assert ref.timestamp is not None
    # a staged attribute left unwritten stays NULL; st.fs is the default store's filesystem
    assert (Recording & {"recording_id": 1}).fetch1("traces") is None


def test_fs_is_the_default_store_filesystem(dj_schema, store):
    Recording = declare(dj_schema)
    with pytest.raises(RuntimeError), Recording.staged_insert1 as st:
        assert st.fs is get_backend(store).fs
        raise RuntimeError("leave without inserting")
    assert len(Recording()) == 0


def test_every_error_of_staging(dj_schema, store):
    Recording = declare(dj_schema)
    cases = [
        ("nope", "store", "Attribute 'nope' not found in table heading"),
        ("note", "open", "Attribute 'note' is not an <object> type"),
        ("settings", "store", "Attribute 'settings' is not an <object> type"),
    ]
    for field, method, message in cases:
        with pytest.raises(DataJointError, match=message), Recording.staged_insert1 as st:
            st.rec["recording_id"] = 1
            getattr(st, method)(field)
    with pytest.raises(DataJointError) as info, Recording.staged_insert1 as st:
        st.store("traces")
    assert str(info.value) == (
        "Primary key values must be set in staged.rec before calling store() or open(). "
        "Missing: {'recording_id'}"
    )
    written = "Nothing was written for staged attribute 'traces'"
    with pytest.raises(DataJointError, match=written), Recording.staged_insert1 as st:
        st.rec["recording_id"] = 1
        with st.open("raw") as f:
            f.write(b"x")  # written: fine ...
        st.store("traces")  # ... but nothing is written here
    assert len(Recording()) == 0
    assert stored_files(store, dj_schema) == {}


def test_unconfigured_store_is_refused(dj_schema, store):
    Recording = declare(dj_schema)
    with (
        dj.config.override(stores={}),
        pytest.raises(DataJointError) as info,
        Recording.staged_insert1 as st,
    ):
        st.rec["recording_id"] = 1
        st.store("traces")
    assert str(info.value) == (
        "Storage is not configured. Set stores.default and stores.<name> settings in "
        "datajoint.json."
    )


def test_an_exception_in_the_block_removes_the_staged_objects(dj_schema, store):
    Recording = declare(dj_schema)
    with pytest.raises(ValueError, match="acquisition failed"), Recording.staged_insert1 as st:
        st.rec["recording_id"] = 3
        array = zarr.open_array(st.store("traces"), mode="w", shape=(4,), dtype="i4")
        array[:] = [1, 2, 3, 4]
        with st.open("raw", ".bin") as f:
            f.write(b"partial")
        assert len(stored_files(store, dj_schema)) >= 3
        raise ValueError("acquisition failed")
    assert stored_files(store, dj_schema) == {}
    assert len(Recording()) == 0


def test_an_exception_from_the_insert_removes_the_staged_objects(dj_schema, store):
    Recording = declare(dj_schema)
    with Recording.staged_insert1 as st:
        st.rec["recording_id"] = 5
        with st.open("raw") as f:
            f.write(b"first")
    (kept,) = stored_files(store, dj_schema)
    with pytest.raises(DuplicateError), Recording.staged_insert1 as st:
        st.rec["recording_id"] = 5  # the row exists: the insert fails
        with st.open("raw") as f:
            f.write(b"second")
    assert list(stored_files(store, dj_schema)) == [kept]
    assert (Recording & {"recording_id": 5}).fetch1("raw").read() == b"first"


def test_a_rolled_back_transaction_removes_the_staged_objects(dj_schema, store):
    Recording = declare(dj_schema)
    connection = dj_schema.connection
    with pytest.raises(RuntimeError, match="abandon"), connection.transaction:
        with Recording.staged_insert1 as st:
            st.rec["recording_id"] = 8
            with st.open("raw") as f:
                f.write(b"kept only if committed")
        assert len(stored_files(store, dj_schema)) == 1
        raise RuntimeError("abandon")
    assert stored_files(store, dj_schema) == {}
    assert len(Recording()) == 0
    with connection.transaction, Recording.staged_insert1 as st:
        st.rec["recording_id"] = 9
        with st.open("raw") as f:
            f.write(b"committed")
    assert (Recording & {"recording_id": 9}).fetch1("raw").read() == b"committed"
