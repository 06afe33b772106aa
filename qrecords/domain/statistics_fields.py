"""The fields the reports rely on: declared here so that `forms check` can see them.

A report reads a form's fields by id; a form revision that renames or retypes one of them would
make the report fail or miscount. Every report names its form and the fields it needs, with the
types it can read; `missing_fields` lists what a form revision lacks.
"""

from __future__ import annotations

from .forms import Form

# report name -> (form id, {field id: types it accepts})
REPORT_FIELDS: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "complaints": ("complaint", {
        "customer": ("text",),
        "category": ("choice",),
        "responsible_department": ("choice",),
        "cause_analysis": ("text", "longtext"),
        "disposition": ("choice",),
        "disposition_amount": ("decimal", "integer"),
    }),
}


def missing_fields(report: str, form: Form) -> list[str]:
    """What `form` lacks for `report`, one phrase each (empty when it has everything): fields
    missing, or of a type the report cannot read."""
    _, needed = REPORT_FIELDS[report]
    problems = []
    for fid, types in needed.items():
        field = form.field(fid)
        if field is None:
            problems.append(f"field '{fid}' ({' or '.join(types)}) is missing")
        elif field.type not in types:
            problems.append(f"field '{fid}' is {field.type}, not {' or '.join(types)}")
    return problems


def reports_of(form_id: str) -> list[str]:
    """The reports that read records of `form_id`."""
    return [name for name, (fid, _) in REPORT_FIELDS.items() if fid == form_id]
