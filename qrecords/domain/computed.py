"""Computed fields: a schema's `computed:` expression, read with Python's ast module and a
whitelist of node types (nothing the document controller writes is ever evaluated as Python),
and its value worked out from a record's data.

The grammar: numbers, field ids, + - * / and parentheses, and three aggregates of a table
column: sum(items.quantity), average(items.quantity), count(items) (rows) or
count(items.quantity) (rows with a value in that column). Inside a table column the names are
the row's other columns and aggregates are not allowed.

Arithmetic is exact: decimal.Decimal with 60 significant digits; only the final value is
rounded, half up, to the field's places (a decimal field without places: 2; an integer field:
a whole number). An empty operand makes the value empty: a sum or an average of no values
(an empty table, or a column empty in every row) is empty; a count of none is 0. Division by
zero is refused (ExpressionError at evaluation).
"""

from __future__ import annotations

import ast
import decimal
from functools import lru_cache
from typing import NamedTuple

FUNCTIONS = ("sum", "average", "count")
NUMERIC = ("integer", "decimal")
_MAX_TEXT = 500  # characters: a formula on a form, not a program
_PRECISION = decimal.Context(prec=60)
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


class ExpressionError(ValueError):
    """A computed expression that cannot be read, or a value it cannot give; the message
    says what, in a few words."""


class Computed(NamedTuple):
    """A checked expression. `names`: the field (or, in a table, column) ids it reads;
    `aggregates`: (function, table id, column id or None) it reads. `typed_when_empty`: the
    older `product_of` rule, kept for the revisions frozen with it: a value typed while an
    operand is empty is kept, and an amendment computes it again only when an operand
    changes. Its syntax tree is made from `text` when it is first evaluated in a process
    (_tree), so that a form is a plain value: equal to its copy, picklable."""

    text: str
    names: tuple[str, ...]
    aggregates: tuple[tuple[str, str, str | None], ...]
    typed_when_empty: bool = False

    def inputs(self) -> list[str]:
        """Every field id the value depends on (tables by their own id)."""
        return list(dict.fromkeys([*self.names, *(t for _, t, _ in self.aggregates)]))


def parse_expression(text: object, in_table: bool = False,
                     typed_when_empty: bool = False) -> Computed:
    """`text` (str, e.g. "quantity * unit_price" or "sum(items.amount) / count(items)")
    parsed into a Computed. Raises ExpressionError naming what is not allowed."""
    if not isinstance(text, (str, int, float)) or isinstance(text, bool) or \
            not str(text).strip():
        raise ExpressionError("must be an expression such as quantity * unit_price")
    text = str(text).strip()
    if len(text) > _MAX_TEXT:
        raise ExpressionError(f"is longer than {_MAX_TEXT} characters")
    try:
        tree = _tree(text)  # kept for evaluate()
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExpressionError(f"'{text}' is not an expression of numbers, field ids, "
                              "+ - * / ( ) and sum/average/count(table.column)") from None
    names: list[str] = []
    aggregates: list[tuple[str, str, str | None]] = []
    _check(tree, text, in_table, names, aggregates)
    return Computed(text, tuple(dict.fromkeys(names)), tuple(dict.fromkeys(aggregates)),
                    typed_when_empty)


def _check(node, text: str, in_table: bool, names: list, aggregates: list) -> None:
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        _check(node.left, text, in_table, names, aggregates)
        _check(node.right, text, in_table, names, aggregates)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        _check(node.operand, text, in_table, names, aggregates)
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        _number(node, text)
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id} needs a column: {node.id}(table.column)")
        names.append(node.id)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id in FUNCTIONS:
        if in_table:
            raise ExpressionError(f"{node.func.id}() is not allowed inside a table row")
        aggregates.append(_aggregate(node, text))
    else:
        shown = ast.get_source_segment(text, node) or type(node).__name__
        raise ExpressionError(f"'{shown}' is not allowed (only numbers, field ids, + - * / "
                              "( ) and sum/average/count(table.column))")


def _aggregate(node: ast.Call, text: str) -> tuple[str, str, str | None]:
    function = node.func.id
    if node.keywords or len(node.args) != 1:
        raise ExpressionError(f"{function}() takes one table column: {function}(table.column)")
    arg = node.args[0]
    if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name):
        return function, arg.value.id, arg.attr
    if function == "count" and isinstance(arg, ast.Name):
        return function, arg.id, None
    raise ExpressionError(f"'{ast.get_source_segment(text, node)}': {function}() takes a "
                          f"table column, e.g. {function}(items.quantity)")


def _number(node: ast.Constant, text: str) -> decimal.Decimal:
    """A literal as written (0.1 stays exactly 0.1: never through a float)."""
    try:
        return decimal.Decimal((ast.get_source_segment(text, node) or "").replace("_", ""))
    except decimal.InvalidOperation:
        raise ExpressionError(f"'{ast.get_source_segment(text, node)}' is not a plain "
                              "number") from None


def evaluate(computed: Computed, values: dict) -> decimal.Decimal | None:
    """The exact value of `computed` for `values` (a record's clean data, or one clean table
    row: {field id: stored value}; decimals as str, integers as int, tables as lists of row
    dicts), or None when an operand is empty. Raises ExpressionError for division by zero."""
    with decimal.localcontext(_PRECISION):
        return _value(_tree(computed.text), computed.text, values)


@lru_cache(maxsize=256)
def _tree(text: str) -> ast.expr:
    """The syntax tree of an expression (parse_expression checks it, evaluate reads it; no
    one changes it). Raises SyntaxError, ValueError."""
    return ast.parse(text, mode="eval").body


class _Empty(Exception):
    pass


def _value(node, text: str, values: dict) -> decimal.Decimal | None:
    try:
        return _eval(node, text, values)
    except _Empty:
        return None


def _eval(node, text: str, values: dict) -> decimal.Decimal:
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, text, values), _eval(node.right, text, values)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if right == 0:
            raise ExpressionError(f"division by zero in {text}")
        return left / right
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, text, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Constant):
        return _number(node, text)
    if isinstance(node, ast.Name):
        return _operand(values.get(node.id))
    return _aggregate_value(node, values)


def _operand(value) -> decimal.Decimal:
    if value is None:
        raise _Empty
    return decimal.Decimal(str(value))


def _aggregate_value(node: ast.Call, values: dict) -> decimal.Decimal:
    arg = node.args[0]
    rows = values.get(arg.value.id if isinstance(arg, ast.Attribute) else arg.id) or []
    if isinstance(arg, ast.Name):  # count(table): its rows
        return decimal.Decimal(len(rows))
    cells = [row.get(arg.attr) for row in rows]
    cells = [decimal.Decimal(str(c)) for c in cells if c is not None]
    if node.func.id == "count":
        return decimal.Decimal(len(cells))
    if not cells:  # the sum or the average of nothing: an empty operand (README)
        raise _Empty
    total = sum(cells, decimal.Decimal(0))
    return total if node.func.id == "sum" else total / len(cells)


def rounded(value: decimal.Decimal, field_type: str, places: int | None) -> object:
    """`value` as a field stores it: an integer field's int, else a decimal str with the
    field's places (2 when it has none), rounded half up."""
    digits = 0 if field_type == "integer" else (2 if places is None else places)
    exact = value.quantize(decimal.Decimal(1).scaleb(-digits), decimal.ROUND_HALF_UP,
                           context=_PRECISION)
    return int(exact) if field_type == "integer" else str(exact)


def dependency_order(fields, where: str = "field") -> list:
    """The computed ones of `fields` (Field objects of one scope: a form's top level or a
    table's columns), each after the computed fields it reads. Raises ExpressionError naming
    the first cycle found ("field 'a': computed: a cycle a → b → a")."""
    computed = {f.id: f for f in fields if f.computed is not None}
    done: list = []
    state: dict[str, str] = {}

    def visit(fid: str, path: list[str]) -> None:
        if state.get(fid) == "done":
            return
        if state.get(fid) == "visiting":
            cycle = path[path.index(fid):] + [fid]
            raise ExpressionError(f"{where} '{cycle[0]}': computed: a cycle "
                                  f"{' → '.join(cycle)}")
        state[fid] = "visiting"
        for name in computed[fid].computed.inputs():
            if name in computed:
                visit(name, path + [fid])
        state[fid] = "done"
        done.append(computed[fid])

    for fid in computed:
        visit(fid, [])
    return done
