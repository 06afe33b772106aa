"""The backend keys of qrecords.yaml: which catalog and file store hold the records, and this
machine's own folders. Read only through settings.load_settings.

    catalog: postgresql://qrec_app@db.example.com:5432/qrecords   # default: sqlite (records/)
    files: s3://qrecords-archive/acme                              # default: file (records/)
    s3_endpoint: https://oss-cn-shanghai.aliyuncs.com              # omit for AWS
    machines: several          # declared: several machines use this archive (default: one)
    index: /var/lib/qrec/index # this machine's search index (default: index/ here)
    temp: /var/tmp/qrec        # this machine's temporary files (default: the system's)

Credentials are never in the YAML: a password in the catalog URL (user:password@ or
?password=) is refused, and so is any key that looks like a credential (password, secret,
aws_secret_access_key, token…; `refuse_credentials`) rather than ignored; PostgreSQL takes
it from PGPASSWORD or a password file (PGPASSFILE), S3 from AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY or a credentials file (AWS_SHARED_CREDENTIALS_FILE). QREC_INDEX and
QREC_TEMP set this machine's folders when several machines read one qrecords.yaml.

SQLite serves one machine: its write lock is a file lock, which network file systems do not
keep. `machines: several` with a SQLite catalog is refused, and so is a SQLite catalog whose
path is not inside the workspace (a catalog on a share is how several machines would reach it).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

from .errors import WorkspaceError

_PASSWORD = re.compile(r"^postgres(ql)?://[^/@:]*:[^/@]*@|[?&]password=", re.IGNORECASE)
# Keys that would hold a credential: never read from qrecords.yaml, refused rather than ignored.
_CREDENTIAL = re.compile(r"(^|_)pass(word|wd)?$|passw|secret|token|credential|access_key|api_key|"
                         r"private_key|^pgpass", re.IGNORECASE)
_ID_MAPS = ("limits", "departments")  # mappings whose keys are names the workspace chose


def backends(doc: dict, root: Path, where: str, env: Mapping[str, str],
             embedded: str) -> dict:
    """{catalog, files, index, s3_endpoint, temp, several_machines} from the YAML mapping
    `doc` of the workspace at `root` (`where` names the file in messages) and `env`;
    `embedded` is the catalog URL when none is set. Raises WorkspaceError naming the key at
    fault."""
    catalog = str(doc.get("catalog") or embedded)
    files = str(doc.get("files") or f"file:{root / 'records'}")
    machines = str(doc.get("machines") or "one")
    if machines not in ("one", "several"):
        raise WorkspaceError(f"{where}: machines must be one or several, not {machines!r}")
    if catalog.startswith(("postgresql://", "postgres://")):
        if _PASSWORD.search(catalog):
            raise WorkspaceError(f"{where}: catalog: no password in qrecords.yaml (neither "
                                 "user:password@ nor ?password=); give it in PGPASSWORD or a "
                                 "password file (PGPASSFILE)")
    elif catalog.startswith("sqlite:"):
        path = Path(catalog.removeprefix("sqlite:"))
        catalog = f"sqlite:{path if path.is_absolute() else root / path}"
        if machines == "several":
            raise WorkspaceError(f"{where}: machines: several needs a shared catalog "
                                 "(catalog: postgresql://…); SQLite serves one machine")
        if not Path(catalog.removeprefix("sqlite:")).resolve().is_relative_to(root):
            raise WorkspaceError(f"{where}: catalog: a SQLite catalog lives inside its "
                                 "workspace; for several machines use catalog: postgresql://…")
    else:
        raise WorkspaceError(f"{where}: catalog must be sqlite:<path> or "
                             f"postgresql://user@host:port/database, not {catalog!r}")
    if files.startswith("file:"):
        folder = Path(files.removeprefix("file:"))
        files = f"file:{folder if folder.is_absolute() else root / folder}"
    elif not re.fullmatch(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[^\s]*)?", files):
        raise WorkspaceError(f"{where}: files must be file:<folder> or s3://bucket/prefix, "
                             f"not {files!r}")
    if "@" in files:
        raise WorkspaceError(f"{where}: files: no credentials in qrecords.yaml; give them in "
                             "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a credentials file")
    endpoint = doc.get("s3_endpoint")
    if endpoint is not None and not re.fullmatch(r"https?://[^\s@]+", str(endpoint)):
        raise WorkspaceError(f"{where}: s3_endpoint must be an http(s) URL without "
                             f"credentials, not {endpoint!r}")
    index = Path(env.get("QREC_INDEX") or doc.get("index") or root / "index")
    temp = env.get("QREC_TEMP") or doc.get("temp")
    return {"catalog": catalog, "files": files, "index": index if index.is_absolute()
            else root / index, "s3_endpoint": str(endpoint) if endpoint else None,
            "temp": Path(temp) if temp else None, "several_machines": machines == "several"}


def refuse_credentials(doc, where: str, path: str = "") -> None:
    """Refuse (WorkspaceError, one line naming the key) a key in the YAML mapping `doc`, at
    any depth but the keys of limits and departments, that looks like it holds a credential
    (password, secret, aws_secret_access_key, token…): qrecords never reads one from the
    YAML, and ignoring it would leave a secret in a file copied to every machine."""
    if isinstance(doc, list):
        for index, item in enumerate(doc, start=1):
            refuse_credentials(item, where, f"{path}#{index}")
        return
    if not isinstance(doc, dict):
        return
    for key, value in doc.items():
        name = f"{path}.{key}" if path else str(key)
        if _CREDENTIAL.search(str(key)):
            raise WorkspaceError(f"{where}: {name}: no credentials in qrecords.yaml (qrecords "
                                 "never reads them from it); give PostgreSQL's in PGPASSWORD "
                                 "or PGPASSFILE, S3's in AWS_ACCESS_KEY_ID/"
                                 "AWS_SECRET_ACCESS_KEY or a credentials file")
        if not (path == "" and key in _ID_MAPS):
            refuse_credentials(value, where, name)
