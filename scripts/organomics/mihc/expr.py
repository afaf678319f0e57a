"""Boolean phenotype expressions over marker names (`CD3 & CD8`, `CD56 & ~CD3`): parse, never eval.

Grammar (lowest to highest precedence; `&` binds tighter than `|`, `~` tightest):

    expr   := term ('|' term)*
    term   := factor ('&' factor)*
    factor := '~' factor | '(' expr ')' | NAME

NAME is a marker name: letters, digits and `_ . - + /` (so `PD-L1`, `CD8+` and `Ki67` are names).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-+/]*")
_OPERATORS = {"&": "AND", "|": "OR", "~": "NOT", "(": "LPAREN", ")": "RPAREN"}


class ExpressionError(ValueError):
    """A phenotype expression has bad syntax or names an unknown marker; says where."""

    def __init__(self, text: str, position: int, message: str) -> None:
        self.text = text
        self.position = position
        caret = " " * position + "^"
        super().__init__(f"{message} at position {position + 1}:\n    {text}\n    {caret}")


@dataclass(frozen=True)
class Token:
    kind: str  # NAME, AND, OR, NOT, LPAREN, RPAREN, END
    text: str
    position: int


@dataclass(frozen=True)
class Marker:
    name: str
    position: int


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


Node = Marker | Not | And | Or


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens.

    Parameters
    ----------
    text
        The expression.

    Returns
    -------
    list of Token
        The tokens with their positions, ending with an ``END`` token.

    Raises
    ------
    ExpressionError
        At the first character that is neither space, operator nor marker name.
    """
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in _OPERATORS:
            tokens.append(Token(_OPERATORS[char], char, i))
            i += 1
        elif match := _NAME.match(text, i):
            tokens.append(Token("NAME", match.group(), i))
            i = match.end()
        else:
            hint = " (use &, | and ~ for and, or, not)" if char in "!^-*+=," else ""
            raise ExpressionError(text, i, f"unexpected character {char!r}{hint}")
    tokens.append(Token("END", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.i]

    def expect(self, kind: str, what: str) -> Token:
        token = self.current
        if token.kind != kind:
            found = "end of expression" if token.kind == "END" else repr(token.text)
            raise ExpressionError(self.text, token.position, f"expected {what}, found {found}")
        self.i += 1
        return token

    def expr(self) -> Node:
        node = self.term()
        while self.current.kind == "OR":
            self.i += 1
            node = Or(node, self.term())
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.current.kind == "AND":
            self.i += 1
            node = And(node, self.factor())
        return node

    def factor(self) -> Node:
        token = self.current
        if token.kind == "NOT":
            self.i += 1
            return Not(self.factor())
        if token.kind == "LPAREN":
            self.i += 1
            node = self.expr()
            self.expect("RPAREN", "')' to close the '(' at position " + str(token.position + 1))
            return node
        name = self.expect("NAME", "a marker name, '~' or '('")
        return Marker(name.text, name.position)


def parse(text: str, known: Iterable[str] | None = None) -> Node:
    """Parse a phenotype expression into its tree.

    Parameters
    ----------
    text
        The expression, e.g. ``"CD56 & CD16 & ~CD3"``.
    known
        The configured marker names; when given, every name in `text` must be one of them.

    Returns
    -------
    Node
        The expression tree (`Marker`, `Not`, `And`, `Or`).

    Raises
    ------
    ExpressionError
        For an empty expression, bad syntax or an unknown marker, with the position.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError(str(text), 0, "empty expression")
    parser = _Parser(text)
    node = parser.expr()
    if parser.current.kind != "END":
        token = parser.current
        raise ExpressionError(
            text, token.position, f"expected '&', '|' or end of expression, found {token.text!r}"
        )
    if known is not None:
        known = list(known)
        for marker in markers(node):
            if marker.name not in known:
                raise ExpressionError(
                    text,
                    marker.position,
                    f"unknown marker {marker.name!r} (markers: {', '.join(known) or 'none'})",
                )
    return node


def markers(node: Node) -> list[Marker]:
    """Marker references in the expression, left to right (repeats kept).

    Parameters
    ----------
    node
        A parsed expression.

    Returns
    -------
    list of Marker
        Each reference with its name and position in the text.
    """
    if isinstance(node, Marker):
        return [node]
    if isinstance(node, Not):
        return markers(node.operand)
    return markers(node.left) + markers(node.right)


def evaluate(node: Node, values: Mapping[str, np.ndarray]) -> np.ndarray:
    """The expression's value per cell.

    Parameters
    ----------
    node
        A parsed expression.
    values
        One boolean array (positive cells) per marker name, all of one length.

    Returns
    -------
    numpy.ndarray
        Boolean array, True where the cell matches the expression.
    """
    if isinstance(node, Marker):
        return np.asarray(values[node.name], dtype=bool)
    if isinstance(node, Not):
        return ~evaluate(node.operand, values)
    if isinstance(node, And):
        return evaluate(node.left, values) & evaluate(node.right, values)
    return evaluate(node.left, values) | evaluate(node.right, values)


def evaluate_known(
    node: Node, values: Mapping[str, np.ndarray], known: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Kleene three-valued logic: the expression's value and whether it is decided, per cell.

    A cell whose marker value is missing is undecided for that marker; the expression is still
    decided when the known markers settle it (`CD3 & CD8` is False for a CD3- cell whatever its
    CD8). Where decided, the value equals `evaluate` with the missing markers set either way.

    Parameters
    ----------
    node
        A parsed expression.
    values
        One boolean array (positive cells) per marker name.
    known
        One boolean array per marker name, False where the cell's value is missing.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The value (False where undecided) and the decided mask.
    """
    if isinstance(node, Marker):
        value = np.asarray(values[node.name], dtype=bool)
        return value, np.asarray(known[node.name], dtype=bool)
    if isinstance(node, Not):
        value, decided = evaluate_known(node.operand, values, known)
        return ~value, decided
    left, left_known = evaluate_known(node.left, values, known)
    right, right_known = evaluate_known(node.right, values, known)
    if isinstance(node, And):
        decided = (left_known & right_known) | (left_known & ~left) | (right_known & ~right)
        return left & right & decided, decided
    decided = (left_known & right_known) | (left_known & left) | (right_known & right)
    return (left & left_known) | (right & right_known), decided


def to_text(node: Node) -> str:
    """Fully parenthesised form, for logs and tests of precedence.

    Parameters
    ----------
    node
        A parsed expression.

    Returns
    -------
    str
        E.g. ``((CD3 & ~CD8) | CD4)`` for ``CD3 & ~CD8 | CD4``.
    """
    if isinstance(node, Marker):
        return node.name
    if isinstance(node, Not):
        return f"~{to_text(node.operand)}"
    op = "&" if isinstance(node, And) else "|"
    return f"({to_text(node.left)} {op} {to_text(node.right)})"
