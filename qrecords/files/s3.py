"""The shared file store: S3 object storage (AWS S3, Aliyun OSS, Ceph RGW, SeaweedFS, MinIO)
through boto3. `files: s3://bucket/prefix` with `s3_endpoint:` in qrecords.yaml; credentials
come from boto3's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the credentials
file named by AWS_SHARED_CREDENTIALS_FILE), never from the workspace's YAML.

Objects are written before the catalog commits (the contract's `put`), each with its SHA-256
given to the server (ChecksumSHA256: the server refuses a body that does not match) and read
back checked against it. With a bucket that has Object Lock, every object is put under a
legal hold, which `protect` replaces by a COMPLIANCE-mode retention until the record's
retention date once the record is closed (and keeps while the record is held): in compliance
mode nobody, the storage administrator included, can shorten the lock or delete a locked
version before its date. Disposal deletes every version of an object the lock allows.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..errors import IntegrityError, WorkspaceError
from .base import FileMissing, FileStore, check_key

LOCK_MODE = "COMPLIANCE"


def parse_url(url: str) -> tuple[str, str]:
    """("bucket", "prefix") of "s3://bucket/prefix" (prefix may be empty). ValueError else."""
    if not url.startswith("s3://"):
        raise ValueError(url)
    bucket, _, prefix = url[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(url)
    return bucket, prefix.strip("/")


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
        self.s3 = boto3.client("s3", endpoint_url=endpoint, config=Config(
            s3={"addressing_style": "path"}, retries={"max_attempts": 3},
            connect_timeout=10, read_timeout=60,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required"))
        self.locked = self._call(self._lock_enabled)

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
            raise WorkspaceError(f"files {self.url}: the object store cannot be reached "
                                 f"({exc})") from None

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

    def put(self, key: str, content: bytes) -> str:
        digest = hashlib.sha256(content)
        extra = {"ObjectLockLegalHoldStatus": "ON"} if self.locked else {}
        try:
            self._call(self.s3.put_object, Bucket=self.bucket, Key=self._name(key),
                       Body=content, ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
                       **extra)
        except ClientError as exc:
            raise OSError(f"{self.location(key)}: the object store refused it "
                          f"({exc.response['Error'].get('Code')})") from None
        return digest.hexdigest()

    def read(self, key: str) -> bytes:
        try:
            answer = self._call(self.s3.get_object, Bucket=self.bucket, Key=self._name(key),
                                ChecksumMode="ENABLED")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileMissing(f"{self.location(key)} is missing") from None
            raise
        content = answer["Body"].read()
        stored = answer.get("ChecksumSHA256")
        if stored and base64.b64decode(stored) != hashlib.sha256(content).digest():
            raise IntegrityError(f"{self.location(key)}: the content read back does not match "
                                 "its SHA-256")
        return content

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

    def _versions(self, key: str) -> list[str]:
        name = self._name(key)
        answer = self._call(self.s3.list_object_versions, Bucket=self.bucket, Prefix=name)
        return [item["VersionId"] for kind in ("Versions", "DeleteMarkers")
                for item in answer.get(kind, []) if item["Key"] == name]

    def remove(self, key: str) -> None:
        """Delete every version of the object that the lock allows (a version under a
        compliance retention stays until its date). The catalog has checked the record is not
        on hold, so the legal hold put with the object is released first."""
        name = self._name(key)
        for version in self._versions(key):
            try:
                if self.locked:
                    self.s3.put_object_legal_hold(Bucket=self.bucket, Key=name,
                                                  VersionId=version,
                                                  LegalHold={"Status": "OFF"})
            except ClientError:
                pass  # a delete marker has no hold
            try:
                self.s3.delete_object(Bucket=self.bucket, Key=name, VersionId=version)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "AccessDenied":
                    raise

    def quarantine(self, key: str, stamp: str) -> str:
        target = self.debris / stamp / check_key(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.read(key))
        self.remove(key)
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
        """Lock the object as its record stands: a legal hold while the record is open or
        held; a COMPLIANCE retention until `until` (YYYY-MM-DD, the record's retention date)
        once it is closed. A lock is only ever extended; a date already past (by the real
        clock, which the object store keeps) locks nothing. Nothing happens without Object
        Lock."""
        if not self.locked:
            return
        name = self._name(key)
        date = datetime.datetime.fromisoformat(until).replace(
            tzinfo=datetime.timezone.utc) if until else None
        if date and date > datetime.datetime.now(datetime.timezone.utc):  # else: past, free
            try:
                self.s3.put_object_retention(Bucket=self.bucket, Key=name, Retention={
                    "Mode": LOCK_MODE, "RetainUntilDate": date})
            except ClientError as exc:  # a date earlier than the lock in force is refused
                if exc.response.get("Error", {}).get("Code") != "AccessDenied":
                    raise
        self.s3.put_object_legal_hold(Bucket=self.bucket, Key=name, LegalHold={
            "Status": "ON" if held or not until else "OFF"})

    def lock_of(self, key: str) -> dict:
        """{"mode", "until", "legal_hold"} of the object's current version (verify, tests)."""
        head = self.s3.head_object(Bucket=self.bucket, Key=self._name(key))
        until = head.get("ObjectLockRetainUntilDate")
        return {"mode": head.get("ObjectLockMode"),
                "until": until.astimezone(datetime.timezone.utc).date().isoformat()
                if until else None,
                "legal_hold": head.get("ObjectLockLegalHoldStatus") == "ON"}

