"""Import verb: old records from a ledger (台账) into a form, all of them or none.

DOMAIN.md, "Old records": each keeps its original number and dates, is marked as imported
from a named file and row (one `record.imported` event with the file's SHA-256), and keeps
its retention from its original dates; no workflow history is invented for it. Every row is
checked before anything is stored, and every bad row is listed with its row and column.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable, TypedDict

from .. import clock
from ..domain import ledger, retention, workflow_rules
from ..domain.forms import Form
from ..domain.numbering import format_number, period_of
from ..errors import Conflict, IntegrityError, QrecError
from ..workspace import BUILTIN, Workspace
from .form_revisions import refuse_retired
from .import_rows import plan_rows, recheck_originals
from .keys import version_key
from .ledger_file import Ledger, column_letter, read_ledger, read_map
from .versions import freeze_revision, store_version

HEADER_SEARCH_ROWS = 20  # a ledger's header row is among its first rows (titles above it)


class ImportedRow(TypedDict):
    row: int  # the ledger's row number (the first, when the record's tables filled several)
    rows: list[int]  # every ledger row the record was made from
    number: str | None  # the record's number (None in a dry run: a new one will be given)
    original_number: str | None  # as the ledger wrote it
    kept_number: bool  # whether the original number is the record's number
    status: str
    status_label: str
    created_on: str  # the record's original date: its version 1 is dated so
    closed_on: str | None
    retention_until: str | None  # None while open


class ImportResult(TypedDict):
    form: str
    source: str
    sha256: str
    sheet: str | None
    header_row: int
    columns: dict  # "C 受理日期" -> field id (or number, status, closed_on)
    skipped_columns: list[str]  # "A 序号": columns that fill nothing
    skipped_rows: list[dict]  # [{row, text}]: totals rows (合计, 总计, 小计), no record
    dry_run: bool
    records: list[ImportedRow]


def import_ledger(ws: Workspace, form_id: str, path: str, map_path: str | None = None,
                  dry_run: bool = False,
                  progress: Callable[[int, int], None] | None = None,
                  sheet: str | None = None, again: bool = False) -> ImportResult:
    """Import every data row of the ledger at `path` (.xlsx or .csv) as a record of
    `form_id`, by the document controller (the rows of a record whose tables they fill
    make one record: domain/ledger_records.py; totals rows are skipped and listed). Columns
    are matched to fields by header (field id, Chinese or English label; a table column's
    label) or by the map file at `map_path` (`table.column` for a table). Every row is validated
    first: ValidationError lists every problem as "row R, column C (header): ...", and
    nothing is stored. Then, in one transaction, each record is made in the state its data
    gives with version 1 dated on its original date; DOCX only (PDFs: `render --all`).
    `progress(done, total)` is called per stored row. `sheet`: the worksheet of an .xlsx
    to read (else the map file's `sheet:`, else the first). A file (by its SHA-256) whose
    rows were imported into the form before is refused unless `again`: a ledger without
    numbers would make its records twice. Raises Forbidden, NotFound (form), QrecError
    (file, map, sheet), ValidationError, FormError, Conflict (a retired form, a file
    imported before)."""
    ws.require_role("document_controller", "importing old records")
    form = ws.forms.current(form_id)
    refuse_retired(ws, form, "import")
    template = ws.forms.template(form)
    mapping = read_map(map_path) if map_path else None
    if sheet is not None and mapping and mapping["sheet"] not in (None, sheet):
        raise QrecError(f"工作表不一致 --sheet {sheet} but the map file names the sheet "
                        f"{mapping['sheet']}: give one", param="sheet")
    source = read_ledger(path, sheet if sheet is not None else
                         mapping["sheet"] if mapping else None)
    if not again:
        _refuse_imported_before(ws, form, source)
    header_row, columns, skipped = _columns(form, source, mapping, path)
    targets = {target for _, target in columns.values()}
    dated = next((c.split(" ", 1)[1] for c in skipped
                  if "日期" in c or "date" in c.lower()), None)
    undated = ledger.undated_problem(form, targets, dated,
                                     (BUILTIN / "schemas" / f"{form.id}.yaml").is_file())
    if undated:  # the map file's fault when one was given, else the form's and the file's
        raise QrecError(undated if map_path else f"{source['name']}: {undated}",
                        param="map" if map_path else None)
    tables = ledger.table_problem(form, targets)
    if tables:
        raise QrecError(tables, param="map" if map_path else None)
    plans, footers = plan_rows(ws, form, source, header_row, columns)
    result: ImportResult = {
        "form": form.id, "source": source["name"], "sha256": source["sha256"],
        "sheet": source["sheet"], "header_row": header_row,
        "columns": {f"{column_letter(i)} {h}": t for i, (h, t) in sorted(columns.items())},
        "skipped_columns": skipped, "skipped_rows": footers, "dry_run": dry_run,
        "records": []}
    if dry_run:
        result["records"] = [_row_result(form, p, p["number"], _retention_until(form, p))
                             for p in plans]
        return result
    result["records"] = _store(ws, form, template, source, plans, progress, again)
    return result


def _refuse_imported_before(ws: Workspace, form: Form, source: Ledger) -> None:
    """Conflict when records of `form` were imported from a file with the same SHA-256 (the
    same sheet of it): their `record.imported` events name it."""
    same = [e for e in ws.catalog.events_by_action(["record.imported"])
            if e["detail"].get("source_sha256") == source["sha256"]
            and e["detail"].get("sheet") == source["sheet"]]
    before = [e for e in same if (record := ws.catalog.record(e["record_number"]))
              and record["form_id"] == form.id]
    if before:
        raise Conflict(f"文件已导入 {source['name']} was imported already on "
                       f"{before[0]['effective_date']} ({len(before)} record(s), from "
                       f"{before[0]['record_number']}): give --again to import it once more",
                       param="file")


# -- columns ---------------------------------------------------------------------------------


def _columns(form: Form, source: Ledger, mapping, path: str):
    """(header row number, {column index: (header, target)}, skipped columns)."""
    names = ledger.header_names(form)
    mapped = {ledger.normalise(h): t for h, t in (mapping or {}).get("columns", {}).items()}
    for header, target in (mapping or {}).get("columns", {}).items():
        problem = target is not None and ledger.target_problem(form, target)
        if problem:
            raise QrecError(f"{header}: {problem}", param="map")

    def matches(cells) -> int:
        return sum(1 for c in cells if ledger.normalise(c) in mapped
                   or ledger.target_of(names, c))

    rows = dict(source["rows"])
    if mapping and mapping["header_row"]:
        header_row = mapping["header_row"]
        if header_row not in rows:
            raise QrecError(f"{path}: 表头行不存在 has no row {header_row} (the map's "
                            "header_row)", param="map")
    else:
        first = source["rows"][:HEADER_SEARCH_ROWS]
        best = max(first, key=lambda r: matches(r[1]), default=None)
        if best is None or matches(best[1]) == 0:
            others = [n for n in source["sheets"] if n != source["sheet"]]
            where = f" of the sheet '{source['sheet']}'" if source["sheet"] else ""
            choose = (f" (the workbook's other sheets: {', '.join(others)}): choose the "
                      "ledger's sheet with --sheet NAME, or") if others else ";"
            raise QrecError(f"{path}: 找不到表头行 no header row: none of the first "
                            f"{HEADER_SEARCH_ROWS} rows{where} names a field of {form.id} "
                            f"(by id, Chinese or English label){choose} give a map file "
                            "(--map)", param="file")
        header_row = best[0]
    columns, skipped, seen = {}, [], {}
    for index, header in enumerate(rows[header_row]):
        if header is None or not str(header).strip():
            continue
        key = ledger.normalise(header)
        target = mapped[key] if key in mapped else ledger.target_of(names, header)
        where = f"{column_letter(index)} {str(header).strip()}"
        if target is None:
            skipped.append(where)
            continue
        if target in seen:
            raise QrecError(f"{path}: 两列对应同一字段 columns {seen[target]} and {where} "
                            f"both fill {target}",
                            param="map" if mapping else "file")
        seen[target] = where
        columns[index] = (str(header).strip(), target)
    headers = {ledger.normalise(h) for h, _ in columns.values()} | \
        {ledger.normalise(s.split(" ", 1)[1]) for s in skipped}
    absent = [h for h in (mapping or {}).get("columns", {}) if ledger.normalise(h) not in headers]
    if absent:
        raise QrecError(f"映射的列不存在 no column {', '.join(absent)} in row "
                        f"{header_row} of {path}",
                        param="map")
    return header_row, columns, skipped


# -- storing ---------------------------------------------------------------------------------


def _store(ws: Workspace, form: Form, template: bytes, source: Ledger, plans: list,
           progress, again: bool) -> list[ImportedRow]:
    """Every planned record in one transaction; files of a failed attempt are removed."""
    today, written, results = clock.today(), [], []
    try:
        with ws.catalog.write() as tx:
            # What planning read, read again under the lock: another import may have
            # committed since (the same ledger, run twice at once, was imported twice).
            if not again:
                _refuse_imported_before(ws, form, source)
            recheck_originals(ws, form, plans)
            revision_id = freeze_revision(ws, form, template)
            for plan in plans:  # the kept numbers first: new ones come after them
                fits = plan["number"] and ledger.fitting_number(form.number_pattern,
                                                                plan["number"])
                if fits:
                    tx.raise_seq(form.id, *fits)
            for done, plan in enumerate(plans, start=1):
                created = dt.date.fromisoformat(plan["created_on"])
                number = plan["number"]
                if number is None:
                    period = period_of(form.number_pattern, created)
                    number = format_number(period, tx.next_seq(form.id, period))
                try:
                    record_id = tx.add_record(number, form.id, revision_id, clock.utc_now(),
                                              ws.actor.id, plan["state"])
                except IntegrityError:
                    raise Conflict(f"row {plan['row']}: 编号已被占用 number {number} is already "
                                   "used by "
                                   "another record") from None
                record = {"id": record_id, "number": number, "form_id": form.id,
                          "form_revision_id": revision_id, "created_at": clock.utc_now(),
                          "created_by": ws.actor.id, "closed_on": plan["closed_on"],
                          "on_hold": 0}
                detail = {"source": source["name"], "source_sha256": source["sha256"],
                          "sheet": source["sheet"], "row": plan["row"],
                          "original_number": plan["original"]}
                if len(plan["rows"]) > 1:  # a record whose tables filled several rows
                    detail["rows"] = plan["rows"]
                if plan["closed_on"]:
                    detail.update(workflow_rules.closing(
                        form.workflow, plan["data"], dt.date.fromisoformat(plan["closed_on"])))
                written.append(version_key(form.id, number, 1))
                stored = store_version(
                    ws, form, template, record, 1, plan["state"], plan["data"],
                    f"导入 imported from {source['name']} {_rows(plan['rows'])}", created,
                    "record.imported", detail, logged_on=today)
                results.append(_row_result(form, plan, number,
                                           stored["record"]["retention_until"]))
                if progress:
                    progress(done, len(plans))
    except BaseException:
        for key in written:  # no committed row names them
            try:
                ws.files.remove(key)
            except OSError:
                pass  # verify --repair moves what is left to debris/
        raise
    ws.mark_index_behind()
    return results


def _retention_until(form: Form, plan: dict) -> str | None:
    """The day (ISO) the planned record's retention ends, as storing it gives (versions.
    store_version: a record not open closes on its closing date, else on its first day;
    a void one runs from its void date, its closing date here), or None while it is open."""
    created, state = plan["created_on"], form.workflow.state(plan["state"])
    closed = plan["closed_on"]
    if closed is None and not form.workflow.is_open(plan["state"]):
        closed = created
    return retention.until(form.retention, closed, created, plan["data"],
                           void=state.void)[1]


def _rows(rows: list[int]) -> str:
    return f"row {rows[0]}" if len(rows) == 1 else f"rows {rows[0]}–{rows[-1]}"


def _row_result(form: Form, plan: dict, number: str | None,
                retention_until: str | None) -> ImportedRow:
    return {"row": plan["row"], "rows": plan["rows"], "number": number,
            "original_number": plan["original"],
            "kept_number": plan["number"] is not None and number == plan["number"],
            "status": plan["state"], "status_label": form.workflow.label(plan["state"]),
            "created_on": plan["created_on"], "closed_on": plan["closed_on"],
            "retention_until": retention_until}
