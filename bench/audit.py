"""Audit benchmarks over 10,000 records with their DOCX and PDF, in one run: `qrec verify`
against sha256sum over the same files (hashing alone: no chain, no catalog, no index), and
`qrec audit-pack` against zipping the records folder.

Rendering 10,000 PDFs would take a quarter of an hour and measure LibreOffice, not verify:
one record of each form is made for real, and the other records carry copies of its DOCX
and PDF bytes, written to their own paths with their catalog rows and hash-chained events
exactly as `qrec new` writes them. verify reads and hashes every file all the same.
"""

from __future__ import annotations

import datetime as dt
import os

from common import PYTHON, QREC, TODAY, USER, WORK, Row, median_wall, step

from qrecords.domain import access
from qrecords.domain.forms import validate_data
from qrecords.domain.numbering import format_number, period_of
from qrecords.files.base import sha256_bytes
from qrecords.catalog.sqlite import canonical_json
from common import init_workspace
from tests import corpus
from qrecords.api import records as api_records
from qrecords.api import search as api_search

N_AUDIT = int(os.environ.get("QREC_BENCH_AUDIT", "10000"))
SHARES = {"complaint": 0.6, "contract_review": 0.2, "customer_property": 0.2}


def bench_verify() -> list[Row]:
    root = WORK / "audit"
    step(f"audit: {N_AUDIT:,} records with DOCX and PDF")
    files = filed_workspace(root, N_AUDIT)
    env = {**os.environ, "QREC_WORKSPACE": str(root), "QREC_USER": "wangwen"}
    ours = median_wall([str(QREC), "verify"], runs=3, env=env)
    naive = median_wall(["bash", "-c", f"find '{root}/records' -type f -name '*_v*' -print0 "
                         "| xargs -0 sha256sum | wc -l"], runs=3, env=env)
    n = f"{N_AUDIT // 1000}k"
    return [Row(f"`qrec verify` wall, {n} records, {files:,} files (sha256sum base)", ours,
                naive, "s", ours / naive, "≤ 1.5×", ours / naive <= 1.5)]


def bench_audit_pack() -> list[Row]:
    """`qrec audit-pack` of the verify benchmark's workspace (every record, current versions)
    against zipping its records folder with Python's zipfile command line."""
    root = WORK / "audit"
    env = {**os.environ, "QREC_WORKSPACE": str(root), "QREC_USER": "wangwen"}
    out, plain = WORK / "pack.zip", WORK / "plain.zip"
    ours = median_wall([str(QREC), "audit-pack", str(out)], runs=3, env=env)
    naive = median_wall([str(PYTHON), "-m", "zipfile", "-c", str(plain),
                         str(root / "records")], runs=3, env=env)
    n = f"{N_AUDIT // 1000}k"
    size, plain_size = out.stat().st_size / 1e6, plain.stat().st_size / 1e6
    return [Row(f"`qrec audit-pack` wall, {n} records ({size:.0f} MB; plain zip "
                f"{plain_size:.0f} MB)", ours, naive, "s", ours / naive)]


def filed_workspace(root, count: int) -> int:
    """A workspace of `count` records, each with a DOCX and a PDF; returns the file count."""
    ws = init_workspace(root, USER)
    sizes = [int(count * share) for share in SHARES.values()]
    sizes[0] += count - sum(sizes)
    records = corpus.generate(*sizes, seed=11, wide=True)
    real, made = {}, 0
    for form_id in SHARES:  # one real record per form: its files are the others' content
        data = next(d for f, d in records if f == form_id)
        record = api_records.new_record(ws, form_id, data)
        real[form_id] = {"revision": ws.catalog.record(record["number"])["form_revision_id"],
                         "form": ws.forms.current(form_id),
                         "docx": open(record["files"]["docx"], "rb").read(),
                         "pdf": open(record["files"]["pdf"], "rb").read()}
        made += 2
    now = f"{TODAY}T00:00:00Z"
    with ws.catalog.write() as tx:
        for form_id, data in records:
            spec = real[form_id]
            form = spec["form"]
            # numbered through the counter, as `qrec new` numbers (verify checks the counters)
            period = period_of(form.number_pattern, dt.date.fromisoformat(TODAY))
            number = format_number(period, tx.next_seq(form_id, period))
            state = form.workflow.initial
            clean = validate_data(form, data, TODAY)
            record_id = tx.add_record(number, form_id, spec["revision"], now, USER, state)
            digest = sha256_bytes(canonical_json(clean).encode())
            tx.add_version(record_id, 1, state, clean, digest, now, TODAY, USER, None,
                           sensitive=access.sensitive_values(form, clean))
            hashes = {}
            for kind in ("docx", "pdf"):
                relative = f"{form_id}/{number}/{number}_v1.{kind}"
                path = root / "records" / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(spec[kind])
                hashes[kind] = sha256_bytes(spec[kind])
                tx.add_file(record_id, 1, kind, relative, hashes[kind], len(spec[kind]), now)
            tx.add_event(now, TODAY, USER, "record.created", number, 1,
                         {"reason": None, "data_sha256": digest,
                          "files": {"docx": hashes["docx"]}})
            tx.add_event(now, TODAY, USER, "file.pdf_made", number, 1,
                         {"files": {"pdf": hashes["pdf"]}})
            tx.set_retention(record_id, form.title_of(clean), None, None, None)
            made += 2
    step(f"audit: indexing {count:,} records")
    api_search.rebuild_index(ws)
    ws.close()
    return made
