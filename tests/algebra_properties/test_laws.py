"""Laws checked for every generated expression (SPEC §6), on every backend.

For each random schema shape, rows and expression tree of depth ≤ 4:

* at every node, the kernel's heading order and primary key equal the SPEC rule of the node's
  operator applied to the kernel's own operand headings (restriction, projection, aggregation
  and union keep the left key; the join rule with A → B, B → A and neither; dj.U), and equal the
  reference evaluator's heading;
* the result rows equal the reference evaluator's, as multisets over the heading;
* the primary key is unique in the result; ``len`` and ``bool`` agree with the rows;
* every attribute's lineage is the SPEC §6.7 lineage.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import event, given, note
from hypothesis import strategies as st

from .conftest import active_profile
from .harness import (
    Builder,
    DeclaredShape,
    kernel_sig,
    lineage_problems,
    multiset_diff,
    reproduction,
    row_multiset,
    signature_problems,
)
from .reference import Join, Node, Proj, Reference, Row, determines, walk, without_attached_top
from .strategies import enabled_ops, expressions, table_rows

PROFILE = active_profile()


def join_case(node: Join, reference: Reference) -> str:
    """Which branch of the join rule applies (for coverage statistics)."""
    if node.outer:
        return "left join"
    a, b = reference.heading(node.left).sig, reference.heading(node.right).sig
    if determines(a, b):
        return "join A→B"
    return "join B→A" if determines(b, a) else "join neither"


def operator_events(tree: Node, reference: Reference) -> set[str]:
    """Names of the operators (and join rule branches) a tree exercises."""
    out = set()
    for node in walk(tree):
        out.add(type(node).__name__)
        if isinstance(node, Join):
            out.add(join_case(node, reference))
        if isinstance(node, Proj):
            key = reference.heading(node.child).primary_key
            if any(old in key for _, old in node.renames):
                out.add("proj renames a key attribute")
            if any(old in key for _, old in node.duplicates):
                out.add("proj duplicates a key attribute")
    return out


def check_expression(shape: DeclaredShape, data: list[list[Row]], tree: Node) -> set[str]:
    """Check every law for one expression; return the operator events it exercised."""
    reference = Reference(shape.headings, data)
    note(reproduction(shape, data, tree))
    builder = Builder(shape.classes)
    query = builder.build(tree)
    note(f"SQL: {query.make_sql()}")

    problems = signature_problems(tree, builder, reference)
    assert not problems, "heading/primary-key laws violated:\n" + "\n".join(problems)

    expected = reference.evaluate(tree)
    names = expected.heading.names
    assert kernel_sig(query) == expected.heading.sig
    lineage = lineage_problems(query, expected.heading)
    assert not lineage, "\n".join(lineage)

    rows = query.to_dicts()
    actual_set, expected_set = row_multiset(rows, names), row_multiset(expected.rows, names)
    assert actual_set == expected_set, "rows differ: " + multiset_diff(actual_set, expected_set)

    key = expected.heading.primary_key
    keys = Counter(tuple(r[n] for n in key) for r in rows)
    duplicated = [k for k, n in keys.items() if n > 1]
    assert not duplicated, f"primary key {key} is not unique in the result: {duplicated}"

    assert len(query) == len(expected.rows), f"len() = {len(query)}, rows = {len(expected.rows)}"
    nonempty = bool(reference.rows(without_attached_top(tree, reference)))  # bool() ignores the Top
    assert bool(query) == nonempty, f"bool() = {bool(query)}, SPEC §6.8 says {nonempty}"
    return operator_events(tree, reference)


def test_expression_laws(algebra_pool):
    """Heading, primary key, rows, key uniqueness, len/bool and lineage of random expressions."""
    seen: Counter[str] = Counter()

    @PROFILE
    @given(st.data())
    def run(data):
        shape = algebra_pool.shapes[
            data.draw(st.integers(0, len(algebra_pool.shapes) - 1), label="shape")
        ]
        rows = data.draw(table_rows(shape.spec), label="rows")
        tree = data.draw(expressions(shape.headings, max_depth=4), label="expression")

        with algebra_pool.example(shape, rows):
            events = check_expression(shape, rows, tree)
        for e in sorted(events):
            event(e)
        seen.update(events)

    run()
    wanted = {
        "restrict": ["Restrict"],
        "proj": ["Proj", "proj renames a key attribute", "proj duplicates a key attribute"],
        "join": ["join A→B", "join B→A", "join neither", "left join"],
        "aggr": ["Aggr"],
        "union": ["Union"],
        "uproj": ["UProj"],
        "uaggr": ["UAggr"],
        "top": ["Top"],
    }
    rare = [
        name
        for op in enabled_ops()
        for name in wanted[op]
        if seen[name] < 5  # the generator must keep exercising every operator and join branch
    ]
    assert not rare, f"operators seldom generated: {rare}; counts {dict(seen)}"
