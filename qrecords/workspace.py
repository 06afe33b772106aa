"""The unit of work: one command or one web request, by one acting user.

A Workspace holds the settings, the forms, the catalog, the file store, the search index and
the acting user for the length of one command (or request), and nothing else: the verbs in
api/ do the work. Open it with `Workspace.open(root, actor)`, close it with `close()`, which
brings the search index up to date with what the command changed.

A workspace folder holds qrecords.yaml, schemas/, templates/, records/ (the catalog and the
files of every version, in the embedded deployment) and index/. See docs/DESIGN.md.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
import json
import os
import uuid
from pathlib import Path
from typing import Callable

from . import clock
from .catalog import create_catalog, open_catalog
from .catalog.base import READS, Catalog, RecordRow, VersionRow
from .domain import access, retention
from .domain.forms import Form
from .errors import Disposed, Forbidden, NotFound, WorkspaceError, suggest
from .files import FileStore, open_file_store
from .formlib import FormLibrary
from .index.pool import IndexPool
from .index.searchindex import SearchIndex
from .index.source import CatalogSource
from .settings import (CATALOG_FILES, CONFIG_NAME, DEFAULT_CONFIG, Settings, User,
                       check_backends, embedded_catalog, load_settings, today_override)

BUILTIN = Path(__file__).parent
LIMITS_SET = "limits.set"  # the approval limits in force from then on (issue 15)


class Workspace:
    """settings, forms, catalog, files, index and actor of one unit of work; `notices` are
    warnings for the user that the face prints when the work is done."""

    def __init__(self, settings: Settings, catalog: Catalog, files: FileStore,
                 index: SearchIndex, actor: User | None):
        self.settings = settings
        self.catalog = catalog
        self.files = files
        self.index = index
        self.actor = actor
        self.forms = FormLibrary(settings.root, catalog)
        self.notices: list[str] = []
        self.pdf_unavailable = False  # set once LibreOffice is found missing in this work
        # Records changed since the last index update: the index is updated once, when the
        # work ends (close) or before anything reads it, not once per record.
        self._index_behind = False
        self._touched: set[str] = set()  # records whose objects' locks follow them at close
        self._putting: list[list[str]] = []  # keys put in the store by each open write()
        self._demo: bool | None = None
        self._lent_by: IndexPool | None = None  # lent `index`: given back at close
        self._index_released = False

    @classmethod
    def open(cls, root: Path, actor: str | Callable[["Workspace"], str],
             indexes: IndexPool | None = None) -> "Workspace":
        """The workspace at `root`, acting as the user with id `actor` (the face decides who
        that is; nothing here falls back to a default), or as the user id a callable returns
        when given the opened workspace (the face's proof of identity, api/sessions.py).
        `indexes`, a long-lived face's (the portal's), lends the search index with its
        searcher kept open from an earlier unit of work, and takes it back at close()
        (index/pool.py says why that finds the same records).
        Raises WorkspaceError for a broken workspace, for users edited in qrecords.yaml after
        init and for QREC_TODAY in a workspace that is no demonstration; NotFound (param
        "user") for an unknown user, Forbidden for a disabled one."""
        settings = load_settings(root)
        clock.use_zone(settings.time_zone)
        catalog = open_catalog(settings.catalog)
        ws = None
        try:
            files = open_file_store(settings.files, settings.root / "debris", CATALOG_FILES,
                                    settings.s3_endpoint, settings.temp)
            index = _search_index(settings, catalog, indexes)
            ws = cls(settings, catalog, files, index, None)
            ws._lent_by = indexes
            _check_settings(settings, catalog, lambda: ws.demo)
            ws.actor = ws.acting_user(actor(ws) if callable(actor) else actor)
            ws._take_in_limits()
        except BaseException:
            ws.close() if ws is not None else catalog.close()
            raise
        return ws

    @property
    def demo(self) -> bool:
        """Whether this is a demonstration workspace (`qrec init --demo`, recorded in the
        catalog): QREC_TODAY is honoured, proofs are waived, documents carry 演示 DEMO."""
        if self._demo is None:
            self._demo = self.catalog.meta_value("demo") == "1"
        return self._demo

    @property
    def workspace_id(self) -> str:
        """The workspace's id, made at init (sessions are filed under it)."""
        return self.catalog.meta_value("workspace_id") or ""

    def _take_in_limits(self) -> None:
        """The approval limits of qrecords.yaml (limits:) decide who may approve what, so a
        change of them is never silently effective: the document controller's (or an
        admin's) next command records it as a `limits.set` event with the limits before and
        after; anyone else is refused until then (issue 15)."""
        if self.catalog.read_only:
            return
        recorded = self.catalog.events_by_action([LIMITS_SET])
        if not recorded or recorded[-1]["detail"]["limits"] == self.settings.limits:
            return  # made before limits were recorded, or unchanged
        if not {"document_controller", "admin"} & set(self.actor.roles):
            raise WorkspaceError(
                f"{self.root / CONFIG_NAME}: 审批限额已修改，须文控确认 its approval limits were "
                "changed; the document controller's next qrec command records the change, "
                "then work goes on")
        with self.catalog.write():
            self.log(LIMITS_SET, detail={"limits": self.settings.limits,
                                         "before": recorded[-1]["detail"]["limits"],
                                         "reason": f"{CONFIG_NAME} edited"})
        self.notices.append(f"审批限额变更已记录 the approval limits of {CONFIG_NAME} changed: "
                            "recorded as yours")

    @property
    def root(self) -> Path:
        return self.settings.root

    def close(self) -> None:
        """Bring the index up to date with what this work changed, lock the objects of the
        records it changed as they now stand (a store with Object Lock), and close: the
        index and the catalog connection are given back whatever happened before."""
        try:
            if self._index_behind:
                self.try_sync_index()
            if self._touched:
                self.try_protect(sorted(self._touched))
        finally:
            if not self._index_released:  # once: a pool may have lent it to another since
                self._index_released = True
                if self._lent_by is not None:
                    self._lent_by.give_back(self.index)
                else:
                    self.index.close()
            self.catalog.close()

    def document(self, content: bytes) -> bytes:
        """A DOCX this workspace is about to store: in a demonstration workspace, with the
        visible 演示 DEMO stamp in its page footer."""
        if not self.demo:
            return content
        from .render.docx import with_banner

        return with_banner(content)

    # -- the acting user ---------------------------------------------------------------------

    def user(self, user_id: str) -> User:
        """A user of the catalog (disabled or not). Raises NotFound (param "user")."""
        return self._user(user_id)[0]

    def acting_user(self, user_id: str) -> User:
        """A user who may act: NotFound for an unknown one, Forbidden for a disabled one."""
        user, row = self._user(user_id)
        if row["disabled"]:
            raise Forbidden(f"用户已停用 user '{user_id}' is disabled; ask the document "
                            "controller")
        return user

    def _user(self, user_id: str) -> tuple[User, dict]:
        """(User, catalog row), read once. Raises NotFound (param "user")."""
        row = self.catalog.user(user_id)
        if row is None:
            known = [u["id"] for u in self.catalog.users()]
            raise NotFound(f"无此用户 unknown user '{user_id}'{suggest(user_id, known)}: `qrec "
                           "users` lists them", param="user")
        return User(row["id"], row["name"], row["department"], tuple(row["roles"])), row

    def authority(self, detail: dict | None = None, actor: User | None = None) -> dict:
        """An event's detail with the actor's roles and department at this moment, and, in a
        demonstration workspace, `demo: true` (21 CFR 11.10(e): who, under which authority)."""
        actor = actor or self.actor
        stamped = {**(detail or {}), "authority": {"roles": list(actor.roles),
                                                   "department": actor.department}}
        if self.demo:
            stamped["demo"] = True
        return stamped

    def require_role(self, role: str, what: str) -> User:
        """The actor, if they hold `role`; Forbidden naming `what` needs it otherwise."""
        if role not in self.actor.roles:
            raise Forbidden(f"权限不足 {what} needs the role {role}; {self.actor.id} has "
                            f"{', '.join(self.actor.roles) or 'no role'}")
        return self.actor

    def sees_personal_data(self) -> bool:
        """Whether the actor is shown sensitive values: they hold the privacy role, and the
        read can be logged (a read-only archive copy cannot log it: values stay masked,
        with a notice)."""
        if not access.may_see_personal_data(self.actor.roles):
            return False
        if self.catalog.read_only:
            notice = ("the workspace is read-only, so a read of personal data cannot be "
                      "logged: it is masked 只读工作区：个人信息已遮蔽")
            if notice not in self.notices:
                self.notices.append(notice)
            return False
        return True

    def log(self, action: str, number: str | None = None, version: int | None = None,
            detail: dict | None = None, actor: User | None = None) -> int:
        """Append an event by the actor, now, on the effective date; inside catalog.write().
        An event about a record that is not a read (catalog.base.READS) touches it. Returns
        the event id."""
        if number and action not in READS:
            self.touch(number)
        return self.catalog.add_event(clock.utc_now(), clock.today().isoformat(),
                                      (actor or self.actor).id, action, number, version,
                                      self.authority(detail, actor))

    def touch(self, number: str) -> None:
        """The record `number` changed: when the work ends (`close`), its objects' locks are
        brought in step with it (extended to its retention date once it is closed)."""
        self._touched.add(number)

    @contextmanager
    def write(self):
        """catalog.write(), the file store made ready first (files.ready), and the files put
        in it meanwhile removed again if it fails, its commit included (a full disk): a
        failed command leaves no file the catalog does not know (issue 14, line 9)."""
        self.files.ready()
        put: list[str] = []
        self._putting.append(put)
        try:
            with self.catalog.write() as tx:
                yield tx
        except BaseException:
            for key in put:
                try:
                    self.files.remove(key)
                except OSError:
                    pass  # left for `qrec verify --repair`
            raise
        finally:
            self._putting.remove(put)

    def put_file(self, key: str, content: bytes, keep_until: str | None = None) -> str:
        """files.put, remembered by the write() it is inside of; `keep_until` as files.put
        takes it (`keep_until(number)` for a record's file). Returns the SHA-256."""
        digest = self.files.put(key, content, keep_until)
        for put in self._putting:
            put.append(key)
        return digest

    # -- records -----------------------------------------------------------------------------

    def keep_until(self, number: str | None) -> str | None:
        """The earliest day (ISO) the record `number` could be disposed of: what its objects
        are locked until from the moment they are stored. None for no record (a list, a
        report) or one not yet in the catalog."""
        return earliest_disposal(self.catalog, self.forms, number) if number else None

    def record_row(self, number: str) -> RecordRow:
        """The catalog row of a record. Raises Disposed (with its tombstone) or NotFound."""
        record = self.catalog.record(number)
        if record is None:
            tombstone = self.catalog.tombstone(number)
            if tombstone is not None:
                if tombstone["action"] == "transfer":  # the archive: in its chained event
                    tombstone["to"] = next((e["detail"].get("to") for e in reversed(
                        self.catalog.events(number)) if e["action"] == "record.transferred"),
                        None)
                raise Disposed(tombstone)
            hint = f" (did you mean '{number.upper()}'?)" if number != number.upper() and \
                self.catalog.record(number.upper()) else ""
            raise NotFound(f"无此记录 no record '{number}'{hint}", param="number")
        return record

    def version_row(self, record: RecordRow, version: int) -> VersionRow:
        """One version of a record. Raises NotFound (param "version")."""
        row = self.catalog.version(record["id"], version)
        if row is None:
            raise NotFound(f"无此版本 {record['number']} has no version {version} (versions 1 to "
                           f"{record['current_version']})", param="version")
        return row

    def form_of(self, number: str) -> Form:
        """The form revision a record was made with (not necessarily the workspace's now)."""
        return self.forms.frozen(self.record_row(number)["form_revision_id"])[0]

    # -- the search index: derived from the catalog, brought up to date after each change ---

    def index_source(self) -> CatalogSource:
        return CatalogSource(self.catalog, lambda revision_id: self.forms.frozen(revision_id)[0],
                             reopen=lambda: _own_source(self.settings))

    def mark_index_behind(self) -> None:
        """Records changed: the index is brought up to date when the work ends."""
        self._index_behind = True

    def sync_index(self) -> None:
        """Bring the search index up to date with the catalog: nothing to do costs one query.
        A missing or unreadable index is rebuilt, with a notice."""
        behind, self._index_behind = self._index_behind, False
        if not behind and self.index.is_current(self.catalog.latest_change_id()):
            return
        notice = self.index.sync(self.index_source())
        if notice:
            self.notices.append(notice)

    def protect(self, numbers: list[str]) -> None:
        """Lock every object of these records as the catalog has them: held while open or on
        hold, retained until the retention date once closed (files/base.py: protect)."""
        protect_records(self.catalog, self.files, numbers, self.forms)

    def try_protect(self, numbers: list[str]) -> None:
        """The locking that ends the work: a failure (the store unreachable) leaves the
        objects with the locks they had and says so; `verify --repair` locks them again."""
        try:
            self.protect(numbers)
        except Exception as exc:  # noqa: BLE001 - the records are stored whatever happens
            self.notices.append(f"对象锁未更新 the objects of {', '.join(numbers)} were not "
                                f"locked as their records stand ({exc}): they keep the locks "
                                "they had; run `qrec verify --repair` when the store is back")

    def try_sync_index(self) -> None:
        """The index update that ends the work: the records are stored whatever happens
        here, so a failure is a notice, and the next command applies the changes."""
        try:
            self.sync_index()
        except Exception as exc:
            self.notices.append(f"the search index was not updated ({exc}); the next qrec "
                                "command will update it")


def protect_records(catalog: Catalog, files: FileStore, numbers: list[str],
                    forms: FormLibrary | None = None) -> None:
    """Lock every object of the records `numbers` in `files` as `catalog` has them: retained
    until the retention date once closed; until the earliest disposal and held while open;
    held while on hold (records disposed of meanwhile are passed over). `forms`: a library
    caching the catalog's form revisions (one is made if None). A store without Object Lock
    has nothing to lock: the catalog is not read."""
    if not files.locked:
        return
    forms = forms or FormLibrary(Path(), catalog)  # frozen revisions come from the catalog
    for number in numbers:
        record = catalog.record(number)
        if record is None:
            continue
        closed = bool(record["closed_on"])
        until = record["retention_until"] if closed else \
            earliest_disposal(catalog, forms, number)
        for row in catalog.record_files(record["id"]):
            files.protect(row["path"], until, bool(record["on_hold"]) or not closed)


def earliest_disposal(catalog: Catalog, forms: FormLibrary, number: str) -> str | None:
    """The earliest day (ISO) the record `number` could be disposed of (its creation plus its
    form's retention period: domain.retention.earliest_end); None if no such record."""
    record = catalog.record(number)
    if record is None:
        return None
    form = forms.frozen(record["form_revision_id"])[0]
    first = catalog.version(record["id"], 1)
    return retention.earliest_end(form.retention, first["effective_date"], first["data"])


def _own_source(settings: Settings) -> CatalogSource:
    """An index source on a catalog connection of its own (a rebuild's forked worker)."""
    catalog = open_catalog(settings.catalog)
    forms = FormLibrary(settings.root, catalog)
    return CatalogSource(catalog, lambda revision_id: forms.frozen(revision_id)[0],
                         owned=True)


def _search_index(settings: Settings, catalog: Catalog,
                  indexes: IndexPool | None = None) -> SearchIndex:
    """The workspace's index (lent by `indexes` if given); for a workspace whose index folder
    cannot be written (an archive copy, a read-only mount) the index there if it is current,
    else a private one in the temporary folder, built by the first command that needs it."""
    folder = settings.index
    writable = folder if folder.exists() else folder.parent
    if not os.access(writable, os.W_OK) and \
            not SearchIndex(folder).is_current(catalog.latest_change_id()):
        digest = hashlib.sha256(str(settings.root).encode()).hexdigest()[:16]
        import tempfile

        folder = Path(tempfile.gettempdir()) / f"qrecords-index-{digest}"
    return indexes.lend(folder) if indexes is not None else SearchIndex(folder)


def users_digest(users: dict[str, User]) -> str:
    """SHA-256 of the users of qrecords.yaml (ids, names, departments, roles): recorded at
    init, so a later edit of them is noticed."""
    text = json.dumps(sorted([u.id, u.name, u.department, list(u.roles)]
                             for u in users.values()), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def check_workspace(root: Path) -> None:
    """Refuse now what every unit of work on the workspace at `root` would be refused for
    (_check_settings, as Workspace.open: users edited in qrecords.yaml after init, QREC_TODAY
    outside a demonstration, the time zone changed), so that a long-lived face (`qrec serve`) says it
    once when it starts instead of failing each request. Raises WorkspaceError (also for a
    broken qrecords.yaml or an unreachable catalog)."""
    settings = load_settings(root)
    catalog = open_catalog(settings.catalog)
    try:
        _check_settings(settings, catalog, lambda: catalog.meta_value("demo") == "1")
    finally:
        catalog.close()


def _check_settings(settings: Settings, catalog: Catalog, demo: Callable[[], bool]) -> None:
    """Refuse what would silently change identity or time: users edited in qrecords.yaml
    after init (they live in the catalog: `qrec users`), QREC_TODAY outside a demonstration
    (`demo()` is asked only when QREC_TODAY is set) and the time zone changed."""
    if users_digest(settings.users) != catalog.meta_value("users_seed_sha256"):
        raise WorkspaceError(
            f"{settings.root / CONFIG_NAME}: 用户在初始化后不得修改 its users were edited after "
            "the workspace was made; users and roles live in the catalog — undo the edit "
            "and use `qrec users add|grant|revoke|disable`")
    if today_override() and not demo():
        raise WorkspaceError("仅演示工作区可设定日期 QREC_TODAY is honoured only in a "
                             "demonstration workspace (qrec init --demo); unset it")
    zone = catalog.meta_value("time_zone")
    if zone is not None and zone != settings.time_zone:
        raise WorkspaceError(
            f"{settings.root / CONFIG_NAME}: 时区在初始化后不得修改 options.time_zone was "
            f"{zone} when the workspace was made and is {settings.time_zone} now; "
            "every date depends on it — undo the edit")


def create_workspace(path: Path, backends: dict | None = None, demo: bool = False,
                     os_account: str | None = None, time_zone: str | None = None) -> Path:
    """Make a workspace with the built-in forms at `path` (a new or empty folder); returns its
    resolved path. `backends` are qrecords.yaml's backend keys (catalog, files, s3_endpoint,
    machines), the embedded SQLite and folder when None; a shared catalog must have been set
    up by its owner (`qrec db setup`). Raises WorkspaceError when the folder is a workspace
    already or a file, a backend cannot be reached, or a new catalog would share a file store
    that holds files already (another archive's: each would take the other's objects for
    debris). The users of qrecords.yaml are seeded into a new catalog (each a logged
    `user.added`); `demo` makes a demonstration workspace (recorded in the catalog);
    `os_account`, if given, is bound to the default user (the document controller who made
    it). A machine joining a shared catalog seeds nothing. `time_zone` (an IANA name;
    Asia/Shanghai when None) is the zone of every date, fixed at init."""
    path = Path(path)
    if not (backends or {}).get("catalog"):  # a new embedded catalog: refused before any file
        _refuse_back_dating(demo)
    if (path / CONFIG_NAME).exists():
        raise WorkspaceError(f"{path}: already a workspace ({CONFIG_NAME} exists)")
    if path.exists() and not path.is_dir():
        raise WorkspaceError(f"{path}: exists and is not a folder")
    import shutil  # here, as in _unmake: the commands that open a workspace never need it

    extra = "".join(f"{key}: {value}\n" for key, value in (backends or {}).items() if value)
    chosen = check_backends(extra, path)  # refused before any file is made
    before = set(os.listdir(path)) if path.is_dir() else None
    try:
        for sub in ("schemas", "templates", "records", "index"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        for source in sorted((BUILTIN / "schemas").glob("*.yaml")):
            shutil.copyfile(source, path / "schemas" / source.name)
        for source in sorted((BUILTIN / "templates").glob("*.docx")):
            shutil.copyfile(source, path / "templates" / source.name)
        if not extra:
            create_catalog(embedded_catalog(path)).close()
        # Reachable, with these credentials, before anything makes the folder a workspace.
        catalog = create_catalog(chosen["catalog"])
        try:
            files = open_file_store(chosen["files"], path / "debris", CATALOG_FILES,
                                    chosen["s3_endpoint"], chosen["temp"])
            files.ready()
            new_catalog = catalog.meta_value("workspace_id") is None  # not one joined
            if new_catalog and next(iter(files.keys()), None) is not None:
                raise WorkspaceError(
                    f"files {chosen['files']}: 已有文件，可能属于另一个档案 holds files "
                    "already, perhaps another archive's: a new catalog starts on an empty "
                    "location (a machine joining an archive names that archive's catalog)")
            # qrecords.yaml last: its presence is what makes the folder a workspace.
            config = DEFAULT_CONFIG.read_text(encoding="utf-8")
            if time_zone:  # checked by load_settings below, like any edit of the file
                config = config.replace(f"time_zone: {clock.DEFAULT_ZONE}",
                                        f"time_zone: {time_zone}")
            (path / CONFIG_NAME).write_text(config + (
                "# Where the records are kept (README: deployment)\n" + extra if extra else ""),
                encoding="utf-8")
            settings = load_settings(path)
            if new_catalog:
                _seed(settings, catalog, demo, os_account)
            index = SearchIndex(settings.index)
            if catalog.record_numbers():  # joining a shared archive in use: this machine's
                # index catches up
                any_user = next(iter(settings.users.values()))
                Workspace(settings, catalog, files, index, any_user).sync_index()
            else:
                index.rebuild(CatalogSource(catalog, lambda revision_id: None))
            index.close()
        finally:
            catalog.close()
    except BaseException:  # a refused or failed init leaves the folder as it found it
        _unmake(path, before)
        raise
    return settings.root


def _unmake(path: Path, before: set[str] | None) -> None:
    """Remove what a failed init made at `path`: the folder itself when it was not there
    (`before` None), else the entries that were not in `before`."""
    import shutil

    if before is None:
        shutil.rmtree(path, ignore_errors=True)
        return
    for name in set(os.listdir(path)) - before:
        target = path / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)


def _refuse_back_dating(demo: bool) -> None:
    """A normal workspace is made on the clock's date: QREC_TODAY is for demonstrations."""
    if today_override() and not demo:
        raise WorkspaceError("仅演示工作区可设定日期 QREC_TODAY is honoured only in a "
                             "demonstration workspace: unset it, or make one with qrec init "
                             "--demo")


def _seed(settings: Settings, catalog: Catalog, demo: bool, os_account: str | None) -> None:
    """The workspace's facts and its users from qrecords.yaml, with their events (a machine
    joining a shared catalog seeds nothing, and takes its facts from it)."""
    _refuse_back_dating(demo)
    now, today = clock.utc_now(), clock.today().isoformat()
    by = settings.default_user or "qrec-init"
    with catalog.write():
        workspace_id = str(uuid.uuid4())
        catalog.set_meta("workspace_id", workspace_id)
        catalog.set_meta("demo", "1" if demo else "0")
        catalog.set_meta("users_seed_sha256", users_digest(settings.users))
        catalog.set_meta("time_zone", settings.time_zone)
        marks = {"demo": True} if demo else {}
        catalog.add_event(now, today, by, "workspace.created", None, None,
                          {"workspace_id": workspace_id, "demo": demo,
                           "os_account": os_account, "time_zone": settings.time_zone})
        catalog.add_event(now, today, by, LIMITS_SET, None, None,
                          {"limits": settings.limits, "reason": f"{CONFIG_NAME} at init",
                           **marks})
        for user in settings.users.values():
            bound = os_account if os_account and user.id == settings.default_user else None
            catalog.save_user({"id": user.id, "name": user.name,
                               "department": user.department, "roles": list(user.roles),
                               "disabled": False, "password_hash": None, "os_account": bound,
                               "failed_logins": 0, "locked_until": None})
            catalog.add_event(now, today, by, "user.added", None, None, {
                "user": user.id, "name": user.name, "department": user.department,
                "roles": list(user.roles), "os_account": bound,
                "reason": f"seeded from {CONFIG_NAME} at init", **marks})
