"""The query algebra on every backend: every operator's rows, heading, key and errors (SPEC §6)."""

from __future__ import annotations

import pytest

import datajoint as dj
from datajoint.errors import DataJointError


@pytest.fixture
def lab(dj_schema):
    schema = dj_schema

    @schema
    class Subject(dj.Manual):
        definition = """
        subject_id : int32
        ---
        species : varchar(20)
        weight = null : float64
        """

    @schema
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : int16
        ---
        operator : varchar(40)
        """

    @schema
    class Trial(dj.Manual):
        definition = """
        -> Session
        trial : int32
        ---
        outcome : enum('hit','miss')
        rt = null : float64
        """

    @schema
    class Stim(dj.Lookup):
        definition = """
        stim : varchar(10)
        ---
        intensity : int32
        """
        contents = [{"stim": "low", "intensity": 1}, {"stim": "high", "intensity": 5}]

    @schema
    class Note(dj.Manual):
        definition = """
        note_id : int32
        ---
        species : varchar(20)
        """

    Subject.insert(
        [
            {"subject_id": 1, "species": "mouse", "weight": 20.5},
            {"subject_id": 2, "species": "mouse", "weight": None},
            {"subject_id": 3, "species": "rat", "weight": 300.0},
        ]
    )
    Session.insert(
        [
            {"subject_id": 1, "session": 1, "operator": "ann"},
            {"subject_id": 1, "session": 2, "operator": "bob"},
            {"subject_id": 2, "session": 1, "operator": "O'Neil \\ 100% ☃"},
        ]
    )
    Trial.insert(
        {
            "subject_id": s,
            "session": n,
            "trial": t,
            "outcome": "hit" if t % 2 else "miss",
            "rt": t / 10 if t != 3 else None,
        }
        for s, n in [(1, 1), (1, 2), (2, 1)]
        for t in range(1, 5)
    )
    Note.insert1({"note_id": 1, "species": "mouse"})
    return type("Lab", (), {k: v for k, v in locals().items() if isinstance(v, type)})


def keys(q, *names):
    return sorted(tuple(r[n] for n in names) for r in q.to_dicts())


# ---- restriction ---------------------------------------------------------------------------
def test_restriction_forms(lab):
    S, T = lab.Subject, lab.Trial
    assert len(S & {"weight": None}) == 1
    assert len(S & {"species": "mouse", "unknown_key": 5}) == 2
    assert len(S & {"unknown_key": 5}) == 3  # no key matches: no restriction
    assert len(S & [{"subject_id": 1}, {"subject_id": 3}]) == 2
    assert len(S & dj.AndList([{"species": "mouse"}, "weight > 10"])) == 1
    assert len(S - [{"subject_id": 1}, {"subject_id": 3}]) == 1
    assert len(S & dj.Not({"species": "mouse"})) == 1
    assert len(S & dj.Not(dj.Not({"species": "mouse"}))) == 2
    assert len(S & True) == 3 and len(S & False) == 0
    assert len(S & []) == 0 and len(S - []) == 3
    assert len(S & dj.AndList([])) == 3 and len(S - dj.AndList([])) == 0
    assert len(S & lab.Session) == 2 and len(S - lab.Session) == 1
    assert len(S & (lab.Session & {"operator": "bob"})) == 1
    assert len(S & dj.U("species")) == 3
    assert len(T & "rt is null") == 3
    assert len(T & {"outcome": "hit"} & "trial > 1") == 3
    assert isinstance(-S, dj.Not)
    assert len(S & (lab.Stim & "intensity = 99")) == 0  # no common attribute, empty argument
    assert len(S & lab.Stim) == 3 and len(S - lab.Stim) == 0


def test_restriction_values_are_bound(lab):
    nasty = "O'Neil \\ 100% ☃"
    assert (lab.Session & {"operator": nasty}).fetch1("operator") == nasty
    for value in ["x' OR '1'='1", "%", "\\", "a" * 5000, "ünï", "%s", "?"]:
        assert len(lab.Session & {"operator": value}) == 0
    sql = (lab.Session & {"operator": "x' OR '1'='1"}).make_sql()
    assert "x' OR" not in sql


def test_invalid_restrictions(lab):
    with pytest.raises(DataJointError, match="Invalid restriction type None"):
        lab.Subject & None
    with pytest.raises(DataJointError, match=r"Invalid restriction type Top\(limit=1"):
        lab.Subject & [dj.Top()]
    with pytest.raises(DataJointError, match="Attribute `nope` is not found in query"):
        lab.Subject & "nope = 1"
    with pytest.raises(DataJointError, match="The \\^ operator has been removed"):
        lab.Subject ^ lab.Session
    with pytest.raises(DataJointError, match="The @ operator has been removed"):
        lab.Subject @ lab.Session


# ---- projection ----------------------------------------------------------------------------
def test_projection(lab):
    S = lab.Subject
    assert S.proj().heading.names == ["subject_id"]
    assert S.proj(...).heading.names == ["subject_id", "species", "weight"]
    assert S.proj(..., "-weight").heading.names == ["subject_id", "species"]
    renamed = S.proj(sid="subject_id", kind="species")
    assert renamed.primary_key == ["sid"]
    assert renamed.heading.names == ["sid", "kind"]
    assert keys(renamed & {"sid": 2}, "sid", "kind") == [(2, "mouse")]
    dup = S.proj("species", copy="(species)")
    assert dup.heading.names == ["subject_id", "species", "copy"]
    pk_dup = S.proj(sid="(subject_id)")
    assert pk_dup.primary_key == ["subject_id", "sid"]
    computed = S.proj(twice="subject_id * 2")
    assert keys(computed, "subject_id", "twice") == [(1, 2), (2, 4), (3, 6)]
    assert computed.primary_key == ["subject_id"]
    assert len(computed & "twice > 2") == 2
    assert S.proj(x="no_such_attribute").heading.names == ["subject_id"]


def test_projection_errors(lab):
    S = lab.Subject
    with pytest.raises(DataJointError, match="Cannot exclude primary key attribute"):
        S.proj("-subject_id")
    with pytest.raises(DataJointError, match="Attribute `nope` not found"):
        S.proj("nope")
    with pytest.raises(DataJointError, match="already exists"):
        S.proj("species", species="weight")
    with pytest.raises(DataJointError, match="is not a valid data type"):
        S.proj(3)


# ---- join ----------------------------------------------------------------------------------
def test_join_primary_key_laws(lab):
    S, Se, St = lab.Subject, lab.Session, lab.Stim
    a_to_b = Se * S  # Session determines Subject
    assert a_to_b.primary_key == ["subject_id", "session"]
    assert a_to_b.heading.names == ["subject_id", "session", "operator", "species", "weight"]
    b_to_a = S * Se
    assert b_to_a.primary_key == ["subject_id", "session"]
    assert b_to_a.heading.names == ["subject_id", "session", "operator", "species", "weight"]
    neither = S * St
    assert neither.primary_key == ["subject_id", "stim"]
    assert neither.heading.names == ["subject_id", "stim", "species", "weight", "intensity"]
    assert len(neither) == 6
    assert len(Se * S) == 3
    assert len(lab.Trial * S & {"species": "mouse"}) == 12


def test_left_join_and_extend(lab):
    S, Se = lab.Subject, lab.Session
    extended = Se.extend(S)
    assert len(extended) == 3
    with pytest.raises(DataJointError, match="Left join requires the left operand to determine"):
        S.join(Se, left=True)
    both = S.join(Se, left=True, allow_nullable_pk=True)
    assert both.primary_key == ["subject_id", "session"]
    assert len(both) == 4  # subject 3 has no session and appears once with a NULL session


def test_join_argument_errors(lab):
    with pytest.raises(DataJointError, match="no longer supported"):
        lab.Subject * dj.U("species")
    with pytest.raises(DataJointError, match="The argument of join must be a QueryExpression"):
        lab.Subject * 3
    with pytest.raises(DataJointError, match=r"dj.U\(...\) \* table is no longer supported"):
        dj.U("species") * lab.Subject
    with pytest.raises(DataJointError, match="infinite set"):
        dj.U("species") - lab.Subject


def test_semantic_matching(lab):
    with pytest.raises(DataJointError, match="lineage missing"):
        lab.Subject * lab.Note
    with pytest.raises(DataJointError, match="lineage missing"):
        lab.Subject & lab.Note
    assert len(lab.Subject.join(lab.Note, semantic_check=False)) == 2
    assert len(lab.Subject.restrict(lab.Note, semantic_check=False)) == 2
    assert len(lab.Subject * lab.Note.proj(kind="species")) == 3
    other = lab.Session.proj(subject_id="session", s="subject_id")
    with pytest.raises(DataJointError, match="different lineages"):
        lab.Subject * other


# ---- aggregation ---------------------------------------------------------------------------
def test_aggregation(lab):
    S, Se, T = lab.Subject, lab.Session, lab.Trial
    counts = S.aggr(Se, n="count(session)")
    assert counts.primary_key == ["subject_id"]
    assert keys(counts, "subject_id", "n") == [(1, 2), (2, 1), (3, 0)]
    star = S.aggr(Se, n="count(*)")
    assert keys(star, "subject_id", "n") == [(1, 2), (2, 1), (3, 1)]
    inner = S.aggr(Se, n="count(*)", exclude_nonmatching=True)
    assert keys(inner, "subject_id", "n") == [(1, 2), (2, 1)]
    with_all = S.aggr(Se, ..., n="count(session)")
    assert with_all.heading.names == ["subject_id", "species", "weight", "n"]
    assert len(with_all & "n > 1") == 1
    assert keys(with_all & "n > 1", "species") == [("mouse",)]
    per_session = Se.aggr(T, timed="count(rt)", slowest="max(rt)")
    assert per_session.primary_key == ["subject_id", "session"]
    assert len(per_session) == 3
    joined = per_session * S
    assert joined.primary_key == ["subject_id", "session"] and len(joined) == 3
    with pytest.raises(DataJointError, match="Missing attributes"):
        Se.aggr(S, n="count(*)")


# ---- union ---------------------------------------------------------------------------------
def test_union(lab):
    S = lab.Subject
    a, b = S & {"subject_id": 1}, S & "subject_id > 1"
    both = a.proj() + b.proj()
    assert both.primary_key == ["subject_id"] and len(both) == 3
    outer = a.proj("species") + b.proj(mass="weight")
    assert outer.heading.names == ["subject_id", "species", "mass"]
    assert keys(outer, "subject_id", "species") == [(1, "mouse"), (2, None), (3, None)]
    assert len(outer & {"subject_id": 3}) == 1
    with pytest.raises(DataJointError, match="same primary key"):
        S + lab.Session
    with pytest.raises(DataJointError, match="must not share any secondary"):
        a + b
    with pytest.raises(DataJointError, match="can only be unioned"):
        S + 1


# ---- universal sets ------------------------------------------------------------------------
def test_universal_set(lab):
    S, Se = lab.Subject, lab.Session
    species = dj.U("species") & S
    assert species.primary_key == ["species"] and len(species) == 2
    per_species = dj.U("species").aggr(S, n="count(*)", heaviest="max(weight)")
    assert keys(per_species, "species", "n") == [("mouse", 2), ("rat", 1)]
    total = dj.U().aggr(Se, n="count(*)")
    assert total.primary_key == [] and total.fetch1("n") == 3
    with pytest.raises(DataJointError, match="exclude_nonmatching=False"):
        dj.U("species").aggr(S, exclude_nonmatching=False, n="count(*)")
    with pytest.raises(DataJointError, match="not found in the group expression"):
        dj.U("nope").aggr(S, n="count(*)")
    with pytest.raises(DataJointError, match="Set U can only be restricted"):
        dj.U("species") & {"species": "rat"}
    with pytest.raises(KeyError):
        dj.U("nope") & S


# ---- top -----------------------------------------------------------------------------------
def test_top(lab):
    T = lab.Trial
    first = T & dj.Top()
    assert len(first) == 1 and first.fetch1("trial") == 1
    three = (T & "rt is not null") & dj.Top(3, "rt DESC")  # NULLs sort differently per backend
    assert [r["trial"] for r in three.to_dicts()] in ([4, 4, 4], [4, 4, 2])
    page = T & dj.Top(2, "KEY", offset=2)
    assert keys(page, "subject_id", "session", "trial") == [(1, 1, 3), (1, 1, 4)]
    merged = (T & dj.Top(5, "KEY")) & dj.Top(2, None, offset=1)
    assert len(merged) == 2
    restricted_after = (T & dj.Top(4, "KEY")) & {"outcome": "hit"}
    assert len(restricted_after) == 2
    assert bool(T & dj.Top(0)) is True or len(T & dj.Top(0)) == 0
    with pytest.raises(TypeError, match="Top limit must be an integer"):
        dj.Top("3")
    with pytest.raises(TypeError, match="order_by attributes must all be strings"):
        dj.Top(1, [1])
    with pytest.raises(TypeError, match="offset argument must be an integer"):
        dj.Top(1, "KEY", "x")


# ---- other ---------------------------------------------------------------------------------
def test_len_bool_in_iter(lab):
    S = lab.Subject
    assert len(S) == 3 and bool(S) and not bool(S & False)
    assert {"subject_id": 2} in S and {"subject_id": 9} not in S
    assert [r["subject_id"] for r in S] == [1, 2, 3] or len(list(S)) == 3
    assert "SELECT" in (S & {"subject_id": 1}).make_sql().upper()


def test_expressions_from_different_connections(lab, dj_backend, tmp_path):
    from datajoint.testing.fixtures import make_connection, throwaway_schema

    other_conn = make_connection(dj_backend, tmp_path / "other.sqlite3")
    try:
        with throwaway_schema(other_conn) as other:

            @other
            class Elsewhere(dj.Manual):
                definition = "subject_id : int32"

            with pytest.raises(DataJointError, match="different connections"):
                lab.Subject * Elsewhere
            with pytest.raises(DataJointError, match="different connections"):
                lab.Subject.proj() + Elsewhere
    finally:
        other_conn.close()


def test_json_paths_in_restrictions_and_projections(dj_schema):
    @dj_schema
    class Doc(dj.Manual):
        definition = """
        doc_id : int32
        ---
        body : json
        """

    Doc.insert(
        [
            {
                "doc_id": 1,
                "body": {"name": "alpha", "size": 3, "tags": ["x", "y"], "meta": {"k": 1}},
            },
            {"doc_id": 2, "body": {"name": "beta", "size": 10, "tags": ["z"], "meta": {"k": 2}}},
        ]
    )
    assert (Doc & {"body.name": "beta"}).fetch1("doc_id") == 2
    assert (Doc & {"body.meta.k": 1}).fetch1("doc_id") == 1
    assert (Doc & {"body.tags[0]": "z"}).fetch1("doc_id") == 2
    assert (Doc & {"body.size:unsigned": 10}).fetch1("doc_id") == 2
    assert len(Doc & {"body.missing": None}) == 2
    projected = Doc.proj(label="body.name")
    assert keys(projected, "doc_id", "label") == [(1, "alpha"), (2, "beta")]
    assert len(projected & {"label": "alpha"}) == 1


def test_string_aggregation_is_portable(lab):
    per_subject = lab.Subject.aggr(
        lab.Session, ops="GROUP_CONCAT(operator ORDER BY operator SEPARATOR ';')"
    )
    if lab.Subject.connection.backend.name != "sqlite":  # SQLite < 3.44 has no ORDER BY here
        assert (per_subject & {"subject_id": 1}).fetch1("ops") == "ann;bob"
    plain = lab.Subject.aggr(lab.Session, ops="GROUP_CONCAT(operator)", exclude_nonmatching=True)
    assert sorted((plain & {"subject_id": 1}).fetch1("ops").split(",")) == ["ann", "bob"]
    agg = lab.Subject.aggr(lab.Session, ops="STRING_AGG(operator, '|')", exclude_nonmatching=True)
    assert sorted((agg & {"subject_id": 1}).fetch1("ops").split("|")) == ["ann", "bob"]


def test_translation_of_string_aggregation():
    from datajoint.algebra.sql_functions import translate_string_aggregation as t

    assert t("GROUP_CONCAT(a)", "postgresql") == "STRING_AGG((a)::text, ',')"
    assert (
        t("group_concat(DISTINCT a ORDER BY a DESC SEPARATOR '-')", "postgresql")
        == "STRING_AGG(DISTINCT (a)::text, '-' ORDER BY a DESC)"
    )
    assert t("STRING_AGG(a, ';')", "mysql") == "GROUP_CONCAT(a SEPARATOR ';')"
    assert t("x + GROUP_CONCAT(f(a, b))", "mysql") == "x + GROUP_CONCAT(f(a, b))"
    assert t("STRING_AGG(a, ';')", "sqlite") == "group_concat(a, ';')"
    assert t("GROUP_CONCAT(a SEPARATOR ';')", "sqlite") == "group_concat(a, ';')"


def test_restriction_by_records_and_frames(lab):
    import numpy as np
    import pandas as pd

    S = lab.Subject
    records = np.array([(1, "mouse"), (3, "rat")], dtype=[("subject_id", "i4"), ("species", "U10")])
    assert len(S & records[0]) == 1
    assert len(S & records) == 2
    frame = pd.DataFrame({"subject_id": [2, 3]}).set_index("subject_id")
    assert keys(S & frame, "subject_id") == [(2,), (3,)]
    assert len(S - frame) == 1


def test_more_projection_and_aggregation_rules(lab):
    S, Se = lab.Subject, lab.Session
    # `...` adds the secondary attributes that are not the source of a rename
    renamed = S.proj(..., kind="species")
    assert renamed.heading.names == ["subject_id", "kind", "weight"]
    kept = S.proj(..., "species", kind="species")
    assert kept.heading.names == ["subject_id", "species", "kind", "weight"]
    # `...` in aggr expands to the grouping side's secondary attributes only
    agg = S.aggr(Se, ..., last="max(session)")
    assert agg.heading.names == ["subject_id", "species", "weight", "last"]
    assert "operator" not in agg.heading.names
    # a restricted aggregation, projected and joined again
    busy = (S.aggr(Se, n="count(session)") & "n >= 1").proj("n")
    assert keys(busy * Se, "subject_id", "session", "n") == [(1, 1, 2), (1, 2, 2), (2, 1, 1)]


def test_union_is_restricted_projected_and_joined(lab):
    S = lab.Subject
    u = (S & {"subject_id": 1}).proj("species") + (S & {"subject_id": 2}).proj(w="weight")
    assert len(u) == 2 and keys(u & {"subject_id": 1}, "species") == [("mouse",)]
    assert u.proj().heading.names == ["subject_id"]
    assert len(lab.Session * u) == 3


def test_top_ordering_forms(lab):
    T = lab.Trial
    last = T & dj.Top(1, "KEY DESC")
    assert keys(last, "subject_id", "session", "trial") == [(2, 1, 4)]
    skipped = T & dj.Top(None, "KEY", offset=10)
    assert len(skipped) == 2
    assert len(T & dj.Top(limit=None)) == len(T)
    chained = (T & dj.Top(6, "trial DESC")) & dj.Top(2, "KEY")
    assert len(chained) == 2


def test_self_join_and_self_aggregation(lab):
    S = lab.Subject
    assert len(S.proj() * S) == 3
    assert len((S.proj() * S).proj(..., other="subject_id")) == 3
    assert keys(S.proj().aggr(S.proj(), n="count(*)"), "subject_id", "n") == [
        (1, 1),
        (2, 1),
        (3, 1),
    ]
    assert len(S.proj() * (lab.Session * lab.Stim)) == 6


def test_order_by_items(lab):
    T = lab.Trial & "rt is not null"
    rows = T.to_dicts(order_by="outcome DESC, trial")
    assert [(r["outcome"], r["trial"]) for r in rows][:2] == [("miss", 2), ("miss", 2)]
    with pytest.raises(DataJointError, match="Invalid order_by item"):
        T.to_dicts(order_by="rt * 2 DESC")


def test_projection_to_an_empty_heading(lab):
    total = dj.U().aggr(lab.Session, n="count(*)")
    assert total.proj().to_dicts() == [{}]
    assert len(total.proj()) == 1
