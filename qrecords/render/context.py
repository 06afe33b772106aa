"""The context a form template is rendered with — the contract between schemas and templates.

    org.name  org.name_en
    form.id  form.title  form.title_zh  form.title_en  form.number  form.revision
    record.number  record.version  record.status_label  record.date
    <field id>                   the field's display text ("" when empty)
    <table id>                   a list of rows, each {column id: display text}

`language` is the workspace's document language (settings.DOCUMENT_LANGUAGES). With "both",
org.name and form.title_zh are the Chinese and org.name_en and form.title_en the English;
with "zh" or "en", org.name and form.title_zh hold the one language (English falling back to
the Chinese where there is none) and the _en names are empty, so a bilingual template prints
each once. form.title is the title in the document language; choices, yes/no and states are
displayed in it.

A table with a `key` column (department_reviews) gets one row per key choice, in the schema's
order, so the printed form always shows every department; data rows fill them in.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from ..domain.forms import Form
from ..labels import Label


def build_context(form: Form, data: dict, *, org: str, org_en: str, number: str, version: int,
                  status: str, date: str, language: str = "both") -> dict:
    """The template context (above) of one version: `data` the record's stored data, `date`
    ISO, `language` "zh", "en" or "both"."""
    both = language == "both"
    org_label = Label(org, org_en)
    context = {
        "org": {"name": literal(org if both else org_label.text(language)),
                "name_en": literal(org_en if both else "")},
        "form": {"id": form.id, "title": literal(form.title.text(language)),
                 "title_zh": literal(form.title.zh if both else form.title.text(language)),
                 "title_en": literal(form.title.en if both else ""),
                 "number": literal(form.form_number), "revision": literal(form.revision)},
        "record": {"number": literal(number), "version": version,
                   "status_label": literal(form.workflow.state(status).label.text(language)),
                   "date": date},
    }
    for field in form.fields:
        value = data.get(field.id)
        if field.type == "table":
            context[field.id] = [{c.id: literal(c.display(row.get(c.id), language))
                                  for c in field.columns}
                                 for row in _table_rows(field, value or [])]
        else:
            context[field.id] = literal(field.display(value, language))
    return context


def _table_rows(field, rows: list[dict]) -> list[dict]:
    if not field.key:
        return rows
    by_key = {row.get(field.key): row for row in rows}
    key_column = field.column(field.key)
    return [by_key.get(choice.id, {field.key: choice.id}) for choice in key_column.choices]


def literal(text: str) -> Markup:
    """Escape a value so it lands in the DOCX exactly as typed.

    Jinja autoescaping covers & < > " '. docxtpl additionally rewrites "{_{" "}_}" "{_%" "%_}"
    in its output (its own escape syntax), so underscores become the character reference
    &#95; — the XML parser reads it back as "_", and docxtpl's rewrite no longer matches.
    """
    return Markup(str(escape(text)).replace("_", "&#95;"))
