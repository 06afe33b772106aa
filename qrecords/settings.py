"""Settings: the one reader of qrecords.yaml and of the QREC_* environment.

A workspace's settings say who the organisation is, its users (roles, departments), the limits
the workflows refer to, and which backends hold its records: the catalog, the file store and the
search index. `load_settings(root)` reads them; nothing else in qrecords opens qrecords.yaml or
reads a QREC_* variable (the functions at the end of this module are the only way in).
The backend keys (catalog, files, s3_endpoint, machines, index, temp) are checked in
settings_backends.py, which is given the environment from here.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .errors import NotFound, WorkspaceError, suggest
from .labels import Label
from .settings_backends import backends, refuse_credentials

CONFIG_NAME = "qrecords.yaml"
DOCUMENT_LANGUAGES = ("zh", "en", "both")
DEFAULT_CONFIG = Path(__file__).with_name("default_workspace.yaml")


class User(NamedTuple):
    id: str
    name: str
    department: str
    roles: tuple[str, ...]


class Settings(NamedTuple):
    """A workspace's settings. `root` is the workspace folder; `catalog`, `files` and `index`
    locate its backends (the embedded default: records/catalog.sqlite, records/, index/)."""

    root: Path
    organisation: str
    organisation_en: str
    users: dict[str, User]
    default_user: str | None
    limits: dict  # amounts the workflows refer to as limits.<name>
    departments: dict  # department id -> Label, for documents addressed to a department
    catalog: str  # "sqlite:<path>" or "postgresql://user@host:port/database"
    files: str  # "file:<folder>" or "s3://bucket/prefix"
    index: Path  # this machine's search index folder
    # search.synonyms: groups of words a search treats as one (品质/质量); absent, the
    # shipped list of default_workspace.yaml
    synonyms: tuple[tuple[str, ...], ...] = ()
    s3_endpoint: str | None = None  # the S3 endpoint URL (None: AWS's own)
    temp: Path | None = None  # this machine's folder for temporary files (None: the system's)
    several_machines: bool = False  # `machines: several`: the catalog must be shared
    # Where `qrec checkpoint` appends the chain head (options.witness_log; relative to the
    # workspace): the document controller may put it on another disk or a share.
    witness_log: Path | None = None
    # The one time zone of every date, period and deadline (options.time_zone, set at init).
    time_zone: str = "Asia/Shanghai"
    # What the rendered forms (DOCX, PDF) print (options.document_language): "zh" Chinese
    # only, "en" English only (the Chinese where a label has no English), "both" (Chinese
    # first, English beside it).
    document_language: str = "both"

    def department(self, department_id: str | None) -> str:
        label = self.departments.get(department_id)
        return str(label) if label else (department_id or "")

    def user(self, user_id: str) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise NotFound(
                f"无此用户 unknown user '{user_id}'{suggest(user_id, self.users)}: users are "
                "listed in qrecords.yaml", param="user") from None


def safe_yaml(text: str):
    """YAML's safe loader, with libyaml's C implementation where PyYAML has it (ten times
    faster: every command and every portal request reads qrecords.yaml). PyYAML is imported
    here, when a text is parsed: a command whose texts are all in the cache never loads it."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def yaml_error() -> type[Exception]:
    """PyYAML's error class (imported when asked: name it in an `except` clause, which is
    evaluated only when something was raised)."""
    import yaml

    return yaml.YAMLError


def yaml_cache(root: Path) -> Path:
    """The folder of a workspace's cache of parsed YAML texts (see cached_yaml)."""
    return Path(root) / "cache" / "yaml"


def cached_yaml(text: str, cache: Path | None):
    """The safe-YAML document of `text`, from `cache`/<SHA-256 of text>.json when a process
    before left it there, else parsed (safe_yaml; about 3 ms a form schema, and importing
    PyYAML about 15 ms) and left there for the next one. The file is never trusted blindly: one
    that is not this user's own, that others may write, that is not JSON or that names another
    text's hash is ignored and written again. A document JSON does not hold as it is (a date,
    a set) is not cached; a cache that cannot be written costs the next process the parse.
    Raises what safe_yaml raises (yaml_error()) for a text that is not YAML."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    path = cache / f"{digest}.json" if cache is not None else None
    if path is not None:
        try:
            info = path.stat()
            if info.st_uid == os.getuid() and not info.st_mode & 0o022:
                kept = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(kept, dict) and kept.get("sha256") == digest and \
                        "document" in kept:
                    return kept["document"]
        except (OSError, ValueError):
            pass  # missing, unreadable or damaged: parsed again below, and rewritten
    doc = safe_yaml(text)
    if path is not None:
        try:
            encoded = json.dumps({"sha256": digest, "document": doc}, ensure_ascii=False)
            if json.loads(encoded)["document"] == doc:
                path.parent.mkdir(parents=True, exist_ok=True)
                part = path.with_name(f"{digest}.{os.getpid()}.part")
                part.write_text(encoded, encoding="utf-8")
                os.chmod(part, 0o644)
                os.replace(part, path)  # whole or not at all, for a concurrent reader
        except (OSError, TypeError, ValueError):
            pass
    return doc


@lru_cache(maxsize=8)
def _config_document(text: str, cache: Path | None, where: str):
    """qrecords.yaml's text parsed and refused if it holds credentials (refuse_credentials
    walks the whole document), once per process for the same text (a portal worker reads it
    at every request: about 2 ms of YAML a time), and across processes through `cache`.
    Keyed by the whole text, so an edited file is parsed again; callers read the document and
    never change it."""
    doc = cached_yaml(text, cache)
    if isinstance(doc, dict):
        refuse_credentials(doc, where)
    return doc


def load_settings(root: Path) -> Settings:
    """The settings of the workspace at `root`, from its qrecords.yaml. Raises WorkspaceError
    naming the file and the key at fault."""
    root = Path(root).resolve()
    path = root / CONFIG_NAME
    where = str(path)
    try:
        doc = _config_document(path.read_text(encoding="utf-8"), yaml_cache(root), where)
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{where}: 无法读取 cannot read: {exc}") from None
    except yaml_error() as exc:
        raise WorkspaceError(f"{where}: YAML 格式错误 invalid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise WorkspaceError(f"{where}: 格式错误 must be a mapping with organisation, users, "
                             "options")
    org = doc.get("organisation")
    if not isinstance(org, dict) or not str(org.get("name", "")).strip():
        raise WorkspaceError(f"{where}: 缺少单位名称 organisation.name is required")
    users = {}
    for index, spec in enumerate(doc.get("users") or [], start=1):
        if not isinstance(spec, dict) or not spec.get("id") or not spec.get("name"):
            raise WorkspaceError(f"{where}: users #{index}: 须有 id 和姓名 needs at least id "
                                 "and name")
        roles = spec.get("roles") or []
        if not isinstance(roles, list):
            raise WorkspaceError(f"{where}: user '{spec['id']}': 角色须为列表 roles must be a list")
        user = User(str(spec["id"]), str(spec["name"]), str(spec.get("department", "")),
                    tuple(map(str, roles)))
        if user.id in users:
            raise WorkspaceError(f"{where}: 用户重复 user '{user.id}' is listed twice")
        users[user.id] = user
    options = doc.get("options") or {}
    if not isinstance(options, dict):
        raise WorkspaceError(f"{where}: 格式错误 options must be a mapping")
    default_user = options.get("default_user")
    if default_user is not None and str(default_user) not in users:
        raise WorkspaceError(f"{where}: 默认用户不存在 options.default_user '{default_user}' is "
                             "not a user")
    limits = doc.get("limits") or {}
    if not isinstance(limits, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
            for v in limits.values()):
        raise WorkspaceError(f"{where}: 审批限额须为非负数 limits must map names to amounts "
                             "(numbers ≥ 0)")
    departments = {}
    for dept_id, label in (doc.get("departments") or {}).items():
        if not (isinstance(label, dict) and label.get("zh")):
            raise WorkspaceError(f"{where}: 部门须有中文名称 departments.{dept_id} needs zh (and "
                                 "optionally en)")
        departments[str(dept_id)] = Label(str(label["zh"]), str(label.get("en") or ""))
    witness = options.get("witness_log", "witness.log")
    if not isinstance(witness, str) or not witness.strip():
        raise WorkspaceError(f"{where}: 须为文件名 options.witness_log must be a file name")
    zone = options.get("time_zone", "Asia/Shanghai")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(str(zone))
    except (ValueError, KeyError, OSError):
        raise WorkspaceError(f"{where}: 时区无效 options.time_zone '{zone}' is not a time zone "
                             "(an IANA name such as Asia/Shanghai)") from None
    language = options.get("document_language", "both")
    if language not in DOCUMENT_LANGUAGES:
        raise WorkspaceError(f"{where}: 文件语言须为中文、英文或中英文 options.document_language "
                             f"'{language}' must be one of {', '.join(DOCUMENT_LANGUAGES)}")
    return Settings(root, str(org["name"]).strip(), str(org.get("name_en", "")).strip(), users,
                    str(default_user) if default_user is not None else None, dict(limits),
                    departments, synonyms=_synonyms(doc, where),
                    witness_log=root / Path(witness).expanduser(), time_zone=str(zone),
                    document_language=language,
                    **backends(doc, root, where, os.environ, embedded_catalog(root)))


def _synonyms(doc: dict, where: str) -> tuple[tuple[str, ...], ...]:
    """search.synonyms: a list of groups, each a list of two or more words."""
    search = doc.get("search") or {}
    if not isinstance(search, dict):
        raise WorkspaceError(f"{where}: 格式错误 search must be a mapping (synonyms: ...)")
    if "synonyms" not in search:
        if doc is _default_doc():
            return ()
        return _synonyms(_default_doc(), str(DEFAULT_CONFIG))
    groups = search["synonyms"] or []
    if not isinstance(groups, list):
        raise WorkspaceError(f"{where}: 同义词须为词组列表 search.synonyms must be a list of groups "
                             "of words")
    for n, group in enumerate(groups, start=1):
        if not (isinstance(group, list) and len(group) >= 2 and
                all(isinstance(w, str) and w.strip() for w in group)):
            raise WorkspaceError(f"{where}: search.synonyms #{n}: 同义词组至少两个词 must be a "
                                 f"list of two or more words, e.g. [品质, 质量]; got {group!r}")
    return tuple(tuple(w.strip() for w in group) for group in groups)


@lru_cache(maxsize=1)
def _default_doc() -> dict:
    return safe_yaml(DEFAULT_CONFIG.read_text(encoding="utf-8"))


# The embedded catalog: one SQLite file in the records folder, beside the files it lists.
CATALOG_FILES = ("catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm")


def embedded_catalog(root: Path) -> str:
    """The catalog URL of the embedded deployment of the workspace at `root`."""
    return f"sqlite:{Path(root).resolve() / 'records' / CATALOG_FILES[0]}"


def check_backends(text: str, root: Path) -> dict:
    """The backend keys in the YAML `text` (what `qrec init --catalog … --files …` adds to a
    new qrecords.yaml) checked as load_settings will check them. Raises WorkspaceError."""
    return backends(safe_yaml(text) or {}, Path(root).resolve(), "qrec init", os.environ,
                    embedded_catalog(root))


def find_root(explicit: str | None) -> Path:
    """The workspace folder: `explicit` (the face's -w), else QREC_WORKSPACE, else the current
    folder or its nearest parent holding qrecords.yaml. Raises WorkspaceError (param
    "workspace") when there is none."""
    if explicit is not None and not explicit.strip():
        raise WorkspaceError("文件夹名为空 was given an empty folder name", param="workspace")
    given = explicit or os.environ.get("QREC_WORKSPACE")
    if given:
        if not (Path(given) / CONFIG_NAME).is_file():
            source = "" if explicit else " (QREC_WORKSPACE)"
            raise WorkspaceError(f"{given}{source}: 不是工作区 not a qrecords workspace: no "
                                 f"{CONFIG_NAME} there (make one with `qrec init {given}`)",
                                 param="workspace" if explicit else None)
        return Path(given)
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise WorkspaceError(f"未找到工作区 no qrecords workspace in {here} or its parents: make "
                         "one with `qrec init PATH`, or name one with -w PATH or QREC_WORKSPACE")


# -- the QREC_* environment ----------------------------------------------------------------


def environment_user() -> str | None:
    """QREC_USER: the user a face acts as when none is named (faces only)."""
    return os.environ.get("QREC_USER") or None


def today_override() -> str | None:
    """QREC_TODAY=YYYY-MM-DD: the effective date, moved (demonstrations, tests)."""
    return os.environ.get("QREC_TODAY") or None


def config_folder() -> Path:
    """This operating-system user's qrecords folder: $XDG_CONFIG_HOME/qrecords, else
    ~/.config/qrecords (where the CLI keeps its login sessions)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "qrecords"


def fault_point_name() -> str | None:
    """QREC_FAULT: the fault point at which the crash tests kill the process."""
    return os.environ.get("QREC_FAULT") or None


def soffice_override() -> str | None:
    """QREC_SOFFICE: where LibreOffice's soffice is, instead of the PATH."""
    return os.environ.get("QREC_SOFFICE") or None

