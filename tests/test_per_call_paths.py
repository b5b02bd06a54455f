"""The cached per-call paths (issue 16 item 3, issue 12's per-key overhead) give what the general
paths give, on every backend."""

from __future__ import annotations

import math
import uuid

import numpy as np
import pytest

import datajoint as dj
from datajoint.errors import DataJointError, DuplicateError
from datajoint.fetch.reader import dict_maker


@pytest.fixture
def item(dj_schema):
    @dj_schema
    class Item(dj.Manual):
        definition = """
        item_id : int32
        ---
        weight = null : float64
        label = "none" : varchar(16)
        """

    return Item


def test_insert1_of_values_needing_encoding_takes_the_general_path(item):
    item.insert1({"item_id": 1, "weight": 2.5, "label": "plain"})
    item.insert1({"item_id": np.int64(2), "weight": np.float32(0.5), "label": "numpy"})
    item.insert1({"item_id": 3, "weight": math.nan, "label": "nan"})  # NaN is left to NULL
    item.insert1({"item_id": 4})
    rows = {r["item_id"]: r for r in item.to_dicts()}
    assert rows[1]["weight"] == 2.5 and rows[2]["weight"] == 0.5
    assert rows[3]["weight"] is None and rows[4]["label"] == "none"


def test_insert1_errors_keep_their_hints(item):
    item.insert1({"item_id": 1})
    with pytest.raises(DuplicateError, match="skip_duplicates=True"):
        item.insert1({"item_id": 1})
    item.insert1({"item_id": 1}, skip_duplicates=True)
    with pytest.raises(KeyError):
        item.insert1({"item_id": 2, "unknown": 1})
    item.insert1({"item_id": 2, "unknown": 1}, ignore_extra_fields=True)
    assert len(item()) == 2


def test_repeated_projection_and_fetch1_per_key(item):
    item.insert([{"item_id": i, "weight": i / 2} for i in range(5)])
    for i in range(5):
        assert (item & {"item_id": i}).fetch1("weight") == i / 2
        assert (item & {"item_id": i}).fetch1("KEY", "label") == ({"item_id": i}, "none")
    first, second = item.proj("weight"), item.proj("weight")
    assert first.heading is second.heading  # built once per heading and arguments
    assert first.heading.names == ["item_id", "weight"]
    with pytest.raises(DataJointError, match="not a valid data type"):
        item.proj(["weight"])  # an unhashable argument still gets the proper error


def test_dict_makers_of_one_shape_use_their_own_decoders():
    names = ["a", "b"]
    double = dict_maker(names, [None, lambda v: 2 * v])
    negate = dict_maker(names, [None, lambda v: -v])
    rows = [(1, 3), (2, None)]
    assert double(rows) == [{"a": 1, "b": 6}, {"a": 2, "b": None}]
    assert negate(rows) == [{"a": 1, "b": -3}, {"a": 2, "b": None}]
    assert dict_maker([], [])([(), ()]) == [{}, {}]


def test_the_compiled_already_made_check_agrees_with_restriction(item):
    from datajoint.populate.autopopulate import MadeCheck

    item.insert([{"item_id": 1}, {"item_id": 3}])
    check = MadeCheck(item())
    assert check.sql is not None  # a plain table: compiled once
    for key in ({"item_id": 1}, {"item_id": 2}, {"item_id": np.int32(3)}, {"item_id": 3}):
        assert check(key) == bool(item & key)
    assert check({"item_id": 1, "label": "other"}) == bool(item & {"item_id": 1, "label": "other"})
    assert MadeCheck(item & "item_id > 1").sql is None  # a restricted table: the general path


def test_the_already_made_check_is_rendered_once_per_table(item, monkeypatch):
    """``populate(key)`` called key by key: the check's statement comes from the heading's
    cache after the first call."""
    from datajoint.populate import autopopulate

    rendered = []
    render = autopopulate.key_statement
    monkeypatch.setattr(
        autopopulate, "key_statement", lambda *args: rendered.append(args) or render(*args)
    )
    first, second = autopopulate.MadeCheck(item()), autopopulate.MadeCheck(item())
    assert first.sql == second.sql is not None and len(rendered) == 1


@pytest.fixture
def pairs(dj_schema):
    @dj_schema
    class Pair(dj.Manual):
        definition = """
        subject : varchar(16)
        session : int16
        ---
        score = null : float64
        token = null : uuid
        raw = null : bytes
        notes = null : <blob>
        """

    return Pair


def _general_fetch1(query, *attrs, squeeze=False):
    """fetch1 through the general path (a restriction that the compiled path does not take)."""
    return (query & "TRUE").fetch1(*attrs, squeeze=squeeze)


def test_fetch1_by_key_gives_what_the_general_path_gives(pairs):
    token = uuid.uuid4()
    pairs.insert(
        [
            {"subject": "a", "session": 1, "score": 0.5, "token": token, "raw": b"\x00'\xff"},
            {"subject": "a", "session": 2, "score": None, "token": None, "raw": None},
            {"subject": "b", "session": 1, "score": 2.0, "token": None, "raw": b""},
        ]
    )
    pairs.update1({"subject": "a", "session": 1, "notes": [1, 2]})
    pairs.update1({"subject": "a", "session": 2, "notes": {"x": 1}})
    for key in (
        {"subject": "a", "session": 1},
        {"subject": "a", "session": np.int64(2)},  # a numpy value binds as the general path binds
        {"session": 1, "subject": "b"},  # the key's order is its own
    ):
        query = pairs & key
        for attrs in ((), ("score",), ("KEY",), ("token", "KEY", "raw"), ("score", "score")):
            assert query.fetch1(*attrs) == _general_fetch1(query, *attrs)
        general = _general_fetch1(query, "notes")
        assert repr(query.fetch1("notes")) == repr(general)  # a codec column: the general path
    chained = (pairs & {"subject": "a"}) & {"session": 1}
    assert chained.fetch1("score") == 0.5
    assert (pairs & {"token": token}).fetch1("KEY") == {"subject": "a", "session": 1}


def test_fetch1_by_key_keeps_its_errors(pairs):
    pairs.insert(
        [{"subject": "a", "session": s, "score": float(s), "notes": None} for s in (1, 2, 3)]
    )
    with pytest.raises(DataJointError, match="3 tuples found"):
        (pairs & {"subject": "a"}).fetch1("score")
    with pytest.raises(DataJointError, match="0 tuples found"):
        (pairs & {"subject": "z", "session": 1}).fetch1("score")
    with pytest.raises(DataJointError, match="exactly one tuple"):
        (pairs & {"subject": "z"}).fetch1()
    with pytest.raises(DataJointError):
        (pairs & {"subject": "a", "session": 1}).fetch1("no_such_attribute")


def test_fetch1_by_key_selects_only_what_it_returns(pairs, monkeypatch):
    pairs.insert1({"subject": "a", "session": 1, "score": 0.5, "notes": None})
    conn = pairs.connection
    sent = []
    query = conn.query

    def recording(sql, *args, **kwargs):
        sent.append(sql)
        return query(sql, *args, **kwargs)

    monkeypatch.setattr(conn, "query", recording)
    for session in (1, 1):
        assert (pairs & {"subject": "a", "session": session}).fetch1("score") == 0.5
    assert len(sent) == 2 and sent[0] == sent[1]  # one statement text, values bound
    quote = conn.dialect.quote
    assert sent[0].startswith(f"SELECT {quote('score')} FROM")
    assert "'a'" not in sent[0]
