"""Form verbs: the workspace's forms, and `forms check`, which lints a form before it is used.

A form is data (a YAML schema and a DOCX template) that a document controller writes; a check
finds what would otherwise fail or misprint in use: a broken schema, placeholders that are no
field, required fields the template leaves out, roles and limits the settings do not define,
and fields a report relies on.
"""

from __future__ import annotations

from typing import TypedDict

from ..domain.forms import RESERVED, Form
from ..domain.statistics_fields import missing_fields, reports_of
from ..errors import FormError, suggest
from ..render.docx import template_names
from ..workspace import Workspace

# What a template may use of the context besides the fields (render/context.py).
CONTEXT_ATTRIBUTES = {
    "org": {"name", "name_en"},
    "form": {"id", "title", "title_zh", "title_en", "number", "revision"},
    "record": {"number", "version", "status_label", "date"},
}


class FormSummary(TypedDict):
    id: str
    title: dict  # {zh, en}
    form_number: str
    revision: str
    number_pattern: str
    fields: int  # how many


def list_forms(ws: Workspace) -> list[Form]:
    """The workspace's forms, by id. Raises FormError for a broken schema."""
    return list(ws.forms.all_current().values())


def summary(form: Form) -> FormSummary:
    return {"id": form.id, "title": {"zh": form.title.zh, "en": form.title.en},
            "form_number": form.form_number, "revision": form.revision,
            "number_pattern": form.number_pattern, "fields": len(form.fields)}


def check_form(ws: Workspace, form_id: str) -> list[str]:
    """Every problem of a form, one line each naming the file: schema, template file,
    placeholders, workflow roles and limits, the fields reports need. Empty when sound.
    Raises NotFound for an unknown form."""
    try:
        form = ws.forms.current(form_id)
        problems = template_problems(form, ws.forms.template(form))
    except FormError as exc:
        return str(exc).splitlines()
    return problems + _workflow_problems(ws, form) + [
        f"schemas/{form.id}.yaml: report {report}: {problem}"
        for report in reports_of(form.id) for problem in missing_fields(report, form)]


def _workflow_problems(ws: Workspace, form: Form) -> list[str]:
    """Roles no user of the settings has, and limits they do not set."""
    where = f"schemas/{form.id}.yaml: workflow"
    limits = ws.settings.limits
    held = {r for user in ws.catalog.users() if not user["disabled"] for r in user["roles"]}
    problems = [f"{where}: role '{role}' is held by no enabled user (qrec users)"
                f"{suggest(role, held)}" for role in sorted(form.workflow.roles() - held)]
    return problems + [f"{where}: limits.{name} is not set in qrecords.yaml"
                       f"{suggest(name, limits)}"
                       for name in sorted(form.workflow.limit_names() - set(limits))]


def template_problems(form: Form, template: bytes) -> list[str]:
    """What in a form's template does not fit its schema: placeholders that are no field,
    attributes the context lacks, loops over what is no table, required fields left out.
    Raises FormError when the template is no readable DOCX."""
    where = f"templates/{form.template}"
    names, tables, attributes = template_names(template, where)
    problems = []
    fields = {f.id: f for f in form.fields}
    for name in sorted(names - RESERVED):
        if name not in fields:
            problems.append(f"{where}: placeholder '{name}' is not a field of {form.id}"
                            f"{suggest(name, fields)}")
    for base, attrs in sorted(attributes.items()):
        allowed = CONTEXT_ATTRIBUTES.get(base, set())
        for attr in sorted(attrs - allowed):
            problems.append(f"{where}: '{base}.{attr}' is not available; {base} has "
                            f"{', '.join(sorted(allowed)) or 'no attributes'}")
    for table, columns in sorted(tables.items()):
        field = fields.get(table)
        if field is None or field.type != "table":
            problems.append(f"{where}: loop over '{table}', which is not a table field")
            continue
        known = {c.id for c in field.columns}
        for column in sorted(columns - known):
            problems.append(f"{where}: '{table}' has no column '{column}'"
                            f"{suggest(column, known)}")
    mentioned = names | set(tables)
    for field in form.fields:
        if field.required and field.id not in mentioned:
            problems.append(f"{where}: required field '{field.id}' does not appear")
    return problems
