"""Electronic signatures: the signer gives their password at the moment of signing, and the
signature records who (unique id and printed name), when (UTC and the workspace's local time),
what it means (编制 prepared, 审核 reviewed, 批准 approved, 核决 decided ...) and the SHA-256 of
the exact version signed. 21 CFR 11.50 (signature manifestations), 11.70 (linked to the
record: the hashes), 11.200(a)(1) (both components at each signing outside a continuous
session: we ask every time); China GMP annex 11 (computerised systems) art. 19.

A demonstration workspace waives the password (the signature then says demo). A failed
password is logged (`signature.failed`) and counts toward the one lockout (sessions.py).
"""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

from .. import clock
from ..errors import Conflict
from ..workspace import Workspace
from .sessions import check_password_of

# Meanings of the signing verbs: (Chinese, English). A workflow step signs with the meaning of
# the first keyword its id contains; steps without one (investigate, assign, inspect, and
# reject, which records a failed inspection, not a declined decision) are not signatures.
MEANINGS = {"prepare": ("编制", "prepared"), "review": ("审核", "reviewed"),
            "approve": ("批准", "approved"), "decline": ("否决", "declined"),
            "decide": ("核决", "decided"),
            "close": ("关闭", "closed"), "dispose": ("批准销毁", "disposal authorised"),
            "transfer": ("批准移交", "transfer authorised"), "void": ("作废", "voided"),
            "hold": ("冻结", "hold placed"), "release": ("解冻", "hold released")}


class Signature(TypedDict):
    signer: str  # user id
    name: str  # printed name
    meaning: str  # "审核 reviewed"
    at_utc: str
    at_local: str  # the workspace's local time (options.time_zone), with its offset
    signed: dict  # {number: {version, data_sha256, docx_sha256}} of what was signed
    demo: bool


def meaning_of(step_id: str) -> str | None:
    """The meaning of a workflow step as a signature ("批准 approved"), None for a step that
    is no signature."""
    for keyword, (zh, en) in MEANINGS.items():
        if keyword in step_id:
            return f"{zh} {en}"
    return None


def check_signer(ws: Workspace, password: str | None, meaning: str, what: str) -> None:
    """Ask the proof of a signature before the work begins: the acting user's password (not
    in a demo). Raises NotAuthenticated (and logs the failure)."""
    if ws.demo:
        return
    check_password_of(ws, password or "", "signature", {"meaning": meaning, "what": what})


def signature(ws: Workspace, meaning: str, signed: dict[str, dict]) -> Signature:
    """The signature of the acting user, now; `signed` maps record numbers to
    {version, data_sha256, docx_sha256} of the versions signed (inside catalog.write())."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    return {"signer": ws.actor.id, "name": ws.actor.name, "meaning": meaning,
            "at_utc": now.isoformat().replace("+00:00", "Z"),
            "at_local": clock.local_time(now), "signed": signed, "demo": ws.demo}


def manifestation(signed: Signature) -> str:
    """How a signature shows on the document, in the signer cell of its sign-off row: printed
    name, meaning, local time ("黄军 核决 14:05"; 21 CFR 11.50(a))."""
    return f"{signed['name']} {signed['meaning'].split()[0]} {signed['at_local'][11:16]}"


def current_version(ws: Workspace, number: str, expected_sha256: str | None) -> dict:
    """{version, data_sha256, docx_sha256} of the record's current version, read under the
    write lock. Raises Conflict when `expected_sha256` (the DOCX the signer looked at) is no
    longer the current version's: a race with an amendment is never signed."""
    record = ws.record_row(number)
    row = ws.catalog.version(record["id"], record["current_version"])
    docx = ws.catalog.files(record["id"], record["current_version"]).get("docx")
    found = {"version": row["version"], "data_sha256": row["data_sha256"],
             "docx_sha256": docx["sha256"] if docx else None}
    if expected_sha256 and expected_sha256 not in (found["docx_sha256"],
                                                  found["data_sha256"]):
        raise Conflict(f"记录已被修改，请重新审阅后签名 {number} changed while you signed (now "
                       f"version {row['version']}); look at it again and sign again",
                       param="number")
    return found
