"""dj.Diagram and connection.dependencies on every backend (SPEC §10), the part-of-part cascade
upward (part_integrity="cascade") and ``self.upstream`` inside make (SPEC §9)."""

# The schema decorator resolves ``-> Source`` in a definition from the caller's local variables,
# so the tests bind names they never use otherwise.
from __future__ import annotations

import sys
import types

import networkx as nx
import pytest

import datajoint as dj
from datajoint.errors import DataJointError
from datajoint.testing.fixtures import throwaway_schema


def declare_lab(schema):
    """Subject -> Session (part Trial) -> Analysis (Computed); Pair references Subject twice
    (renamed); Method (Lookup) -> Analysis."""

    @schema
    class Subject(dj.Manual):
        definition = """
        subject : int32
        ---
        species = "mouse" : varchar(16)
        """

    @schema
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : int16
        ---
        quality : float64
        """

        class Trial(dj.Part):
            definition = """
            -> master
            trial : int16
            """

    @schema
    class Method(dj.Lookup):
        definition = """
        method : varchar(8)
        """
        contents = [("a",), ("b",)]

    @schema
    class Analysis(dj.Computed):
        definition = """
        -> Session
        -> Method
        ---
        score : float64
        """

        def make(self, key):
            self.insert1({**key, "score": 1.0})

    @schema
    class Pair(dj.Manual):
        definition = """
        -> Subject.proj(left="subject")
        -> Subject.proj(right="subject")
        """

    @schema
    class Note(dj.Manual):
        definition = """
        note : int32
        ---
        -> [nullable] Subject
        """

    Subject.insert([{"subject": s, "species": "rat" if s > 2 else "mouse"} for s in range(5)])
    Session.insert(
        [{"subject": s, "session": k, "quality": k / 2} for s in range(5) for k in range(3)]
    )
    Session.Trial.insert(
        [
            {"subject": s, "session": k, "trial": t}
            for s in range(5)
            for k in range(3)
            for t in (0, 1)
        ]
    )
    Analysis.populate()
    Pair.insert([{"left": 0, "right": 1}, {"left": 2, "right": 0}, {"left": 3, "right": 4}])
    return types.SimpleNamespace(
        Subject=Subject, Session=Session, Method=Method, Analysis=Analysis, Pair=Pair, Note=Note
    )


def node(table) -> str:
    return f"{table.database}.{table().table_name}"


def nodes(*tables) -> set[str]:
    return {node(t) for t in tables}


# ---- connection.dependencies ----------------------------------------------------------------
def test_dependencies_graph(dj_schema):
    lab = declare_lab(dj_schema)
    conn = dj_schema.connection
    deps = conn.dependencies
    assert deps is conn.dependencies  # one graph per connection
    deps.load()
    assert isinstance(deps, nx.MultiDiGraph)
    assert deps.nodes[node(lab.Session)]["primary_key"] == {"subject", "session"}
    assert not any(n.partition(".")[2].startswith("~") for n in deps)  # hidden tables left out
    # the two renamed references of Pair are parallel edges keyed by their child columns
    pair = deps.get_edge_data(node(lab.Subject), node(lab.Pair))
    assert set(pair) == {("left",), ("right",)}
    assert pair[("left",)] == {
        "primary": True,
        "attr_map": {"left": "subject"},
        "aliased": True,
        "multi": True,
    }
    note = next(iter(deps.get_edge_data(node(lab.Subject), node(lab.Note)).values()))
    assert note["primary"] is False and note["aliased"] is False
    parents = deps.parents(node(lab.Analysis))
    assert sorted(n for n, _ in parents) == sorted(nodes(lab.Session, lab.Method))
    assert [n for n, _ in deps.children(node(lab.Subject), primary=False)] == [node(lab.Note)]
    assert len(deps.children(node(lab.Subject), primary=True)) == 3  # Session, Pair twice
    order = deps.topo_sort()
    trial = node(lab.Session.Trial)
    assert order.index(trial) == order.index(node(lab.Session)) + 1
    assert deps.descendants(node(lab.Session))[0] == node(lab.Session)
    assert deps.ancestors(node(lab.Analysis))[-1] == node(lab.Analysis)
    assert set(deps.ancestors(node(lab.Analysis))) == nodes(
        lab.Subject, lab.Session, lab.Method, lab.Analysis
    )


def test_dependencies_refresh_after_ddl(dj_schema):
    lab = declare_lab(dj_schema)
    deps = dj_schema.connection.dependencies
    deps.load()
    assert node(lab.Note) in deps
    lab.Note.drop_quick()
    assert node(lab.Note) not in dj.Diagram(dj_schema)

    class Later(dj.Manual):
        definition = """
        -> Subject
        later : int32
        """

    dj_schema(Later, context={"Subject": lab.Subject})

    assert node(Later) in dj.Diagram(dj_schema)
    assert node(Later) in deps.descendants(node(lab.Subject))


def test_load_all_upstream_and_downstream(dj_connection):
    with throwaway_schema(dj_connection) as upper, throwaway_schema(dj_connection) as lower:

        @upper
        class Animal(dj.Manual):
            definition = """
            animal : int32
            """

        @lower
        class Recording(dj.Manual):
            definition = """
            -> Animal
            recording : int32
            """

        deps = dj_connection.dependencies
        deps.clear()
        deps.load(schema_names=[lower.database])
        assert node(Animal) not in deps or not deps.in_edges(node(Animal))
        deps.load_all_upstream(schema_names=[lower.database])
        assert deps.has_edge(node(Animal), node(Recording))
        deps.load(schema_names=[upper.database])
        assert node(Recording) not in deps
        deps.load_all_downstream(schema_names=[upper.database])
        assert deps.has_edge(node(Animal), node(Recording))
        assert deps.descendants(node(Animal)) == [node(Animal), node(Recording)]


# ---- constructors and node attributes -------------------------------------------------------
def test_constructor_forms(dj_schema):
    lab = declare_lab(dj_schema)
    everything = nodes(
        lab.Subject, lab.Session, lab.Session.Trial, lab.Method, lab.Analysis, lab.Pair, lab.Note
    )
    assert isinstance(dj.Diagram(lab.Session), nx.MultiDiGraph)
    assert set(dj.Diagram(lab.Session).nodes) == nodes(lab.Session)
    assert set(dj.Diagram(lab.Session()).nodes) == nodes(lab.Session)
    assert set(dj.Diagram(dj_schema).nodes) == everything
    module = types.ModuleType("pipeline_module")
    module.schema = dj_schema
    assert set(dj.Diagram(module).nodes) == everything
    copy = dj.Diagram(dj.Diagram(dj_schema))
    assert set(copy.nodes) == everything and set(copy.edges) == set(dj.Diagram(dj_schema).edges)
    for bad in (42, dj.Schema(), types.ModuleType("empty")):
        with pytest.raises(DataJointError, match="Could not find database connection in"):
            dj.Diagram(bad)

    class Unbound(dj.Manual):
        definition = "x : int32"

    with pytest.raises(DataJointError, match="Could not find database connection in"):
        dj.Diagram(Unbound)


def test_node_and_edge_attributes(dj_schema):
    lab = declare_lab(dj_schema)
    d = dj.Diagram(dj_schema)
    tiers = {d.nodes[n]["label"]: d.nodes[n]["tier"] for n in d.nodes}
    assert tiers == {
        "Subject": "Manual",
        "Session": "Manual",
        "Session.Trial": "Part",
        "Method": "Lookup",
        "Analysis": "Computed",
        "Pair": "Manual",
        "Note": "Manual",
    }
    trial = d.nodes[node(lab.Session.Trial)]
    assert trial["master"] == node(lab.Session)
    assert trial["schema"] == dj_schema.database and trial["table_name"] == "session__trial"
    assert d.nodes[node(lab.Session)]["master"] is None
    aliased = [k for u, v, k, a in d.edges(keys=True, data=True) if a["aliased"]]
    assert sorted(aliased) == [("left",), ("right",)]
    dashed = [(u, v) for u, v, a in d.edges(data=True) if not a["primary"]]
    assert dashed == [(node(lab.Subject), node(lab.Note))]
    # a context gives the names of the classes as the user wrote them
    named = dj.Diagram(dj_schema, context={"Animal": lab.Subject, "Sess": lab.Session})
    assert named.nodes[node(lab.Subject)]["label"] == "Animal"
    assert named.nodes[node(lab.Session.Trial)]["label"] == "Sess.Trial"


def test_labels_name_the_schema_across_schemas(dj_connection):
    with throwaway_schema(dj_connection) as upper, throwaway_schema(dj_connection) as lower:

        @upper
        class Animal(dj.Manual):
            definition = """
            animal : int32
            """

        @lower
        class Recording(dj.Manual):
            definition = """
            -> Animal
            recording : int32
            """

        both = dj.Diagram(upper) + dj.Diagram(lower)
        labels = {both.nodes[n]["label"] for n in both.nodes}
        assert labels == {f"{upper.database}.Animal", f"{lower.database}.Recording"}
        assert both.has_edge(node(Animal), node(Recording))
        # collapse: the other schema is one node, joined by the foreign keys into it
        collapsed = dj.Diagram(lower) + dj.Diagram(upper).collapse()
        assert set(collapsed.nodes) == {upper.database, node(Recording)}
        assert collapsed.nodes[upper.database]["tier"] == "Collapsed"
        assert collapsed.nodes[upper.database]["tables"] == [node(Animal)]
        assert collapsed.has_edge(upper.database, node(Recording))
        alone = dj.Diagram(upper).collapse()
        assert set(alone.nodes) == {upper.database}


# ---- operators --------------------------------------------------------------------------------
def test_operators(dj_schema):
    lab = declare_lab(dj_schema)
    D = dj.Diagram
    session = D(lab.Session)
    assert set((session + 1).nodes) == nodes(lab.Session, lab.Session.Trial, lab.Analysis)
    assert set((session - 1).nodes) == nodes(lab.Session, lab.Subject)
    assert set((D(lab.Subject) + 2).nodes) == nodes(
        lab.Subject, lab.Session, lab.Session.Trial, lab.Analysis, lab.Pair, lab.Note
    )
    assert set((D(lab.Analysis) - 2).nodes) == nodes(
        lab.Analysis, lab.Session, lab.Method, lab.Subject
    )
    assert set((session + 0).nodes) == nodes(lab.Session)
    union = D(lab.Subject) + D(lab.Method)
    assert set(union.nodes) == nodes(lab.Subject, lab.Method)
    assert set((union + union).nodes) == set(union.nodes)  # idempotent
    assert set((D(lab.Subject) + lab.Session).nodes) == nodes(lab.Subject, lab.Session)
    assert D(lab.Subject) + lab.Session
    whole = D(dj_schema)
    assert set((whole - lab.Session).nodes) == set(whole.nodes) - nodes(lab.Session)
    assert set((whole - (D(lab.Subject) + 1)).nodes) == nodes(
        lab.Method, lab.Analysis, lab.Session.Trial
    )
    assert set((whole * (D(lab.Subject) + 1)).nodes) == nodes(
        lab.Subject, lab.Session, lab.Pair, lab.Note
    )
    # the edges of the shown tables only
    assert set((session - 1).edges()) == {(node(lab.Subject), node(lab.Session))}
    assert set(D(lab.Session).add_parts().nodes) == nodes(lab.Session, lab.Session.Trial)
    seq = D.from_sequence([lab.Subject, lab.Method, D(lab.Pair)])
    assert set(seq.nodes) == nodes(lab.Subject, lab.Method, lab.Pair)


# ---- cascade ----------------------------------------------------------------------------------
def test_cascade(dj_schema):
    lab = declare_lab(dj_schema)
    with pytest.raises(ValueError, match="part_integrity"):
        dj.Diagram.cascade(lab.Subject, part_integrity="sometimes")
    plan = dj.Diagram.cascade(lab.Subject & {"subject": 0})
    assert set(plan.nodes) == nodes(
        lab.Subject, lab.Session, lab.Session.Trial, lab.Analysis, lab.Pair, lab.Note
    )
    tables = list(plan)
    assert all(isinstance(t, dj.FreeTable) for t in tables)
    names = [t.table_name for t in tables]
    assert names.index("subject") < names.index("session") < names.index("__analysis")
    assert [t.table_name for t in reversed(plan)] == names[::-1]
    counts = plan.counts()
    conn = dj_schema.connection
    full = conn.dialect.full_table_name
    assert counts[full(dj_schema.database, "subject")] == 1
    assert counts[full(dj_schema.database, "session__trial")] == 6
    assert counts[full(dj_schema.database, "pair")] == 2  # renamed FKs converge with OR
    assert full(dj_schema.database, "#method") not in counts  # upstream: not in the plan
    with pytest.raises(DataJointError, match="Cannot apply restrict\\(\\) on a Diagram produced"):
        plan.restrict(lab.Subject & {"subject": 1})
    with pytest.raises(DataJointError, match="prune"):
        plan.prune()
    # the plan is exactly what delete removes
    before = {t.table_name: len(dj.FreeTable(conn, f"{t.database}.{t.table_name}")) for t in tables}
    (lab.Subject & {"subject": 0}).delete(prompt=False)
    for t in tables:
        left = len(dj.FreeTable(conn, f"{t.database}.{t.table_name}"))
        assert before[t.table_name] - left == counts[full(t.database, t.table_name)]


# ---- restrict, counts, prune ------------------------------------------------------------------
def test_restrict_ands_at_convergence(dj_schema):
    lab = declare_lab(dj_schema)
    conn = dj_schema.connection
    full = conn.dialect.full_table_name
    db = dj_schema.database
    whole = dj.Diagram(dj_schema)
    with pytest.raises(DataJointError, match=r"No restrictions applied\."):
        whole.counts()
    with pytest.raises(DataJointError, match="not in this diagram"):
        dj.Diagram(lab.Session).restrict(lab.Subject & {"subject": 1})
    one = whole.restrict(lab.Subject & {"subject": 1})
    counts = one.counts()
    assert counts[full(db, "subject")] == 1
    assert counts[full(db, "session")] == 3
    assert counts[full(db, "__analysis")] == 6
    # Pair converges from both renamed FKs with AND: a pair of subject 1 with itself only
    assert counts[full(db, "pair")] == 0
    both = one.restrict(lab.Method & {"method": "a"})
    assert both.counts()[full(db, "__analysis")] == 3  # AND of both restrictions
    assert next(iter(both)).table_name in ("subject", "#method")
    pruned = one.prune()
    assert node(lab.Pair) not in pruned.nodes and node(lab.Note) not in pruned.nodes
    assert node(lab.Analysis) in pruned.nodes
    # an unrestricted diagram prunes its empty tables
    lab.Note.delete_quick()
    assert node(lab.Note) not in whole.prune().nodes
    assert node(lab.Pair) in whole.prune().nodes


# ---- trace --------------------------------------------------------------------------------------
def test_trace(dj_schema):
    lab = declare_lab(dj_schema)
    key = {"subject": 2, "session": 1, "method": "b"}
    trace = dj.Diagram.trace(lab.Analysis & key)
    assert set(trace.nodes) == nodes(lab.Analysis, lab.Session, lab.Subject, lab.Method)
    subject = trace[lab.Subject]
    assert isinstance(subject, lab.Subject)
    assert subject.to_dicts() == [{"subject": 2, "species": "mouse"}]
    assert trace[lab.Method()].keys() == [{"method": "b"}]
    assert len(trace[lab.Session]) == 1
    free = trace["Session"]
    assert isinstance(free, dj.FreeTable) and free.keys() == [{"subject": 2, "session": 1}]
    quoted = dj_schema.connection.dialect.full_table_name(dj_schema.database, "#method")
    assert trace[quoted].keys() == [{"method": "b"}]
    for outside in (lab.Pair, "Pair"):
        with pytest.raises(DataJointError, match="is not in this trace's subgraph"):
            trace[outside]
    # a restriction on a secondary attribute reaches the parents through a semi-join
    rats = dj.Diagram.trace(lab.Session & "quality > 0.6")
    assert len(rats[lab.Subject]) == 5
    # renamed FKs: the parents of Pair rows are both referenced subjects
    pair = dj.Diagram.trace(lab.Pair & {"left": 2})
    assert sorted(k["subject"] for k in pair[lab.Subject].to_dicts()) == [0, 2]


def test_trace_across_schemas_and_ambiguous_names(dj_connection):
    with throwaway_schema(dj_connection) as upper, throwaway_schema(dj_connection) as lower:

        @upper
        class Subject(dj.Manual):
            definition = """
            subject : int32
            """

        UpperSubject = Subject

        @lower
        class Subject(dj.Manual):  # same class name in the other schema
            definition = """
            subject_b : int32
            """

        @lower
        class Recording(dj.Manual):
            definition = """
            -> UpperSubject
            -> Subject
            recording : int32
            """

        UpperSubject.insert([{"subject": 1}, {"subject": 2}])
        Subject.insert([{"subject_b": 7}])
        Recording.insert([{"subject": 1, "subject_b": 7, "recording": 0}])
        dj_connection.dependencies.clear()
        dj_connection.schemas.pop(upper.database, None)  # trace loads upstream schemas itself
        trace = dj.Diagram.trace(Recording & {"recording": 0})
        assert trace[UpperSubject].keys() == [{"subject": 1}]
        assert trace[f"{upper.database}.Subject"].keys() == [{"subject": 1}]
        with pytest.raises(DataJointError, match="ambiguous"):
            trace["Subject"]


# ---- part-of-part cascade upward (issue 11 item 3) -------------------------------------------
def declare_chain(schema):
    """Master with PartA (-> master) and PartB (-> Master.PartA): a part of a part."""

    @schema
    class Master(dj.Manual):
        definition = """
        master_id : int32
        """

        class PartA(dj.Part):
            definition = """
            -> master
            a_id : int32
            """

        class PartB(dj.Part):
            definition = """
            -> Master.PartA
            b_id : int32
            """

    Master.insert([{"master_id": 1}, {"master_id": 2}])
    Master.PartA.insert([{"master_id": m, "a_id": a} for m in (1, 2) for a in (0, 1)])
    Master.PartB.insert(
        [{"master_id": m, "a_id": a, "b_id": b} for m in (1, 2) for a in (0, 1) for b in (0, 1)]
    )
    return Master


def chain_counts(Master) -> list[int]:
    return [len(Master), len(Master.PartA), len(Master.PartB)]


def test_part_of_part_cascade_upward(dj_schema):
    Master = declare_chain(dj_schema)
    (Master.PartB & {"master_id": 1}).delete(part_integrity="cascade", prompt=False)
    assert Master.keys() == [{"master_id": 2}]
    assert chain_counts(Master) == [1, 2, 4]
    plan = dj.Diagram.cascade(Master.PartB & {"master_id": 2}, part_integrity="cascade")
    assert set(plan.nodes) == nodes(Master, Master.PartA, Master.PartB)
    assert sum(plan.counts().values()) == 1 + 2 + 4


def test_part_of_part_other_modes(dj_schema):
    Master = declare_chain(dj_schema)
    with pytest.raises(DataJointError, match="Cannot delete from a Part directly"):
        (Master.PartB & {"master_id": 1}).delete(prompt=False)
    assert chain_counts(Master) == [2, 4, 8]
    (Master.PartB & {"master_id": 1, "b_id": 0}).delete(part_integrity="ignore", prompt=False)
    assert chain_counts(Master) == [2, 4, 6]
    # deleting a part of the chain through its parent part also goes up to the master
    (Master.PartA & {"master_id": 2, "a_id": 0}).delete(part_integrity="cascade", prompt=False)
    assert chain_counts(Master) == [1, 2, 2]
    (Master & {"master_id": 1}).delete(prompt=False)
    assert chain_counts(Master) == [0, 0, 0]


def test_two_parts_of_one_master(dj_schema):
    schema = dj_schema

    @schema
    class Master(dj.Manual):
        definition = """
        master_id : int32
        """

        class Left(dj.Part):
            definition = """
            -> master
            left_id : int32
            """

        class Right(dj.Part):
            definition = """
            -> master
            right_id : int32
            """

    Master.insert([{"master_id": 1}, {"master_id": 2}])
    for part, name in ((Master.Left, "left_id"), (Master.Right, "right_id")):
        part.insert([{"master_id": m, name: i} for m in (1, 2) for i in (0, 1)])
    with pytest.raises(DataJointError, match="Cannot delete from a Part directly"):
        (Master.Left & {"master_id": 1}).delete(prompt=False)
    (Master.Left & {"master_id": 1, "left_id": 0}).delete(part_integrity="ignore", prompt=False)
    assert [len(Master), len(Master.Left), len(Master.Right)] == [2, 3, 4]
    (Master.Left & {"master_id": 1}).delete(part_integrity="cascade", prompt=False)
    assert Master.keys() == [{"master_id": 2}]
    assert [len(Master), len(Master.Left), len(Master.Right)] == [1, 2, 2]
    assert {k["master_id"] for k in Master.Right.to_dicts()} == {2}


# ---- self.upstream inside make ------------------------------------------------------------------
def test_upstream_inside_make(dj_schema):
    schema = dj_schema
    seen: list[tuple] = []

    @schema
    class Animal(dj.Manual):
        definition = """
        animal : int32
        ---
        weight : float64
        """

    @schema
    class Scan(dj.Manual):
        definition = """
        -> Animal
        scan : int32
        """

    @schema
    class Summary(dj.Computed):
        definition = """
        -> Scan
        ---
        weight : float64
        """

        def make(self, key):
            upstream = self.upstream
            assert upstream is self.upstream  # memoized for this make
            weight = upstream[Animal].fetch1("weight")
            seen.append((key["animal"], len(upstream["Scan"])))
            Log.insert1({"animal": key["animal"]})
            self.insert1({**key, "weight": weight})

    Animal.insert([{"animal": 1, "weight": 10.0}, {"animal": 2, "weight": 20.0}])
    Scan.insert([{"animal": 1, "scan": 0}, {"animal": 2, "scan": 0}])
    # provenance records the make's context (the Log rows inserted in make): the memoized trace
    # must stay out of it
    with dj.config.override(provenance__capture=True):

        @schema
        class Log(dj.Manual):
            definition = """
            animal : int32
            """

        Summary.populate()
    assert len(Log) == 2
    assert sorted(seen) == [(1, 1), (2, 1)]
    assert Summary.to_dicts(order_by="animal") == [
        {"animal": 1, "scan": 0, "weight": 10.0},
        {"animal": 2, "scan": 0, "weight": 20.0},
    ]
    with pytest.raises(DataJointError, match="only available inside make"):
        _ = Summary().upstream


def test_lazy_exports():
    import importlib
    import subprocess

    code = (
        "import sys, datajoint as dj\n"
        "assert 'datajoint.diagram' not in sys.modules and 'networkx' not in sys.modules\n"
        "assert dj.Diagram is dj.diagram.Diagram\n"
        "assert callable(dj.cli)\n"
        "try:\n    dj.no_such_name\nexcept AttributeError:\n    pass\nelse:\n    raise SystemExit(1)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Diagram" in importlib.import_module("datajoint").__all__


def test_part_of_part_reached_from_another_parent(dj_schema):
    """Deleting a parent of a part of a part: enforce refuses, ignore leaves the master, cascade
    removes the master and its whole chain."""
    schema = dj_schema

    @schema
    class Probe(dj.Manual):
        definition = """
        probe : int32
        """

    @schema
    class Master(dj.Manual):
        definition = """
        master_id : int32
        """

        class PartA(dj.Part):
            definition = """
            -> master
            a_id : int32
            """

        class PartB(dj.Part):
            definition = """
            -> Master.PartA
            -> Probe
            """

    Probe.insert([{"probe": 1}, {"probe": 2}, {"probe": 3}])
    Master.insert([{"master_id": 1}, {"master_id": 2}])
    Master.PartA.insert([{"master_id": m, "a_id": 0} for m in (1, 2)])
    Master.PartB.insert(
        [{"master_id": 1, "a_id": 0, "probe": 1}, {"master_id": 2, "a_id": 0, "probe": 2}]
    )
    with pytest.raises(DataJointError, match="Attempt to delete part table"):
        (Probe & {"probe": 1}).delete(prompt=False)
    assert chain_counts(Master) == [2, 2, 2]
    (Probe & {"probe": 3}).delete(prompt=False)  # references nothing: no part rows go
    (Probe & {"probe": 2}).delete(part_integrity="ignore", prompt=False)
    assert chain_counts(Master) == [2, 2, 1]
    (Probe & {"probe": 1}).delete(part_integrity="cascade", prompt=False)
    assert Master.to_dicts() == [{"master_id": 2}]
    assert chain_counts(Master) == [1, 1, 0]
