"""DOCX rendering with docxtpl in a sandboxed, autoescaping Jinja environment, and inspection
of a template's placeholders for `qrec forms check`."""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
import zipfile

from markupsafe import escape  # XML-safe text (xml.sax.saxutils would import urllib)

from ..errors import FormError


_CACHED = 32  # template parts (body, headers, footers) kept compiled: a few forms' worth
_patched: dict[str, str] = {}
_environments: list = []


def _environment():
    """The one sandboxed, autoescaping Jinja environment of this process. It keeps the parts
    it compiled (by their source text): a batch of records of one form (an import, `render
    --all`) compiles each template part once instead of once per record."""
    if not _environments:
        from jinja2.sandbox import SandboxedEnvironment

        class Compiling(SandboxedEnvironment):
            def __init__(self):
                super().__init__(autoescape=True)
                self.compiled: dict[str, object] = {}

            def from_string(self, source, globals=None, template_class=None):
                if globals is not None or template_class is not None:
                    return super().from_string(source, globals, template_class)
                if source not in self.compiled:
                    if len(self.compiled) >= _CACHED:
                        self.compiled.pop(next(iter(self.compiled)))
                    self.compiled[source] = super().from_string(source)
                return self.compiled[source]

        _environments.append(Compiling())
    return _environments[0]


def _patch_once(patch):
    """docxtpl's patch_xml (a pure text clean-up of a part's XML), done once per source."""
    def patched(xml: str) -> str:
        if xml not in _patched:
            if len(_patched) >= _CACHED:
                _patched.pop(next(iter(_patched)))
            _patched[xml] = patch(xml)
        return _patched[xml]
    return patched


def _open(template: bytes, name: str):
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(io.BytesIO(template))
    try:
        tpl.init_docx()
    except Exception as exc:  # python-docx raises several kinds for a non-DOCX file
        raise FormError(f"{name}: not a readable DOCX file ({type(exc).__name__}: {exc})") \
            from None
    return tpl


def render_docx(template: bytes, context: dict, name: str = "template",
                properties: dict | None = None, language: str = "both") -> bytes:
    """Render a DOCX template to bytes. `properties` (see version_properties) replace the
    template's document properties: none of the template's (its author, dates, description)
    is kept. With `language` "zh" or "en", the template's text in the character style of the
    other language (LANGUAGE_STYLES) is left out. A broken template, or one that fails on these
    values (a filter, a missing row), raises FormError naming it and, where it can be found,
    the placeholder."""
    from jinja2 import TemplateSyntaxError

    tpl = _open(template, name)
    tpl.patch_xml = _patch_once(tpl.patch_xml)
    try:
        tpl.render(context, jinja_env=_environment(), autoescape=True)
    except TemplateSyntaxError as exc:
        raise FormError(f"{name}: template error: {exc}") from None
    except Exception as exc:  # failing on the values: a sum of texts, a row that is not there
        raise FormError(render_failure(tpl, context, name, exc)) from None
    if properties is not None:
        _set_core_properties(tpl.docx.core_properties, properties)
        _set_app_properties(tpl.docx, properties["author"])
    if language in LANGUAGE_STYLES:
        _drop_other_language(tpl.docx, language)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_LOOP = re.compile(r"\{%-?\s*(?:tr|tc|p|r)?\s*for\s+(\w+)\s+in\s+(\w+)")


def render_failure(tpl, context: dict, name: str, exc: Exception) -> str:
    """The one line saying why a template cannot be filled in with `context`: the placeholder
    that fails (each `{{ ... }}` of the template is tried alone, a loop's variable bound to
    the loop's first row) and the error, e.g. `templates/x.docx: 模板无法填入 cannot fill in
    {{ lines|sum(attribute="qty") }}: TypeError: unsupported operand ...`."""
    import html

    xml = _template_xml(tpl)
    loops = dict(_LOOP.findall(xml))
    error = f"{type(exc).__name__}: {exc}"
    for raw in dict.fromkeys(_EXPRESSION.findall(xml)):
        expression = html.unescape(re.sub(r"<[^>]*>", "", raw)).strip()
        if expression.startswith(("r ", "p ", "tr ", "tc ")):
            expression = expression.split(" ", 1)[1].strip()
        scope = dict(context)
        for variable, iterable in loops.items():
            rows = context.get(iterable)
            scope[variable] = rows[0] if isinstance(rows, list) and rows else {}
        try:
            _environment().from_string("{{ " + expression + " }}").render(scope)
        except Exception as failed:  # the one that fails alone names the placeholder
            error = f"{{{{ {expression} }}}}: {type(failed).__name__}: {failed}"
            break
    return (f"{name}: 模板无法填入 cannot fill in {error} (字段值是打印文本 every field is "
            "its printed text, a number too)")


def _template_xml(tpl) -> str:
    """The body, headers and footers of an opened template as docxtpl renders them."""
    from docx.oxml import parse_xml

    xml = tpl.patch_xml(tpl.get_xml())
    for rel in tpl.docx.part.rels.values():
        if rel.reltype in (tpl.HEADER_URI, tpl.FOOTER_URI) and rel.target_part.blob:
            xml += tpl.patch_xml(tpl.xml_to_string(parse_xml(rel.target_part.blob)))
    return xml


# The character styles a template marks one language's text with: a document language of
# "zh" leaves out what is in "qrec en", "en" what is in "qrec zh"; "both" prints everything.
# The built-in templates mark every label's Chinese and English (tools/build_templates.py);
# a document controller marks their own template's labels the same way in Word.
LANGUAGE_STYLES = {"zh": "qrec en", "en": "qrec zh"}  # language -> the style left out


def _drop_other_language(document, language: str) -> None:
    """Remove from the body, headers and footers of `document` (python-docx) every run in
    the style LANGUAGE_STYLES[language]; a paragraph that then starts with spaces loses them."""
    from docx.oxml.ns import qn

    wanted = LANGUAGE_STYLES[language]
    ids = {s.style_id for s in document.styles if s.name and s.name.lower() == wanted}
    if not ids:
        return
    parts = [document.part] + [rel.target_part for rel in document.part.rels.values()
                               if not rel.is_external and rel.reltype.endswith(
                                   ("/header", "/footer"))]
    for part in parts:
        runs = [r for r in part.element.iter(qn("w:r"))
                if r.find(f"{qn('w:rPr')}/{qn('w:rStyle')}") is not None
                and r.find(f"{qn('w:rPr')}/{qn('w:rStyle')}").get(qn("w:val")) in ids]
        paragraphs = {r.getparent() for r in runs}
        for run in runs:
            run.getparent().remove(run)
        for paragraph in paragraphs:
            first = next(paragraph.iter(qn("w:t")), None)
            if first is not None and first.text:
                first.text = first.text.lstrip()


def number_mark() -> str:
    """A stand-in for a record number, unique to this call (24 letters and digits, which no
    escaping changes and no typed value can foresee): render with it, then `stamp_number`
    puts the number in, so the slow rendering needs no number reserved yet."""
    return f"QRECNO{secrets.token_hex(9)}"


def stamp_number(content: bytes, mark: str, number: str) -> bytes:
    """The DOCX `content` with every occurrence of `mark` (number_mark) in its XML parts
    (body, headers, footers, document properties) replaced by `number`, XML-escaped. Parts
    without it are copied as they are; order, names, dates and compression are kept.
    Costs a few milliseconds (a re-zip), against a rendering's tens to hundreds. Raises
    ValueError when `mark` is nowhere in `content` (it was not rendered with it)."""
    needle, found = mark.encode(), False
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = source.read(info)
            if info.filename.endswith((".xml", ".rels")) and needle in part:
                found = True
                part = part.replace(needle, escape(number).encode())
            target.writestr(info, part)
    if not found:
        raise ValueError("the DOCX was not rendered with this number mark")
    return out.getvalue()


def version_properties(form, *, number: str, version: int, status: str, organisation: str,
                       user, at: str) -> dict:
    """The document properties (docProps/core.xml) of a record version's DOCX, as its PDF's
    metadata has them: title "客户投诉处理单 Customer Complaint Handling Form CC-2611-01 v2",
    subject "QR-9.1.2-01 rev A/0", author the organisation, last modified by the user who made
    the version ("李娜 (lina)"), created and modified at the version's time (`at`, UTC ISO
    8601 as the catalog keeps it), the record number as identifier and keyword, the version
    as revision, the state's label as status. Returns {python-docx property name: value}."""
    when = dt.datetime.fromisoformat(at.replace("Z", "+00:00")).replace(tzinfo=None)
    return {"title": f"{form.title} {number} v{version}",
            "subject": f"{form.form_number} rev {form.revision}",
            "author": organisation, "last_modified_by": f"{user.name} ({user.id})",
            "created": when, "modified": when, "identifier": number, "keywords": number,
            "category": form.form_number, "revision": version, "version": str(version),
            "content_status": form.workflow.label(status), "language": "zh-CN"}


def _set_core_properties(core, properties: dict) -> None:
    # Every element the template brought (description, last printed, ...) goes first, so
    # nothing of the template's own properties survives into a record.
    for child in list(core._element):
        core._element.remove(child)
    for key, value in properties.items():
        setattr(core, key, value)


_APP_XML = ("<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n<Properties xmlns="
            '"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>qrecords</Application><Company>{company}</Company></Properties>")


def _set_app_properties(document, organisation: str) -> None:
    """docProps/app.xml as qrecords made it: the application and the organisation, nothing
    of the template's (its editor, company, manager, word counts)."""
    for part in document.part.package.iter_parts():
        if str(part.partname) == "/docProps/app.xml":
            part._blob = _APP_XML.format(company=escape(organisation)).encode()


def template_names(template: bytes, name: str = "template") -> tuple[set, dict, dict]:
    """What a template refers to: (top-level names, {table: {columns}}, {base: {attributes}}).

    Walks the Jinja syntax tree of the body, headers and footers: `{{ x }}` gives a name,
    `{%tr for row in items %} {{ row.qty }}` gives items -> {qty}, `{{ record.number }}` gives
    record -> {number}."""
    from jinja2 import TemplateSyntaxError, nodes

    tpl = _open(template, name)
    xml = _template_xml(tpl)
    try:
        tree = _environment().parse(xml)
    except TemplateSyntaxError as exc:
        raise FormError(f"{name}: template syntax error: {exc.message}") from None

    names, tables, attributes = set(), {}, {}
    targets = set()  # loop variables, e.g. `row`
    for loop in tree.find_all(nodes.For):
        if isinstance(loop.target, nodes.Name) and isinstance(loop.iter, nodes.Name):
            targets.add(loop.target.name)
            columns = tables.setdefault(loop.iter.name, set())
            for statement in loop.body:
                columns.update(node.attr for node in statement.find_all(nodes.Getattr)
                               if isinstance(node.node, nodes.Name)
                               and node.node.name == loop.target.name)
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name not in targets:
            attributes.setdefault(node.node.name, set()).add(node.attr)
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name not in targets:
            names.add(node.name)
    return names, tables, attributes


DEMO_BANNER = "演示 DEMO 非正式记录 not a record"


def with_banner(content: bytes, text: str = DEMO_BANNER) -> bytes:
    """The DOCX `content` with `text` in bold red (the demo stamp: a copy of a demonstration
    record can never pass for a real one; the 作废 VOID mark of a void version). It opens the first line of the page footer, so it
    is on every page and no line is added (a one-page form stays one page); a document
    without a footer line gets it as a new first paragraph."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    document = Document(io.BytesIO(content))
    footer = [p for p in document.sections[0].footer.paragraphs if p.text.strip()] \
        if document.sections else []
    if footer:
        line = footer[0]
        run = line.add_run(text + "  ")
        first = line._p.find(qn("w:r"))
        if first is not None and first is not run._r:
            first.addprevious(run._r)  # move it to the start of the line
    else:
        first = document.paragraphs[0] if document.paragraphs else document.add_paragraph()
        run = first.insert_paragraph_before().add_run(text)
    run.font.bold = True
    run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "SimHei")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
