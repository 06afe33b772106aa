"""The Python API: a Workspace whose methods are the verbs of the CLI.

A workspace is a folder with qrecords.yaml, schemas/, templates/, records/ (the catalog and the
immutable files of every version) and index/. See DESIGN.md for the data flow.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from pathlib import Path

from . import clock, retention, workflow
from .faults import fault_point
from .config import DEFAULT_CONFIG, Config, User, load_config
from .errors import (Disposed, FormError, NotFound, QrecError, ValidationError, WorkspaceError,
                     suggest)
from .fields import MASK, Invalid, control_character
from .forms import RESERVED, Form, load_form, parse_form, validate_data
from .index.searchindex import SearchIndex
from .index import searching
from .index.source import CatalogSource
from .records.files import sha256_bytes, write_immutable
from .records.numbering import format_number, period_of
from .records.store import SCHEMA_VERSION, Store, canonical_json
from .render.context import build_context
from .render.docx import render_docx, template_names
from .render.finish import watermark_for
from .render.pdf import ConverterPool, PdfFailed, PdfUnavailable, make_pdf

CONFIG_NAME = "qrecords.yaml"
BUILTIN = Path(__file__).parent
MAX_QUERY = 1000  # characters; far more than any search, far less than SQLite's LIKE limit
_CONTEXT_ATTRIBUTES = {
    "org": {"name", "name_en"},
    "form": {"id", "title_zh", "title_en", "number", "revision"},
    "record": {"number", "version", "status_label", "date"},
}


class Workspace:
    def __init__(self, root: Path):
        self.root = root.resolve()
        self.config: Config = load_config(self.root / CONFIG_NAME)
        catalog = self.root / "records" / "catalog.sqlite"
        if not catalog.exists():
            raise WorkspaceError(f"{catalog}: the catalog is missing; this workspace is broken")
        self.store = Store(catalog)
        try:
            version = self.store.schema_version()
        except sqlite3.DatabaseError as exc:
            raise WorkspaceError(f"{catalog}: not a qrecords catalog ({exc})") from None
        if version != SCHEMA_VERSION:
            raise WorkspaceError(f"{catalog}: catalog schema version {version}; this qrec reads "
                                 f"version {SCHEMA_VERSION} (make a new workspace)")
        self.index = SearchIndex(self.root / "index")
        self.notices: list[str] = []  # warnings for the user, printed by the CLI
        self._pdf_unavailable = False
        self._frozen: dict[int, tuple[Form, bytes]] = {}  # form revisions never change
        # Records changed since the last index update: the index is updated once, when the
        # command ends (close) or before anything reads it, not once per record.
        self._index_behind = False

    # -- finding and making workspaces ------------------------------------------------------

    @classmethod
    def init(cls, path: Path) -> "Workspace":
        """Make a workspace with the built-in forms. Refuses a folder that already has one."""
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
        Store.create(path / "records" / "catalog.sqlite").close()
        # qrecords.yaml last: its presence is what makes the folder a workspace.
        shutil.copyfile(DEFAULT_CONFIG, path / CONFIG_NAME)
        workspace = cls(path)
        workspace.index.rebuild(workspace.index_source())
        return workspace

    @classmethod
    def find(cls, explicit: str | None = None) -> "Workspace":
        """-w PATH, else QREC_WORKSPACE, else the current folder or the nearest parent with
        qrecords.yaml."""
        given = explicit or os.environ.get("QREC_WORKSPACE")
        if given:
            root = Path(given)
            if not (root / CONFIG_NAME).is_file():
                source = "-w" if explicit else "QREC_WORKSPACE"
                raise WorkspaceError(f"{given} ({source}) is not a qrecords workspace: no "
                                     f"{CONFIG_NAME} there (make one with `qrec init {given}`)")
            return cls(root)
        here = Path.cwd()
        for folder in (here, *here.parents):
            if (folder / CONFIG_NAME).is_file():
                return cls(folder)
        raise WorkspaceError(f"no qrecords workspace in {here} or its parents: make one with "
                             "`qrec init PATH`, or name one with -w PATH or QREC_WORKSPACE")

    def close(self) -> None:
        """Bring the index up to date with what this workspace changed, and close."""
        if self._index_behind:
            self._try_sync_index()
        self.index.close()
        self.store.close()

    def mark_index_behind(self) -> None:
        """Records changed: the index is brought up to date when the command ends."""
        self._index_behind = True

    def user(self, user_id: str | None) -> User:
        """The acting user: --as / QREC_USER, else options.default_user of qrecords.yaml."""
        if user_id is not None and not user_id.strip():
            raise WorkspaceError("--as was given an empty user name")
        chosen = user_id or os.environ.get("QREC_USER") or self.config.default_user
        if not chosen:
            raise WorkspaceError("who is acting? give --as USER or set QREC_USER")
        return self.config.user(chosen)

    # -- forms -------------------------------------------------------------------------------

    def form_ids(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "schemas").glob("*.yaml"))

    def form(self, form_id: str) -> Form:
        path = self.root / "schemas" / f"{form_id}.yaml"
        if "/" in form_id or "\\" in form_id or form_id.startswith(".") or not path.is_file():
            raise NotFound(f"no form '{form_id}'{suggest(form_id, self.form_ids())}; forms: "
                           f"{', '.join(self.form_ids())}")
        form = load_form(path)
        if form.id != form_id:
            raise FormError(f"{path}: id '{form.id}' does not match the file name")
        return form

    def template_bytes(self, form: Form) -> bytes:
        path = self.root / "templates" / form.template
        try:
            return path.read_bytes()
        except OSError:
            raise FormError(f"schemas/{form.id}.yaml: template '{form.template}' not found in "
                            f"{path.parent}") from None

    def check_form(self, form_id: str) -> list[str]:
        """Every problem of a form: schema, template file, placeholders. Empty when sound."""
        try:
            form = self.form(form_id)
            problems = _template_problems(form, self.template_bytes(form))
        except FormError as exc:
            return str(exc).splitlines()
        return problems + self._workflow_problems(form)

    def _workflow_problems(self, form: Form) -> list[str]:
        """Roles no user of qrecords.yaml has, and limits it does not set."""
        where = f"schemas/{form.id}.yaml: workflow"
        held = {r for user in self.config.users.values() for r in user.roles}
        problems = [f"{where}: role '{role}' is held by no user in qrecords.yaml"
                    f"{suggest(role, held)}" for role in sorted(form.workflow.roles() - held)]
        return problems + [f"{where}: limits.{name} is not set in qrecords.yaml"
                           f"{suggest(name, self.config.limits)}"
                           for name in sorted(form.workflow.limit_names()
                                              - set(self.config.limits))]

    # -- records -----------------------------------------------------------------------------

    def new_record(self, form_id: str, data: dict, user: str | None = None,
                   pdf: bool = True, follows: str | None = None) -> dict:
        """Validate, number, render and store version 1 of a new record, in one transaction:
        a failure anywhere leaves no record, no number used and no file. The PDF follows
        (derived from the committed DOCX; `qrec render` makes it later if it fails)."""
        actor = self.user(user)
        form = self.form(form_id)
        template = self.template_bytes(form)
        if isinstance(data, dict):
            workflow.refuse_owned(form.workflow, data, f"new {form.id}")
        if follows is not None:
            data = self._follow_up(form, follows, data)
        today = clock.today()
        clean = validate_data(form, data, today.isoformat())
        period = period_of(form.number_pattern, today)
        with self.store.write() as tx:
            revision_id = self._freeze_revision(form, template)
            number = format_number(period, tx.next_seq(form.id, period))
            taken = tx.record(number)
            if taken is not None:
                raise FormError(f"number {number} is already used by a {taken['form_id']} "
                                f"record: the number_pattern of {form.id} must not produce "
                                "numbers of another form or an earlier pattern")
            now = clock.utc_now()
            state = form.workflow.initial
            record_id = tx.add_record(number, form.id, revision_id, now, actor.id, state)
            self._store_version(form, template, record_id, number, 1, state, clean,
                                actor, None, now, today, "record.created")
        self._after_change(number, 1, actor, pdf, "new.after_commit")
        return self._view(number, 1, actor, own_input=True)

    def _follow_up(self, form: Form, follows: str, data: dict) -> dict:
        """The data of a new record following `follows`; one follow-up per record."""
        old = self.record_row(follows)
        if old["form_id"] != form.id:
            raise workflow.WorkflowError(f"{follows} is a {old['form_id']} record, not {form.id}")
        current = self.store.version(old["id"], old["current_version"])["data"]
        data = workflow.follow_up_data(form, form.workflow, follows, current, old["status"],
                                       data)
        already = self.store.followers(form.id, form.workflow.follow_up.field, follows)
        if already:
            raise workflow.WorkflowError(f"{follows} is already followed up by "
                                         f"{', '.join(already)}; amend or follow that one")
        return data

    def amend(self, number: str, changes: dict, reason: str, user: str | None = None,
              pdf: bool = True) -> dict:
        """Make version N+1 with the changed fields; the record's own form revision is used,
        whatever the workspace's schema and template say now."""
        actor = self.user(user)
        if not reason or not reason.strip():
            raise QrecError("an amendment needs a reason (--reason TEXT)")
        reason = _free_text(reason, "--reason")
        with self.store.write() as tx:
            record = self.record_row(number)
            form, template = self.frozen_form(record["form_revision_id"])
            if not form.workflow.is_open(record["status"]):
                raise workflow.WorkflowError(
                    f"{number} is {form.workflow.label(record['status'])}: a closed record is "
                    "not amended (a complaint whose outcome was rejected is followed up with "
                    "`qrec new complaint --follows`)")
            workflow.refuse_owned(form.workflow, changes, number)
            workflow.check_amender(form.workflow, actor, number)
            current = tx.version(record["id"], record["current_version"])
            masked = sorted(k for k, v in changes.items()
                            if v == MASK and form.field(k) is not None and form.field(k).sensitive)
            if masked:
                raise ValidationError([f"{k}: '{MASK}' is how the value is hidden from users "
                                       "without the privacy role; leave the field out to keep "
                                       "it" for k in masked])
            merged = {**current["data"], **changes}
            for field in form.fields:  # a changed factor recomputes its product, unless given
                if set(field.product_of) & set(changes) and field.id not in changes:
                    merged[field.id] = None
            today = clock.today()
            clean = validate_data(form, merged, today.isoformat())
            if clean == current["data"]:
                raise QrecError(f"{number}: nothing changed; version "
                                f"{record['current_version']} stays current")
            state, clean = workflow.after_amend(
                form.workflow, record["status"], current["data"], clean,
                lambda step, data: self._still_covers(number, form, step, data))
            version = record["current_version"] + 1
            moved = {"from": record["status"], "to": state} if state != record["status"] else {}
            self._store_version(form, template, record["id"], number, version, state, clean,
                                actor, reason.strip(), clock.utc_now(), today, "record.amended",
                                moved)
        self._after_change(number, version, actor, pdf, "amend.after_commit")
        # Not own input: the record holds values this actor may not have typed (or may see).
        return self._view(number, version, actor, own_input=False)

    def _still_covers(self, number: str, form: Form, step: workflow.Transition,
                      data: dict) -> bool:
        """Whether the user who last took `step` on the record may take it for `data`."""
        taken = [e for e in self.store.events(number) if e["action"] == "record.transition"
                 and e["detail"].get("transition") == step.id]
        if not taken:
            return False
        try:
            workflow.check_authority(step, data, self.config.user(taken[-1]["actor"]),
                                     self.config.limits, number)
        except (workflow.WorkflowError, WorkspaceError):
            return False
        return True

    # -- workflow ----------------------------------------------------------------------------

    def actions(self, number: str, user: str | None = None) -> list[dict]:
        """The transitions of the record's current state, and whether this user may take them
        (False with the reason otherwise)."""
        actor = self.user(user)
        record = self.record_row(number)
        form, _ = self.frozen_form(record["form_revision_id"])
        data = self.store.version(record["id"], record["current_version"])["data"]
        found = []
        for t in form.workflow.allowed(record["status"]):
            try:
                workflow.check_transition(form, form.workflow, t, record["status"], data, actor,
                                          self.config.limits, number)
                problem = None
            except workflow.WorkflowError as exc:
                problem = str(exc)
            found.append({"action": t.id, "label": str(t.label), "to": t.target,
                          "to_label": form.workflow.label(t.target), "problem": problem})
        exit_rule = form.workflow.amend_exit(record["status"])
        if not found and exit_rule:  # left by an amendment (resolving an objection)
            found.append({"action": "amend", "label": "修改 Amend (qrec amend NUMBER --reason)",
                          "to": exit_rule.target,
                          "to_label": form.workflow.label(exit_rule.target), "problem": None})
        return found

    def transition(self, number: str, action: str, changes: dict | None = None,
                   comment: str | None = None, user: str | None = None,
                   pdf: bool = True) -> dict:
        """Take a workflow step: a new version in the target state, with the fields given and
        those the step sets (who, when). Refused with what it needs when it is not allowed."""
        actor = self.user(user)
        comment = _free_text(comment, "--comment")
        with self.store.write() as tx:
            record = self.record_row(number)
            form, template = self.frozen_form(record["form_revision_id"])
            flow = form.workflow
            t = flow.transition(action)
            if t is None:
                allowed = ", ".join(x.id for x in flow.allowed(record["status"])) or "none"
                raise workflow.WorkflowError(
                    f"{number}: no step '{action}' in the {form.id} workflow"
                    f"{suggest(action, [x.id for x in flow.transitions])}; allowed now: "
                    f"{allowed}")
            if t.comment_required and not comment:
                raise workflow.WorkflowError(f"{number}: {t.id} needs a --comment (the reason)")
            workflow.refuse_owned(flow, changes or {}, number)
            workflow.check_inputs(flow, t, changes or {}, number, form.field_ids)
            current = tx.version(record["id"], record["current_version"])
            today = clock.today()
            data = validate_data(form, {**current["data"], **(changes or {})},
                                 today.isoformat())
            workflow.check_transition(form, flow, t, record["status"], data, actor,
                                      self.config.limits, number)
            data = validate_data(form, workflow.apply_sets(t, data, actor, today.isoformat()),
                                 today.isoformat())
            detail = {"transition": t.id, "from": record["status"], "to": t.target,
                      "comment": comment}
            if flow.state(t.target).closes:
                detail["closed"] = today.isoformat()
                due = workflow.due_date(flow, data)
                if due is not None:
                    start = dt.date.fromisoformat(data[flow.deadline.start])
                    detail.update(days_taken=(today - start).days, due=due.isoformat(),
                                  late=today > due)
            version = record["current_version"] + 1
            if t.produce:
                detail["produced"] = self._produce(form, t.produce, number, version, data,
                                                   actor, today.isoformat())
                detail["written"] = {detail["produced"]["docx"]: detail["produced"]["sha256"]}
            self._store_version(form, template, record["id"], number, version, t.target, data,
                                actor, comment, clock.utc_now(), today, "record.transition",
                                detail)
        self._after_change(number, version, actor, pdf, "transition.after_commit")
        if t.produce and pdf:
            self._produced_pdf(detail["produced"], number, version, actor)
        return self._view(number, version, actor, own_input=False)

    def _produce(self, form: Form, document, number: str, version: int, data: dict,
                 actor: User, today: str) -> dict:
        """Write the DOCX a step produces (inside the step's transaction) and return its name
        and hash for the step's event; its PDF follows the commit (_produced_pdf)."""
        from .render.letters import letter_docx

        rows = [(f"{document.label.zh} No.", f"{number}-{document.id}-v{version}"),
                ("致 To", document.to), ("记录编号 Record", f"{number}  {form.title}")]
        for fid in document.fields:
            field = form.field(fid)
            value = data.get(fid)
            shown = "; ".join(field.row_text(r) for r in value) if field.type == "table" \
                and value else field.display(value)
            rows.append((str(field.label), "***" if field.sensitive else shown))
        rows.append(("签发 Issued", f"{actor.name}  {today}"))
        content = letter_docx(org=self.config.organisation, org_en=self.config.organisation_en,
                              title=str(document.label), rows=rows,
                              body="特此通知，请确认并回复处理意见。Please confirm and tell us "
                                   "how you wish us to proceed.")
        relative = f"{form.id}/{number}/{number}_{document.id}_v{version}.docx"
        return {"document": document.id, "title": str(document.label), "docx": relative,
                "sha256": write_immutable(self.root / "records" / relative, content)}

    def _produced_pdf(self, produced: dict, number: str, version: int, actor: User) -> None:
        self.log_letter_pdf(self.root / "records" / produced["docx"], produced["title"],
                            f"qrec render {number} --version {version}", actor, number, version,
                            {"document": produced["document"]})

    def written(self, path: Path, digest: str) -> dict[str, str]:
        """{path relative to records/: SHA-256}: how an event lists a file it wrote outside
        a version's own DOCX and PDF (letters, lists), so disposal and verify find it."""
        return {path.relative_to(self.root / "records").as_posix(): digest}

    def log_letter_pdf(self, docx: Path, title: str, retry: str, actor: User,
                       number: str | None, version: int | None, detail: dict) -> str | None:
        """Make the PDF beside a letter's DOCX and log it as `file.pdf_made` (the event names
        the file under `written`); returns its SHA-256, or None with a notice. `number` is
        the record it belongs to, None for a list or report (their own number is the stem)."""
        digest = self.letter_pdf(docx, title, number or docx.stem, retry)
        if digest is not None:
            with self.store.write():
                self.store.add_event(clock.utc_now(), clock.today().isoformat(), actor.id,
                                     "file.pdf_made", number, version,
                                     {**detail, "files": {"pdf": digest},
                                      "written": self.written(docx.with_suffix(".pdf"),
                                                              digest)})
        return digest

    def letter_pdf(self, docx: Path, title: str, number: str, retry: str) -> str | None:
        """The PDF beside a letter's DOCX (a produced document, a reminder) and its SHA-256;
        None, with a notice, when LibreOffice cannot make it."""
        try:
            content = make_pdf(docx, None, {"Title": f"{title} {number}",
                                            "RecordNumber": number,
                                            "Organisation": self.config.organisation})
        except (PdfUnavailable, PdfFailed) as exc:
            self.notices.append(f"{docx.name}: no PDF made: {exc}; `{retry}` makes it later")
            return None
        digest = write_immutable(docx.with_suffix(".pdf"), content)
        fault_point("letter.after_pdf")
        return digest

    def sign(self, number: str, decision: str, comment: str | None = None,
             department: str | None = None, user: str | None = None, pdf: bool = True) -> dict:
        """Sign the record's sign-off row of the user's department (or `department`, which must
        be the user's own): a new version. An objection moves the record as the workflow says."""
        actor = self.user(user)
        comment = _free_text(comment, "--comment")
        with self.store.write() as tx:
            record = self.record_row(number)
            form, template = self.frozen_form(record["form_revision_id"])
            flow = form.workflow
            signoff = flow.signoff(record["status"])
            if signoff is None:
                raise workflow.WorkflowError(
                    f"{number}: nothing to sign in state {flow.label(record['status'])}")
            department = department or actor.department
            if department != actor.department:
                raise workflow.WorkflowError(
                    f"{number}: {actor.id} belongs to department {actor.department or 'none'} "
                    f"and cannot sign for {department}")
            today = clock.today()
            current = tx.version(record["id"], record["current_version"])
            try:
                decision = form.field(signoff.table).column(signoff.decision).parse(decision)
            except Invalid as exc:
                raise workflow.WorkflowError(f"{number}: decision: {exc}") from None
            if decision is None:
                raise workflow.WorkflowError(f"{number}: give a decision")
            data, objected = workflow.sign(form, signoff, current["data"], actor, department,
                                           decision, comment, today.isoformat())
            data = validate_data(form, data, today.isoformat())
            state = signoff.on_objection if objected and signoff.on_objection \
                else record["status"]
            version = record["current_version"] + 1
            self._store_version(form, template, record["id"], number, version, state, data,
                                actor, comment, clock.utc_now(), today, "record.signed",
                                {"signoff": signoff.id, "department": department,
                                 "decision": decision, "comment": comment,
                                 "from": record["status"], "to": state})
        self._after_change(number, version, actor, pdf, "sign.after_commit")
        return self._view(number, version, actor, own_input=False)

    def overdue(self) -> list[dict]:
        """Open records past their workflow's deadline, most overdue first: number, form,
        title, status, holder (department), due_date, days_overdue."""
        today = clock.today()
        found = []
        for form_id in self.form_ids():
            flow = self.form(form_id).workflow
            if flow.deadline is None:
                continue
            open_states = [s.id for s in flow.states if flow.is_open(s.id)]
            for row in self.store.current_versions(form_id, open_states):
                form, _ = self.frozen_form(row["form_revision_id"])
                due = workflow.due_date(form.workflow, row["data"])
                if due is None or today <= due:
                    continue
                holder = workflow.holder(form.workflow, row["status"], row["data"])
                found.append({
                    "number": row["number"], "form": form.id, "form_title": str(form.title),
                    "title": form.title_of(row["data"]), "status": row["status"],
                    "status_label": form.workflow.label(row["status"]), "holder": holder,
                    "holder_label": self.config.department(holder),
                    "due_date": due.isoformat(), "days_overdue": (today - due).days})
        return sorted(found, key=lambda case: (-case["days_overdue"], case["number"]))

    def remind(self, user: str | None = None) -> list[dict]:
        """A reminder 催办单 (DOCX and PDF) for every overdue case, addressed to the department
        holding it; one per case and day (an existing one is kept, not made again). Each is
        kept under records/reminders/<date>/ and logged with its SHA-256."""
        from .render.letters import reminder_docx

        actor = self.user(user)
        today = clock.today().isoformat()
        made = []
        for case in self.overdue():
            reminder_no = f"RM-{today.replace('-', '')}-{case['number']}"
            relative = f"reminders/{today}/{reminder_no}.docx"
            docx_path = self.root / "records" / relative
            item = {**case, "reminder": reminder_no, "docx": str(docx_path),
                    "pdf": str(docx_path.with_suffix(".pdf")), "made": False}
            # A reminder is made once an event logs it; a file no event names is what a
            # killed `qrec remind` left, and is written again.
            logged = self.store.written_files(case["number"])
            if relative in logged:
                made.append({**item, "pdf": self._reminder_pdf(docx_path, case, actor,
                                                                logged)})
                continue
            content = reminder_docx(
                org=self.config.organisation, org_en=self.config.organisation_en,
                reminder_no=reminder_no, case=case, to=case["holder_label"] or "质量部 Quality",
                issued_by=actor.name, issued_on=today)
            digests = {"docx": write_immutable(docx_path, content)}
            written = self.written(docx_path, digests["docx"])
            pdf = self.letter_pdf(docx_path, f"催办单 Reminder {reminder_no}", case["number"],
                                  "qrec remind")
            if pdf is None:
                item["pdf"] = None
            else:
                digests["pdf"] = pdf
                written.update(self.written(docx_path.with_suffix(".pdf"), pdf))
            with self.store.write():
                self.store.add_event(clock.utc_now(), today, actor.id, "reminder.made",
                                     case["number"], None,
                                     {"reminder": reminder_no, "to": case["holder"],
                                      "days_overdue": case["days_overdue"], "files": digests,
                                      "written": written})
            made.append({**item, "made": True})
        return made

    def _reminder_pdf(self, docx: Path, case: dict, actor: User,
                      logged: set[str]) -> str | None:
        """The PDF of an earlier reminder; made now when it failed (or was never logged)."""
        pdf = docx.with_suffix(".pdf")
        if pdf.relative_to(self.root / "records").as_posix() in logged:
            return str(pdf)
        digest = self.log_letter_pdf(docx, f"催办单 Reminder {docx.stem}", "qrec remind", actor,
                                     case["number"], None, {"reminder": docx.stem})
        return None if digest is None else str(pdf)

    def _after_change(self, number: str, version: int, actor: User, pdf: bool,
                      point: str) -> None:
        """What follows every committed version: the PDF; the index when the command ends."""
        fault_point(point)
        self.mark_index_behind()
        if pdf:
            self._try_pdf(number, version, actor.id)

    def show(self, number: str, version: int | None = None, user: str | None = None) -> dict:
        """A record as the JSON contract of DESIGN.md describes it. Sensitive values are masked
        for users without the `privacy` role; reading them is logged. A disposed record is
        its tombstone: {"number", "disposed": tombstone}."""
        actor = self.user(user)
        try:
            return self._view(number, version, actor, own_input=False)
        except Disposed as gone:
            if version is not None:
                raise
            return {"number": number, "disposed": gone.tombstone}

    def _view(self, number: str, version: int | None, actor: User, own_input: bool) -> dict:
        """The record dict; `own_input` is the echo of a new record, all typed by the actor:
        shown as typed and not logged as a read."""
        record = self.record_row(number)
        wanted = version or record["current_version"]
        row = self._version_row(record, wanted)
        form, _ = self.frozen_form(record["form_revision_id"])
        data = row["data"] if own_input else self._visible_data(form, row["data"], actor,
                                                                    number, wanted)
        files = self.store.files(record["id"], wanted)
        return {
            "number": number,
            "form": form.id,
            "form_title": str(form.title),
            "form_number": form.form_number,
            "form_revision": form.revision,
            "version": wanted,
            "current_version": record["current_version"],
            "status": row["status"],
            "status_label": form.workflow.label(row["status"]),
            "title": form.title_of(data),
            "created_at": record["created_at"],
            "version_created_at": row["created_at"],
            "effective_date": row["effective_date"],
            "author": row["author"],
            "reason": row["reason"],
            "data": data,
            "data_sha256": row["data_sha256"],
            "files": {kind: str(self.root / "records" / files[kind]["path"]) if kind in files
                      else None for kind in ("docx", "pdf")},
            "due_date": _iso(workflow.due_date(form.workflow, row["data"])),
            "holder": workflow.holder(form.workflow, row["status"], row["data"])
            if form.workflow.is_open(row["status"]) else None,
            "closed_on": record["closed_on"],
            "retention_from": record["retention_from"],
            "retention_until": record["retention_until"],
            "retention": retention.explain(form.retention, record["retention_from"])
            if record["retention_from"] else f"{form.retention.text} from "
            f"{form.retention.runs_from}",
            "hold": bool(record["on_hold"]),
        }

    def history(self, number: str) -> list[dict]:
        """Every version, oldest first, with who, when, why and which fields changed."""
        record = self.record_row(number)
        form, _ = self.frozen_form(record["form_revision_id"])
        versions = self.store.versions(record["id"])
        steps = {e["version"]: e for e in self.store.events(number)
                 if e["action"] in _VERSION_ACTIONS}
        story, previous = [], None
        for row in versions:
            changed = [c["field"] for c in _changes(form, previous, row["data"])] \
                if previous is not None else []
            event = steps.get(row["version"], {"action": "", "detail": {}})
            story.append({"version": row["version"], "created_at": row["created_at"],
                          "effective_date": row["effective_date"], "author": row["author"],
                          "status": row["status"],
                          "status_label": form.workflow.label(row["status"]),
                          "what": _what_happened(form, event), "reason": row["reason"],
                          "changed": sorted(set(changed))})
            previous = row["data"]
        return story

    def diff(self, number: str, a: int | None = None, b: int | None = None,
             user: str | None = None) -> dict:
        """Field by field (table cells included) from version a to b; by default the current
        version against the one before it."""
        actor = self.user(user)
        record = self.record_row(number)
        current = record["current_version"]
        b = b or current
        a = a or max(b - 1, 1)
        form, _ = self.frozen_form(record["form_revision_id"])
        rows = {side: self._version_row(record, side) for side in (a, b)}
        data = {side: self._visible_data(form, row["data"], actor, number, side)
                for side, row in rows.items()}
        return {"number": number, "from": a, "to": b,
                "changes": _changes(form, data[a], data[b])}

    # -- PDFs ------------------------------------------------------------------------------

    def missing_pdfs(self) -> list[dict]:
        """Versions that have no PDF yet: {number, version, status, status_label}."""
        forms = self._forms()
        return [{**row, "status_label": _status_label(forms, row["form_id"], row["status"])}
                for row in self.store.versions_lacking("pdf")]

    def render(self, number: str, version: int | None = None, user: str | None = None) -> dict:
        """Make the PDF of a version if it is missing; an existing file is never replaced.
        Returns {number, version, pdf, made}."""
        actor = self.user(user)
        record = self.record_row(number)
        version = version or record["current_version"]
        self._version_row(record, version)
        made = self._make_pdf(number, version, actor.id)
        for produced in self._produced_lacking_pdf(number, version):
            self._produced_pdf(produced, number, version, actor)
        path = self.store.files(record["id"], version)["pdf"]["path"]
        return {"number": number, "version": version, "made": made,
                "pdf": str(self.root / "records" / path)}

    def _produced_lacking_pdf(self, number: str, version: int) -> list[dict]:
        """The documents a version's step produced whose PDF no event logs (it failed then, or
        the command was killed before logging it)."""
        logged = self.store.written_files(number)
        return [e["detail"]["produced"] for e in self.store.events(number)
                if e["version"] == version and "produced" in e["detail"]
                and Path(e["detail"]["produced"]["docx"]).with_suffix(".pdf").as_posix()
                not in logged]

    def _try_pdf(self, number: str, version: int, actor: str) -> None:
        """The PDF of a just-stored version; a missing or failing LibreOffice becomes a notice
        (once per process), never a lost record."""
        if self._pdf_unavailable:
            return
        try:
            self._make_pdf(number, version, actor)
        except PdfUnavailable as exc:
            self._pdf_unavailable = True
            self.notices.append(f"no PDF made: {exc}. The DOCX is stored; make the PDFs later "
                                "with `qrec render --all`")
        except Exception as exc:  # the version is stored; its PDF can always be made later
            self.notices.append(f"{number} v{version}: no PDF made: {exc}; retry with "
                                f"`qrec render {number} --version {version}`")

    def render_all(self, user: str | None = None, progress=None) -> list[dict]:
        """Make every missing PDF, converting on up to two LibreOffice processes at once (the
        catalog is written from this thread only). `progress(item)` is called per version.
        Versions LibreOffice cannot convert are returned with an `error`."""
        from concurrent.futures import ThreadPoolExecutor

        actor = self.user(user)
        jobs = [job for job in (self._pdf_job(m["number"], m["version"])
                                for m in self.missing_pdfs()) if job]
        results = []
        with ConverterPool(workers=min(2, os.cpu_count() or 1)) as pool, \
                ThreadPoolExecutor(pool.workers) as threads:
            futures = [threads.submit(pool.make, job) for job in jobs]
            try:
                for job, future in zip(jobs, futures):
                    results.append(self._stored_result(job, future, actor.id))
                    if progress:
                        progress(results[-1])
            except BaseException:  # Ctrl-C or a failure: do not convert what is queued
                threads.shutdown(wait=False, cancel_futures=True)
                raise
        return results

    def _stored_result(self, job: dict, future, actor: str) -> dict:
        item = {"number": job["number"], "version": job["version"]}
        try:
            item["made"] = self._store_pdf(job, future.result(), actor)
            item["pdf"] = str(self.root / "records" / job["relative"])
        except PdfFailed as exc:
            item["error"] = str(exc)
        return item

    def _make_pdf(self, number: str, version: int, actor: str) -> bool:
        """Convert and finish outside the write lock (slow), then store. True when made."""
        job = self._pdf_job(number, version)
        if job is None:
            return False
        return self._store_pdf(job, make_pdf(job["docx"], job["mark"], job["metadata"]),
                               actor)

    def _pdf_job(self, number: str, version: int) -> dict | None:
        """What making a version's PDF needs; None when it has one already."""
        record = self.record_row(number)
        files = self.store.files(record["id"], version)
        if "pdf" in files:
            return None
        row = self.store.version(record["id"], version)
        form, _ = self.frozen_form(record["form_revision_id"])
        metadata = {
            "Title": f"{form.title.zh} {form.title.en} {number} v{version}",
            "Subject": f"{form.form_number} rev {form.revision}",
            "Author": self.config.organisation, "Creator": "qrecords",
            "RecordNumber": number, "Version": str(version), "FormNumber": form.form_number,
            "FormRevision": form.revision, "Organisation": self.config.organisation,
            "Status": row["status"], "DataSHA256": row["data_sha256"],
        }
        return {"number": number, "version": version, "record_id": record["id"],
                "mark": watermark_for(form.workflow.state(row["status"])), "metadata": metadata,
                "docx": self.root / "records" / files["docx"]["path"],
                "relative": files["docx"]["path"][:-len(".docx")] + ".pdf"}

    def _store_pdf(self, job: dict, content: bytes, actor: str) -> bool:
        """Store a made PDF under the write lock, unless another process stored one first."""
        with self.store.write():
            if "pdf" in self.store.files(job["record_id"], job["version"]):
                return False
            digest = write_immutable(self.root / "records" / job["relative"], content)
            fault_point("pdf.after_write")
            now = clock.utc_now()
            self.store.add_file(job["record_id"], job["version"], "pdf", job["relative"],
                                digest, len(content), now)
            self.store.add_event(now, clock.today().isoformat(), actor, "file.pdf_made",
                                 job["number"], job["version"], {"files": {"pdf": digest}})
        return True

    def form_of(self, number: str) -> Form:
        """The form revision a record was made with (not necessarily the workspace's now)."""
        return self.frozen_form(self.record_row(number)["form_revision_id"])[0]

    # -- search ------------------------------------------------------------------------------

    def index_source(self) -> CatalogSource:
        return CatalogSource(self.store, lambda revision_id: self.frozen_form(revision_id)[0])

    def sync_index(self) -> None:
        """Bring the search index up to date with the catalog: nothing to do costs one query.
        A missing or unreadable index is rebuilt, with a notice."""
        self._index_behind = False
        if self.index.is_current(self.store.latest_change_id()):
            return
        notice = self.index.sync(self.index_source())
        if notice:
            self.notices.append(notice)

    def _try_sync_index(self) -> None:
        """The index update that ends a command: the records are stored whatever happens
        here, so a failure is a notice, and the next command applies the changes."""
        try:
            self.sync_index()
        except Exception as exc:
            self.notices.append(f"the search index was not updated ({exc}); the next qrec "
                                "command will update it")

    def rebuild_index(self, progress=None) -> int:
        """Rebuild the index from the catalog; `progress(done, total)` per record."""
        return self.index.rebuild(self.index_source(), progress)

    def check_index(self) -> dict:
        """Every difference between catalog and index (see searching.compare_index)."""
        return searching.compare_index(self.index, self.store, self.index_source())

    def search(self, text: str, form: str | None = None, status_: str | None = None,
               customer: str | None = None, date_from: str | None = None,
               date_to: str | None = None, limit: int = 20, all_versions: bool = False,
               user: str | None = None) -> dict:
        """{"total", "hits": [{number, form, status, title, date, version, score, snippet}]},
        best first. Users with the privacy role also find records by a sensitive value (read
        from the catalog, never the index); such a search is logged."""
        actor = self.user(user)
        if len(text) > MAX_QUERY:
            raise QrecError(f"the query is longer than {MAX_QUERY} characters ({len(text)})")
        forms = self._forms()
        if form is not None and form not in forms:
            raise NotFound(f"no form '{form}'{suggest(form, forms)}; forms: "
                           f"{', '.join(forms)}")
        states = {s.id for f in forms.values() for s in f.workflow.states}
        if status_ is not None and status_ not in states:
            raise QrecError(f"--status: '{status_}' is not a status{suggest(status_, states)}; "
                            f"statuses: {', '.join(sorted(states))}")
        self.sync_index()
        fields = [f for each in forms.values() for f in each.fields]
        types = {}
        for f in fields:  # an id that is long text in any form is searched in the content
            if not f.sensitive and types.get(f.id) not in ("longtext", "table"):
                types[f.id] = f.type
        found = searching.run(self.index, text, types,
                              {f.id for f in fields if f.sensitive}, form=form, status=status_,
                              customer=customer, date_from=date_from, date_to=date_to,
                              limit=limit, all_versions=all_versions,
                              snippet_of=self._snippet_source,
                              forms=forms.values(), synonyms=self.config.synonyms)
        if "privacy" in actor.roles and searching.is_plain(text):
            numbers = self.store.sensitive_matches(self._sensitive_fields(), text)
            extra = searching.sensitive_hits(self.index, numbers, found, form=form,
                                             status=status_, customer=customer,
                                             date_from=date_from, date_to=date_to,
                                             limit=limit)
            if numbers:  # the catalog told this user which records hold the value: logged
                with self.store.write():
                    # The query is a sensitive value itself: the log keeps its hash, not it.
                    self.store.add_event(clock.utc_now(), clock.today().isoformat(), actor.id,
                                         "search.sensitive", None, None,
                                         {"query_sha256": sha256_bytes(text.encode()),
                                          "records": numbers})
            found["hits"] += extra
            found["total"] += len(extra)
        kept = self.store.retention_until([hit["number"] for hit in found["hits"]])
        for hit in found["hits"]:
            hit["status_label"] = _status_label(forms, hit["form"], hit["status"])
            hit["retention_until"] = kept.get(hit["number"])
        return found

    def _forms(self) -> dict[str, Form]:
        """The workspace's forms by id, each schema read once for the caller."""
        return {form_id: self.form(form_id) for form_id in self.form_ids()}

    def _snippet_source(self, number: str, version: int) -> tuple[Form, dict]:
        record = self.record_row(number)
        return (self.frozen_form(record["form_revision_id"])[0],
                self.store.version(record["id"], version)["data"])

    def _sensitive_fields(self) -> dict[int, list[str]]:
        fields = {}
        for revision_id in self.store.form_revision_ids():
            form = self.frozen_form(revision_id)[0]
            sensitive = [f.id for f in form.fields if f.sensitive]
            if sensitive:
                fields[revision_id] = sensitive
        return fields

    # -- internals ---------------------------------------------------------------------------

    def record_row(self, number: str) -> dict:
        record = self.store.record(number)
        if record is None:
            tombstone = self.store.tombstone(number)
            if tombstone is not None:
                raise Disposed(tombstone)
            hint = f" (did you mean '{number.upper()}'?)" if number != number.upper() and \
                self.store.record(number.upper()) else ""
            raise NotFound(f"no record '{number}'{hint}")
        return record

    def _version_row(self, record: dict, version: int) -> dict:
        row = self.store.version(record["id"], version)
        if row is None:
            raise NotFound(f"{record['number']} has no version {version} (versions 1 to "
                           f"{record['current_version']})")
        return row

    def _freeze_revision(self, form: Form, template: bytes) -> int:
        """The catalog's copy of this form revision; made by its first record. A revision that
        changed after records were made with it is refused: it needs a new revision label."""
        digest = sha256_bytes(form.source.encode() + b"\0" + template)
        frozen = self.store.form_revision(form.id, form.revision)
        if frozen is None:
            # Frozen for good by its first record: a template that does not fit the schema (a
            # foreign DOCX, a typo in a placeholder) would print records without their data.
            problems = _template_problems(form, template)
            if problems:
                where = f"templates/{form.template}: "
                shown = "; ".join(p.removeprefix(where) for p in problems[:3])
                more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
                raise FormError(f"{where}does not fit form {form.id} rev {form.revision}: "
                                f"{shown}{more} (`qrec forms check {form.id}` lists them)")
            return self.store.add_form_revision(form.id, form.revision, form.source, template,
                                                digest, clock.utc_now())
        if frozen["sha256"] != digest:
            raise FormError(
                f"form {form.id} rev {form.revision} was changed after records were made with "
                f"it (schemas/{form.id}.yaml or templates/{form.template}); a controlled form "
                "that changes needs a new revision: edit `revision:` in its schema")
        return frozen["id"]

    def frozen_form(self, revision_id: int) -> tuple[Form, bytes]:
        if revision_id not in self._frozen:
            row = self.store.form_revision_by_id(revision_id)
            where = f"catalog copy of {row['form_id']} rev {row['revision']}"
            self._frozen[revision_id] = parse_form(row["schema_text"], where), row["template"]
        return self._frozen[revision_id]

    def _store_version(self, form: Form, template: bytes, record_id: int, number: str,
                       version: int, state: str, data: dict, actor: User, reason: str | None,
                       now: str, day, action: str, detail: dict | None = None) -> None:
        today = day.isoformat()
        context = build_context(form, data, org=self.config.organisation,
                                org_en=self.config.organisation_en, number=number,
                                version=version, status=state, date=today)
        content = render_docx(template, context, f"templates/{form.template}")
        relative = f"{form.id}/{number}/{number}_v{version}.docx"
        digest = write_immutable(self.root / "records" / relative, content)
        fault_point("version.after_docx")
        data_sha = sha256_bytes(canonical_json(data).encode())
        self.store.add_version(record_id, version, state, data, data_sha, now, today,
                               actor.id, reason)
        self.store.add_file(record_id, version, "docx", relative, digest, len(content), now)
        self.store.add_event(now, today, actor.id, action, number, version,
                             {"reason": reason, "data_sha256": data_sha,
                              "files": {"docx": digest}, **(detail or {})})
        self._keep_retention(form, record_id, version, state, data, today)

    def _keep_retention(self, form: Form, record_id: int, version: int, state: str, data: dict,
                        today: str) -> None:
        """The record's title, closing date and retention dates, as of the version just
        stored (the record's own form revision decides the policy)."""
        record = self.store.record_by_id(record_id)
        closed_on = record["closed_on"]
        if closed_on is None and not form.workflow.is_open(state):
            closed_on = today
        created_on = today if version == 1 else self.store.version(record_id, 1)["effective_date"]
        start, until = retention.until(form.retention, closed_on, created_on, data)
        self.store.set_retention(record_id, form.title_of(data), closed_on, start, until)

    def _visible_data(self, form: Form, data: dict, actor: User, number: str,
                      version: int) -> dict:
        sensitive = [f.id for f in form.fields if f.sensitive and data.get(f.id) is not None]
        if not sensitive:
            return data
        if "privacy" in actor.roles:
            with self.store.write():
                self.store.add_event(clock.utc_now(), clock.today().isoformat(), actor.id,
                                     "record.sensitive_read", number, version,
                                     {"fields": sensitive})
            return data
        return {**data, **{fid: MASK for fid in sensitive}}


def _template_problems(form: Form, template: bytes) -> list[str]:
    """What in a form's template does not fit its schema: placeholders that are no field,
    attributes the context lacks, loops over what is no table, required fields left out.
    Raises FormError when the template is no readable DOCX."""
    where = f"templates/{form.template}"
    names, tables, attributes = template_names(template, where)
    problems = []
    fields = {f.id: f for f in form.fields}
    for name in sorted(names - RESERVED):
        if name not in fields:
            problems.append(f"{where}: placeholder '{name}' is not a field of {form.id}"
                            f"{suggest(name, fields)}")
    for base, attrs in sorted(attributes.items()):
        allowed = _CONTEXT_ATTRIBUTES.get(base, set())
        for attr in sorted(attrs - allowed):
            problems.append(f"{where}: '{base}.{attr}' is not available; {base} has "
                            f"{', '.join(sorted(allowed)) or 'no attributes'}")
    for table, columns in sorted(tables.items()):
        field = fields.get(table)
        if field is None or field.type != "table":
            problems.append(f"{where}: loop over '{table}', which is not a table field")
            continue
        known = {c.id for c in field.columns}
        for column in sorted(columns - known):
            problems.append(f"{where}: '{table}' has no column '{column}'"
                            f"{suggest(column, known)}")
    mentioned = names | set(tables)
    for field in form.fields:
        if field.required and field.id not in mentioned:
            problems.append(f"{where}: required field '{field.id}' does not appear")
    return problems


def _changes(form: Form, before: dict, after: dict) -> list[dict]:
    """Field-level changes; for tables, one entry per changed cell or added/removed row."""
    changes = []
    for field in form.fields:
        old, new = before.get(field.id), after.get(field.id)
        if old == new:
            continue
        if field.type != "table":
            changes.append({"field": field.id, "label": str(field.label),
                            "from": field.display(old) if old != MASK else MASK,
                            "to": field.display(new) if new != MASK else MASK})
            continue
        old, new = old or [], new or []
        for index in range(max(len(old), len(new))):
            place = f"{field.id}[{index + 1}]"
            if index >= len(old):
                changes.append({"field": field.id, "label": f"{field.label} {place}",
                                "from": None, "to": field.row_text(new[index])})
            elif index >= len(new):
                changes.append({"field": field.id, "label": f"{field.label} {place}",
                                "from": field.row_text(old[index]), "to": None})
            else:
                for column in field.columns:
                    a, b = old[index].get(column.id), new[index].get(column.id)
                    if a != b:
                        changes.append({"field": field.id,
                                        "label": f"{place}.{column.id} {column.label}",
                                        "from": column.display(a), "to": column.display(b)})
    return changes



_VERSION_ACTIONS = {"record.created", "record.amended", "record.transition", "record.signed"}


def _what_happened(form: Form, event: dict) -> str:
    """A version's step in words: 新建 created, 修改 amended, the workflow step, a sign-off."""
    detail = event["detail"]
    if event["action"] == "record.transition":
        step = form.workflow.transition(detail["transition"])
        return str(step.label) if step else detail["transition"]
    if event["action"] == "record.signed":
        signoff = form.workflow.signoff_named(detail["signoff"])
        column = form.field(signoff.table).column(signoff.decision) if signoff else None
        decision = column.display(detail["decision"]) if column else detail["decision"]
        return f"会签 Sign-off {detail['department']}: {decision}"
    return {"record.created": "新建 Created", "record.amended": "修改 Amended"}.get(
        event["action"], "")


def _status_label(forms: dict[str, Form], form_id: str, state: str) -> str:
    """A state's label from the workspace's form; a form no longer there gives the state id."""
    return forms[form_id].workflow.label(state) if form_id in forms else state


def _free_text(text: str | None, option: str) -> str | None:
    """A reason or comment, stripped (None when empty); one with a control character is
    refused: it is kept in the history and printed at terminals."""
    text = (text or "").strip() or None
    if text and control_character(text):
        raise QrecError(f"{option}: contains the control character {control_character(text)}")
    return text


def _iso(day) -> str | None:
    return day.isoformat() if day else None


__all__ = ["Workspace", "ValidationError"]
