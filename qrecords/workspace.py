"""The unit of work: one command or one web request, by one acting user.

A Workspace holds the settings, the forms, the catalog, the file store, the search index and
the acting user for the length of one command (or request), and nothing else: the verbs in
api/ do the work. Open it with `Workspace.open(root, actor)`, close it with `close()`, which
brings the search index up to date with what the command changed.

A workspace folder holds qrecords.yaml, schemas/, templates/, records/ (the catalog and the
files of every version, in the embedded deployment) and index/. See docs/DESIGN.md.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from . import clock
from .catalog import create_catalog, open_catalog
from .catalog.base import Catalog, RecordRow, VersionRow
from .domain.forms import Form
from .errors import Disposed, Forbidden, NotFound, WorkspaceError
from .files import FileStore, open_file_store
from .formlib import FormLibrary
from .index.searchindex import SearchIndex
from .index.source import CatalogSource
from .settings import (CATALOG_FILES, CONFIG_NAME, DEFAULT_CONFIG, Settings, User,
                       embedded_catalog, load_settings)

BUILTIN = Path(__file__).parent


class Workspace:
    """settings, forms, catalog, files, index and actor of one unit of work; `notices` are
    warnings for the user that the face prints when the work is done."""

    def __init__(self, settings: Settings, catalog: Catalog, files: FileStore,
                 index: SearchIndex, actor: User):
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

    @classmethod
    def open(cls, root: Path, actor: str) -> "Workspace":
        """The workspace at `root`, acting as the user with id `actor` (the face decides who
        that is; nothing here falls back to a default). Raises WorkspaceError for a broken
        workspace, NotFound (param "user") for an unknown user."""
        if not actor:
            raise Forbidden("no user is acting: name who acts", param="user")
        settings = load_settings(root)
        user = settings.user(actor)
        catalog = open_catalog(settings.catalog)
        files = open_file_store(settings.files, settings.root / "debris", CATALOG_FILES)
        return cls(settings, catalog, files, SearchIndex(settings.index), user)

    @property
    def root(self) -> Path:
        return self.settings.root

    def close(self) -> None:
        """Bring the index up to date with what this work changed, and close."""
        if self._index_behind:
            self.try_sync_index()
        self.index.close()
        self.catalog.close()

    # -- the acting user ---------------------------------------------------------------------

    def require_role(self, role: str, what: str) -> User:
        """The actor, if they hold `role`; Forbidden naming `what` needs it otherwise."""
        if role not in self.actor.roles:
            raise Forbidden(f"{what} needs the role {role}; {self.actor.id} has "
                            f"{', '.join(self.actor.roles) or 'no role'}")
        return self.actor

    def log(self, action: str, number: str | None = None, version: int | None = None,
            detail: dict | None = None, actor: User | None = None) -> int:
        """Append an event by the actor, now, on the effective date; inside catalog.write().
        Returns the event id."""
        return self.catalog.add_event(clock.utc_now(), clock.today().isoformat(),
                                      (actor or self.actor).id, action, number, version, detail)

    # -- records -----------------------------------------------------------------------------

    def record_row(self, number: str) -> RecordRow:
        """The catalog row of a record. Raises Disposed (with its tombstone) or NotFound."""
        record = self.catalog.record(number)
        if record is None:
            tombstone = self.catalog.tombstone(number)
            if tombstone is not None:
                raise Disposed(tombstone)
            hint = f" (did you mean '{number.upper()}'?)" if number != number.upper() and \
                self.catalog.record(number.upper()) else ""
            raise NotFound(f"no record '{number}'{hint}", param="number")
        return record

    def version_row(self, record: RecordRow, version: int) -> VersionRow:
        """One version of a record. Raises NotFound (param "version")."""
        row = self.catalog.version(record["id"], version)
        if row is None:
            raise NotFound(f"{record['number']} has no version {version} (versions 1 to "
                           f"{record['current_version']})", param="version")
        return row

    def form_of(self, number: str) -> Form:
        """The form revision a record was made with (not necessarily the workspace's now)."""
        return self.forms.frozen(self.record_row(number)["form_revision_id"])[0]

    # -- the search index: derived from the catalog, brought up to date after each change ---

    def index_source(self) -> CatalogSource:
        return CatalogSource(self.catalog, lambda revision_id: self.forms.frozen(revision_id)[0])

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

    def try_sync_index(self) -> None:
        """The index update that ends the work: the records are stored whatever happens
        here, so a failure is a notice, and the next command applies the changes."""
        try:
            self.sync_index()
        except Exception as exc:
            self.notices.append(f"the search index was not updated ({exc}); the next qrec "
                                "command will update it")


def create_workspace(path: Path) -> Path:
    """Make a workspace with the built-in forms at `path` (a new or empty folder); returns its
    resolved path. Raises WorkspaceError when the folder is a workspace already or a file."""
    path = Path(path)
    if (path / CONFIG_NAME).exists():
        raise WorkspaceError(f"{path}: already a workspace ({CONFIG_NAME} exists)")
    if path.exists() and not path.is_dir():
        raise WorkspaceError(f"{path}: exists and is not a folder")
    for sub in ("schemas", "templates", "records", "index"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    for source in sorted((BUILTIN / "schemas").glob("*.yaml")):
        shutil.copyfile(source, path / "schemas" / source.name)
    for source in sorted((BUILTIN / "templates").glob("*.docx")):
        shutil.copyfile(source, path / "templates" / source.name)
    create_catalog(embedded_catalog(path)).close()
    # qrecords.yaml last: its presence is what makes the folder a workspace.
    shutil.copyfile(DEFAULT_CONFIG, path / CONFIG_NAME)
    settings = load_settings(path)
    catalog = open_catalog(settings.catalog)
    try:
        index = SearchIndex(settings.index)
        index.rebuild(CatalogSource(catalog, lambda revision_id: None))
        index.close()
    finally:
        catalog.close()
    return settings.root
