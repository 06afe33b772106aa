"""A form's YAML schema parsed into a Form, every mistake in it reported at once with the file,
the field and what is wrong."""

from __future__ import annotations

import re
from typing import Callable

from ..errors import FormError, suggest
from .computed import NUMERIC, ExpressionError, dependency_order, parse_expression
from .fields import TYPES, Choice, Field, Invalid, Label
from .forms import RESERVED, Form, Retention
from .workflow_schema import parse_workflow

_ID = re.compile(r"[a-z][a-z0-9_]{0,47}")
_TOP_KEYS = {"id", "title", "form_number", "revision", "number_pattern", "retention",
             "template", "title_fields", "date_field", "customer_field", "workflow", "fields"}
_FIELD_KEYS = {"id", "type", "label", "help", "required", "sensitive", "default", "min", "max",
               "min_length", "max_length", "pattern", "places", "choices", "columns",
               "min_rows", "max_rows", "key", "computed", "product_of"}
_RETENTION_EVENTS = ("closure", "creation")
_PATTERN_TOKEN = re.compile(r"\{(yyyy|yy|mm|dd|seq:\d{2})\}")


_parsed: dict[str, Form] = {}


def parse_form(text: str, where: str, load: Callable[[str], object] | None = None) -> Form:
    """Parse and check schema text; `where` names it in errors. A text is parsed once per
    process, whether it comes from the workspace's file or the catalog's frozen copy.
    `load(text)` gives the YAML document (the workspace's cross-process cache, which the
    checks below then see as they see a fresh parse); PyYAML's safe loader when None.
    Raises FormError listing every problem."""
    if text not in _parsed:
        _parsed[text] = _parse_schema(text, where, load or _safe_load)
    return _parsed[text]


def _safe_load(text: str):
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _yaml_error() -> type[Exception]:
    import yaml

    return yaml.YAMLError


def _parse_schema(text: str, where: str, load: Callable[[str], object]) -> Form:
    try:
        doc = load(text)
    except _yaml_error() as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark else ""
        raise FormError(f"{where}:{at}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    checker = _SchemaChecker(where)
    form = checker.form(doc, text)
    if checker.problems:
        raise FormError("\n".join(checker.problems))
    return form


class _SchemaChecker:
    """Builds a Form from parsed YAML, collecting every problem instead of stopping at one."""

    def __init__(self, where: str):
        self.where = where
        self.problems: list[str] = []

    def bad(self, place: str, what: str) -> None:
        self.problems.append(f"{self.where}: {place}: {what}")

    def form(self, doc, text: str) -> Form | None:
        if not isinstance(doc, dict):
            self.bad("top level", "a schema must be a mapping of keys (id, title, fields, ...)")
            return None
        for key in doc:
            if key not in _TOP_KEYS:
                self.bad("top level", f"unknown key '{key}'{suggest(str(key), _TOP_KEYS)}")
        for key in ("id", "title", "form_number", "revision", "number_pattern", "template",
                    "fields"):
            if key not in doc:
                self.bad("top level", f"missing required key '{key}'")
        form_id = str(doc.get("id", ""))
        if "id" in doc and not _ID.fullmatch(form_id):
            self.bad("id", f"'{form_id}' must be lower-case letters, digits and _")
        title = self.label(doc.get("title"), "title")
        pattern = str(doc.get("number_pattern", ""))
        self.number_pattern(pattern)
        template = str(doc.get("template", ""))
        if "template" in doc and (not template.endswith(".docx") or "/" in template
                                  or "\\" in template or template.startswith(".")):
            self.bad("template", f"'{template}' must be a .docx file name in templates/")
        fields = self.fields(doc.get("fields"), "field")
        ids = {f.id for f in fields}
        title_fields = doc.get("title_fields", [])
        if not isinstance(title_fields, list):
            self.bad("title_fields", "must be a list of field ids")
            title_fields = []
        by_id = {f.id: f for f in fields}
        for fid in title_fields:
            if fid not in ids:
                self.bad("title_fields", f"unknown field '{fid}'{suggest(str(fid), ids)}")
            elif by_id[fid].sensitive:
                self.bad("title_fields", f"'{fid}' is sensitive; titles appear in listings "
                         "and search results for everyone")
        date_field = self.role_field(doc, "date_field", by_id, {"date"})
        customer_field = self.role_field(doc, "customer_field", by_id, {"text", "choice"})
        workflow = parse_workflow(doc.get("workflow"), by_id, self.bad)
        retention = self.retention(doc.get("retention", {"period": "3y", "from": "closure"}),
                                   {f.id for f in fields if f.type == "date"})
        self.cross_checks(fields)
        if self.problems:
            return None
        return Form(id=form_id, title=title, form_number=str(doc["form_number"]),
                    revision=str(doc["revision"]), number_pattern=pattern, retention=retention,
                    template=template, title_fields=tuple(title_fields), date_field=date_field,
                    customer_field=customer_field, fields=tuple(fields), workflow=workflow,
                    source=text)

    def role_field(self, doc: dict, key: str, by_id: dict, types: set[str]) -> str | None:
        """An optional top-level key naming a non-sensitive field of one of `types`."""
        if key not in doc:
            return None
        fid = str(doc[key])
        field = by_id.get(fid)
        if field is None:
            self.bad(key, f"unknown field '{fid}'{suggest(fid, by_id)}")
        elif field.type not in types or field.sensitive:
            self.bad(key, f"'{fid}' must be a non-sensitive {' or '.join(sorted(types))} field")
        return fid

    def label(self, value, place: str) -> Label:
        if isinstance(value, dict) and set(value) in ({"zh"}, {"zh", "en"}) and all(
                isinstance(v, str) and v.strip() for v in value.values()):
            return Label(value["zh"].strip(), value.get("en", "").strip())
        self.bad(place, "must have a Chinese text and, optionally, an English one: "
                 "{zh: ..., en: ...}")
        return Label("", "")

    def number_pattern(self, pattern: str) -> None:
        if not pattern:
            return
        tokens = _PATTERN_TOKEN.findall(pattern)
        literal = _PATTERN_TOKEN.sub("", pattern)
        if sum(t.startswith("seq") for t in tokens) != 1:
            self.bad("number_pattern", f"'{pattern}' needs exactly one {{seq:NN}}")
        if "{" in literal or "}" in literal:
            self.bad("number_pattern", f"'{pattern}' has an unknown token; use "
                     "{yyyy} {yy} {mm} {dd} {seq:NN}")
        if not re.fullmatch(r"[A-Za-z0-9_-]*", literal.replace("{", "").replace("}", "")):
            self.bad("number_pattern", f"'{pattern}': only letters, digits, - and _ are "
                     "allowed (numbers become file names)")

    def retention(self, value, date_fields: set[str]) -> Retention | None:
        if not isinstance(value, dict):
            self.bad("retention", "must be a mapping {period: 3y, from: closure, action: destroy}")
            return None
        for key in value:
            if key not in ("period", "from", "action"):
                self.bad("retention", f"unknown key '{key}'")
        period = str(value.get("period", ""))
        match = re.fullmatch(r"([1-9]\d{0,2})([ymd])", period)
        if not match:
            self.bad("retention.period", f"'{period}' must be a number from 1 to 999 and y, m "
                     "or d, e.g. 3y")
            return None
        runs_from = str(value.get("from", "closure"))
        if runs_from not in _RETENTION_EVENTS and not (
                runs_from.startswith("field:") and runs_from[6:] in date_fields):
            self.bad("retention.from", f"'{runs_from}' must be closure, creation or "
                     "field:<a date field>")
        action = str(value.get("action", "destroy"))
        if action not in ("destroy", "transfer"):
            self.bad("retention.action", f"'{action}' must be destroy or transfer")
        amount, unit = int(match.group(1)), match.group(2)
        return Retention(years=amount if unit == "y" else 0, months=amount if unit == "m" else 0,
                         days=amount if unit == "d" else 0, runs_from=runs_from, action=action,
                         text=period)

    def fields(self, value, kind: str, in_table: bool = False) -> list[Field]:
        if not isinstance(value, list) or not value:
            self.bad("fields" if kind == "field" else kind, "must be a non-empty list")
            return []
        fields, seen = [], set()
        for index, spec in enumerate(value):
            made = self.field(spec, f"{kind} #{index + 1}", in_table)
            if made is None:
                continue
            if made.id in seen:
                self.bad(f"{kind} '{made.id}'", "is defined twice")
            seen.add(made.id)
            fields.append(made)
        return fields

    def field(self, spec, place: str, in_table: bool) -> Field | None:
        if not isinstance(spec, dict):
            self.bad(place, "must be a mapping with id, type and label")
            return None
        fid = str(spec.get("id", ""))
        if fid:
            place = f"{place.split(' #')[0]} '{fid}'"
        before = len(self.problems)
        for key in spec:
            if key not in _FIELD_KEYS:
                self.bad(place, f"unknown key '{key}'{suggest(str(key), _FIELD_KEYS)}")
        if not _ID.fullmatch(fid):
            self.bad(place, f"id '{fid}' must be lower-case letters, digits and _")
        elif fid in RESERVED and not in_table:
            self.bad(place, f"id '{fid}' is reserved for the template ({', '.join(RESERVED)})")
        ftype = spec.get("type")
        if ftype not in TYPES:
            self.bad(place, f"type '{ftype}' must be one of {', '.join(TYPES)}"
                     f"{suggest(str(ftype), TYPES)}")
            return None
        if in_table and ftype == "table":
            self.bad(place, "a table column cannot itself be a table")
        if spec.get("sensitive") and (in_table or ftype == "table"):
            self.bad(place, "sensitive is only for fields outside tables (masking works per "
                     "field)")
        label = self.label(spec.get("label"), f"{place} label")
        help_ = self.label(spec["help"], f"{place} help") if "help" in spec else None
        choices = self.choices(spec.get("choices"), place) if ftype == "choice" else ()
        if ftype != "choice" and "choices" in spec:
            self.bad(place, "choices are only for type choice")
        columns = ()
        if ftype == "table":
            columns = tuple(self.fields(spec.get("columns"), f"{place} column", in_table=True))
        elif "columns" in spec:
            self.bad(place, "columns are only for type table")
        for key in ("required", "sensitive"):
            if key in spec and not isinstance(spec[key], bool):
                self.bad(place, f"{key} must be true or false")
        for key in ("min_length", "max_length", "places", "min_rows", "max_rows"):
            if key in spec and (not isinstance(spec[key], int) or spec[key] < 0):
                self.bad(place, f"{key} must be a whole number >= 0")
        if isinstance(spec.get("places"), int) and spec["places"] > 8:
            self.bad(place, "places must be at most 8 (digits after the decimal point)")
        if "pattern" in spec:
            try:
                re.compile(str(spec["pattern"]))
            except re.error as exc:
                self.bad(place, f"pattern is not a valid regular expression: {exc}")
        computed = self.computed(spec, ftype, place, in_table)
        if len(self.problems) > before:
            return None
        made = Field(
            id=fid, type=ftype, label=label, help=help_,
            required=spec.get("required", False), sensitive=spec.get("sensitive", False),
            default=spec.get("default"), min=spec.get("min"), max=spec.get("max"),
            min_length=spec.get("min_length"), max_length=spec.get("max_length"),
            pattern=str(spec["pattern"]) if "pattern" in spec else None,
            places=spec.get("places"), choices=choices, columns=columns,
            min_rows=spec.get("min_rows", 1 if spec.get("required") and ftype == "table" else 0),
            max_rows=spec.get("max_rows"), key=spec.get("key"), computed=computed)
        self.limits(made, place)
        return made

    def choices(self, value, place: str) -> tuple[Choice, ...]:
        if not isinstance(value, list) or not value:
            self.bad(place, "a choice field needs choices: [{id, zh, en}, ...]")
            return ()
        made = []
        for spec in value:
            if not isinstance(spec, dict) or not _ID.fullmatch(str(spec.get("id", ""))):
                self.bad(place, f"choice {spec!r} needs an id of lower-case letters, digits, _")
                continue
            label = self.label({k: spec[k] for k in ("zh", "en") if k in spec},
                               f"{place} choice '{spec['id']}'")
            made.append(Choice(str(spec["id"]), label))
        if len({c.id for c in made}) != len(made):
            self.bad(place, "choice ids must be unique")
        return tuple(made)

    def limits(self, f: Field, place: str) -> None:
        """min/max/default must themselves be valid values of the field."""
        for key in ("min", "max"):
            bound = getattr(f, key)
            if bound is None:
                continue
            if f.type not in ("integer", "decimal", "date"):
                self.bad(place, f"{key} is only for integer, decimal and date fields")
                continue
            if f.type == "date" and bound == "today":  # the effective date of the entry
                continue
            try:
                Field(id=f.id, type=f.type, label=f.label).parse(bound)
            except Invalid as exc:
                self.bad(place, f"{key} {bound!r} {exc}")
        if f.default is not None and not (f.type == "date" and f.default == "today"):
            try:
                f.parse(f.default)
            except Invalid as exc:
                self.bad(place, f"default {f.default!r} {exc}")
        if f.key is not None:
            column = f.column(f.key)
            if column is None or column.type != "choice":
                self.bad(place, f"key '{f.key}' must name a choice column of the table")

    def computed(self, spec: dict, ftype: str, place: str, in_table: bool):
        """The field's `computed:` expression parsed (or None). `product_of: [a, b]`, the
        older spelling kept in revisions frozen before computed fields, means `a * b`."""
        if "computed" in spec and "product_of" in spec:
            self.bad(place, "give computed or product_of, not both")
            return None
        text = spec.get("computed")
        if "product_of" in spec:
            factors = spec["product_of"]
            if not isinstance(factors, list) or not factors or \
                    not all(isinstance(f, str) for f in factors):
                self.bad(place, "product_of must be a list of field ids")
                return None
            text = " * ".join(factors)
        if text is None:
            return None
        if ftype not in NUMERIC:
            self.bad(place, f"computed is only for integer and decimal fields, not {ftype}")
        if "default" in spec:
            self.bad(place, "a computed field takes no default (its value is computed)")
        try:
            return parse_expression(text, in_table, typed_when_empty="product_of" in spec)
        except ExpressionError as exc:
            self.bad(place, f"computed: {exc}")
            return None

    def cross_checks(self, fields: list[Field]) -> None:
        """What a computed expression reads exists and is a number; no computed field
        depends on itself."""
        by_id = {f.id: f for f in fields}
        for f in fields:
            if f.computed is not None:
                self.computed_inputs(f, by_id, f"field '{f.id}'")
            for column in f.columns:
                if column.computed is not None:
                    self.computed_inputs(column, {c.id: c for c in f.columns},
                                         f"field '{f.id}' column '{column.id}'")
        scopes = [(fields, "field")] + [(f.columns, f"field '{f.id}' column")
                                        for f in fields if f.columns]
        for scope, what in scopes:
            try:
                dependency_order(scope, what)
            except ExpressionError as exc:
                self.problems.append(f"{self.where}: {exc}")

    def computed_inputs(self, f: Field, by_id: dict, place: str) -> None:
        for name in f.computed.names:
            source = by_id.get(name)
            if source is None:
                self.bad(place, f"computed: unknown field '{name}'{suggest(name, by_id)}")
            elif source.type not in NUMERIC:
                self.bad(place, f"computed: '{name}' is a {source.type} field, not a number")
        for function, table_id, column_id in f.computed.aggregates:
            table = by_id.get(table_id)
            if table is None or table.type != "table":
                self.bad(place, f"computed: {function}({table_id}...): '{table_id}' is not a "
                         "table field")
                continue
            column = table.column(column_id) if column_id else None
            if column_id and column is None:
                self.bad(place, f"computed: table '{table_id}' has no column '{column_id}'"
                         f"{suggest(column_id, [c.id for c in table.columns])}")
            elif column is not None and function != "count" and column.type not in NUMERIC:
                self.bad(place, f"computed: {function}({table_id}.{column_id}): the column "
                         f"is {column.type}, not a number")


# -- record data -----------------------------------------------------------------------------
