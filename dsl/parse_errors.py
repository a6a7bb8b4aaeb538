"""Labelled syntax errors: example mistakes, and words for tokens.

``EXAMPLES`` maps a message (with ``{found}`` for the offending token) to
small malformed programs that fail in the same parser state; the parser
asks lark's ``UnexpectedInput.match_examples`` which label fits an error.
Errors no example covers get a generic "expected X, found Y" built by
:func:`describe_expected` from the tokens the parser would have accepted.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from lark import Token

__all__ = ["EXAMPLES", "describe_expected", "describe_token"]

EXAMPLES: dict[str, list[str]] = {
    "expected '=' between the parameter name and its value, found {found}": [
        "neuron x (threshold 2)",
        "a -> b (delay 2)",
        "kind k (decay 1)",
    ],
    "expected ',' or ')' after a parameter, found {found}": [
        "neuron x (threshold = 2 decay = 1)",
    ],
    "expected a parameter name, found {found}": [
        "neuron x (2)",
        "a -> b (1, 2)",
    ],
    "expected a name after 'neuron', found {found}": ["neuron 3", "neuron (threshold = 1)"],
    "expected a name after 'input', found {found}": ["input 3", "input (x)"],
    "expected a name after 'kind', found {found}": ["kind 3", "kind (decay = 1)"],
    "expected a parameter list '(name = value, ...)' after the kind's name, found {found}": [
        "kind k x"
    ],
    "expected a neuron reference after '->', found {found}": ["a -> 3", "a -> (b)", "a -> -"],
    "expected '->' after a neuron reference (or 'let' before a name to bind a value),"
    " found {found}": ["x = 3", "x[0] 3", "x.y 3"],
    "expected a statement, found {found}: connections do not chain"
    " (write 'a -> b' and 'b -> c' as two statements)": ["a -> b -> c", "a -> b[0] -> c"],
    "expected a name after 'let', found {found}": ["let 3 = 4", "let = 4"],
    "expected '=' after the name in 'let', found {found}": ["let n 3", "let n == 3"],
    "expected an expression, found {found}": [
        "let n = )",
        "let n = 1 +",
        "let n = *",
        "neuron x (threshold = )",
    ],
    "comparisons do not chain (write 'a < b and b < c'), found {found}": [
        "let b = 1 < 2 < 3",
        "let b = 1 == 2 == 3",
    ],
    "expected 'in' after the loop variable, found {found}": ["for i 0..3 {}", "for i = 0..3 {}"],
    "expected a name for the loop variable, found {found}": ["for 3 in 0..3 {}"],
    "expected '..' in the loop range 'start..stop', found {found}": [
        "for i in 3 {}",
        "for i in 3, 4 {}",
    ],
    "expected '{' to open the loop body, found {found}": ["for i in 0..3 x -> y"],
    "expected '{' after the condition of 'if', found {found}": ["if true x -> y"],
    "expected '{' or 'if' after 'else', found {found}": ["if true {} else x -> y"],
    "expected a circuit name after 'circuit', found {found}": ["circuit 3", "circuit (a) {}"],
    "expected '(' and the circuit's inputs, found {found}": ["circuit c a {}", "circuit c {}"],
    "expected '(' before the circuit's outputs, found {found}": ["circuit c(a) -> y {}"],
    "expected '{' to open the circuit body, found {found}": [
        "circuit c(a) -> (y) neuron y",
        "circuit c(a) neuron y",
    ],
    "expected at(T, ...), bits(V) at T or poisson(P) after '=', found {found}": [
        "stimulus x = 3",
        "stimulus x = [1]",
    ],
    "expected '=' after the stimulated neurons, found {found}": ["stimulus x at(1)"],
    "expected a neuron reference or decoder(...) to probe, found {found}": [
        "probe 3",
        "probe (x)",
        "probe x, 3",
    ],
    "expected a file name in quotes, std.NAME or model \"FILE\" as NAME after 'import',"
    " found {found}": ["import 3", "import (x)"],
    "expected 'as' and a circuit name after the model file, found {found}": [
        'import model "a.h5" b',
        'import model "a.h5"',
    ],
    "expected '(' and the circuit's inputs after its parameters, found {found}": [
        "let v = k<1>(a) + k<1>",
    ],
    "expected a statement, found {found}": ["3 -> x", "-> x", "}", ") x", "neuron x ]"],
}

_NAMED: dict[str, str] = {
    "NAME": "a name",
    "INT": "an integer",
    "FLOAT": "a number",
    "STRING": "a file name in quotes",
    "LANGLE": "'<'",
    "RANGLE": "'>'",
    "FLOORDIV": "'//'",
    "$END": "end of file",
}

_STATEMENT_WORDS = {"input", "neuron", "let", "for", "if", "probe", "stimulus"}
_STATEMENT = _STATEMENT_WORDS | {"kind", "circuit", "import", ";", "NAME"}
_EXPRESSION_KEYS = {"INT", "FLOAT", "("}
_EXPRESSION = _EXPRESSION_KEYS | {"NAME", "-", "+", "not", "true", "false"}
_OPERATORS = {
    "+", "-", "*", "/", "//", "%", "**", "<", ">", "<=", ">=", "==", "!=", "and", "or",
}


def _text(name: str) -> str:
    if name in _NAMED:
        return _NAMED[name]
    return f"'{name}'"


def describe_expected(accepts: Collection[str], patterns: Mapping[str, str] | None = None) -> str:
    """Words for a set of acceptable token types: ``"'(' or a name"``, ``"a statement"``.

    ``patterns`` maps token types to their literal text (``"LPAR"`` -> ``"("``).
    """
    patterns = patterns or {}
    keys = {patterns.get(name, name) for name in accepts}
    keys |= {"//"} if "FLOORDIV" in keys else set()
    keys -= {"FLOORDIV"}
    parts: list[str] = []
    if _STATEMENT_WORDS <= keys:
        parts.append("a statement")
        keys -= _STATEMENT
    if _EXPRESSION_KEYS <= keys:
        parts.append("an expression")
        keys -= _EXPRESSION
    if len(_OPERATORS & keys) >= 4:
        parts.append("an operator")
        keys -= _OPERATORS
    parts.extend(sorted(_text(k) for k in keys if k != "$END"))
    if "$END" in keys:
        parts.append("end of file")
    if not parts:
        return "something else"
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def describe_token(token: Token) -> str:
    """Words for the token found: ``"integer 3"``, ``"name 'foo'"``, ``"'}'"``."""
    kind = token.type
    if kind == "$END":
        return "end of file"
    if kind == "NAME":
        return f"name '{token}'"
    if kind == "INT":
        return f"integer {token}"
    if kind == "FLOAT":
        return f"number {token}"
    if kind == "STRING":
        return f"string {token}"
    if str(token).isalpha():
        return f"keyword '{token}'"
    return f"'{token}'"
