"""Phenotype expression grammar: precedence, evaluation and errors that show the position."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from organomics.mihc import expr

MARKERS = ["CD3", "CD8", "CD16", "CD56", "PD-L1", "CD8+"]


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("CD3 & CD8", "(CD3 & CD8)"),
        ("CD3 | CD8 & CD16", "(CD3 | (CD8 & CD16))"),  # & binds tighter than |
        ("(CD3 | CD8) & CD16", "((CD3 | CD8) & CD16)"),
        ("CD56 & CD16 & ~CD3", "((CD56 & CD16) & ~CD3)"),  # left-associative
        ("~~CD3", "~~CD3"),
        ("~(CD3|CD8)", "~(CD3 | CD8)"),
        ("PD-L1&CD8+", "(PD-L1 & CD8+)"),  # names may hold - and +
    ],
)
def test_parse_precedence(text, tree):
    assert expr.to_text(expr.parse(text, MARKERS)) == tree


def test_evaluate_matches_python_truth_table():
    rows = np.array(list(itertools.product([False, True], repeat=3)))
    values = {"CD56": rows[:, 0], "CD16": rows[:, 1], "CD3": rows[:, 2]}
    got = expr.evaluate(expr.parse("CD56 & CD16 & ~CD3"), values)
    expected = [a and b and not c for a, b, c in rows]
    assert got.tolist() == expected
    got = expr.evaluate(expr.parse("CD3 | CD16 & ~CD56"), values)
    assert got.tolist() == [c or (b and not a) for a, b, c in rows]


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("CD3 &", 6, "expected a marker name"),  # 1-based position just after the '&'
        ("CD3 & & CD8", 7, "expected a marker name"),
        ("(CD3 | CD8", 11, "expected ')'"),
        ("CD3 CD8", 5, "expected '&', '|' or end"),
        ("CD3 ! CD8", 5, "unexpected character '!'"),
        ("CD3 & CD9", 7, "unknown marker 'CD9'"),
        ("__import__('os')", 12, "unexpected character"),  # never evaluated as Python
        ("CD3)", 4, "expected '&', '|' or end"),
    ],
)
def test_errors_show_position(text, position, message):
    with pytest.raises(expr.ExpressionError) as caught:
        expr.parse(text, MARKERS)
    assert caught.value.position + 1 == position
    assert message in str(caught.value)
    assert f"at position {position}" in str(caught.value)
    # The caret line points under the offending character.
    lines = str(caught.value).splitlines()
    assert lines[-1].index("^") - 4 == position - 1


def test_empty_expression():
    with pytest.raises(expr.ExpressionError, match="empty expression"):
        expr.parse("   ", MARKERS)


def test_markers_listed_left_to_right():
    names = [m.name for m in expr.markers(expr.parse("CD3 & (CD8 | ~CD3)"))]
    assert names == ["CD3", "CD8", "CD3"]


# Kleene logic against brute force: where evaluate_known says decided, every completion of the
# missing marker values gives that value; where undecided, two completions disagree.

KLEENE_EXPRESSIONS = ["A & B", "A | B", "~A & (B | ~C)", "A & ~B | C", "~(A | B) & C"]


@settings(max_examples=200, deadline=None)
@given(
    text=st.sampled_from(KLEENE_EXPRESSIONS),
    cells=st.lists(st.tuples(*[st.sampled_from([0, 1, None])] * 3), min_size=1, max_size=8),
)
def test_three_valued_evaluation_matches_all_completions(text, cells):
    node = expr.parse(text, ["A", "B", "C"])
    names = ["A", "B", "C"]
    values = {n: np.array([c[i] == 1 for c in cells]) for i, n in enumerate(names)}
    known = {n: np.array([c[i] is not None for c in cells]) for i, n in enumerate(names)}
    value, decided = expr.evaluate_known(node, values, known)
    for k, cell in enumerate(cells):
        missing = [i for i, v in enumerate(cell) if v is None]
        outcomes = set()
        for fill in itertools.product([False, True], repeat=len(missing)):
            full = [v == 1 for v in cell]
            for i, f in zip(missing, fill, strict=True):
                full[i] = f
            single = {n: np.array([full[i]]) for i, n in enumerate(names)}
            outcomes.add(bool(expr.evaluate(node, single)[0]))
        assert decided[k] == (len(outcomes) == 1)
        if decided[k]:
            assert value[k] == outcomes.pop()
        else:
            assert not value[k]  # undecided cells are never counted positive
