"""The forms of a workspace: its current schemas and templates (schemas/, templates/) and the
form revisions frozen in its catalog, which records keep rendering with for good."""

from __future__ import annotations

from pathlib import Path

from .catalog.base import Catalog
from .domain.form_schema import parse_form
from .domain.forms import Form
from .errors import FormError, NotFound, suggest
from .settings import cached_yaml, yaml_cache


def load_form(path: Path, cache: Path | None = None) -> Form:
    """Load and check one schema file, its YAML document from `cache` when parsed before
    (settings.cached_yaml). Raises FormError listing every mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormError(f"{path}: cannot read schema: {exc}") from None
    return parse_form(text, str(path), _loader(cache))


def _loader(cache: Path | None):
    return None if cache is None else lambda text: cached_yaml(text, cache)


class FormLibrary:
    """Forms by id as the workspace defines them now, and frozen revisions by catalog id."""

    def __init__(self, root: Path, catalog: Catalog):
        self.root = root
        self.catalog = catalog
        self._ids: list[str] | None = None
        self._current: dict[str, Form] = {}
        self._frozen: dict[int, tuple[Form, bytes]] = {}  # form revisions never change
        self._by_label: dict[tuple[str, str], Form] = {}

    def ids(self) -> list[str]:
        """The ids of the workspace's forms, sorted."""
        if self._ids is None:
            self._ids = sorted(p.stem for p in (self.root / "schemas").glob("*.yaml"))
        return self._ids

    def current(self, form_id: str) -> Form:
        """The form as schemas/<id>.yaml defines it now. Raises NotFound (param "form") for
        an unknown id, FormError for a broken schema."""
        if form_id in self._current:
            return self._current[form_id]
        path = self.root / "schemas" / f"{form_id}.yaml"
        if "/" in form_id or "\\" in form_id or form_id.startswith(".") or not path.is_file():
            raise NotFound(f"无此表单 no form '{form_id}'{suggest(form_id, self.ids())}; forms: "
                           f"{', '.join(self.ids())}", param="form")
        form = load_form(path, yaml_cache(self.root))
        if form.id != form_id:
            raise FormError(f"{path}: id '{form.id}' does not match the file name")
        self._current[form_id] = form
        return form

    def all_current(self) -> dict[str, Form]:
        """Every form of the workspace by id. Raises FormError for a broken schema."""
        return {form_id: self.current(form_id) for form_id in self.ids()}

    def all_usable(self, notices: list[str]) -> dict[str, Form]:
        """Every form of the workspace whose schema loads, by id; each that does not is left
        out with a notice appended to `notices`, so that a schema being drafted in schemas/
        does not stop searching the others. What decides on records (deadlines, registers,
        new records) uses all_current or current, which refuse."""
        forms = {}
        for form_id in self.ids():
            try:
                forms[form_id] = self.current(form_id)
            except FormError as exc:
                notices.append(f"表单有误，未用于检索 left out of the search, its schema is "
                               f"broken: {str(exc).splitlines()[0]}")
        return forms

    def template(self, form: Form) -> bytes:
        """The DOCX template the workspace has now for `form`. Raises FormError."""
        path = self.root / "templates" / form.template
        try:
            return path.read_bytes()
        except OSError:
            raise FormError(f"schemas/{form.id}.yaml: template '{form.template}' not found in "
                            f"{path.parent}") from None

    def remember(self, revision_id: int, form: Form, template: bytes) -> None:
        """The revision with this id is `form` and `template` (just frozen, or checked to be
        the same as the frozen copy by its hash): no need to read it back."""
        self._frozen[revision_id] = (form, template)
        self._by_label[(form.id, form.revision)] = form

    def frozen(self, revision_id: int) -> tuple[Form, bytes]:
        """(form, template) of a revision frozen in the catalog."""
        if revision_id not in self._frozen:
            row = self.catalog.form_revision_by_id(revision_id)
            where = f"catalog copy of {row['form_id']} rev {row['revision']}"
            self.remember(revision_id, parse_form(row["schema_text"], where,
                                                  _loader(yaml_cache(self.root))),
                          row["template"])
        return self._frozen[revision_id]

    def revision(self, form_id: str, revision: str) -> Form:
        """A frozen form revision by its form id and label (as a RecordView names it)."""
        if (form_id, revision) not in self._by_label:
            row = self.catalog.form_revision(form_id, revision)
            if row is None:
                raise NotFound(f"no revision {revision} of form {form_id} in the catalog")
            self.frozen(row["id"])
        return self._by_label[(form_id, revision)]

    def status_label(self, form_id: str, state: str) -> str:
        """A state's label from the workspace's form; a form no longer there gives the id."""
        return self.current(form_id).workflow.label(state) if form_id in self.ids() else state
