"""The throw-away servers of the shared-archive tests start, listen on loopback only, and the
S3 server keeps Object Lock (what the S3 file store's tests rely on)."""

from __future__ import annotations

import datetime

import psycopg
import pytest
from botocore.exceptions import ClientError


def test_postgres_15_runs_on_loopback(pg_server):
    with psycopg.connect(pg_server.superuser_url) as db:
        version = db.execute("SHOW server_version_num").fetchone()[0]
        listen = db.execute("SHOW listen_addresses").fetchone()[0]
    assert int(version) // 10000 == 15 and listen == "127.0.0.1"


def test_seaweedfs_refuses_deleting_a_locked_object_version(s3_server):
    s3 = s3_server.client()
    bucket = s3_server.make_bucket("qrec-servers")
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    put = s3.put_object(Bucket=bucket, Key="a.txt", Body=b"x", ObjectLockMode="COMPLIANCE",
                        ObjectLockRetainUntilDate=until)
    assert s3_server.endpoint.startswith("http://127.0.0.1:")
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=bucket, Key="a.txt", VersionId=put["VersionId"])
