"""The search index against the catalog: every field searchable, sensitive values kept out,
versions, consistency checks, crash healing and rebuilds (real Whoosh indexes on disk)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qrecords.index.searching import SENSITIVE_NOTE
from tests import corpus
from tests.conftest import ROOT, as_user, load_example, open_workspace
from qrecords.api import records as api_records, steps
from qrecords.api import search as api_search

QREC = [shutil.which("qrec", path=str(Path(sys.executable).parent)) or "qrec"]


def numbers(result: dict) -> list[str]:
    return [hit["number"] for hit in result["hits"]]


def _with_workflow_fields(ws, form_id: str, number: str) -> None:
    """Steps that fill what only the workflow writes (who inspected, sign-off rows, ...)."""
    if form_id == "contract_review":
        steps.transition(as_user(ws, "lina"), number, "submit", pdf=False)
        steps.sign(as_user(ws, "liuyang"), number, "conditional", "需加班两周", pdf=False)
    elif form_id == "customer_property":
        steps.transition(as_user(ws, "zhaomin"), number, "inspect", pdf=False)
    else:
        steps.transition(as_user(ws, "zhaomin"), number, "investigate", pdf=False)
        steps.transition(as_user(ws, "zhaomin"), number, "assign",
                         {"cause_analysis": "纸箱强度不足",
                          "responsible_department": "production"}, pdf=False)


def test_every_field_of_every_form_is_searchable_by_name(ws):
    for form_id in ws.forms.ids():
        number = api_records.new_record(as_user(ws, "lina"), form_id, load_example(form_id),
                                        pdf=False)["number"]
        _with_workflow_fields(ws, form_id, number)
        form = ws.forms.current(form_id)
        data = api_records.show(as_user(ws, "lina"), number)["data"]
        tried = 0
        for field in form.fields:
            value = data.get(field.id)
            if field.sensitive or value in (None, "", []):
                continue
            shown = field.display(value) if field.type != "table" else \
                next(v for v in value[0].values() if isinstance(v, str) and len(v) > 1)
            query = f'{field.id}:"{shown}"'
            assert numbers(api_search.search(as_user(ws, "zhangwei"), query,
                                             form=form_id)) == [number], query
            tried += 1
        assert tried >= 8, f"{form_id}: the example fills too few fields to test"


def test_sensitive_values_stay_out_of_the_index(tmp_path, ws):
    records = [api_records.new_record(as_user(ws, "lina"), form_id, data, pdf=False)
               for form_id, data in corpus.generate(10, 5, 5, seed=7)]
    ws.sync_index()  # what the end of a command does
    from whoosh import index

    ix = index.open_dir(str(ws.root / "index" / f"g{ws.index.state()['generation']}"))
    with ix.reader() as reader:
        terms = {text.decode(errors="replace") if isinstance(text, bytes) else str(text)
                 for _, text in reader.all_terms()}
        stored = json.dumps(list(reader.all_stored_fields()), ensure_ascii=False, default=str)
    raw = b"".join(p.read_bytes() for p in (ws.root / "index").rglob("*") if p.is_file())
    phones = {r["data"]["customer_phone"] for r in records if "customer_phone" in r["data"]}
    assert phones
    # The same scans do find what is indexed: they can fail.
    assert any(c[:2] in terms for c in corpus.CUSTOMERS_ZH)
    assert any(c[:2].encode() in raw for c in corpus.CUSTOMERS_ZH)
    for name in corpus.CONTACTS:
        for bigram in (name[i:i + 2] for i in range(len(name) - 1)):
            assert bigram not in terms and bigram.encode() not in raw, bigram
        assert name not in stored
    for phone in phones:
        assert phone not in stored and phone.encode() not in raw
        assert phone.replace(" ", "").encode() not in raw


def test_a_sensitive_value_finds_the_record_only_for_the_privacy_role(ws):
    number = api_records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"),
                                    pdf=False)["number"]
    assert numbers(api_search.search(as_user(ws, "zhangwei"), "138 0000 1234")) == []
    assert numbers(api_search.search(as_user(ws, "zhangwei"), "王磊")) == []
    before = len([e for e in ws.catalog.events() if e["action"] == "search.sensitive"])
    hits = api_search.search(as_user(ws, "lina"), "13800001234")["hits"]
    assert [h["number"] for h in hits] == [number]
    assert hits[0]["snippet"] == SENSITIVE_NOTE and "1234" not in json.dumps(hits)
    logged = [e for e in ws.catalog.events() if e["action"] == "search.sensitive"]
    assert len(logged) == before + 1 and logged[-1]["actor"] == "lina"
    assert {k: v for k, v in logged[-1]["detail"].items()
            if k not in ("authority", "demo")} == {"query_sha256": hashlib.sha256(b"13800001234").hexdigest(),
                                    "records": [number]}
    assert "13800001234" not in json.dumps(ws.catalog.events())  # the value is not logged
    # A two-character Chinese name is a sensitive value too; filters apply to such matches.
    assert numbers(api_search.search(as_user(ws, "lina"), "王磊")) == [number]
    assert numbers(api_search.search(as_user(ws, "lina"), "王磊", form="contract_review")) == []


def test_only_the_current_version_unless_all_versions(ws):
    number = api_records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"),
                                    pdf=False)["number"]
    api_records.amend(as_user(ws, "lina"), number, {"product": "铝合金外壳"}, reason="客户更正品名",
                      pdf=False)
    assert numbers(api_search.search(as_user(ws, "lina"), "控制板组件")) == []
    old = api_search.search(as_user(ws, "lina"), "控制板组件", all_versions=True)["hits"]
    assert [(h["number"], h["version"], h["current"]) for h in old] == [(number, 1, False)]
    assert numbers(api_search.search(as_user(ws, "lina"), "铝合金外壳")) == [number]
    both = api_search.search(as_user(ws, "lina"), number, all_versions=True)["hits"]
    assert sorted(h["version"] for h in both) == [1, 2]


def _cli(ws_root, *args, env_extra=None, user="lina"):
    env = {**os.environ, "QREC_WORKSPACE": str(ws_root), "QREC_USER": user,
           **(env_extra or {})}
    return subprocess.run([*QREC, *args], capture_output=True, text=True, env=env,
                          timeout=120)


def _check(ws_root) -> dict:
    result = _cli(ws_root, "index", "check", "--json")
    return {"exit": result.returncode, **json.loads(result.stdout)}


@pytest.mark.parametrize("point, command", [
    ("new.after_commit", ["new", "complaint", "--data", str(ROOT / "examples/complaint.yaml")]),
    ("index.after_whoosh_commit",
     ["new", "complaint", "--data", str(ROOT / "examples/complaint.yaml")]),
    ("amend.after_commit", ["amend", "CC-2611-01", "--set", "product=铝合金外壳", "--reason",
                            "更正"]),
])
def test_a_crash_between_catalog_and_index_is_healed_by_the_next_command(ws, point, command):
    api_records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"), pdf=False)
    ws.sync_index()  # as `qrec new` does when it ends
    killed = _cli(ws.root, *command, env_extra={"QREC_FAULT": point})
    assert killed.returncode == -9, killed.stderr
    report = _check(ws.root)
    if point == "index.after_whoosh_commit":  # the index has it; STATE.json lags behind
        assert report["pending"] > 0 and report["differences"] == []
    else:
        assert report["exit"] == 1 and report["pending"] > 0 and report["differences"]
    healed = _cli(ws.root, "search", "铝合金外壳" if "amend" in point else "CC-2611-02",
                  "--json")
    assert healed.returncode == 0, healed.stderr
    assert [h["number"] for h in json.loads(healed.stdout)["hits"]] == [
        "CC-2611-01" if "amend" in point else "CC-2611-02"]
    after = _check(ws.root)
    assert after == {"exit": 0, "built": True, "pending": 0, "differences": [], "damaged": [],
                     "documents": after["documents"]}
    assert after["documents"] == 2  # two records, or one with two versions: no duplicates


def test_index_check_names_every_difference_and_rebuild_repairs_them(ws, run):
    for _ in range(3):
        api_records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"),
                               pdf=False)
    ws.sync_index()
    from whoosh import index

    ix = index.open_dir(str(ws.root / "index" / f"g{ws.index.state()['generation']}"))
    with ix.writer() as writer:
        writer.delete_by_term("number", "CC-2611-01")
        writer.delete_by_term("number", "CC-2611-02")
        writer.add_document(number="CC-2611-02", version=1, current=True, form="complaint",
                            status="approved", date="2026-11-16", title="x",
                            data_sha256="0" * 64)
        writer.add_document(number="CC-2611-99", version=1, current=True,
                            form="complaint", status="draft", date="2026-11-16", title="x",
                            data_sha256="0" * 64)
    result = run("index", "check")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "CC-2611-01 v1: missing from the index" in lines
    assert any(line.startswith("CC-2611-02 v1: status is 'approved' in the index, "
                               "'registered' in the catalog") for line in lines)
    assert "CC-2611-99 v1: in the index but not in the catalog" in lines
    assert "3 differences: run `qrec index rebuild`" in lines
    rebuilt = run("index", "rebuild")
    assert rebuilt.exit_code == 0 and "Index rebuilt: 3 records" in rebuilt.output
    clean = run("index", "check")
    assert clean.exit_code == 0 and "Index matches the catalog" in clean.output
    assert [p.name for p in (ws.root / "index").iterdir() if p.name.startswith("g")] == ["g2"]


def test_a_deleted_index_folder_is_rebuilt_by_the_next_command(ws, run):
    api_records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"), pdf=False)
    shutil.rmtree(ws.root / "index")
    result = run("search", "包装破损", "--json")
    assert json.loads(result.stdout)["total"] == 1
    assert ("Warning: the search index was missing (or of an older format): rebuilt it from "
            "the catalog (1 records)") in result.stderr


def test_rebuild_runs_while_searches_go_on(ws):
    for form_id, data in corpus.generate(40, 10, 10, seed=11):
        api_records.new_record(as_user(ws, "lina"), form_id, data, pdf=False)
    expected = api_search.search(as_user(ws, "lina"), "*", limit=1000)["total"]
    assert expected == 60
    env = {**os.environ, "QREC_WORKSPACE": str(ws.root), "QREC_USER": "lina"}
    rebuild = subprocess.Popen([*QREC, "index", "rebuild"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    searches = 0
    while rebuild.poll() is None or searches < 5:
        assert api_search.search(as_user(ws, "lina"), "*", limit=1000)["total"] == expected
        searches += 1
        time.sleep(0.01)
    assert rebuild.wait() == 0, rebuild.stderr
    assert ws.index.state()["generation"] == 2 and searches >= 5
    assert api_search.search(as_user(ws, "lina"), "*", limit=1000)["total"] == expected


def test_search_prints_an_aligned_table_with_snippets(ws, run):
    for form_id in ("complaint", "contract_review"):
        api_records.new_record(as_user(ws, "lina"), form_id, load_example(form_id), pdf=False)
    result = run("search", "华东", user="zhangwei")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["NUMBER", "FORM", "TITLE", "STATUS", "DATE", "KEPT", "UNTIL",
                                "保存至"]
    assert set(lines[1].replace(" ", "")) == {"─"}
    rows = lines[2:-1:2]
    assert [row.split()[0] for row in rows] == ["CC-2611-01", "CR-2026-0001"]
    from qrecords.textfmt import width
    assert len({width(row[:row.rindex(" 2026-11-")]) for row in rows}) == 1  # dates aligned
    assert all(line.startswith("    客户名称: 【华东】") for line in lines[3:-1:2])
    assert lines[-1] == "2 records 条记录"
    empty = run("search", "不存在的词", user="zhangwei")
    assert empty.exit_code == 0 and empty.output.strip() == "未找到记录 No records found."


def test_a_schema_being_drafted_does_not_stop_searching_the_other_forms(ws, run):
    """A half-written schemas/draft.yaml stopped every search (and the portal's search page)
    for everyone. It is left out with a warning; `qrec forms` still names its fault."""
    number = api_records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"),
                                    pdf=False)["number"]
    (ws.root / "schemas" / "draft.yaml").write_text("id: draft\nfields: [\n",
                                                     encoding="utf-8")
    result = run("search", "华东", user="zhangwei")
    assert result.exit_code == 0, result.output
    assert number in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and "表单有误，未用于检索" in warnings[0]
    assert "draft.yaml" in warnings[0], warnings
    listed = run("forms")
    assert listed.exit_code != 0 and "draft.yaml" in listed.output


def test_a_date_range_on_a_field_finds_its_records_and_a_range_of_numbers_is_refused(ws):
    """field:[a TO b] on a date field, typed as dates are written: the field's terms hold a
    date's digits (2026-11-18 is 20261118). Terms compare as text, so a range of numbers
    would miss 500 in [100 TO 1000]: it is refused in one line instead of finding nothing."""
    from qrecords.errors import QrecError

    made = api_records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"),
                                  pdf=False)["number"]
    day = ws.catalog.version(ws.catalog.record(made)["id"], 1)["data"]["received_date"]
    clerk = as_user(ws, "zhangwei")
    inside = f"received_date:[{day[:8]}01 TO {day[:8]}28]"
    assert numbers(api_search.search(clerk, inside)) == [made]
    assert numbers(api_search.search(clerk, f"received_date:[{day} TO]")) == [made]
    assert numbers(api_search.search(clerk, "received_date:[2000-01-01 TO 2000-12-31]")) == []
    with pytest.raises(QrecError, match="范围检索只用于日期 a range works on dates"):
        api_search.search(clerk, "quantity:[100 TO 1000]")


def test_status_and_form_in_a_query_take_their_labels_and_refuse_what_names_nothing(ws):
    """status:调查中 and form:客户投诉处理单 find what status:investigating and form:complaint
    find, as --status and --form take labels; a value that names nothing is refused in one
    line listing the allowed ones, instead of finding nothing."""
    from qrecords.errors import QrecError

    lina = as_user(ws, "lina")
    made = api_records.new_record(lina, "complaint", load_example("complaint"),
                                  pdf=False)["number"]
    steps.transition(as_user(ws, "zhaomin"), made, "investigate", pdf=False)
    clerk = as_user(ws, "zhangwei")
    for text in ("status:investigating", "status:调查中", "status:Investigating",
                 "form:complaint status:调查中", "form:客户投诉处理单 AND status:调查中"):
        assert numbers(api_search.search(clerk, text)) == [made], text
    with pytest.raises(QrecError, match="无此状态 no status 'closedd'.*investigating \\(调查中\\)"):
        api_search.search(clerk, "status:closedd")
    with pytest.raises(QrecError, match="无此表单 no form '投诉单'"):
        api_search.search(clerk, "form:投诉单")


def test_chinese_next_to_letters_and_digits_is_still_found(ws):
    data = {**load_example("complaint"),
            "description": "PCB板开裂，共100件破损；A级品混入2026年3月批次"}
    number = api_records.new_record(as_user(ws, "lina"), "complaint", data, pdf=False)["number"]
    for text in ("开裂", "PCB", "破损", "100", "A级", "3月", "PCB板开裂"):
        assert numbers(api_search.search(as_user(ws, "zhangwei"), text)) == [number], text
    assert numbers(api_search.search(as_user(ws, "zhangwei"), "number:cc-2611*")) == [number]
    assert numbers(api_search.search(as_user(ws, "zhangwei"), "date:[2026-11-01 TO]")) == [number]
    assert numbers(api_search.search(as_user(ws, "zhangwei"), "*", customer="华")) == [number]


def test_an_index_ahead_of_a_restored_catalog_is_rebuilt(ws, tmp_path):
    api_records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"), pdf=False)
    ws.close()
    catalog = ws.root / "records" / "catalog.sqlite"
    backup = tmp_path / "backup.sqlite"
    import sqlite3

    sqlite3.connect(catalog).backup(sqlite3.connect(backup))
    again = open_workspace(ws.root)
    api_records.new_record(as_user(again, "lina"), "complaint", load_example("complaint"),
                           pdf=False)
    again.close()
    sqlite3.connect(backup).backup(sqlite3.connect(catalog))  # restore: CC-2611-02 is gone
    restored = open_workspace(ws.root)
    assert numbers(api_search.search(as_user(restored, "lina"), "*")) == ["CC-2611-01"]
    assert any("ahead of the catalog" in n for n in restored.notices)
    assert api_search.check_index(restored)["differences"] == []
    restored.close()


def test_a_searcher_still_reads_its_mapped_generation_after_a_rebuild_removed_it(ws):
    """index/mapped.py maps the index files: a searcher kept open (the portal's pool keeps
    them between requests) goes on reading its generation after a rebuild removed it, until
    it is replaced."""
    from whoosh.query import Every

    from qrecords.index.mapped import MappedStorage

    for form_id, data in corpus.generate(20, 5, 5, seed=3):
        api_records.new_record(as_user(ws, "lina"), form_id, data, pdf=False)
    ws.sync_index()
    assert isinstance(ws.index.open().storage, MappedStorage)
    searcher = ws.index.searcher()
    old = ws.index.state()["generation"]
    api_search.rebuild_index(ws)
    assert not (ws.index.folder / f"g{old}").exists()
    assert len(searcher.search(Every(), limit=None)) == 30  # read from the removed files
    assert ws.index.searcher() is not searcher  # and replaced at the next search
