"""The scan expression language: precedence, chained comparisons, NaN, type and syntax errors."""

from __future__ import annotations

import numpy as np
import pytest

from barlake.errors import ConfigError
from barlake.scan_expr import ExpressionError, parse, tokenize

VALUES = {
    "rsi14": np.array([20.0, 50.0, 80.0, np.nan]),
    "macd": np.array([-1.0, 0.5, 2.0, 1.0]),
    "BBU_20_2.0": np.array([10.0, 10.0, 10.0, 10.0]),
    "close": np.array([9.0, 11.0, 10.0, 0.0]),
}


def test_issue_filter_is_evaluated_per_instrument() -> None:
    expr = parse("rsi14 > 35 and rsi14 < 65 and macd > 0", kind="bool")
    assert expr.names == ("rsi14", "macd")
    np.testing.assert_array_equal(expr.evaluate(VALUES), [False, True, False, False])


def test_arithmetic_precedence_and_unary_minus_follow_school_rules() -> None:
    expr = parse("-close + 2 * macd / 4 - (1 - 3)", kind="num")
    np.testing.assert_allclose(expr.evaluate(VALUES), -VALUES["close"] + VALUES["macd"] / 2 + 2)


def test_not_and_or_bind_in_python_order_and_comparisons_chain() -> None:
    expr = parse("not 30 < rsi14 < 70 or close >= BBU_20_2.0 and macd > 1")
    np.testing.assert_array_equal(expr.evaluate(VALUES), [True, False, True, True])


def test_nan_compares_false_and_division_by_zero_is_not_an_exception() -> None:
    assert not parse("rsi14 == rsi14").evaluate(VALUES)[3]
    assert np.isinf(parse("macd / close").evaluate(VALUES)[3])


def test_keywords_are_case_insensitive_but_names_containing_them_are_names() -> None:
    tokens = tokenize("android AND order")
    assert [(t.kind, t.text) for t in tokens] == [
        ("name", "android"),
        ("kw", "and"),
        ("name", "order"),
        ("end", ""),
    ]


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("rsi14 > > 3", None, "expected a number, a name or '\\(' but found '>'"),
        ("rsi14 > 3)", None, "unexpected '\\)'"),
        ("(rsi14 > 3", None, "expected '\\)'"),
        ("rsi14 and 3", None, "expected a comparison"),
        ("(rsi14 > 3) + 1", None, "expected a number"),
        ("rsi14 ; drop", None, "unexpected character ';'"),
        ("__import__('os')", None, "unexpected character"),
        ("rsi14", "bool", "must be a condition"),
        ("rsi14 > 3", "num", "must be a number"),
        ("   ", None, "empty expression"),
    ],
)
def test_bad_expressions_are_refused_with_the_position(
    text: str, kind: str | None, message: str
) -> None:
    with pytest.raises(ExpressionError, match=message) as info:
        parse(text, kind=kind)
    assert isinstance(info.value, ConfigError)


def test_errors_point_at_the_offending_token() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("rsi14 > 3 and and")
    assert "position 15" in str(info.value)
    assert str(info.value).splitlines()[-1] == " " * 16 + "^"
