"""Object Lock against someone holding the application's own S3 key (boto3 as the attacker):
an open record's object is locked in COMPLIANCE mode from the moment it is written, so lifting
its legal hold does not let it be deleted; a delete marker or a newer version put over a
record's object neither breaks reads nor goes unnoticed: verify names it, --repair mends it.

The catalog is SQLite (a workspace with S3 files alone), the store a real SeaweedFS with
Object Lock (tests/servers.py)."""

from __future__ import annotations

import datetime
import itertools

import pytest
from botocore.exceptions import ClientError

from qrecords.api import downloads, records, steps, verify
from qrecords.domain.retention import period_end
from qrecords.workspace import Workspace, create_workspace
from tests.conftest import load_example

_NAMES = itertools.count(1)


@pytest.fixture
def made(s3_server, monkeypatch, tmp_path):
    """(workspace as wangwen, raw S3 client, record number, version 1's DOCX key, object
    name in the bucket) of a new open complaint in a workspace whose files are in S3."""
    bucket = s3_server.make_bucket(f"qrec-lock-{next(_NAMES)}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    create_workspace(tmp_path / "ws", {"files": f"s3://{bucket}/acme",
                                       "s3_endpoint": s3_server.endpoint}, demo=True)
    ws = Workspace.open(tmp_path / "ws", "wangwen")
    number = records.new_record(ws, "complaint", load_example("complaint"), pdf=False)["number"]
    key = ws.catalog.record_files(ws.catalog.record(number)["id"])[0]["path"]
    ws.sync_index()  # as closing the command does: verify compares the index too
    yield ws, s3_server.client(), number, key, f"acme/{key}"
    ws.close()


def _file_faults(ws) -> list[str]:
    return [f["problem"] for f in verify.verify(ws)["faults"] if f["kind"] == "file"]


def test_an_open_records_object_is_locked_from_the_moment_it_is_written(made):
    ws, raw, number, key, name = made
    created = datetime.date.fromisoformat(ws.catalog.version(
        ws.catalog.record(number)["id"], 1)["effective_date"])
    earliest = period_end(created, ws.form_of(number).retention).isoformat()  # 3 years
    assert ws.files.lock_of(key)["legal_hold"] is True  # open: held as well
    version = raw.head_object(Bucket=ws.files.bucket, Key=name)["VersionId"]
    # The key may lift a legal hold (PutObjectLegalHold): the retention still refuses.
    raw.put_object_legal_hold(Bucket=ws.files.bucket, Key=name, VersionId=version,
                              LegalHold={"Status": "OFF"})
    with pytest.raises(ClientError, match="AccessDenied"):
        raw.delete_object(Bucket=ws.files.bucket, Key=name, VersionId=version)
    with pytest.raises(ClientError):  # and compliance retention cannot be shortened
        raw.put_object_retention(Bucket=ws.files.bucket, Key=name, VersionId=version,
                                 Retention={"Mode": "COMPLIANCE",
                                            "RetainUntilDate": datetime.datetime(2020, 1, 1)})
    assert raw.get_object(Bucket=ws.files.bucket, Key=name, VersionId=version)["Body"].read()
    assert ws.files.lock_of(key) == {"mode": "COMPLIANCE", "until": earliest,
                                     "legal_hold": False}
    report = verify.verify(ws)
    assert report["ok"], report["faults"]


def test_a_delete_marker_over_a_record_is_read_through_named_and_repaired(made):
    ws, raw, number, key, name = made
    raw.delete_object(Bucket=ws.files.bucket, Key=name)  # a delete marker: the lock allows it
    got = downloads.download(ws, number, 1, "docx")
    assert not got["masked"] and got["content"][:2] == b"PK"  # read the locked version
    assert _file_faults(ws) == [
        f"records/{key}: 存储的版本被删除标记遮盖 the version stored is hidden by a delete "
        "marker put over it (1 newer entry) (`qrec verify --repair` 可恢复 makes it current "
        "again)"]
    done = verify.repair(ws)
    assert f"deleted 1 delete marker or version hiding the stored version of " \
           f"{ws.files.location(key)}" in done
    assert verify.verify(ws)["ok"] and ws.files.exists(key)
    assert raw.get_object(Bucket=ws.files.bucket, Key=name)["Body"].read() == got["content"]


def test_a_newer_version_put_over_a_record_is_read_through_named_and_repaired(made):
    ws, raw, number, key, name = made
    got = downloads.download(ws, number, 1, "docx")
    original = got["content"]
    raw.put_object(Bucket=ws.files.bucket, Key=name, Body=b"forged record",
                   Metadata={"sha256": got["sha256"]})  # even claiming the right hash
    assert downloads.download(ws, number, 1, "docx")["content"] == original
    assert _file_faults(ws) == [
        f"records/{key}: 存储的版本被新版本遮盖 the version stored is hidden by a newer "
        "version put over it (1 newer entry) (`qrec verify --repair` 可恢复 makes it current "
        "again)"]
    assert any("hiding the stored version" in line for line in verify.repair(ws))
    report = verify.verify(ws)
    assert report["ok"], report["faults"]
    assert raw.get_object(Bucket=ws.files.bucket, Key=name)["Body"].read() == original


def test_a_locked_newer_version_is_covered_by_the_original_put_back(made):
    ws, raw, number, key, name = made
    original = downloads.download(ws, number, 1, "docx")["content"]
    tomorrow = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    raw.put_object(Bucket=ws.files.bucket, Key=name, Body=b"forged and locked",
                   ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=tomorrow)
    assert len(_file_faults(ws)) == 1
    assert f"put the stored version of {ws.files.location(key)} back on top of 1 newer " \
           "entry" in verify.repair(ws)
    report = verify.verify(ws)
    assert report["ok"], report["faults"]
    assert raw.get_object(Bucket=ws.files.bucket, Key=name)["Body"].read() == original
    assert ws.files.lock_of(key)["mode"] == "COMPLIANCE"


def test_closing_a_record_extends_its_objects_lock_to_the_retention_date(made, monkeypatch):
    ws, raw, number, key, name = made
    earliest = ws.files.lock_of(key)["until"]
    monkeypatch.setenv("QREC_TODAY", "2027-03-01")  # closed three months after it was made
    closer = Workspace.open(ws.root, "zhaomin")
    steps.transition(closer, number, "close_unfounded", {"disposition": "unfounded"},
                     comment="非质量问题", pdf=False)
    closer.close()  # the work ends: the record's objects are locked as it now stands
    until = ws.catalog.record(number)["retention_until"]
    assert until == "2030-03-01" > earliest
    assert ws.files.lock_of(key) == {"mode": "COMPLIANCE", "until": until, "legal_hold": False}


def test_units_of_work_in_one_process_share_a_client_and_ask_for_the_lock_once(made,
                                                                              tmp_path):
    """The portal opens a unit of work per request: the second and later ones neither make a
    boto3 client (about 130 ms of CPU) nor ask the bucket for its Object Lock setting, which
    S3 cannot turn off; each write is still locked."""
    ws, _, _, _, _ = made
    asked = []
    ws.files.s3.meta.events.register("before-call.s3.GetObjectLockConfiguration",
                                     lambda **kwargs: asked.append(1))
    for _ in range(2):
        again = Workspace.open(tmp_path / "ws", "wangwen")
        try:
            number = records.new_record(again, "complaint", load_example("complaint"),
                                        pdf=False)["number"]
            assert again.files.s3 is ws.files.s3 and again.files.locked is True
            key = again.catalog.record_files(again.catalog.record(number)["id"])[0]["path"]
            assert again.files.lock_of(key)["mode"] == "COMPLIANCE"
        finally:
            again.close()
    assert asked == []


def test_credentials_changed_in_the_environment_are_the_ones_used(made, tmp_path,
                                                                   monkeypatch):
    """A shared client follows the credentials the environment names now: a key taken away
    is refused at once, in one line, with nothing written (boto3's default session would have
    gone on signing with the first key it found)."""
    ws, _, number, _, _ = made
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    again = Workspace.open(tmp_path / "ws", "wangwen")
    try:
        with pytest.raises(OSError, match=r"^s3://qrec-lock-\d+/acme/complaint/.*: the "
                                          r"object store refused it \(SignatureDoesNotMatch\)"):
            records.new_record(again, "complaint", load_example("complaint"), pdf=False)
        assert again.catalog.record_numbers() == [number]
    finally:
        again.close()


def _write_in_child(root, count, done) -> None:
    try:
        ws = Workspace.open(root, "wangwen")
        try:
            for _ in range(count):
                records.new_record(ws, "complaint", load_example("complaint"), pdf=False)
        finally:
            ws.close()
        done.put("ok")
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        done.put(f"{type(exc).__name__}: {exc}")


def test_processes_forked_after_a_write_make_clients_of_their_own(made, tmp_path):
    """A boto3 client is not fork-safe: its connection pool's sockets would be shared with
    the parent and the other children (a bench of forked writers crawled at 1.3 records/s,
    waiting on answers read by another process). A forked process makes its own."""
    import multiprocessing

    ws, _, _, key, _ = made
    assert ws.files.lock_of(key)  # the client's pool now holds a connection kept alive
    context = multiprocessing.get_context("fork")
    done = context.Queue()
    children = [context.Process(target=_write_in_child, args=(tmp_path / "ws", 3, done))
                for _ in range(8)]
    for child in children:
        child.start()
    said = [done.get(timeout=300) for _ in children]
    for child in children:
        child.join(60)
    assert said == ["ok"] * 8
    assert len(ws.catalog.record_numbers()) == 1 + 8 * 3
    report = verify.verify(ws)
    assert [f for f in report["faults"] if f["kind"] == "file"] == []
