"""Form verbs: the workspace's forms, and `forms check`, which lints a form before it is used.

A form is data (a YAML schema and a DOCX template) that a document controller writes; a
check finds what would otherwise fail or misprint in use. Errors: a broken schema, a
template with tracked changes or comments, placeholders that are no field, required fields
the template leaves out, a template that fails when filled in with sample data of every
field type, a number pattern another form has, roles, limits and departments the settings do
not define, fields a report relies on, and a frozen revision changed without a new revision
label. Warnings: optional fields the template leaves out.
"""

from __future__ import annotations

from typing import TypedDict

from .. import clock
from ..domain.forms import RESERVED, Form
from ..domain.sample_data import sample_records
from ..domain.statistics_fields import missing_fields, reports_of
from ..errors import FormError, NotFound, suggest
from ..render.context import build_context
from ..render.docx import render_docx, template_names
from ..render.template_marks import marks_problem
from ..workspace import Workspace
from .verify_forms import FROZEN, revision_sha256

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
    retired: dict | None  # the current revision's retirement (form_revisions.Retirement)


def list_forms(ws: Workspace) -> list[FormSummary]:
    """The workspace's forms, by id, each with its current revision and whether that is
    retired. Raises FormError for a broken schema."""
    from .form_revisions import retirements

    retired = retirements(ws)
    return [{"id": form.id, "title": {"zh": form.title.zh, "en": form.title.en},
             "form_number": form.form_number, "revision": form.revision,
             "number_pattern": form.number_pattern, "fields": len(form.fields),
             "retired": retired.get((form.id, form.revision))}
            for form in ws.forms.all_current().values()]


class FormCheck(TypedDict):
    errors: list[str]  # one line each, naming the file: the form cannot be used as it is
    warnings: list[str]  # one line each: the form works, but likely not as meant


def check_form(ws: Workspace, form_id: str) -> FormCheck:
    """Every problem of a form, one line each naming the file: schema, template file, a frozen
    revision changed without a new revision label (what `new` and `forms issue` refuse), tracked
    changes, placeholders, a trial fill-in with sample data, number pattern, workflow roles,
    limits and departments, the fields reports need (errors); optional fields the template
    leaves out (warnings). Both lists empty when sound. Raises NotFound for an unknown form."""
    try:
        form = ws.forms.current(form_id)
        template = ws.forms.template(form)
        frozen = frozen_problem(ws, form, template)
        errors = [frozen] if frozen else []
        errors += template_problems(form, template)
        errors += trial_problems(ws, form, template)
    except FormError as exc:
        return {"errors": str(exc).splitlines(), "warnings": []}
    errors += _pattern_problems(ws, form) + _workflow_problems(ws, form) + \
        _department_problems(ws, form) + [
            f"schemas/{form.id}.yaml: report {report}: {problem}"
            for report in reports_of(form.id) for problem in missing_fields(report, form)]
    return {"errors": errors, "warnings": unprinted_fields(form, template)}


def later_frozen(ws: Workspace, form_id: str, revision: str) -> str | None:
    """The form's latest frozen revision label when `revision` was frozen before it (the
    schema went back to an older revision), else None. One catalog read."""
    order = [e["detail"]["revision"] for e in ws.catalog.events_by_action([FROZEN])
             if e["detail"].get("form") == form_id]
    if revision not in order or order[-1] == revision:
        return None
    return order[-1]


def went_back(form: Form, later: str) -> str:
    """The one line refusing a schema set back to an older frozen revision."""
    return (f"schemas/{form.id}.yaml: 修订版本只能向前 revision {form.revision} was frozen "
            f"before {later}; revisions only move forward: give the schema a new revision "
            f"label (not {form.revision})")


def frozen_problem(ws: Workspace, form: Form, template: bytes,
                   frozen: dict | None = None) -> str | None:
    """The one line refusing the form's current schema and template (`template`, its bytes)
    against the catalog's frozen copy of its revision (`frozen`, the catalog row when the
    caller has read it): the schema set back to an older frozen revision, or the revision
    changed since it was frozen without a new revision label. None when it is not frozen
    yet or unchanged."""
    frozen = frozen or ws.catalog.form_revision(form.id, form.revision)
    if frozen is None:
        return None
    later = later_frozen(ws, form.id, form.revision)
    if later:
        return went_back(form, later)
    if frozen["sha256"] != revision_sha256(form.source, template):
        return (f"表单已冻结，修改须换修订版本 form {form.id} rev {form.revision} was changed "
                f"after records were made with it (schemas/{form.id}.yaml or "
                f"templates/{form.template}); a controlled form that changes needs a new "
                "revision: edit `revision:` in its schema")
    return None


def trial_problems(ws: Workspace, form: Form, template: bytes) -> list[str]:
    """The template filled in, in memory, with the sample records of domain/sample_data.py
    (every field filled, tables with two rows; optional fields empty; all blank): one line
    per failure, naming the placeholder and the sample data it failed with. Nothing is
    stored."""
    failed: dict[str, list[str]] = {}  # the failure -> the samples it happened with
    today = clock.today()
    for what, data in sample_records(form, today).items():
        context = build_context(form, data, org=ws.settings.organisation,
                                org_en=ws.settings.organisation_en, number="X-0001",
                                version=1, status=form.workflow.initial,
                                date=today.isoformat())
        try:
            render_docx(template, context, f"templates/{form.template}")
        except FormError as exc:
            failed.setdefault(str(exc), []).append(what)
    return [f"{problem} — 示例数据 with sample data: {'; '.join(samples)}"
            for problem, samples in failed.items()]


def unprinted_fields(form: Form, template: bytes) -> list[str]:
    """Warnings: optional fields the template never shows (their values are kept but not
    printed on the record's document)."""
    where = f"templates/{form.template}"
    names, tables, _ = template_names(template, where)
    return [f"{where}: 可选字段未出现 optional field '{f.id}' ({f.label.zh}) does not appear: "
            "its value is never printed" for f in form.fields
            if not f.required and f.id not in names | set(tables)]


def _pattern_problems(ws: Workspace, form: Form) -> list[str]:
    """Another form with the same number pattern, in schemas/ or only in the catalog (a form
    whose schema was removed still has records): their numbers collide."""
    def clash(other_id: str, where: str) -> str:
        return (f"schemas/{form.id}.yaml: number_pattern: 编号规则重复 '{form.number_pattern}' "
                f"is also the pattern of form {other_id} ({where}): their record numbers "
                "would collide")

    problems = []
    for other_id in ws.forms.ids():
        if other_id == form.id:
            continue
        try:
            other = ws.forms.current(other_id)
        except (FormError, NotFound):
            continue  # its own check names what is wrong with it
        if other.number_pattern.strip() == form.number_pattern.strip():
            problems.append(clash(other_id, f"schemas/{other_id}.yaml"))
    gone = {}  # forms frozen in the catalog whose schema is no longer in schemas/
    for revision_id in ws.catalog.form_revision_ids():
        other, _ = ws.forms.frozen(revision_id)
        if other.id not in ws.forms.ids() and \
                other.number_pattern.strip() == form.number_pattern.strip():
            gone[other.id] = other.revision
    problems += [clash(other_id, f"rev {revision} in the catalog, its schema removed")
                 for other_id, revision in sorted(gone.items())]
    return problems


def _department_problems(ws: Workspace, form: Form) -> list[str]:
    """Departments the workflow hands a case to or has sign off that qrecords.yaml does not
    define: a state's holder (an id, or every choice of the field it names) and the key
    choices of a sign-off table; one line per place that names one, so every place to
    change is listed at once."""
    named: list[tuple[str, str]] = []  # (department id, where the form names it), each place
    for state in form.workflow.states:
        if not state.holder:
            continue
        if state.holder.startswith("field:"):
            field = form.field(state.holder[len("field:"):])
            named += [(choice.id, f"state '{state.id}' holder {state.holder} "
                       f"(choice '{choice.id}')")
                      for choice in (field.choices if field and field.type == "choice" else ())]
        else:
            named.append((state.holder, f"state '{state.id}' holder"))
    for signoff in form.workflow.signoffs:
        table = form.field(signoff.table)
        key = table.column(signoff.key) if table else None
        named += [(choice.id, f"sign-off '{signoff.id}' ({signoff.table}.{signoff.key} "
                   f"choice '{choice.id}')") for choice in (key.choices if key else ())]
    known = ws.settings.departments
    return [f"schemas/{form.id}.yaml: workflow: {place}: 部门未定义 department '{dept}' is not "
            f"defined in qrecords.yaml (departments:){suggest(dept, known)}"
            for dept, place in dict.fromkeys(named) if dept not in known]


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
    """What in a form's template does not fit its schema: tracked changes or comments left
    in it, placeholders that are no field, attributes the context lacks, loops over what is
    no table, required fields left out.
    Raises FormError when the template is no readable DOCX."""
    where = f"templates/{form.template}"
    names, tables, attributes = template_names(template, where)
    marked = marks_problem(template, where)
    problems = [marked] if marked else []
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
