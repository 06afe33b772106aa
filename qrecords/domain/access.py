"""Access rules: who may see customers' personal information, and how it is hidden.

DOMAIN.md, "Confidentiality": customer personal information (fields marked `sensitive`) is
shown only to users holding the `privacy` role; reading it is logged by the verbs.
"""

from __future__ import annotations

import json

from .fields import MASK
from .forms import Form

PRIVACY = "privacy"
CONTROLLER = "document_controller"


def may_see_personal_data(roles) -> bool:
    """Whether a user with `roles` sees sensitive values (else they are masked)."""
    return PRIVACY in roles


def sensitive_present(form: Form, data: dict) -> list[str]:
    """Ids of the form's sensitive fields that hold a value in `data`."""
    return [f.id for f in form.fields if f.sensitive and data.get(f.id) is not None]


def fold(text: str) -> str:
    """`text` as sensitive values are compared in a search: lower case (Unicode), without
    spaces and dashes ("138-0013 8000" and "13800138000" are the same number)."""
    return text.lower().replace(" ", "").replace("-", "")


def sensitive_values(form: Form, data: dict) -> dict[str, str]:
    """{field id: folded value} of the form's sensitive fields holding a value in `data`:
    the rows a version keeps in the catalog's sensitive-values table (derived data, written
    with the version, checked by verify). A number is taken as written (str); a list or
    mapping as its compact JSON."""
    found = {}
    for fid in sensitive_present(form, data):
        value = data[fid]
        if not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                               sort_keys=True)
        found[fid] = fold(value)
    return found


def masked(form: Form, data: dict) -> dict:
    """`data` with every sensitive value replaced by MASK."""
    return {**data, **{fid: MASK for fid in sensitive_present(form, data)}}
