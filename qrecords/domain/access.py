"""Access rules: who may see customers' personal information, and how it is hidden.

DOMAIN.md, "Confidentiality": customer personal information (fields marked `sensitive`) is
shown only to users holding the `privacy` role; reading it is logged by the verbs.
"""

from __future__ import annotations

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


def masked(form: Form, data: dict) -> dict:
    """`data` with every sensitive value replaced by MASK."""
    return {**data, **{fid: MASK for fid in sensitive_present(form, data)}}
