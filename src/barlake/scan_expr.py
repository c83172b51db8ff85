"""A small, safe expression language for scan filters and scores — parsed, never `eval`-ed.

    rsi14 > 35 and rsi14 < 65 and macd > 0
    (close - sma50) / atr14 + (rsi14 - 50) / 10
    not (30 < rsi14 < 70) or bb_z <= -2

Names (column names such as `rsi14`, `MACD_12_26_9`, `BBU_20_2.0`), numbers, `+ - * /`,
comparisons `< <= > >= == !=` (chainable as in Python), `and`/`or`/`not` and parentheses.
Types are checked when parsing, so `rsi14 and 3` is refused before any data is read.
Evaluation is vectorised: names map to numpy arrays (one value per instrument); NaN compares
False and x/0 is inf or NaN, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from barlake.errors import ConfigError

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.\d+[A-Za-z0-9_]*)*)"
    r"|(?P<op><=|>=|==|!=|<|>|\+|-|\*|/|\(|\))"
    r")"
)
_KEYWORDS = {"and", "or", "not"}
_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
_ARITH = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}


class ExpressionError(ConfigError):
    """A filter or score that does not parse or type-check: fix the expression text."""


@dataclass(frozen=True)
class Token:
    kind: str  # num, name, op, kw, end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Split into tokens; anything unrecognised is an error pointing at its position."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            start = len(text) - len(text[pos:].lstrip())
            raise _error(text, start, f"unexpected character {text[start]!r}")
        kind, value = match.lastgroup, match.group(match.lastgroup)
        start = match.start(kind)
        if kind == "name" and value.lower() in _KEYWORDS:
            kind, value = "kw", value.lower()
        tokens.append(Token(kind, value, start))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _error(text: str, pos: int, message: str) -> ExpressionError:
    return ExpressionError(f"{message} at position {pos + 1}:\n  {text}\n  {' ' * pos}^")


# AST nodes are tuples: ("num", float) ("name", str) ("neg", node) ("arith", op, a, b)
# ("cmp", (ops...), (operands...)) ("and", a, b) ("or", a, b) ("not", a).
Node = tuple


class _Parser:
    """Recursive descent, one method per precedence level, lowest first."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, message: str, token: Token | None = None) -> ExpressionError:
        return _error(self.text, (token or self.peek()).pos, message)

    def expect_kind(self, node: Node, kind: str, token: Token) -> Node:
        if _kind(node) != kind:
            want = "a comparison (true/false)" if kind == "bool" else "a number"
            raise self.fail(f"expected {want} around {token.text!r}", token)
        return node

    def parse(self) -> Node:
        node = self.or_()
        if self.peek().kind != "end":
            raise self.fail(f"unexpected {self.peek().text!r}")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.peek().text == "or" and self.peek().kind == "kw":
            token = self.take()
            right = self.expect_kind(self.and_(), "bool", token)
            node = ("or", self.expect_kind(node, "bool", token), right)
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.peek().text == "and" and self.peek().kind == "kw":
            token = self.take()
            right = self.expect_kind(self.not_(), "bool", token)
            node = ("and", self.expect_kind(node, "bool", token), right)
        return node

    def not_(self) -> Node:
        if self.peek().text == "not" and self.peek().kind == "kw":
            token = self.take()
            return ("not", self.expect_kind(self.not_(), "bool", token))
        return self.comparison()

    def comparison(self) -> Node:
        first = self.sum_()
        ops: list[str] = []
        operands = [first]
        while self.peek().kind == "op" and self.peek().text in _COMPARE:
            token = self.take()
            self.expect_kind(operands[-1], "num", token)
            ops.append(token.text)
            operands.append(self.expect_kind(self.sum_(), "num", token))
        return ("cmp", tuple(ops), tuple(operands)) if ops else first

    def sum_(self) -> Node:
        node = self.term()
        while self.peek().kind == "op" and self.peek().text in "+-":
            token = self.take()
            right = self.expect_kind(self.term(), "num", token)
            node = ("arith", token.text, self.expect_kind(node, "num", token), right)
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek().kind == "op" and self.peek().text in "*/":
            token = self.take()
            right = self.expect_kind(self.unary(), "num", token)
            node = ("arith", token.text, self.expect_kind(node, "num", token), right)
        return node

    def unary(self) -> Node:
        if self.peek().kind == "op" and self.peek().text in "+-":
            token = self.take()
            operand = self.expect_kind(self.unary(), "num", token)
            return ("neg", operand) if token.text == "-" else operand
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "num":
            return ("num", float(token.text))
        if token.kind == "name":
            return ("name", token.text)
        if token.kind == "op" and token.text == "(":
            node = self.or_()
            if self.peek().text != ")":
                raise self.fail("expected ')'")
            self.take()
            return node
        what = "the end" if token.kind == "end" else repr(token.text)
        raise self.fail(f"expected a number, a name or '(' but found {what}", token)


def _kind(node: Node) -> str:
    return "bool" if node[0] in ("cmp", "and", "or", "not") else "num"


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its source text, tree, result kind and the names it reads."""

    text: str
    tree: Node
    kind: str  # "bool" or "num"
    names: tuple[str, ...]

    def evaluate(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Vectorised value over equal-length arrays, one entry per instrument."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.asarray(_eval(self.tree, values))


def parse(text: str, *, kind: str | None = None) -> Expression:
    """Parse `text`; with kind="bool" (a filter) or "num" (a score) the result type is checked."""
    if not text or not text.strip():
        raise ExpressionError("empty expression")
    tree = _Parser(text).parse()
    got = _kind(tree)
    if kind is not None and got != kind:
        need = "a condition such as `rsi14 < 30`" if kind == "bool" else "a number, not a condition"
        raise ExpressionError(f"{text!r} must be {need}")
    return Expression(text, tree, got, tuple(dict.fromkeys(_names(tree))))


def _names(node: Node) -> list[str]:
    if node[0] == "name":
        return [node[1]]
    children = node[2] if node[0] == "cmp" else node[1:]
    return [n for child in children if isinstance(child, tuple) for n in _names(child)]


def _eval(node: Node, values: Mapping[str, np.ndarray]) -> np.ndarray | float:
    tag = node[0]
    if tag == "num":
        return node[1]
    if tag == "name":
        return values[node[1]]
    if tag == "neg":
        return np.negative(_eval(node[1], values))
    if tag == "arith":
        return _ARITH[node[1]](_eval(node[2], values), _eval(node[3], values))
    if tag == "not":
        return np.logical_not(_eval(node[1], values))
    if tag in ("and", "or"):
        combine = np.logical_and if tag == "and" else np.logical_or
        return combine(_eval(node[1], values), _eval(node[2], values))
    ops, operands = node[1], [_eval(o, values) for o in node[2]]
    result: np.ndarray | bool = True
    for op, left, right in zip(ops, operands, operands[1:], strict=False):
        result = np.logical_and(result, _COMPARE[op](left, right))
    return result
