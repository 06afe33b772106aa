"""PDFs made by LibreOffice and read back with pypdf: text, embedded CJK fonts, metadata,
watermark, restarts, concurrency, and life without LibreOffice."""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pypdf import PdfReader

from qrecords.domain.fields import Label
from qrecords.render.finish import watermark_for
from qrecords.render.pdf import Converter, make_pdf
from qrecords.domain.workflow import State
from tests.conftest import EXAMPLES, ROOT, as_json, as_user, example, load_example
from qrecords.api import pdfs as api_pdfs, records
from tests.render.docx_text import docx_text


def _fonts(reader: PdfReader) -> list[tuple[str, bool]]:
    """(BaseFont, embedded?) of every font on every page, descendant fonts included."""
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for real in [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]:
                descriptor = real.get("/FontDescriptor")
                embedded = descriptor is not None and any(
                    key in descriptor.get_object() for key in ("/FontFile", "/FontFile2",
                                                               "/FontFile3"))
                found.append((str(real["/BaseFont"]), embedded))
    return found


@pytest.fixture(scope="module")
def complaint_pdf(tmp_path_factory):
    from tests.conftest import init_workspace

    os.environ["QREC_TODAY"] = "2026-11-23"
    ws = init_workspace(tmp_path_factory.mktemp("pdf") / "ws")
    record = records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"))
    yield ws, record
    ws.close()


def test_pdf_is_made_next_to_the_docx_with_the_record_values(complaint_pdf):
    ws, record = complaint_pdf
    pdf = Path(record["files"]["pdf"])
    assert pdf.name == "CC-2611-01_v1.pdf" and pdf.parent == Path(record["files"]["docx"]).parent
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    for value in ("华东电力设备有限公司", "控制板组件", "PCB-4451-A", "包装破损", "客户投诉处理单",
                  "CC-2611-01", "第 1 页 共 1 页"):
        assert value in text, value


def test_pdf_fonts_are_embedded_cjk(complaint_pdf):
    _, record = complaint_pdf
    fonts = _fonts(PdfReader(record["files"]["pdf"]))
    assert all(embedded for _, embedded in fonts), fonts
    assert any("CJK" in name for name, _ in fonts), fonts


def test_pdf_metadata(complaint_pdf):
    _, record = complaint_pdf
    meta = PdfReader(record["files"]["pdf"]).metadata
    assert meta["/RecordNumber"] == "CC-2611-01" and meta["/Version"] == "1"
    assert meta["/FormNumber"] == "QR-9.1.2-01" and meta["/FormRevision"] == "A/0"
    assert meta["/Organisation"] == "华东精密制造有限公司"
    assert "/DataSHA256" not in meta  # the complaint holds personal data (issue 14, 6)
    assert meta["/Title"].startswith("客户投诉处理单")


def test_pdf_is_hashed_and_read_only(complaint_pdf):
    ws, record = complaint_pdf
    pdf = Path(record["files"]["pdf"])
    assert os.stat(pdf).st_mode & 0o222 == 0
    events = [e for e in ws.catalog.events("CC-2611-01") if e["action"] == "file.pdf_made"]
    assert events[0]["detail"]["files"]["pdf"] == hashlib.sha256(pdf.read_bytes()).hexdigest()


@pytest.mark.parametrize("state, mark", [
    (State("draft", Label("草稿", "Draft")), "草稿 DRAFT"),
    (State("void", Label("作废", "Void"), void=True), "作废 VOID"),
    (State("approved", Label("已批准", "Approved"), released=True), None),
    (State("closed", Label("已关闭", "Closed"), released=True, closes=True), None)])
def test_watermark_follows_the_workflow_state(complaint_pdf, state, mark):
    _, record = complaint_pdf
    assert watermark_for(state) == mark
    pdf = make_pdf(Path(record["files"]["docx"]), mark, {"RecordNumber": "x"})
    import io

    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    for candidate in ("草稿 DRAFT", "作废 VOID"):
        assert (candidate in text) == (candidate == mark), (state.id, candidate)


def test_render_makes_a_missing_pdf_and_never_replaces_one(ws, run, no_libreoffice,
                                                           monkeypatch):
    first = records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"))
    records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"))
    assert first["files"]["pdf"] is None and Path(first["files"]["docx"]).is_file()
    assert len(ws.notices) == 1 and "apt-get install libreoffice-writer-nogui" in ws.notices[0]
    listed = run("render", "--all", "--dry-run").output.splitlines()
    assert listed[0].split() == ["NUMBER", "VER", "STATUS", "缺", "MISSING"]  # every column
    assert [line.split()[0] for line in listed[2:]] == ["CC-2611-01", "CC-2611-02"]
    from qrecords.textfmt import width  # aligned: the column starts at the same cell
    assert {width(line[:line.index("PDF")]) for line in listed[2:]} == \
        {width(listed[0][:listed[0].index("缺")])}
    monkeypatch.delenv("QREC_SOFFICE")
    made = as_json(run("render", "CC-2611-01", "--json"))
    assert made[0]["made"] is True
    before = hashlib.sha256(Path(made[0]["pdf"]).read_bytes()).hexdigest()
    again = as_json(run("render", "CC-2611-01", "--json"))
    assert again[0]["made"] is False
    assert hashlib.sha256(Path(made[0]["pdf"]).read_bytes()).hexdigest() == before
    everything = run("render", "--all")
    assert everything.exit_code == 0 and "CC-2611-02 v1  made" in everything.output
    assert api_pdfs.missing_pdfs(ws) == []


def test_cli_warns_once_without_libreoffice(run, no_libreoffice):
    result = run("new", "complaint", "--data", example("complaint"))
    assert result.exit_code == 0
    assert result.stderr.count("Warning: no PDF made") == 1


def _group_alive(pgid: int) -> bool:
    """Any running (not zombie) process in the process group?"""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def test_crashed_converter_is_restarted(complaint_pdf, tmp_path):
    _, record = complaint_pdf
    converter = Converter()
    try:
        converter.convert(Path(record["files"]["docx"]), tmp_path / "a.pdf")
        crashed, profile = converter._process, converter._profile
        os.killpg(crashed.pid, signal.SIGKILL)  # LibreOffice and worker die between jobs
        crashed.wait()
        converter.convert(Path(record["files"]["docx"]), tmp_path / "b.pdf")
        assert converter.starts == 2 and (tmp_path / "b.pdf").stat().st_size > 1000
        assert not Path(profile).exists()
    finally:
        converter.close()


def test_hung_converter_is_killed_restarted_and_leaves_nothing(complaint_pdf, tmp_path):
    _, record = complaint_pdf
    converter = Converter(timeout=5)
    try:
        converter.convert(Path(record["files"]["docx"]), tmp_path / "a.pdf")
        hung = converter._process.pid
        profile = converter._profile
        os.killpg(hung, signal.SIGSTOP)  # frozen: no answer will come
        converter.convert(Path(record["files"]["docx"]), tmp_path / "b.pdf")
        assert converter.starts == 2 and (tmp_path / "b.pdf").stat().st_size > 1000
        assert not _group_alive(hung) and not Path(profile).exists()
    finally:
        converter.close()


def test_profile_folders_of_killed_processes_are_swept_when_libreoffice_starts(
        complaint_pdf, tmp_path):
    """A qrec killed while it held LibreOffice left its profile folder in /tmp (a tester
    counted 355 of them, 187 MB). Starting a converter removes those of processes that are
    gone, and leaves a live process's alone."""
    import tempfile

    _, record = complaint_pdf
    ended = subprocess.Popen(["true"])
    ended.wait()  # reaped: its pid names no process now
    temp = Path(tempfile.gettempdir())
    stale, live = temp / f"qrec-lo-{ended.pid}-test", temp / f"qrec-lo-{os.getppid()}-test"
    for folder in (stale, live):
        (folder / "user").mkdir(parents=True, exist_ok=True)
    converter = Converter()
    try:
        converter.convert(Path(record["files"]["docx"]), tmp_path / "a.pdf")
        assert not stale.exists() and live.exists()
    finally:
        converter.close()
        shutil.rmtree(live, ignore_errors=True)
        shutil.rmtree(stale, ignore_errors=True)


CONVERTING = textwrap.dedent("""
    import sys, yaml, pathlib
    from qrecords.api import records
    from qrecords.workspace import Workspace
    ws = Workspace.open(pathlib.Path(sys.argv[1]), "lina")
    data = yaml.safe_load(open(sys.argv[2], encoding="utf-8"))
    for _ in range(3):
        record = records.new_record(ws, "complaint", data)
        assert record["files"]["pdf"], ws.notices
        print(record["files"]["pdf"], flush=True)
""")


def test_two_processes_convert_at_once_without_collision(ws, tmp_path):
    script = tmp_path / "convert.py"
    script.write_text(CONVERTING)
    workers = [subprocess.Popen([sys.executable, str(script), str(ws.root),
                                 str(EXAMPLES / "complaint.yaml")], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    pdfs = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        pdfs += out.split()
    assert len(set(pdfs)) == 6
    for pdf in pdfs:
        assert "华东电力设备有限公司" in PdfReader(pdf).pages[0].extract_text()
    assert api_pdfs.missing_pdfs(ws) == []
    for worker in workers:  # each process shut its LibreOffice down when it exited
        leftovers = subprocess.run(["pgrep", "-f", f"qrec_{worker.pid}_"],
                                   capture_output=True, text=True)
        assert leftovers.stdout.strip() == ""


def test_render_all_converts_in_parallel_and_stores_each_once(ws, run, monkeypatch):
    for _ in range(5):
        records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"), pdf=False)
    assert len(api_pdfs.missing_pdfs(ws)) == 5
    result = run("render", "--all", "--json")
    made = as_json(result)
    assert [m["number"] for m in made] == [f"CC-2611-0{n}" for n in range(1, 6)]
    assert all(m["made"] for m in made) and api_pdfs.missing_pdfs(ws) == []
    for item in made:
        text = PdfReader(item["pdf"]).pages[0].extract_text()
        assert item["number"] in text and "华东电力设备有限公司" in text
    events = [e for e in ws.catalog.events() if e["action"] == "file.pdf_made"]
    assert len(events) == 5


def test_a_pdf_failure_of_any_kind_never_fails_a_stored_record(ws, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("qrecords.api.pdfs.make_pdf", disk_full)
    record = records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"))
    assert record["files"]["pdf"] is None and record["number"] == "CC-2611-01"
    assert "No space left on device" in ws.notices[0]
    assert "qrec render CC-2611-01 --version 1" in ws.notices[0]


def test_watermark_stamp_is_rendered_once_then_cached(tmp_path, monkeypatch):
    from qrecords.render.pdf import shared_converter, stamp_pdf

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = stamp_pdf("草稿 DRAFT", shared_converter())
    assert "草稿" in PdfReader(__import__("io").BytesIO(first)).pages[0].extract_text()

    class NoConverter:
        def convert(self, *args):
            raise AssertionError("the cached stamp should have been used")

    assert stamp_pdf("草稿 DRAFT", NoConverter()) == first
    assert len(list((tmp_path / "qrecords").glob("stamp-*.pdf"))) == 1


@pytest.mark.parametrize("mark", ["草稿 DRAFT", "作废 VOID", "受控 CONTROLLED"])
def test_every_watermark_is_whole_on_one_stamp_page(tmp_path, monkeypatch, mark):
    """Review 18b: 受控 CONTROLLED was too wide for the stamp page, so LibreOffice wrapped it
    onto a second page and the controlled copy's diagonal stamp read 受控 alone."""
    from qrecords.render.pdf import shared_converter, stamp_pdf

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # rendered now, not from a cache
    stamp = PdfReader(__import__("io").BytesIO(stamp_pdf(mark, shared_converter())))
    assert [page.extract_text() for page in stamp.pages] == [mark]


# -- characters and fonts: nothing printed as an empty box without a word -------------------

EMOJI = "✅ ❌ 👍"
NO_FONT = "\U0010FFFD"  # private use, plane 16: no font has it


def test_emoji_print_from_an_installed_font_and_stay_in_the_text_layer(run):
    result = run("new", "complaint", "--data", example("complaint"), "--set",
                 "customer=✅ 宁波海天 ❌", "--set", "description=包装破损 👍 已复核 ✅", "--json")
    assert result.exit_code == 0, result.output
    assert "no installed font" not in result.stderr, result.stderr
    pdf = PdfReader(as_json(result)["files"]["pdf"])
    text = "".join(page.extract_text() for page in pdf.pages)
    for char in EMOJI.split():
        assert char in text, f"{char} lost from the PDF's text layer"
    # drawn from an embedded font that has them (the install script's Symbola), not boxes
    assert any("Symbola" in name and embedded for name, embedded in _fonts(pdf)), _fonts(pdf)


def test_a_character_no_font_has_is_named_when_it_is_entered(run, ws):
    result = run("new", "customer_property", "--data", example("customer_property"), "--set",
                 f"customer=客户{NO_FONT}", "--set",
                 f"items=[{{item_no: 1, name: 铜板{NO_FONT}, category: material}}]", "--json")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "no installed font" in line]
    assert len(warnings) == 2, result.stderr
    assert warnings[0].startswith("Warning: CP-2026-0001 v1: customer (客户名称) 中的 ")
    assert warnings[1].startswith("Warning: CP-2026-0001 v1: items[1].name (名称) 中的 ")
    assert all("U+10FFFD" in w and "the PDF shows an empty box" in w for w in warnings)
    record = as_json(result)
    assert record["data"]["customer"] == f"客户{NO_FONT}"  # kept as typed
    assert f"客户{NO_FONT}" in docx_text(record["files"]["docx"])


def test_missing_glyphs_asks_the_fonts_libreoffice_uses():
    from qrecords.render.glyphs import missing_glyphs

    assert missing_glyphs("ACME 华东电力 ①②③ ✅❌👍 👍🏽") == []
    # joiners and variation selectors are not drawn on their own
    assert missing_glyphs("👩\u200d🔧 ❤\ufe0f") == []
    assert missing_glyphs(f"a{NO_FONT}b{NO_FONT}") == [NO_FONT]
