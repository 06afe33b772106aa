"""qrecords benchmarks: `make bench` (.venv/bin/python bench/run.py).

`bench/run.py NAME...` runs only the named benchmarks (a function name without its `bench_`
prefix, e.g. `search` or `analysis`); without names it runs them all. bench/work is wiped first,
unless `--keep-work` is given: then what an earlier run left there is used again (e.g.
`bench/run.py --keep-work portal` serves the 100,000 records bench_search made, instead of
taking ten minutes to make them again).

Each benchmark is one function returning a Row (or a list of them): what is measured, our
figure, a baseline measured in the same run, the ratio and the target. Add a benchmark by
writing a function and appending it to BENCHMARKS. Figures go to stdout and to
bench/results.md (committed, so the last run's figures travel with the code).

Targets are read by people: a missed one is marked MISS, and the exit status stays 0. Only an
error (an exception, a failing subprocess) makes the exit status non-zero: the benchmark that
raised is named, the others still run and print their figures, and bench/results.md is left as
it was.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import platform
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (EXAMPLE_COMPLAINT, QREC, PYTHON, REPO, TODAY, USER, WORK, Row,  # noqa: E402
                    fmt, median_wall, wall)
import audit  # noqa: E402
import data_file  # noqa: E402
import docx_new  # noqa: E402
import identity  # noqa: E402
import imports  # noqa: E402
import portal  # noqa: E402
import retention_due  # noqa: E402
import search  # noqa: E402
import shared  # noqa: E402
import statements  # noqa: E402

RESULTS = REPO / "bench" / "results.md"
EXAMPLE = EXAMPLE_COMPLAINT
N_RECORDS = 100
N_PDFS = 50

from qrecords.domain.forms import validate_data  # noqa: E402
from qrecords.inputs import load_data_file  # noqa: E402
from qrecords.domain.numbering import format_number, period_of  # noqa: E402
from qrecords.render.context import build_context  # noqa: E402
from common import init_workspace, open_workspace  # noqa: E402
from qrecords.api import records  # noqa: E402


def fresh_workspace(name: str):
    return init_workspace(WORK / name, USER)


def example_data() -> dict:
    return load_data_file(str(EXAMPLE))


def complaint_context(ws) -> dict:
    """The context new_record builds for a complaint, with the same values."""
    form = ws.forms.current("complaint")
    today = dt.date.fromisoformat(TODAY)
    clean = validate_data(form, example_data(), TODAY)
    number = format_number(period_of(form.number_pattern, today), 1)
    return build_context(form, clean, org=ws.settings.organisation,
                         org_en=ws.settings.organisation_en, number=number, version=1,
                         status=form.workflow.initial, date=TODAY)


def docxtpl_render(path: Path, context: dict) -> bytes:
    """The baseline: plain docxtpl, nothing of ours around it."""
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(str(path))
    tpl.render(context)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


# -- benchmarks: one function each, returning a Row ---------------------------------------


def bench_docx_records() -> Row:
    """Records created, rendered and indexed per second through api.records.new_record (one
    workspace, as a batch import would use it: the index is updated once, at close), against
    a plain docxtpl render loop of the same template with the same context values."""
    data = example_data()
    # Warm-up in a throwaway workspace, so imports and first-use costs are not counted and the
    # measured workspace starts fresh.
    warm = fresh_workspace("warmup")
    for _ in range(3):
        records.new_record(warm, "complaint", data, pdf=False)
    warm.close()

    ws = fresh_workspace("bench")
    start = time.perf_counter()
    for _ in range(N_RECORDS):
        records.new_record(ws, "complaint", data, pdf=False)
    ws.close()  # the index is updated here, once for the batch: counted
    ours = N_RECORDS / (time.perf_counter() - start)

    ws = open_workspace(WORK / "bench", USER)
    template = ws.root / "templates" / "complaint.docx"
    context = complaint_context(ws)
    ws.close()
    for _ in range(3):
        docxtpl_render(template, context)
    start = time.perf_counter()
    for _ in range(N_RECORDS):
        docxtpl_render(template, context)
    base = N_RECORDS / (time.perf_counter() - start)

    ratio = base / ours  # per-record cost, ours / baseline
    return Row(f"DOCX records/s (N={N_RECORDS})", ours, base, "rec/s", ratio, "≤ 1.5×",
               ratio <= 1.5)


def bench_help_start() -> Row:
    """Start-up of the installed console script against a bare interpreter."""
    ours = median_wall([str(QREC), "--help"], runs=15, warmups=2)
    base = median_wall([str(PYTHON), "-c", "pass"], runs=15, warmups=2)
    return Row("`qrec --help` start", ours, base, "s", ours / base, "< 0.3 s", ours < 0.3)


def soffice_convert(docs: list[Path], outdir: Path, profile: Path) -> list[str]:
    """The naive way: one plain `soffice --convert-to pdf` process for the given documents."""
    return ["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
            "--convert-to", "pdf", "--outdir", str(outdir), *map(str, docs)]


def pdfs_per_second(docs: list[Path], outdir: Path, calls: list[list[Path]]) -> float:
    """PDFs/s of plain soffice, one process per list of documents in `calls`; raises unless
    every document got its PDF in `outdir`."""
    profile = WORK / "soffice-profile"
    start = time.perf_counter()
    for batch in calls:
        wall(soffice_convert(batch, outdir, profile))
    took = time.perf_counter() - start
    missing = [d.name for d in docs if not (outdir / d.with_suffix(".pdf").name).is_file()]
    if missing:
        raise RuntimeError(f"soffice made no PDF of {', '.join(missing[:3])}")
    return len(docs) / took


def bench_pdf_throughput() -> list[Row]:
    """PDFs per second through `qrec render --all` (one process, one LibreOffice, N_PDFS
    records), against plain soffice over the same DOCX files twice: one process per file,
    and one process for them all (`soffice --convert-to pdf` given every file at once)."""
    ws = fresh_workspace("pdf")
    data = example_data()
    for _ in range(N_PDFS):
        records.new_record(ws, "complaint", data, pdf=False)
    docx_files = sorted((ws.root / "records").rglob("*.docx"))
    ws.close()
    env = {**os.environ, "QREC_WORKSPACE": str(WORK / "pdf"), "QREC_USER": USER}
    ours = N_PDFS / wall([str(QREC), "render", "--all"], env=env)

    # The first run creates the profile, which neither baseline should pay for.
    wall(soffice_convert(docx_files[:1], WORK / "soffice-warm", WORK / "soffice-profile"))
    each = pdfs_per_second(docx_files, WORK / "soffice-out", [[d] for d in docx_files])
    batch = pdfs_per_second(docx_files, WORK / "soffice-batch-out", [docx_files])
    what = f"PDFs/s (N={N_PDFS}, render --all)"
    return [Row(f"{what} (soffice per file base)", ours, each, "PDF/s", each / ours,
                "≥ 10× (ratio ≤ 0.1)", each / ours <= 0.1),
            Row(f"{what} (one batch soffice base)", ours, batch, "PDF/s", batch / ours)]


def bench_first_pdf() -> Row:
    """A fresh `qrec new` — a new process, DOCX and its first PDF (LibreOffice cold start) —
    against one plain soffice conversion of a DOCX."""
    root = WORK / "pdf"
    env = {**os.environ, "QREC_WORKSPACE": str(root), "QREC_USER": USER}
    ours = median_wall([str(QREC), "new", "complaint", "--data", str(EXAMPLE)], runs=5,
                       warmups=1, env=env)
    docx = sorted((root / "records").rglob("*.docx"))[0]
    base = median_wall(soffice_convert([docx], WORK / "soffice-out", WORK / "soffice-profile"),
                       runs=5)
    return Row("`qrec new` incl. first PDF (fresh process)", ours, base, "s", ours / base,
               "< 4 s", ours < 4)


BENCHMARKS = [bench_docx_records, docx_new.bench_docx_new, bench_help_start, bench_pdf_throughput, bench_first_pdf,
              statements.bench_statements,
              search.bench_analysis, search.bench_search,
              search.bench_cold,  # after bench_search, before others change its records
              portal.bench_portal,  # after bench_search: it serves its workspace
              retention_due.bench_retention,  # after bench_search: it reuses its catalog
              audit.bench_verify, audit.bench_audit_pack, data_file.bench_data_file,
              shared.bench_shared, imports.bench_import, identity.bench_password,
              identity.bench_session_show]


# -- output -------------------------------------------------------------------------------

HEADER = ("measure", "ours", "baseline", "ratio", "target", "status")


def cells(row: Row) -> tuple[str, ...]:
    return (row.what, fmt(row.ours, row.unit), fmt(row.baseline, row.unit),
            f"{row.ratio:.2f}×", row.target, row.status)


def machine_line() -> str:
    return (f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')} · Python "
            f"{platform.python_version()} · {os.cpu_count()} CPUs · {platform.machine()} "
            f"{platform.system()}")


def text_table(rows: list[Row]) -> str:
    table = [HEADER, *map(cells, rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    right = {1, 2, 3}  # figures align right

    def line(values):
        return "  ".join(v.rjust(w) if i in right else v.ljust(w)
                         for i, (v, w) in enumerate(zip(values, widths))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(HEADER), rule, *(line(c) for c in table[1:])])


def markdown_table(rows: list[Row]) -> str:
    def line(values):
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    align = "| " + " | ".join("---:" if i in (1, 2, 3) else "---" for i in range(len(HEADER)))
    return "\n".join([line(HEADER), align + " |", *(line(cells(r)) for r in rows)])


def chosen(names: list[str]) -> list:
    """The benchmarks named on the command line (all of them when none is)."""
    by_name = {bench.__name__.removeprefix("bench_"): bench for bench in BENCHMARKS}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise SystemExit(f"unknown benchmark {', '.join(unknown)}; choose from "
                         f"{', '.join(by_name)}")
    return [by_name[name] for name in names] if names else BENCHMARKS


def main(names: list[str]) -> int:
    keep = "--keep-work" in names
    names = [name for name in names if name != "--keep-work"]
    benchmarks = chosen(names)
    if not keep:
        shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows, failed = [], []
    for bench in benchmarks:
        try:
            made = bench()
        except Exception as exc:  # one broken benchmark must not lose the others' figures
            failed.append(f"{bench.__name__}: {type(exc).__name__}: {exc}")
            print(f"FAILED {failed[-1]}", file=sys.stderr, flush=True)
            continue
        rows += made if isinstance(made, list) else [made]
    took = time.perf_counter() - started
    machine = machine_line()
    print(f"qrecords bench — {machine}")
    print()
    print(text_table(rows))
    print(f"\n(ratio = our cost / baseline cost; run took {took:.0f} s)")
    for line in failed:
        print(f"FAILED {line}")
    if names or failed:  # only a whole, clean run replaces the committed figures
        return 1 if failed else 0
    RESULTS.write_text(
        "# qrecords benchmarks\n\n"
        f"Last run: {machine}  \n"
        "Made by `make bench` (bench/run.py); ratio = our cost / baseline cost.\n\n"
        f"{markdown_table(rows)}\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
