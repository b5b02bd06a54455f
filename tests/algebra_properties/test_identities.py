"""Identities of the query algebra (SPEC §6.1, §6.3, §6.6), on random expressions and conditions.

Restriction (``test_restriction_identities``), for a random expression A (depth ≤ 2) and random
conditions c, a, b (dicts, SQL strings, lists, AndLists, Not, booleans, query expressions):

* ``A & True ≡ A``; ``A & False`` and ``A & []`` are empty; ``A - [] ≡ A``;
  ``A & AndList([]) ≡ A``; ``A - AndList([])`` is empty;
* ``A & a & b ≡ A & AndList([a, b])``; ``A - [a, b] ≡ A - a - b``; ``A & c & c ≡ A & c``;
* ``len(A & c) + len(A - c) == len(A)`` and ``(A & c).proj() + (A - c).proj()`` has the keys of
  A — when c is two-valued on A's rows. SQL's third truth value is real: a row on which c is
  unknown (a comparison with NULL) is in neither ``A & c`` nor ``A - c``, and then both laws
  hold with those rows (counted by the reference evaluator) taken out.

Join (``test_join_identities``), for random A and B (depth ≤ 2, B made join-compatible):

* ``A * B`` and ``B * A`` follow the join rule (A → B, B → A, neither) and give the reference rows;
* restriction commutes with join: ``(A * B) & cA ≡ (A & cA) * B`` and
  ``(A * B) & cB ≡ A * (B & cB)`` for conditions on one side's attributes;
* ``A.proj() & B ≡ A & B`` on the key (B sharing only primary-key attributes with A);
* ``dj.U(*x) & A`` has as many rows as there are distinct values of ``x`` in A.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import event, given, note
from hypothesis import strategies as st

from .conftest import active_profile
from .harness import (
    Builder,
    kernel_sig,
    multiset_diff,
    normalize,
    render,
    render_condition,
    reproduction,
    row_multiset,
)
from .reference import (
    CAnd,
    CBool,
    COr,
    CQuery,
    Join,
    Proj,
    Reference,
    Restrict,
    Union,
    UProj,
    determines,
    expected_sig,
)
from .strategies import ExpressionGenerator, table_rows

PROFILE = active_profile()


def rows_of(query: Any) -> Counter:
    """The rows of a kernel expression as a multiset over its own heading."""
    names = query.heading.names
    return row_multiset(query.to_dicts(), names)


def assert_equivalent(left: Any, right: Any, law: str) -> None:
    """Same heading, primary key and rows."""
    assert kernel_sig(left) == kernel_sig(right), f"{law}: headings differ"
    a, b = rows_of(left), rows_of(right)
    assert a == b, f"{law}: " + multiset_diff(a, b)


def assert_empty(query: Any, law: str) -> None:
    assert len(query) == 0, f"{law}: len() = {len(query)}"
    assert query.to_dicts() == [], f"{law}: rows returned"


def test_restriction_identities(algebra_pool):
    """The restriction laws of SPEC §6.1 on random expressions and conditions."""

    @PROFILE
    @given(st.data())
    def run(data):
        shape = algebra_pool.shapes[
            data.draw(st.integers(0, len(algebra_pool.shapes) - 1), label="shape")
        ]
        rows = data.draw(table_rows(shape.spec), label="rows")
        gen = ExpressionGenerator(data.draw, shape.headings)
        a_node = gen.expr(data.draw(st.integers(0, 2), label="depth of A"))
        ha = gen.heading(a_node)
        c, ca, cb = (gen.condition(ha, query_depth=1) for _ in range(3))

        reference = Reference(shape.headings, data=rows)
        note(reproduction(shape, rows, a_node))
        for name, cond in (("c", c), ("a", ca), ("b", cb)):
            note(f"{name} = {render_condition(cond, shape.classes)}")
        builder = Builder(shape.classes)
        b = builder.build

        with algebra_pool.example(shape, rows):
            qa = b(a_node)
            a_rows = rows_of(qa)
            n = len(qa)
            assert n == sum(a_rows.values())
            assert_equivalent(b(Restrict(a_node, CBool(True))), qa, "A & True ≡ A")
            assert_empty(b(Restrict(a_node, CBool(False))), "A & False = ∅")
            assert_empty(b(Restrict(a_node, COr(()))), "A & [] = ∅")
            assert_equivalent(b(Restrict(a_node, COr(()), negate=True)), qa, "A - [] ≡ A")
            assert_equivalent(b(Restrict(a_node, CAnd(()))), qa, "A & AndList() ≡ A")
            assert_empty(b(Restrict(a_node, CAnd(()), negate=True)), "A - AndList() = ∅")

            a_and_b = Restrict(Restrict(a_node, ca), cb)
            assert_equivalent(
                b(a_and_b), b(Restrict(a_node, CAnd((ca, cb)))), "A & a & b ≡ A & AndList([a, b])"
            )
            a_minus_b = Restrict(Restrict(a_node, ca, negate=True), cb, negate=True)
            assert_equivalent(
                b(Restrict(a_node, COr((ca, cb)), negate=True)),
                b(a_minus_b),
                "A - [a, b] ≡ A - a - b",
            )
            a_c = Restrict(a_node, c)
            assert_equivalent(b(Restrict(a_c, c)), b(a_c), "A & c & c ≡ A & c")

            # the partition laws, with the rows on which c is unknown taken out
            test = reference.condition(c, ha)
            a_ref = reference.rows(a_node)
            unknown = [r for r in a_ref if test(r) is None]
            event("c is two-valued on A" if not unknown else "c is unknown on some rows of A")
            not_c = Restrict(a_node, c, negate=True)
            assert len(b(a_c)) + len(b(not_c)) == n - len(unknown), (
                f"len(A & c) + len(A - c) == len(A) - {len(unknown)} (rows where c is unknown)"
            )
            union = b(Union(Proj(a_c), Proj(not_c)))
            key = ha.primary_key
            expected_keys = Counter(tuple(normalize(r[k]) for k in key) for r in a_ref)
            expected_keys.subtract(tuple(normalize(r[k]) for k in key) for r in unknown)
            got = rows_of(union)
            assert got == +expected_keys, "(A & c).proj() + (A - c).proj() has the keys of A: " + (
                multiset_diff(got, +expected_keys)
            )

    run()


def test_join_identities(algebra_pool):
    """The join rule both ways round, restriction commuting with join, ``A.proj() & B``, and
    ``dj.U`` counting distinct values."""

    @PROFILE
    @given(st.data())
    def run(data):
        shape = algebra_pool.shapes[
            data.draw(st.integers(0, len(algebra_pool.shapes) - 1), label="shape")
        ]
        rows = data.draw(table_rows(shape.spec), label="rows")
        gen = ExpressionGenerator(data.draw, shape.headings)
        a_node = gen.expr(data.draw(st.integers(0, 2), label="depth of A"))
        ha = gen.heading(a_node)
        b_node = gen.compatible(gen.expr(data.draw(st.integers(0, 2), label="depth of B")), ha)
        assert b_node is not None
        hb = gen.heading(b_node)
        c_a = gen.condition(ha, query_depth=-1, unknown_keys=False)
        c_b = gen.condition(hb, query_depth=-1, unknown_keys=False)
        # B restricted to share only primary-key attributes of A
        shared_secondary = [n for n in hb.names if n in ha.secondary]
        key_only_b = (
            Proj(
                b_node,
                ellipsis=True,
                exclude=tuple(n for n in shared_secondary if not hb[n].in_key),
                renames=tuple(
                    (gen.fresh(n, set(ha.names) | set(hb.names)), n)
                    for n in shared_secondary
                    if hb[n].in_key
                ),
            )
            if shared_secondary
            else b_node
        )
        u_attrs = gen.subset(ha.names, 2, min_size=1)

        reference = Reference(shape.headings, data=rows)
        note(reproduction(shape, rows, None))
        note(f"A = {render(a_node, shape.classes)}")
        note(f"B = {render(b_node, shape.classes)}")
        note(
            f"cA = {render_condition(c_a, shape.classes)}; cB = {render_condition(c_b, shape.classes)}"
        )
        builder = Builder(shape.classes)
        b = builder.build

        with algebra_pool.example(shape, rows):
            for left, right in ((a_node, b_node), (b_node, a_node)):
                node = Join(left, right)
                sa, sb = kernel_sig(b(left)), kernel_sig(b(right))
                case = "A→B" if determines(sa, sb) else "B→A" if determines(sb, sa) else "neither"
                event(f"join rule: {case}")
                query = b(node)
                rule = expected_sig(node, [sa, sb])
                assert kernel_sig(query) == rule, (
                    f"join rule ({case}) for {sa} * {sb}: kernel {kernel_sig(query)}, SPEC {rule}"
                )
                names = reference.heading(node).names
                got, want = (
                    row_multiset(query.to_dicts(), names),
                    row_multiset(reference.rows(node), names),
                )
                assert got == want, f"rows of {render(node, shape.classes)}: " + multiset_diff(
                    got, want
                )

            joined = Join(a_node, b_node)
            assert_equivalent(
                b(Restrict(joined, c_a)),
                b(Join(Restrict(a_node, c_a), b_node)),
                "(A * B) & cA ≡ (A & cA) * B",
            )
            assert_equivalent(
                b(Restrict(joined, c_b)),
                b(Join(a_node, Restrict(b_node, c_b))),
                "(A * B) & cB ≡ A * (B & cB)",
            )

            left_keys = rows_of(b(Restrict(Proj(a_node), CQuery(key_only_b))))
            right_keys = rows_of(b(Proj(Restrict(a_node, CQuery(key_only_b)))))
            assert left_keys == right_keys, "A.proj() & B ≡ (A & B).proj(): " + multiset_diff(
                left_keys, right_keys
            )

            a_rows = b(a_node).to_dicts()
            distinct = {tuple(normalize(r[x]) for x in u_attrs) for r in a_rows}
            u = b(UProj(u_attrs, a_node))
            assert len(u) == len(distinct), (
                f"len(dj.U{u_attrs} & A) = {len(u)}, distinct values in A: {len(distinct)}"
            )
            assert len(u.to_dicts()) == len(distinct)

    run()
