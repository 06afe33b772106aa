"""Record statuses and their bilingual labels, as printed on forms and listings."""

from .fields import Label

DRAFT = "draft"

LABELS = {
    "draft": Label("草稿", "Draft"),
    "under_review": Label("评审中", "Under review"),
    "approved": Label("已批准", "Approved"),
    "closed": Label("已关闭", "Closed"),
    "void": Label("作废", "Void"),
}


def label(status: str) -> str:
    found = LABELS.get(status)
    return str(found) if found else status
