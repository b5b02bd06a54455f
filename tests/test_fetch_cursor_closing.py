"""A fetch whose decoding fails part-way closes its cursor at once, on every backend.

On MySQL a result read through a server-side cursor occupies the session until the cursor is
closed: a cursor left open by a failed fetch (kept alive by the exception's traceback) would make
the next query on the connection fail.
"""

from __future__ import annotations

import pytest

import datajoint as dj

ROWS = 1500  # more than one probe: large results are read through a streaming cursor
FAILING_ROW = 1200


class FailsAtRow(dj.Codec):
    """Stores an int; decoding the value of :data:`FAILING_ROW` raises."""

    name = "fails_at_row"

    def get_dtype(self, is_store: bool) -> str:
        return "int32"

    def encode(self, value, *, key=None, store_name=None):
        return value

    def decode(self, stored, *, key=None):
        if stored == FAILING_ROW:
            raise ValueError(f"cannot decode {stored}")
        return stored


@pytest.fixture
def table(dj_schema):
    @dj_schema
    class Numbers(dj.Manual):
        definition = """
        n : int32
        ---
        value : <fails_at_row>
        """

    Numbers.insert({"n": i, "value": i} for i in range(ROWS))
    return Numbers


@pytest.mark.parametrize(
    "fetch",
    [
        lambda t: t.to_dicts(),
        lambda t: t.to_arrays("n", "value"),
        lambda t: list(t),
        lambda t: t.fetch1() if len(t) == 1 else (t & {"n": FAILING_ROW}).fetch1(),
    ],
    ids=["to_dicts", "to_arrays", "iterate", "fetch1"],
)
def test_a_failed_decode_leaves_the_connection_usable(table, fetch):
    with pytest.raises(ValueError, match="cannot decode 1200") as info:
        fetch(table)
    assert info.value is not None  # the traceback (and its frames) stay alive here
    assert len(table()) == ROWS
    assert (table & {"n": 7}).fetch1("value") == 7
