"""Text -> syntax tree: the lark grammar ``spk.lark`` plus a Transformer.

:func:`parse` returns a :class:`~spikec.dsl.syntax.Program` or raises
:class:`~spikec.dsl.errors.ParseError` with a labelled message ("expected X,
found Y") and the location of the offending token.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

from lark import Lark, Token, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)
from lark.lark import PostLex
from lark.visitors import Transformer_NonRecursive

from spikec.dsl import syntax as s
from spikec.dsl.parse_errors import EXAMPLES, describe_expected, describe_token
from spikec.errors import ParseError, SourceLocation, SpikecError

__all__ = ["parse", "KEYWORDS", "MAX_NESTING"]

#: Words the grammar reserves; they cannot name neurons, circuits or values.
KEYWORDS: tuple[str, ...] = (
    "input", "neuron", "kind", "let", "for", "in", "if", "else", "circuit", "import", "as",
    "stimulus", "probe", "at", "and", "or", "not", "true", "false", "balance",
)

#: How deep statements and expressions may nest: each block, operand (but the left
#: operand of a chain such as ``a + b + c``, which is flat), argument, index or
#: parameter value inside another adds a level. The compiler walks programs
#: recursively; this bound keeps that walk far from Python's stack limit.
MAX_NESTING = 100


@dataclass(frozen=True, slots=True)
class _Part:
    """An intermediate piece of a statement (a size, an index, ...) tagged by its role."""

    tag: str
    value: Any


_OPEN = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE", "LANGLE": "RANGLE"}
_CLOSE = {"RPAR", "RSQB", "RBRACE"}


class _AngleBrackets(PostLex):
    """Turn the ``>`` that closes an open circuit parameter list into RANGLE.

    The lexer emits LANGLE only for a ``<`` that opens ``c<...>(``; this pass
    keeps a stack of open brackets so that the matching ``>`` (and only it)
    closes the list, while any other ``>`` stays a comparison.
    """

    always_accept = ("MORETHAN",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        stack: list[str] = []
        for tok in stream:
            kind = tok.type
            if kind in _OPEN:
                stack.append(kind)
            elif kind in _CLOSE:
                if stack and _OPEN[stack[-1]] == kind:
                    stack.pop()
            elif kind == "MORETHAN" and stack and stack[-1] == "LANGLE":
                stack.pop()
                tok = Token.new_borrow_pos("RANGLE", tok.value, tok)
            yield tok


@functools.cache
def _lark() -> Lark:
    grammar = resources.files("spikec.dsl").joinpath("spk.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        postlex=_AngleBrackets(),
    )


def parse(text: str, filename: str = "<string>", *, quote: bool = True) -> s.Program:
    """Parse ``.spk`` source text; ``filename`` is shown in error locations, with the
    offending source line unless ``quote`` is False (a file that is not a ``.spk``
    source). Nesting deeper than :data:`MAX_NESTING` is a :class:`ParseError`."""
    lines = text.split("\n") if quote else []  # lark counts lines by "\n" only
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as err:
        raise _syntax_error(err, text, filename, lines) from None
    _check_nesting(tree, filename, lines)
    try:
        statements = _Build(filename, lines).transform(tree)
    except VisitError as err:
        if isinstance(err.orig_exc, SpikecError):
            raise err.orig_exc from None
        raise
    return s.Program(tuple(statements), filename)


# ---- nesting ----------------------------------------------------------------------

#: Rules whose first child continues a left-associative chain at the same level (gate
#: expressions are not among them: sympy builds them recursively).
_CHAINS = frozenset({"or_op", "and_op", "add", "sub", "mul", "div", "floordiv", "mod"})
#: Rules that only group their children (a block's braces, a parameter list).
_GROUPS = frozenset({"block", "params", "call_params", "size", "let_index", "ports", "outputs",
                     "circuit_params", "stim_when"})


def _check_nesting(tree: Tree[Token], filename: str, lines: list[str]) -> None:
    """Refuse a tree nested deeper than :data:`MAX_NESTING`, at the construct that is
    one level too deep; walks with its own stack, so any depth is measured safely."""
    stack: list[tuple[Tree[Token], int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        chain = node.data in _CHAINS
        for i, child in enumerate(node.children):
            if not isinstance(child, Tree):
                continue
            level = depth if (chain and i == 0) or child.data in _GROUPS else depth + 1
            if level > MAX_NESTING:
                meta = child.meta if not child.meta.empty else node.meta
                line = getattr(meta, "line", 1) or 1
                column = getattr(meta, "column", 1) or 1
                text = lines[line - 1] if 0 < line <= len(lines) else None
                raise ParseError(
                    f"statements and expressions nest more than {MAX_NESTING} levels deep here"
                    " (blocks, operands, arguments and indices inside one another); bind parts"
                    " with 'let', or move blocks into circuits",
                    SourceLocation(filename, line, column, text))
            stack.append((child, level))


# ---- syntax errors ------------------------------------------------------------------


def _syntax_error(err: UnexpectedInput, text: str, filename: str, lines: list[str]) -> ParseError:
    def loc(line: int, column: int) -> SourceLocation:
        line = max(1, line)
        source = lines[line - 1] if line - 1 < len(lines) else ("" if lines else None)
        return SourceLocation(filename, line, max(1, column), source)

    if isinstance(err, UnexpectedCharacters):
        pos = err.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        where = loc(err.line, err.column)
        if char == '"':
            return ParseError("unterminated string: a closing '\"' is missing on this line", where)
        # The lexer's set of allowed tokens is too broad to be a helpful "expected".
        return ParseError(f"unexpected character {char!r}: no .spk token starts with it", where)
    token: Token | None = getattr(err, "token", None)
    at_end = isinstance(err, UnexpectedEOF) or (token is not None and token.type == "$END")
    if at_end:
        unclosed = _unclosed_bracket(text)
        if unclosed is not None:
            char, line, column = unclosed
            closer = {"{": "}", "(": ")", "[": "]"}[char]
            return ParseError(
                f"'{char}' is never closed: expected '{closer}' before the end of the file",
                loc(line, column),
            )
        last = len(lines)
        while last > 1 and not lines[last - 1].strip():
            last -= 1
        where = loc(last, len(lines[last - 1]) + 1 if lines else 1)
        found = "end of file"
    elif token is not None:
        where = loc(token.line or 1, token.column or 1)
        found = describe_token(token)
    else:
        where = loc(err.line, err.column)
        found = "something unexpected"
    label = None
    if isinstance(err, UnexpectedToken):
        # use_accepts=False: lark 1.3 crashes formatting a debug message on that path.
        label = err.match_examples(_lark().parse, EXAMPLES, token_type_match_fallback=True,
                                   use_accepts=False)
        if label is None:
            label = _match_by_state(err)
    if label is not None:
        return ParseError(label.replace("{found}", found), where)
    accepts = getattr(err, "accepts", None) or getattr(err, "expected", None) or set()
    return ParseError(f"expected {describe_expected(accepts, _patterns())}, found {found}", where)


@functools.cache
def _patterns() -> dict[str, str]:
    """Token type -> its literal text, for the tokens that are fixed strings."""
    return {t.name: t.pattern.value for t in _lark().terminals if t.pattern.type == "str"}


@functools.cache
def _example_states() -> dict[tuple[int, str], str]:
    """(LALR state, token type) of each example error, for errors nested deeper than the
    examples (lark's ``match_examples`` also compares the depth of the parser stack)."""
    table: dict[tuple[int, str], str] = {}
    for label, snippets in EXAMPLES.items():
        for snippet in snippets:
            try:
                _lark().parse(snippet)
            except UnexpectedToken as err:
                table.setdefault((err.state.position, err.token.type), label)
                table.setdefault((err.state.position, "*"), label)
            except UnexpectedInput:
                pass
    return table


def _match_by_state(err: UnexpectedToken) -> str | None:
    if err.state is None:
        return None
    table = _example_states()
    position = err.state.position
    return table.get((position, err.token.type)) or table.get((position, "*"))


def _unclosed_bracket(text: str) -> tuple[str, int, int] | None:
    """The innermost bracket left open at the end of ``text`` (char, line, column)."""
    stack: list[tuple[str, int, int]] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    line, column, i, n = 1, 1, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#" or text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
                column += 1
            continue
        if ch == '"':
            j = text.find('"', i + 1)
            j = n if j < 0 else j + 1
            column += j - i
            i = j
            continue
        if ch in "([{":
            stack.append((ch, line, column))
        elif ch in pairs and stack and stack[-1][0] == pairs[ch]:
            stack.pop()
        if ch == "\n":
            line, column = line + 1, 1
        else:
            column += 1
        i += 1
    return stack[-1] if stack else None


# ---- tree -> syntax nodes ----------------------------------------------------------------

_BINARY = {
    "or_op": "or", "and_op": "and", "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">",
    "ge": ">=", "add": "+", "sub": "-", "mul": "*", "div": "/", "floordiv": "//", "mod": "%",
    "pow": "**",
}


@v_args(meta=True)
class _Build(Transformer_NonRecursive[Token, Any]):
    """Build :mod:`~spikec.dsl.syntax` nodes; every node gets a SourceLocation."""

    def __init__(self, filename: str, lines: list[str]) -> None:
        super().__init__(visit_tokens=False)
        self._file = filename
        self._lines = lines
        self._locs: dict[tuple[int, int], SourceLocation] = {}

    # -- locations --

    def _loc(self, line: int, column: int) -> SourceLocation:
        key = (line, column)
        loc = self._locs.get(key)
        if loc is None:
            text = self._lines[line - 1] if 0 < line <= len(self._lines) else None
            loc = self._locs[key] = SourceLocation(self._file, line, column, text)
        return loc

    def _at(self, meta: Any) -> SourceLocation:
        return self._loc(meta.line, meta.column)

    def _tok(self, tok: Token) -> SourceLocation:
        return self._loc(tok.line or 1, tok.column or 1)

    def _name(self, tok: Token) -> str:
        """A name token's text; reserved words are refused even where the contextual
        lexer let them through as names."""
        if tok in KEYWORDS:
            raise ParseError(
                f"'{tok}' is a reserved word and cannot be used as a name", self._tok(tok)
            )
        return str(tok)

    # -- program structure --

    def start(self, meta: Any, children: list[Any]) -> list[s.Statement]:
        return [c for c in children if not isinstance(c, Token)]

    def block(self, meta: Any, children: list[Any]) -> tuple[s.Statement, ...]:
        return tuple(c for c in children if not isinstance(c, Token))

    # -- declarations --

    def size(self, meta: Any, children: list[Any]) -> _Part:
        return _Part("size", children[0])

    def params(self, meta: Any, children: list[s.Param]) -> tuple[s.Param, ...]:
        return tuple(children)

    def param(self, meta: Any, children: list[Any]) -> s.Param:
        name, value = children
        return s.Param(self._name(name), value, self._tok(name))

    def input_decl(self, meta: Any, children: list[Any]) -> s.InputDecl:
        name, *rest = children
        size = rest[0].value if rest else None
        return s.InputDecl(self._name(name), size, self._at(meta), self._tok(name))

    def neuron_decl(self, meta: Any, children: list[Any]) -> s.NeuronDecl:
        return self._neuron(meta, None, children)

    def kind_neuron(self, meta: Any, children: list[Any]) -> s.NeuronDecl:
        kind, *rest = children
        return self._neuron(meta, self._name(kind), rest)

    def _neuron(self, meta: Any, kind: str | None, children: list[Any]) -> s.NeuronDecl:
        name = children[0]
        size = None
        params: tuple[s.Param, ...] = ()
        for child in children[1:]:
            if isinstance(child, _Part):
                size = child.value
            else:
                params = child
        return s.NeuronDecl(self._name(name), size, params, kind, self._at(meta), self._tok(name))

    def kind_decl(self, meta: Any, children: list[Any]) -> s.KindDecl:
        name, params = children
        return s.KindDecl(self._name(name), params, self._at(meta), self._tok(name))

    def connect(self, meta: Any, children: list[Any]) -> s.Connect:
        pre, post, *rest = children
        return s.Connect(pre, post, rest[0] if rest else (), self._at(meta))

    # -- references --

    def ref(self, meta: Any, children: list[Any]) -> s.Ref:
        name, *accessors = children
        return s.Ref(self._name(name), tuple(accessors), self._tok(name))

    def attr(self, meta: Any, children: list[Any]) -> s.Attr:
        return s.Attr(self._name(children[0]), self._at(meta))

    def index(self, meta: Any, children: list[Any]) -> s.Index:
        return s.Index(children[0], self._at(meta))

    def slice(self, meta: Any, children: list[Any]) -> s.Slice:
        return s.Slice(children[0], children[1], self._at(meta))

    def whole(self, meta: Any, children: list[Any]) -> s.Whole:
        return s.Whole(self._at(meta))

    # -- values and control --

    def let_index(self, meta: Any, children: list[Any]) -> _Part:
        return _Part("index", children[0])

    def let_stmt(self, meta: Any, children: list[Any]) -> s.Let:
        name, *rest = children
        index = rest[0].value if len(rest) == 2 else None
        return s.Let(self._name(name), index, rest[-1], self._at(meta), self._tok(name))

    def for_stmt(self, meta: Any, children: list[Any]) -> s.For:
        var, start, stop, body = children
        return s.For(self._name(var), start, stop, body, self._at(meta), self._tok(var))

    def if_stmt(self, meta: Any, children: list[Any]) -> s.If:
        cond, then, *rest = children
        orelse: tuple[s.Statement, ...] = ()
        if rest:
            orelse = rest[0] if isinstance(rest[0], tuple) else (rest[0],)
        return s.If(cond, then, orelse, self._at(meta))

    # -- circuits and imports --

    def circuit_def(self, meta: Any, children: list[Any]) -> s.CircuitDef:
        name = children[0]
        params: tuple[s.Name, ...] = ()
        inputs: tuple[s.Port, ...] = ()
        outputs: tuple[s.Port, ...] = ()
        body: tuple[s.Statement, ...] = ()
        for child in children[1:]:
            if isinstance(child, _Part):
                if child.tag == "params":
                    params = child.value
                else:
                    outputs = child.value
            elif isinstance(child, list):
                inputs = tuple(child)
            else:
                body = child
        return s.CircuitDef(self._name(name), params, inputs, outputs, body, self._at(meta),
                            self._tok(name))

    def circuit_params(self, meta: Any, children: list[Any]) -> _Part:
        names = [c for c in children if isinstance(c, Token) and c.type == "NAME"]
        return _Part("params", tuple(s.Name(self._name(c), self._tok(c)) for c in names))

    def outputs(self, meta: Any, children: list[Any]) -> _Part:
        return _Part("outputs", tuple(children[0]) if children else ())

    def ports(self, meta: Any, children: list[s.Port]) -> list[s.Port]:
        return list(children)

    def port(self, meta: Any, children: list[Any]) -> s.Port:
        name, *rest = children
        return s.Port(self._name(name), rest[0].value if rest else None, self._tok(name))

    def import_file(self, meta: Any, children: list[Any]) -> s.ImportFile:
        path = children[0]
        return s.ImportFile(str(path)[1:-1], self._at(meta), self._tok(path))

    def import_lib(self, meta: Any, children: list[Any]) -> s.ImportLib:
        return s.ImportLib(tuple(str(c) for c in children), self._at(meta))

    def import_model(self, meta: Any, children: list[Any]) -> s.ImportModel:
        word, path, *options, alias = children
        if str(word) != "model":
            raise ParseError(
                f"expected 'model' (as in: import model \"net.h5\" as mlp), found name '{word}'",
                self._tok(word),
            )
        given = tuple(p for p in (options[0] if options else ()) if p is not None)
        return s.ImportModel(str(path)[1:-1], self._name(alias), self._at(meta), self._tok(path), given)

    # -- stimulus and probes --

    def stimulus_stmt(self, meta: Any, children: list[Any]) -> s.Stimulus:
        target, source = children
        return s.Stimulus(target, source, self._at(meta))

    def stim_at(self, meta: Any, children: list[Any]) -> s.StimAt:
        return s.StimAt(tuple(children), self._at(meta))

    def stim_call(self, meta: Any, children: list[Any]) -> s.StimCall:
        name, *args = children
        when = None
        if args and isinstance(args[-1], _Part):
            when = args.pop().value
        return s.StimCall(str(name), tuple(args), when, self._at(meta))

    def stim_when(self, meta: Any, children: list[Any]) -> _Part:
        return _Part("when", children[0])

    def probe_stmt(self, meta: Any, children: list[s.ProbeItem]) -> s.Probe:
        return s.Probe(tuple(children), self._at(meta))

    def probe_ref(self, meta: Any, children: list[Any]) -> s.ProbeItem:
        return s.ProbeItem(None, (children[0],), self._at(meta))

    def probe_decoded(self, meta: Any, children: list[Any]) -> s.ProbeItem:
        name, *refs = children
        return s.ProbeItem(str(name), tuple(refs), self._at(meta))

    # -- Boolean gates and balancing --

    def gate_stmt(self, meta: Any, children: list[Any]) -> s.Gate:
        word, target, expr = children
        if str(word) != "gate":
            raise ParseError(
                f"expected '->' after a neuron reference, or 'gate NAME = expression',"
                f" found name '{word}'", self._tok(word))
        return s.Gate(target, expr, self._at(meta))

    def balance_stmt(self, meta: Any, children: list[s.Ref]) -> s.Balance:
        return s.Balance(tuple(children), self._at(meta))

    def bool_var(self, meta: Any, children: list[s.Ref]) -> s.BoolVar:
        return s.BoolVar(children[0], children[0].loc)

    def bool_const(self, meta: Any, children: list[Token]) -> s.BoolConst:
        tok = children[0]
        if str(tok) not in ("0", "1"):
            raise ParseError(f"a gate expression takes the constants 0 and 1, found {tok}",
                             self._tok(tok))
        return s.BoolConst(str(tok) == "1", self._tok(tok))

    def bool_true(self, meta: Any, children: list[Any]) -> s.BoolConst:
        return s.BoolConst(True, self._at(meta))

    def bool_false(self, meta: Any, children: list[Any]) -> s.BoolConst:
        return s.BoolConst(False, self._at(meta))

    def bool_not_op(self, meta: Any, children: list[Any]) -> s.BoolNot:
        return s.BoolNot(children[0], self._at(meta))

    def _bool_op(self, op: str, meta: Any, children: list[Any]) -> s.BoolOp:
        left, right = children
        return s.BoolOp(op, left, right, left.loc)

    def bool_and_op(self, meta: Any, children: list[Any]) -> s.BoolOp:
        return self._bool_op("&", meta, children)

    def bool_or_op(self, meta: Any, children: list[Any]) -> s.BoolOp:
        return self._bool_op("|", meta, children)

    def bool_xor_op(self, meta: Any, children: list[Any]) -> s.BoolOp:
        return self._bool_op("^", meta, children)

    def bool_implies(self, meta: Any, children: list[Any]) -> s.BoolOp:
        return self._bool_op("->", meta, children)

    # -- expressions --

    def int_lit(self, meta: Any, children: list[Token]) -> s.Number:
        tok = children[0]
        try:
            value = int(tok)
        except ValueError:
            raise ParseError(
                f"integer literal too long ({len(tok)} digits)", self._tok(tok)
            ) from None
        return s.Number(value, self._tok(tok))

    def float_lit(self, meta: Any, children: list[Token]) -> s.Number:
        tok = children[0]
        value = float(tok)
        if value in (float("inf"), float("-inf")):
            raise ParseError(f"number {tok} is too large", self._tok(tok))
        return s.Number(value, self._tok(tok))

    def string_lit(self, meta: Any, children: list[Token]) -> s.String:
        tok = children[0]
        return s.String(str(tok)[1:-1], self._tok(tok))

    def true_lit(self, meta: Any, children: list[Any]) -> s.Boolean:
        return s.Boolean(True, self._at(meta))

    def false_lit(self, meta: Any, children: list[Any]) -> s.Boolean:
        return s.Boolean(False, self._at(meta))

    def neg(self, meta: Any, children: list[Any]) -> s.Unary:
        return s.Unary("-", children[0], self._at(meta))

    def pos(self, meta: Any, children: list[Any]) -> s.Unary:
        return s.Unary("+", children[0], self._at(meta))

    def not_op(self, meta: Any, children: list[Any]) -> s.Unary:
        return s.Unary("not", children[0], self._at(meta))

    def call(self, meta: Any, children: list[Any]) -> s.Call:
        name, *args = children
        params = None
        if args and isinstance(args[0], _Part):
            params = args.pop(0).value
        return s.Call(self._name(name), params, tuple(args), self._tok(name))

    def call_params(self, meta: Any, children: list[Any]) -> _Part:
        return _Part("params", tuple(c for c in children if not isinstance(c, Token)))

    def __default__(self, data: str, children: list[Any], meta: Any) -> Any:
        op = _BINARY.get(data)
        if op is None:
            return Tree(data, children, meta)
        left, *rest = children
        right = rest[-1]  # a kept FLOORDIV token sits between the operands
        return s.Binary(op, left, right, left.loc if hasattr(left, "loc") else self._at(meta))
