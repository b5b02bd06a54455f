"""``dj gc SCHEMA... [--store S] [--delete] [--grace SECONDS]`` in-process on a SQLite file and a
file store: a dry run by default, deletion with ``--delete``, the grace period, and errors."""

from __future__ import annotations

import pytest

import datajoint as dj
from datajoint.connection import reset_singleton
from dj_cli.main import cli


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        cli(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """Schema ``lab`` on a fresh SQLite file, with a file store ``main`` as the default store;
    one row refers to a stored blob and one blob is orphaned."""
    monkeypatch.chdir(tmp_path)
    location = tmp_path / "store"
    location.mkdir()
    reset_singleton()
    stores = {"default": "main", "main": {"protocol": "file", "location": str(location)}}
    with dj.config.override(
        database__backend="sqlite",
        database__sqlite_file=str(tmp_path / "cli.sqlite3"),
        stores=stores,
    ):
        schema = dj.Schema("lab")

        @schema
        class Recording(dj.Manual):
            definition = """
            recording : int32
            ---
            signal : <blob@>
            """

        Recording.insert([{"recording": 1, "signal": [1, 2, 3]}, {"recording": 2, "signal": "x"}])
        (Recording & {"recording": 2}).delete(prompt=False)
        yield location
        reset_singleton()


def hash_files(location) -> list[str]:
    return sorted(p.name for p in (location / "_hash" / "lab").rglob("*") if p.is_file())


def test_dry_run_by_default(capsys, lab):
    before = hash_files(lab)
    code, out, err = run(capsys, "gc", "lab", "--grace", "0")
    assert code == 0, err
    assert "hash-addressed: 2 stored, 1 referenced, 1 orphaned" in out
    assert "would delete: _hash/lab/" in out
    assert out.rstrip().endswith("dry run: nothing was deleted")
    assert hash_files(lab) == before


def test_delete_removes_orphans_older_than_the_grace_period(capsys, lab):
    code, out, err = run(capsys, "gc", "lab", "--delete")
    assert code == 0, err
    assert "1 unreferenced but younger than the grace period" in out
    assert "kept (recent): _hash/lab/" in out
    assert len(hash_files(lab)) == 2

    code, out, err = run(capsys, "gc", "lab", "--store", "main", "--delete", "--grace", "0")
    assert code == 0, err
    assert "deleted 1 object(s)" in out
    assert len(hash_files(lab)) == 1
    assert dj.Schema("lab")["Recording"].fetch1("signal") == [1, 2, 3]


def test_errors_are_one_line_and_status_1(capsys, lab):
    code, _out, err = run(capsys, "gc", "nosuch")
    assert code == 1
    assert err.startswith("dj gc: error: Schema `nosuch` does not exist")
    code, _out, err = run(capsys, "gc", "lab", "--store", "elsewhere")
    assert code == 1
    assert "Storage 'elsewhere' is requested but not configured in stores" in err
    with pytest.raises(SystemExit) as info:
        cli(["gc", "lab", "--grace", "-5"])
    assert info.value.code == 2
    assert "the grace period must not be negative" in capsys.readouterr().err
