"""A workspace on the shared backends: settings choose them, credentials stay out of the YAML,
SQLite is refused for several machines, and records made on PostgreSQL + S3 verify."""

from __future__ import annotations

import itertools
import json
import os

import pytest
from click.testing import CliRunner

from qrecords.api import disposal, records, search, verify
from qrecords.cli import cli
from qrecords.domain.retention import earliest_end
from qrecords.errors import Conflict, WorkspaceError
from qrecords.settings import load_settings
from qrecords.workspace import Workspace, create_workspace
from tests.conftest import load_example
from tests.shared.pg import new_database

_NAMES = itertools.count(1)


@pytest.fixture
def shared(pg_server, s3_server, monkeypatch, tmp_path):
    """(catalog URL, files URL, endpoint) of a new database and bucket, credentials in the
    environment."""
    n = next(_NAMES)
    url = new_database(pg_server, f"ws_{n}")
    bucket = s3_server.make_bucket(f"qrec-ws-{n}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return url, f"s3://{bucket}/acme", s3_server.endpoint


def _yaml(tmp_path, extra: str):
    create_workspace(tmp_path / "ws", demo=True)
    path = tmp_path / "ws" / "qrecords.yaml"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return tmp_path / "ws"


@pytest.mark.parametrize("extra, problem", [
    ("machines: several\n", "machines: several needs a shared catalog"),
    ("catalog: sqlite:/mnt/share/catalog.sqlite\n", "a SQLite catalog lives inside its "
                                                     "workspace"),
    ("catalog: postgresql://qrec_app:s3cret@db:5432/q\n", "no password in qrecords.yaml"),
    ("files: s3://key:secret@bucket/x\n", "files must be"),
    ("catalog: mysql://db/q\n", "catalog must be sqlite:<path> or postgresql://"),
    ("s3_endpoint: ftp://x\n", "s3_endpoint must be an http"),
    ("machines: many\n", "machines must be one or several"),
    ("catalog: postgresql://qrec_app@db:5432/q?password=s3cret\n",
     "no password in qrecords.yaml"),
    ("catalog: postgresql://qrec_app@db/q?sslmode=require&PASSWORD=x\n",
     "no password in qrecords.yaml"),
    ("aws_secret_access_key: abc\n", "aws_secret_access_key: no credentials in qrecords.yaml"),
    ("password: abc\n", "password: no credentials in qrecords.yaml"),
    ("s3:\n  secret: abc\n", "s3.secret: no credentials in qrecords.yaml"),
    ("users:\n  - {id: lina, name: 李娜, password: x}\n",
     "users#1.password: no credentials in qrecords.yaml"),
])
def test_bad_backend_settings_are_one_line_naming_the_key(tmp_path, extra, problem):
    root = _yaml(tmp_path, extra)
    with pytest.raises(WorkspaceError, match=problem) as caught:
        load_settings(root)
    assert "\n" not in str(caught.value) and "qrecords.yaml" in str(caught.value)


def test_per_machine_index_and_temp_folders(tmp_path, monkeypatch):
    root = _yaml(tmp_path, "index: /var/lib/qrec/index\ntemp: /var/tmp/qrec\n")
    settings = load_settings(root)
    assert (settings.index, str(settings.temp)) == (
        __import__("pathlib").Path("/var/lib/qrec/index"), "/var/tmp/qrec")
    monkeypatch.setenv("QREC_INDEX", str(tmp_path / "machine-2-index"))
    assert load_settings(root).index == tmp_path / "machine-2-index"


def test_init_on_postgres_and_s3_then_records_verify(shared, tmp_path, monkeypatch):
    catalog, files, endpoint = shared
    result = CliRunner().invoke(cli, ["init", "--demo", str(tmp_path / "ws"), "--catalog", catalog,
                                      "--files", files, "--s3-endpoint", endpoint,
                                      "--machines", "several"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "ws" / "qrecords.yaml").read_text(encoding="utf-8")
    assert f"catalog: {catalog}" in text and "secret" not in text
    assert not (tmp_path / "ws" / "records" / "catalog.sqlite").exists()
    ws = Workspace.open(tmp_path / "ws", "lina")
    try:
        made = records.new_record(ws, "complaint", load_example("complaint"), pdf=False)
        number = made["number"]
        records.amend(ws, number, {"description": "包装破损，外箱受潮"}, "补充描述")
        keys = sorted(ws.files.keys())
        assert keys == [f"complaint/{number}/{number}_v1.docx",  # amend makes its PDF
                        f"complaint/{number}/{number}_v2.docx",
                        f"complaint/{number}/{number}_v2.pdf"]
        assert ws.files.location(keys[0]).startswith(files)
        assert ws.files.lock_of(keys[0])["legal_hold"] is True  # open: held by the store
        ws.sync_index()
        assert [h["number"] for h in search.search(ws, "受潮")["hits"]] == [number]
        report = verify.verify(ws)
        assert report["ok"], report["faults"]
    finally:
        ws.close()


def test_a_new_catalog_is_refused_a_file_store_that_holds_another_archives_files(
        shared, pg_server, tmp_path):
    catalog, files, endpoint = shared
    create_workspace(tmp_path / "a", {"catalog": catalog, "files": files,
                                      "s3_endpoint": endpoint}, demo=True)
    ws = Workspace.open(tmp_path / "a", "lina")
    try:
        records.new_record(ws, "complaint", load_example("complaint"), pdf=False)
        held = sorted(ws.files.keys())
    finally:
        ws.close()
    other = new_database(pg_server, f"ws_{next(_NAMES)}")
    for name, chosen in (("k", ["--files", files]),
                         ("p", ["--catalog", other, "--files", files])):
        result = CliRunner().invoke(cli, ["init", "--demo", str(tmp_path / name), *chosen,
                                          "--s3-endpoint", endpoint])
        assert result.exit_code != 0
        assert "holds files already" in result.output and "已有文件" in result.output
        assert not (tmp_path / name).exists()  # nothing half-made
    joined = CliRunner().invoke(cli, ["init", str(tmp_path / "b"), "--catalog", catalog,
                                      "--files", files, "--s3-endpoint", endpoint])
    assert joined.exit_code == 0, joined.output  # a machine joining the archive
    ws = Workspace.open(tmp_path / "a", "lina")
    try:
        assert sorted(ws.files.keys()) == held
        assert verify.verify(ws)["ok"]
    finally:
        ws.close()


def test_a_machine_joining_an_archive_says_what_its_os_account_acts_as(shared, tmp_path,
                                                                        monkeypatch):
    """A joining machine binds nothing; its init said this OS account was bound to the
    document controller all the same."""
    catalog, files, endpoint = shared
    monkeypatch.delenv("QREC_TODAY")
    create_workspace(tmp_path / "a", {"catalog": catalog, "files": files,
                                      "s3_endpoint": endpoint})  # no OS account bound
    joined = CliRunner().invoke(cli, ["init", str(tmp_path / "b"), "--catalog", catalog,
                                      "--files", files, "--s3-endpoint", endpoint])
    assert joined.exit_code == 0, joined.output
    assert "is bound to no user of this archive: log in with `qrec login USER`" in \
        joined.output
    assert "is bound to wangwen" not in joined.output


def test_objects_follow_their_records_lock(shared, tmp_path):
    catalog, files, endpoint = shared
    create_workspace(tmp_path / "ws", {"catalog": catalog, "files": files,
                                       "s3_endpoint": endpoint}, demo=True)
    ws = Workspace.open(tmp_path / "ws", "wangwen")
    made = records.new_record(ws, "complaint", load_example("complaint"), pdf=False)
    number, key = made["number"], None
    ws.close()
    ws = Workspace.open(tmp_path / "ws", "wangwen")
    record = ws.catalog.record(number)
    key = ws.catalog.record_files(record["id"])[0]["path"]
    created = ws.catalog.version(record["id"], 1)["effective_date"]  # locked from the start
    assert ws.files.lock_of(key) == {"mode": "COMPLIANCE", "until": earliest_end(
        ws.form_of(number).retention, created, {}), "legal_hold": True}
    with ws.catalog.write() as tx:  # as a closing step sets them
        tx.set_retention(record["id"], "t", "2026-11-23", "2026-11-23", "2036-11-23")
        ws.log("record.transition", number, 1, {"closed": "2026-11-23"})
    ws.close()  # the unit of work locks the objects of the records it changed
    ws = Workspace.open(tmp_path / "ws", "wangwen")
    assert ws.files.lock_of(key) == {"mode": "COMPLIANCE", "until": "2036-11-23",
                                     "legal_hold": False}
    disposal.hold(ws, [number], "诉讼 litigation", place=True)
    ws.close()
    ws = Workspace.open(tmp_path / "ws", "wangwen")
    assert ws.files.lock_of(key)["legal_hold"] is True
    assert verify.repair(ws)[-1] == "locked the objects of 1 records as their records stand"
    ws.close()


def test_repair_leaves_the_objects_of_a_record_the_catalog_knows_without_rows(shared, tmp_path):
    """Objects under a destroyed record's number (a tombstone, or only events) are no debris:
    verify names them, `--repair` leaves them and their legal hold for a person to decide."""
    catalog, files, endpoint = shared
    create_workspace(tmp_path / "ws", {"catalog": catalog, "files": files,
                                       "s3_endpoint": endpoint}, demo=True)
    ws = Workspace.open(tmp_path / "ws", "wangwen")
    try:
        made = records.new_record(ws, "complaint", load_example("complaint"), pdf=False)
        tombstone = {"number": "CC-2001-01", "form_id": "complaint", "form_revision": "A/0",
                     "title": "旧", "created_at": "2020-01-02T08:00:00Z",
                     "closed_on": "2020-01-03", "retention_from": "2020-01-03",
                     "retention_until": "2023-01-03", "retention": "3 years", "action":
                     "destroy", "versions": 1, "files": {}, "list_number": "DL-2023-001",
                     "authorised_by": "wangwen", "reason": "保存期满",
                     "at": "2023-01-04T08:00:00Z", "effective_date": "2023-01-04"}
        with ws.write() as tx:
            tx.add_tombstone(tombstone)
            ws.log("record.disposed", "CC-2001-01", None, {"files": {}})
            ws.log("record.created", "CC-2002-01", 1, {})  # events, no rows, no tombstone
        left = ["complaint/CC-2001-01/CC-2001-01_v2.pdf", "complaint/CC-2002-01/x.docx"]
        for key in left:
            ws.put_file(key, b"%PDF-1.4 kept")
        ws.put_file(f"complaint/{made['number']}/{made['number']}_v9.docx", b"debris")
        faults = [f for f in verify.verify(ws)["faults"] if f["kind"] == "debris"]
        assert sorted((f["record"] or "", f["problem"].split(": ")[1]) for f in faults) == [
            ("", "not in the catalog (debris of an interrupted command, or put there by "
                   "hand; `qrec verify --repair` moves it to debris/)"),
            ("CC-2001-01", "objects of a destroyed record remain"),
            ("CC-2002-01", "objects of a destroyed record remain")]
        done = verify.repair(ws)
        assert [line for line in done if line.startswith("left ")] == [
            f"left records/{left[0]}: objects of a destroyed record remain: CC-2001-01",
            f"left records/{left[1]}: objects of a destroyed record remain: CC-2002-01"]
        for key in left:
            assert ws.files.read(key) == b"%PDF-1.4 kept"
            assert ws.files.lock_of(key)["legal_hold"] is True
        assert f"complaint/{made['number']}/{made['number']}_v9.docx" not in ws.files.keys()
    finally:
        ws.close()


def test_init_refuses_sqlite_for_several_machines(tmp_path):
    result = CliRunner().invoke(cli, ["init", "--demo", str(tmp_path / "ws"),
                                      "--machines", "several"])
    assert result.exit_code != 0
    assert "machines: several needs a shared catalog" in result.output
    assert not (tmp_path / "ws").exists()  # nothing half-made


@pytest.mark.parametrize("options, problem", [
    (["--machines", "several"], "machines: several needs a shared catalog"),
    (["--catalog", "postgresql://qrec_app@db/q?password=x"], "no password in qrecords.yaml"),
])
def test_a_refused_init_leaves_a_given_folder_as_it_was(tmp_path, options, problem):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(cli, ["init", "--demo", str(tmp_path / "ws"), *options])
    assert result.exit_code != 0 and problem in result.output
    assert [p.name for p in (tmp_path / "ws").iterdir()] == ["notes.txt"]


def test_an_init_whose_catalog_is_down_leaves_no_folder(tmp_path):
    result = CliRunner().invoke(cli, ["init", "--demo", str(tmp_path / "ws"), "--catalog",
                                      "postgresql://qrec_app@127.0.0.1:1/x"])
    assert result.exit_code != 0 and "cannot connect" in result.output
    assert not (tmp_path / "ws").exists()


def test_an_object_store_that_is_down_is_one_line(shared, tmp_path):
    catalog, files, _ = shared
    result = CliRunner().invoke(cli, ["init", "--demo", str(tmp_path / "ws"), "--catalog", catalog,
                                      "--files", files, "--s3-endpoint",
                                      "http://127.0.0.1:1"])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot be reached" in lines[0], result.output
    assert not (tmp_path / "ws").exists()  # no workspace half-made


@pytest.fixture(params=["sqlite", "postgresql"])
def raw_sql(request, tmp_path):
    """(settings for create_workspace, run(statement) with the application's own
    connection) for a normal workspace on each catalog."""
    if request.param == "sqlite":
        import sqlite3

        def run(statement: str) -> None:
            db = sqlite3.connect(tmp_path / "ws" / "records" / "catalog.sqlite")
            db.execute(statement)
            db.commit()
            db.close()
        return {}, run
    from qrecords.catalog.postgres import connect

    url = new_database(request.getfixturevalue("pg_server"), f"raw_{next(_NAMES)}")

    def run(statement: str) -> None:
        db = connect(url)
        try:
            db.execute(statement)
        finally:
            db.close()
    return {"catalog": url}, run


def _a_normal_workspace_with_a_record(settings, tmp_path) -> str:
    create_workspace(tmp_path / "ws", settings, demo=False)
    ws = Workspace.open(tmp_path / "ws", "lina")
    try:
        return records.new_record(ws, "complaint", load_example("complaint"),
                                  pdf=False)["number"]
    finally:
        ws.close()


def test_verify_names_an_event_time_that_is_none(raw_sql, tmp_path, monkeypatch):
    settings, run = raw_sql
    monkeypatch.delenv("QREC_TODAY", raising=False)  # a normal workspace
    _a_normal_workspace_with_a_record(settings, tmp_path)
    run("INSERT INTO events (id, at, effective_date, actor, action, record_number, version, "
        "detail, prev_hash, hash) VALUES (9999, 'x', '2026-12-07', 'lina', 'note', NULL, "
        "NULL, '{}', '0', '0')")
    ws = Workspace.open(tmp_path / "ws", "lina")
    try:
        problems = [f["problem"] for f in verify.verify(ws)["faults"]]
        assert "event 9999 (note) has a time that is none: 'x' (not an ISO 8601 UTC time; " \
               "written outside qrecords)" in problems, problems
    finally:
        ws.close()


def test_a_tombstone_written_outside_qrecords_is_shown_and_named_not_a_crash(
        raw_sql, tmp_path, monkeypatch):
    """The application role may INSERT tombstones: one whose files are not a mapping made
    `qrec show` and the audit pack end in an internal error (AttributeError)."""
    settings, run = raw_sql
    monkeypatch.delenv("QREC_TODAY", raising=False)  # a normal workspace
    _a_normal_workspace_with_a_record(settings, tmp_path)
    run("INSERT INTO tombstones (number, form_id, form_revision, title, created_at, closed_on, "
        "retention_from, retention_until, retention, action, versions, files, list_number, "
        "authorised_by, reason, at, effective_date) VALUES ('CC-2001-01', 'complaint', 'A/0', "
        "'t', '2020-01-01T00:00:00Z', '2020-01-01', '2020-01-01', '2023-01-01', '3y', "
        "'destroy', 1, '[1, 2]', 'DL-2026-001', 'wangwen', 'x', '2026-12-07T00:00:00Z', "
        "'2026-12-07')")
    from qrecords.cli.present import tombstone_text

    ws = Workspace.open(tmp_path / "ws", "lina")
    try:
        shown = tombstone_text(records.show(ws, "CC-2001-01")["disposed"])  # as `qrec show`
        assert shown.startswith("CC-2001-01") and "[1, 2]  (unreadable)" in shown, shown
        named = [f for f in verify.verify(ws)["faults"] if f["record"] == "CC-2001-01"]
        assert named, verify.verify(ws)["faults"]
    finally:
        ws.close()


def test_a_counter_set_back_is_named_by_verify_and_by_new(raw_sql, tmp_path, monkeypatch):
    settings, run = raw_sql
    monkeypatch.delenv("QREC_TODAY", raising=False)  # a normal workspace
    number = _a_normal_workspace_with_a_record(settings, tmp_path)
    run("UPDATE counters SET last_seq = 0")
    ws = Workspace.open(tmp_path / "ws", "lina")
    try:
        problems = [f["problem"] for f in verify.verify(ws)["faults"]]
        period = number.rsplit("-", 1)[0] + "-{seq:02}"
        assert problems == [f"the number counter of complaint for {period} is at 0, but "
                            f"{number} was issued (set back outside qrecords: the next `qrec "
                            "new` would give a number already used)"]
        with pytest.raises(Conflict, match=r"^编号计数器落后于已发编号 the number counter of "
                                           rf"complaint is behind the numbers issued: it gave "
                                           rf"{number}, .*run `qrec verify`\)$"):
            records.new_record(ws, "complaint", load_example("complaint"), pdf=False)
    finally:
        ws.close()


def test_index_check_on_a_machine_whose_index_is_not_built_yet(tmp_path, monkeypatch):
    """A new machine's index folder (QREC_INDEX) is empty until a command builds it: `index
    check` says so (no error), and the next other command builds it."""
    create_workspace(tmp_path / "ws", demo=True)
    monkeypatch.setenv("QREC_INDEX", str(tmp_path / "machine-2-index"))
    runner, at = CliRunner(), ["-w", str(tmp_path / "ws")]
    result = runner.invoke(cli, [*at, "index", "check"])
    assert (result.exit_code, result.output) == (0, (
        "索引尚未建立 the search index is not built yet on this machine: run `qrec index "
        "rebuild` (any other command builds it)\n"))
    result = runner.invoke(cli, [*at, "index", "check", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["built"] is False
    assert runner.invoke(cli, [*at, "search", "客户"]).exit_code == 0
    result = runner.invoke(cli, [*at, "index", "check"])
    assert result.exit_code == 0 and "Index matches the catalog" in result.output


def test_a_rebuild_in_worker_processes_reads_postgresql_on_connections_of_its_own(
        shared, tmp_path, monkeypatch):
    from qrecords.index import bulk

    catalog, files, endpoint = shared
    create_workspace(tmp_path / "ws", {"catalog": catalog, "files": files,
                                       "s3_endpoint": endpoint, "machines": "several"},
                     demo=True)
    ws = Workspace.open(tmp_path / "ws", "lina")
    try:
        made = [records.new_record(ws, "complaint", load_example("complaint"), pdf=False)
                for _ in range(3)]
        monkeypatch.setattr(bulk, "PARALLEL_FROM", 2)
        forked, in_processes = [], bulk._in_processes
        monkeypatch.setattr(bulk, "_in_processes",
                            lambda *args: forked.append(1) or in_processes(*args))
        assert search.rebuild_index(ws) == 3 and forked == [1]
        assert {h["number"] for h in search.search(ws, "包装")["hits"]} == \
            {m["number"] for m in made}
        assert search.check_index(ws)["differences"] == []
        records.amend(ws, made[0]["number"], {"description": "外箱受潮"}, "补充描述")
        ws.sync_index()  # the parent's own connection still works after the fork
        assert [h["number"] for h in search.search(ws, "受潮")["hits"]] == [made[0]["number"]]
    finally:
        ws.close()


def test_reading_needs_no_object_store_and_a_write_is_refused_whole_without_one(
        shared, tmp_path, monkeypatch):
    """`qrec search` and `qrec show` read the catalog and the index only: they neither import
    boto3 nor ask the object store, and work while it is down. A write asks it before the
    catalog's write lock (files.ready): one line, and no number taken. A hold is placed."""
    import subprocess

    from tests.conftest import QREC, TODAY, example

    catalog, files, endpoint = shared
    root = tmp_path / "ws"
    create_workspace(root, {"catalog": catalog, "files": files, "s3_endpoint": endpoint},
                     demo=True)
    ws = Workspace.open(root, "lina")
    try:
        number = records.new_record(ws, "complaint", load_example("complaint"),
                                    pdf=False)["number"]
    finally:
        ws.close()
    config = root / "qrecords.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        endpoint, "http://127.0.0.1:1"), encoding="utf-8")  # the object store is down
    env = {**os.environ, "QREC_TODAY": TODAY, "PYTHONPROFILEIMPORTTIME": "1"}

    def qrec(*args: str, user: str = "lina") -> subprocess.CompletedProcess:
        return subprocess.run([QREC, "-w", str(root), "--as", user, *args],
                              capture_output=True, text=True, env=env)

    for args in (("search", "包装"), ("show", number)):
        done = qrec(*args)
        assert done.returncode == 0 and number in done.stdout, done.stderr[-2000:]
        assert " boto3" not in done.stderr and " botocore.client" not in done.stderr
        assert "qrecords.api" in done.stderr  # the import log is there
    done = qrec("new", "complaint", "--data", str(example("complaint")))
    refusal = [line for line in done.stderr.splitlines() if not line.startswith("import time")]
    assert done.returncode != 0 and len(refusal) == 1 and "cannot be reached" in refusal[0], \
        refusal
    # A legal hold is the catalog's: placed while the store is down, with a notice that the
    # objects keep the locks they had (before, close() raised after the hold was committed,
    # and in the portal left the index and the connection unreturned).
    done = qrec("hold", "add", number, "--reason", "诉讼保全 litigation", user="wangwen")
    said = [line for line in done.stderr.splitlines() if not line.startswith("import time")]
    assert done.returncode == 0 and number in done.stdout, said
    assert len(said) == 1 and "对象锁未更新" in said[0] and "verify --repair" in said[0], said
    config.write_text(config.read_text(encoding="utf-8").replace(
        "http://127.0.0.1:1", endpoint), encoding="utf-8")  # back up
    ws = Workspace.open(root, "lina")
    try:
        assert ws.catalog.record(number)["on_hold"]
        assert ws.catalog.record_numbers() == [number]  # nothing written ...
        after = records.new_record(ws, "complaint", load_example("complaint"), pdf=False)
        assert after["number"] == number[:-2] + "02"  # ... and no number taken
    finally:
        ws.close()


def test_an_object_store_that_hangs_is_given_up_in_one_line_and_nothing_is_written(
        shared, s3_server, tmp_path, monkeypatch):
    """A store that takes the connection and then answers nothing (paused here with SIGSTOP;
    hung in life) is given up after READ_TIMEOUT_S for each attempt: before, 60 s each, and
    a `qrec new` sat silent for three minutes. Shortened here so that the test is quick."""
    import signal

    from qrecords.files import s3

    catalog, files, endpoint = shared
    root = tmp_path / "ws"
    create_workspace(root, {"catalog": catalog, "files": files, "s3_endpoint": endpoint},
                     demo=True)
    monkeypatch.setattr(s3, "READ_TIMEOUT_S", 1)
    monkeypatch.setattr(s3, "_CLIENTS", {})  # clients made with the shorter timeout
    monkeypatch.setattr(s3, "_LOCKED", set())  # the store is asked, as in a fresh process
    ws = Workspace.open(root, "lina")
    before = ws.catalog.record_numbers()
    os.kill(s3_server.process.pid, signal.SIGSTOP)
    try:
        with pytest.raises(WorkspaceError) as refused:
            records.new_record(ws, "complaint", load_example("complaint"), pdf=False)
    finally:
        os.kill(s3_server.process.pid, signal.SIGCONT)
        ws.close()
    message = str(refused.value)
    assert "无法连接对象存储 the object store cannot be reached" in message
    assert "\n" not in message, message
    ws = Workspace.open(root, "lina")
    try:
        assert ws.catalog.record_numbers() == before  # nothing half-written
        assert verify.verify(ws)["ok"]
    finally:
        ws.close()
