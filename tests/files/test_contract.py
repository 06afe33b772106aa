"""The file store contract (qrecords/files/base.py), run against every file store backend:
the local folder and S3 object storage (SeaweedFS with Object Lock, tests/servers.py).

Each backend is given by a fixture that returns (store, raw), where `raw` is the S3 client
with the application's own credentials (None for the folder): what a bug, or a storage
administrator, could do outside qrecords.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools

import pytest
from botocore.exceptions import ClientError

from qrecords.files import FileMissing, open_file_store

KEY = "complaint/CC-2611-01/CC-2611-01_v1.docx"
_BUCKETS = itertools.count(1)


def _local(request, tmp_path):
    return open_file_store(f"file:{tmp_path / 'records'}", tmp_path / "debris"), None


def _s3(request, tmp_path):
    server = request.getfixturevalue("s3_server")
    bucket = server.make_bucket(f"qrec-files-{next(_BUCKETS)}")
    mp = request.getfixturevalue("monkeypatch")
    mp.setenv("AWS_ACCESS_KEY_ID", server.access_key)
    mp.setenv("AWS_SECRET_ACCESS_KEY", server.secret_key)
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    store = open_file_store(f"s3://{bucket}/acme", tmp_path / "debris",
                            endpoint=server.endpoint, temp=tmp_path)
    return store, server.client()


BACKENDS = {"local": _local, "s3": _s3}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request, tmp_path):
    return BACKENDS[request.param](request, tmp_path)


@pytest.fixture
def store(backend):
    return backend[0]


def test_put_returns_the_sha256_and_reads_back_the_same_bytes(store):
    content = "投诉 complaint".encode() * 1000
    assert store.put(KEY, content) == hashlib.sha256(content).hexdigest()
    assert store.read(KEY) == content and store.exists(KEY)
    with store.local_path(KEY) as path:
        assert path.read_bytes() == content and path.name == "CC-2611-01_v1.docx"


def test_a_missing_key_is_file_missing(store):
    assert not store.exists(KEY)
    with pytest.raises(FileMissing, match="CC-2611-01_v1.docx is missing"):
        store.read(KEY)
    with pytest.raises(FileMissing):
        with store.local_path(KEY):
            pass


def test_keys_are_sorted_and_relative(store):
    for key in ("b/2.pdf", "a/1.docx", "disposals/DL-2026-001.docx"):
        store.put(key, key.encode())
    assert list(store.keys()) == ["a/1.docx", "b/2.pdf", "disposals/DL-2026-001.docx"]


def test_a_key_that_leaves_the_store_is_refused(store):
    for key in ("../x", "/etc/passwd", "a/./b", "a//b", ""):
        with pytest.raises(ValueError, match="not a file store key"):
            store.put(key, b"x")


def test_debris_replaced_then_removed_and_quarantined(store, tmp_path):
    store.put(KEY, b"debris of a crashed attempt")
    store.put(KEY, b"the committed content")
    assert store.read(KEY) == b"the committed content"
    where = store.quarantine(KEY, "20261123T080000")
    assert not store.exists(KEY) and list(store.keys()) == []
    assert (tmp_path / "debris" / "20261123T080000" / KEY).read_bytes() == \
        b"the committed content" and where.endswith(KEY)
    store.put("a/1.docx", b"x")
    store.remove("a/1.docx")
    store.remove("a/1.docx")  # a missing object is no error
    assert not store.exists("a/1.docx")


def test_location_names_the_object(store):
    assert store.location(KEY).endswith(KEY)


# -- S3 Object Lock ---------------------------------------------------------------------------


def test_an_early_delete_through_the_s3_api_is_refused_by_the_lock(backend):
    store, raw = backend
    if raw is None:
        assert not store.holds_path(store.root.parent)  # the folder: the OS decides
        return
    store.put(KEY, b"version 1")
    until = (datetime.date.today() + datetime.timedelta(days=3 * 365)).isoformat()
    store.protect(KEY, until, held=False)
    assert store.lock_of(KEY) == {"mode": "COMPLIANCE", "until": until, "legal_hold": False}
    name = f"{store.prefix}/{KEY}"
    version = raw.head_object(Bucket=store.bucket, Key=name)["VersionId"]
    with pytest.raises(ClientError, match="AccessDenied"):
        raw.delete_object(Bucket=store.bucket, Key=name, VersionId=version)
    with pytest.raises(ClientError):  # a compliance lock cannot be shortened
        raw.put_object_retention(Bucket=store.bucket, Key=name, VersionId=version, Retention={
            "Mode": "COMPLIANCE", "RetainUntilDate": datetime.datetime(2020, 1, 1)})
    store.remove(KEY)  # disposal deletes only what the lock allows
    assert store.read(KEY) == b"version 1"


def test_objects_are_held_while_open_or_held_and_deletable_when_free(backend):
    store, raw = backend
    if raw is None:
        store.protect(KEY, None, held=True)  # no lock on a folder: nothing happens
        return
    store.put(KEY, b"open record")
    assert store.lock_of(KEY)["legal_hold"] is True  # put under a legal hold
    name = f"{store.prefix}/{KEY}"
    version = raw.head_object(Bucket=store.bucket, Key=name)["VersionId"]
    with pytest.raises(ClientError, match="AccessDenied"):
        raw.delete_object(Bucket=store.bucket, Key=name, VersionId=version)
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    store.protect(KEY, yesterday, held=True)  # closed, past retention, but on hold
    assert store.lock_of(KEY)["legal_hold"] is True
    store.protect(KEY, yesterday, held=False)
    store.remove(KEY)
    assert not store.exists(KEY) and raw.list_object_versions(
        Bucket=store.bucket, Prefix=name).get("Versions", []) == []



def test_a_version_hidden_under_the_key_is_found_named_and_uncovered(backend):
    store, raw = backend
    content = b"the committed content"
    digest = store.put(KEY, content, keep_until=(
        datetime.date.today() + datetime.timedelta(days=30)).isoformat())
    assert store.find(KEY, digest) == (content, None) and store.uncover(KEY, digest) is None
    if raw is None:  # a folder keeps one version: nothing can hide under it
        return
    assert store.lock_of(KEY)["mode"] == "COMPLIANCE"  # locked from the put
    name = f"{store.prefix}/{KEY}"
    raw.delete_object(Bucket=store.bucket, Key=name)
    assert not store.exists(KEY) and store.read(KEY, digest) == content
    found, hiding = store.find(KEY, digest)
    assert found == content and "hidden by a delete marker" in hiding
    assert "deleted 1 delete marker" in store.uncover(KEY, digest)
    assert store.find(KEY, digest) == (content, None)
    raw.put_object(Bucket=store.bucket, Key=name, Body=b"forged")
    assert "hidden by a newer version" in store.find(KEY, digest)[1]
    store.uncover(KEY, digest)
    assert store.read(KEY) == content
