"""The shared file store: S3 object storage (AWS S3, Aliyun OSS, Ceph RGW, SeaweedFS, MinIO)
through boto3. `files: s3://bucket/prefix` with `s3_endpoint:` in qrecords.yaml; credentials
come from boto3's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the credentials
file named by AWS_SHARED_CREDENTIALS_FILE), never from the workspace's YAML.

Objects are written before the catalog commits (the contract's `put`), each with its SHA-256
given to the server (ChecksumSHA256: the server refuses a body that does not match) and kept
as the object's metadata `sha256`, and read back checked against it. With a bucket that has
Object Lock, every object is put under a COMPLIANCE-mode retention until the earliest day its
record could be disposed of (`keep_until`) and a legal hold; `protect` extends the retention to
the record's retention date once it is closed and keeps the legal hold only while the record is
open or held. In compliance mode nobody, the storage administrator included, can shorten the
lock or delete a locked version before its date, whatever legal-hold permission the key has.
Disposal deletes every version of an object the lock allows.

A bucket with versioning keeps the version qrecords stored when someone puts a delete marker
or a newer version over its key: `find` and `read(key, sha256)` read the version with the
catalog's SHA-256 (found by the `sha256` metadata, without downloading the others) and name
what hides it; `uncover` (verify --repair) makes it the current version again.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Iterator

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import IntegrityError, Unavailable, WorkspaceError
from .base import FileMissing, FileStore, check_key, sha256_bytes

LOCK_MODE = "COMPLIANCE"
_MISSING = ("NoSuchKey", "404", "NotFound", "NoSuchVersion", "MethodNotAllowed")


def _utc_date(day: str | None) -> datetime.datetime | None:
    """Midnight UTC of the ISO date `day`, if it is still to come (the object store keeps the
    real clock: a date already past locks nothing); None otherwise."""
    if not day:
        return None
    date = datetime.datetime.fromisoformat(day).replace(tzinfo=datetime.timezone.utc)
    return date if date > datetime.datetime.now(datetime.timezone.utc) else None


def parse_url(url: str) -> tuple[str, str]:
    """("bucket", "prefix") of "s3://bucket/prefix" (prefix may be empty). ValueError else."""
    if not url.startswith("s3://"):
        raise ValueError(url)
    bucket, _, prefix = url[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(url)
    return bucket, prefix.strip("/")


# Making a boto3 client costs about 130 ms of CPU (importing boto3 as much again, once). Its
# low-level clients are thread-safe (boto3's guide, "Multithreading or multiprocessing with
# clients"), so a process keeps one per endpoint and credentials: the portal opens a unit of
# work per request, and its writes do not each make a client. They are not fork-safe (the
# same guide): a forked child would share the parent's pooled sockets, and read answers
# meant for another process. A child forgets them (_forget) and makes its own.
_CLIENTS: dict[tuple, object] = {}  # (endpoint, *_CREDENTIALS values) -> client
_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
                "AWS_DEFAULT_REGION", "AWS_REGION")
_LOCKED: set[tuple[str | None, str]] = set()  # (endpoint, bucket) with Object Lock on
# Seconds to wait for a connection, and for the next bytes of an answer: a store that took a
# connection and then says nothing (hung, or paused) is given up after READ_TIMEOUT_S for
# each of the 3 attempts, so a command says so in under a minute instead of three.
CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 10, 15
_MAKING = threading.Lock()


def _forget() -> None:
    global _MAKING
    _CLIENTS.clear()
    _MAKING = threading.Lock()  # one another thread held at the fork would never be let go


os.register_at_fork(after_in_child=_forget)


def _client(endpoint: str | None):
    """The boto3 S3 client of this process for `endpoint` (None: AWS) and the credentials the
    environment names now."""
    key = (endpoint, *(os.environ.get(name) for name in _CREDENTIALS))
    with _MAKING:
        if key not in _CLIENTS:
            import boto3
            from botocore.config import Config

            # A session of its own: boto3's default one keeps the first credentials it found.
            session = boto3.session.Session()
            _CLIENTS[key] = session.client("s3", endpoint_url=endpoint, config=Config(
                s3={"addressing_style": "path"}, retries={"max_attempts": 3},
                connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required"))
        return _CLIENTS[key]


class S3FileStore(FileStore):
    """Objects under `prefix/` in `bucket` at `endpoint` (None: AWS). `debris` is the local
    folder quarantined objects are copied to; `temp` the folder for local copies."""

    def __init__(self, url: str, endpoint: str | None, debris: Path, temp: Path | None = None):
        try:
            self.bucket, self.prefix = parse_url(url)
        except ValueError:
            raise WorkspaceError(f"files {url!r}: not an S3 location (s3://bucket/prefix)") \
                from None
        self.url, self.endpoint = url, endpoint
        self.debris, self.temp = Path(debris), temp

    # The client and the bucket's lock setting are made on first use: a command that reads
    # only the catalog and the index (`qrec search`, `qrec show`) never pays for them.

    @cached_property
    def s3(self):
        """The process's boto3 S3 client for this endpoint and these credentials (_client)."""
        return _client(self.endpoint)

    @cached_property
    def locked(self) -> bool:
        """Whether the bucket has Object Lock: asked once per store, and not again in this
        process once it said yes (S3 cannot turn a bucket's Object Lock off)."""
        if (self.endpoint, self.bucket) in _LOCKED:
            return True
        locked = self._call(self._lock_enabled)
        if locked:
            _LOCKED.add((self.endpoint, self.bucket))
        return locked

    def ready(self) -> None:
        _ = self.locked  # the client made, the bucket asked

    # -- helpers -----------------------------------------------------------------------------

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{check_key(key)}" if self.prefix else check_key(key)

    def _call(self, action, *args, **kwargs):
        """Run one S3 call; an unreachable store or refused credentials is one line."""
        try:
            return action(*args, **kwargs)
        except ClientError:
            raise
        except BotoCoreError as exc:
            raise Unavailable(f"files {self.url}: 无法连接对象存储 the object store cannot be "
                              f"reached ({exc})") from None

    def _lock_enabled(self) -> bool:
        try:
            config = self.s3.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchBucket", "AccessDenied", "InvalidAccessKeyId",
                        "SignatureDoesNotMatch"):
                raise WorkspaceError(f"files {self.url}: {code}: "
                                     f"{exc.response['Error'].get('Message', '')}") from None
            return False  # ObjectLockConfigurationNotFoundError: a bucket without a lock
        return config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"

    # -- the contract ------------------------------------------------------------------------

    def put(self, key: str, content: bytes, keep_until: str | None = None) -> str:
        digest = hashlib.sha256(content)
        extra = {}
        if self.locked:
            extra["ObjectLockLegalHoldStatus"] = "ON"
            until = _utc_date(keep_until)
            if until:
                extra.update(ObjectLockMode=LOCK_MODE, ObjectLockRetainUntilDate=until)
        try:
            self._call(self.s3.put_object, Bucket=self.bucket, Key=self._name(key),
                       Body=content, ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
                       Metadata={"sha256": digest.hexdigest()}, **extra)
        except ClientError as exc:
            raise OSError(f"{self.location(key)}: the object store refused it "
                          f"({exc.response['Error'].get('Code')})") from None
        return digest.hexdigest()

    def read(self, key: str, sha256: str | None = None) -> bytes:
        if sha256 is not None:
            return self.find(key, sha256)[0]
        return self._get(key)

    def _get(self, key: str, version: str | None = None) -> bytes:
        """The content of the current version of `key` (or of `version`), checked against the
        checksum the server keeps. Raises FileMissing, IntegrityError."""
        extra = {"VersionId": version} if version else {}
        try:
            answer = self._call(self.s3.get_object, Bucket=self.bucket, Key=self._name(key),
                                ChecksumMode="ENABLED", **extra)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise FileMissing(f"{self.location(key)} is missing") from None
            raise
        content = answer["Body"].read()
        stored = answer.get("ChecksumSHA256")
        if stored and base64.b64decode(stored) != hashlib.sha256(content).digest():
            raise IntegrityError(f"{self.location(key)}: the content read back does not match "
                                 "its SHA-256")
        return content

    def _entries(self, key: str) -> list[dict]:
        """Every version and delete marker of `key`, newest first: [{"id", "marker"}]."""
        name, found = self._name(key), []
        pages = self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket,
                                                                       Prefix=name)
        for page in self._call(list, pages):
            for kind in ("Versions", "DeleteMarkers"):  # each newest first
                found += [(item.get("IsLatest", False), item["LastModified"], -at,
                           {"id": item["VersionId"], "marker": kind == "DeleteMarkers"})
                          for at, item in enumerate(page.get(kind, []))
                          if item["Key"] == name]
        found.sort(key=lambda entry: entry[:3], reverse=True)  # the latest first
        return [entry[3] for entry in found]

    def _stored(self, key: str, sha256: str, entries: list[dict]) -> tuple[int, bytes] | None:
        """(index in `entries`, content) of the newest version whose content has `sha256`,
        or None. Versions whose `sha256` metadata names another content are not downloaded."""
        for at, entry in enumerate(entries):
            if entry["marker"]:
                continue
            head = self._call(self.s3.head_object, Bucket=self.bucket, Key=self._name(key),
                              VersionId=entry["id"])
            if head.get("Metadata", {}).get("sha256", sha256) != sha256:
                continue
            try:
                content = self._get(key, entry["id"])
            except (FileMissing, IntegrityError):
                continue
            if sha256_bytes(content) == sha256:
                return at, content
        return None

    def find(self, key: str, sha256: str) -> tuple[bytes, str | None]:
        try:
            content = self._get(key)
        except (FileMissing, IntegrityError) as exc:
            content, failure = None, exc
        if content is not None and sha256_bytes(content) == sha256:
            return content, None
        entries = self._entries(key)
        found = self._stored(key, sha256, entries)
        if found is None:
            if content is None:
                raise failure
            return content, None  # no version has it: altered, as the caller sees
        at, original = found
        zh, hider = ("删除标记", "a delete marker") if entries[0]["marker"] else \
            ("新版本", "a newer version")
        return original, (f"存储的版本被{zh}遮盖 the version stored is hidden by {hider} put "
                          f"over it ({at} newer {'entry' if at == 1 else 'entries'})")

    def uncover(self, key: str, sha256: str) -> str | None:
        """Make the version with `sha256` the current one again: delete the delete markers
        and newer versions over it where the lock allows, else put its content back on top
        (under the lock the original has). Returns what was done, or None."""
        try:
            if sha256_bytes(self._get(key)) == sha256:
                return None
        except (FileMissing, IntegrityError):
            pass
        entries = self._entries(key)
        found = self._stored(key, sha256, entries)
        if found is None:
            return None  # missing or altered for good: verify says so
        at, content = found
        kept = 0
        for entry in entries[:at]:
            try:
                self.s3.delete_object(Bucket=self.bucket, Key=self._name(key),
                                      VersionId=entry["id"])
            except ClientError:
                kept += 1  # a newer version someone locked: put the original over it
        if kept:
            lock = self._lock_of(key, entries[at]["id"])
            self.put(key, content, lock["until"])
            return (f"put the stored version of {self.location(key)} back on top of "
                    f"{at} newer {'entry' if at == 1 else 'entries'}")
        what = "delete marker or version" if at == 1 else "delete markers or versions"
        return f"deleted {at} {what} hiding the stored version of {self.location(key)}"

    def exists(self, key: str) -> bool:
        try:
            self._call(self.s3.head_object, Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True

    def keys(self) -> Iterator[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        names = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                      Prefix=start):
            names += [item["Key"][len(start):] for item in page.get("Contents", [])]
        yield from sorted(name for name in names if name and not name.endswith("/"))

    def remove(self, key: str) -> None:
        """Delete every version of the object that the lock allows (a version under a
        compliance retention stays until its date). The catalog has checked the record is not
        on hold, so the legal hold put with the object is released first."""
        name = self._name(key)
        for entry in self._entries(key):
            if self.locked and not entry["marker"]:
                try:
                    self.s3.put_object_legal_hold(Bucket=self.bucket, Key=name,
                                                  VersionId=entry["id"],
                                                  LegalHold={"Status": "OFF"})
                except ClientError:
                    pass  # the delete below says whether the version could go
            try:
                self.s3.delete_object(Bucket=self.bucket, Key=name, VersionId=entry["id"])
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "AccessDenied":
                    raise

    def quarantine(self, key: str, stamp: str) -> str:
        target = self.debris / stamp / check_key(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.read(key))
        self.remove(key)
        if self.exists(key):  # locked until its date: out of sight under a delete marker
            self.s3.delete_object(Bucket=self.bucket, Key=self._name(key))
        return str(target)

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._name(key)}"

    def holds_path(self, path: Path) -> bool:
        return False  # no local folder is inside the bucket

    @contextmanager
    def local_path(self, key: str):
        folder = Path(tempfile.mkdtemp(prefix="qrec-s3-", dir=self.temp))
        try:
            path = folder / Path(check_key(key)).name
            path.write_bytes(self.read(key))
            yield path
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def protect(self, key: str, until: str | None, held: bool) -> None:
        """Lock the object as its record stands: a COMPLIANCE retention until `until`
        (YYYY-MM-DD: the record's retention date once closed, the earliest it could be disposed
        of while open), only ever extended; a legal hold while `held` (the record is open or
        on hold). A date already past (by the real clock, which the object store keeps) locks
        nothing. Nothing happens without Object Lock."""
        if not self.locked:
            return
        name, lock = self._name(key), self.lock_of(key)  # one HEAD when all is in step
        date = _utc_date(until)
        if date and date.date().isoformat() > (lock["until"] or ""):
            self.s3.put_object_retention(Bucket=self.bucket, Key=name, Retention={
                "Mode": LOCK_MODE, "RetainUntilDate": date})
        if lock["legal_hold"] != held:
            self.s3.put_object_legal_hold(Bucket=self.bucket, Key=name, LegalHold={
                "Status": "ON" if held else "OFF"})

    def lock_of(self, key: str) -> dict:
        """{"mode", "until", "legal_hold"} of the object's current version (verify, tests)."""
        return self._lock_of(key)

    def _lock_of(self, key: str, version: str | None = None) -> dict:
        extra = {"VersionId": version} if version else {}
        head = self.s3.head_object(Bucket=self.bucket, Key=self._name(key), **extra)
        until = head.get("ObjectLockRetainUntilDate")
        return {"mode": head.get("ObjectLockMode"),
                "until": until.astimezone(datetime.timezone.utc).date().isoformat()
                if until else None,
                "legal_hold": head.get("ObjectLockLegalHoldStatus") == "ON"}
