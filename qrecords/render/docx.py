"""DOCX rendering with docxtpl in a sandboxed, autoescaping Jinja environment, and inspection
of a template's placeholders for `qrec forms check`."""

from __future__ import annotations

import io

from ..errors import FormError


def _environment():
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(autoescape=True)


def _open(template: bytes, name: str):
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(io.BytesIO(template))
    try:
        tpl.init_docx()
    except Exception as exc:  # python-docx raises several kinds for a non-DOCX file
        raise FormError(f"{name}: not a readable DOCX file ({type(exc).__name__}: {exc})") \
            from None
    return tpl


def render_docx(template: bytes, context: dict, name: str = "template") -> bytes:
    """Render a DOCX template to bytes. A broken template raises FormError naming it."""
    from jinja2 import TemplateError

    tpl = _open(template, name)
    try:
        tpl.render(context, jinja_env=_environment(), autoescape=True)
    except TemplateError as exc:
        raise FormError(f"{name}: template error: {exc}") from None
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def template_names(template: bytes, name: str = "template") -> tuple[set, dict, dict]:
    """What a template refers to: (top-level names, {table: {columns}}, {base: {attributes}}).

    Walks the Jinja syntax tree of the body, headers and footers: `{{ x }}` gives a name,
    `{%tr for row in items %} {{ row.qty }}` gives items -> {qty}, `{{ record.number }}` gives
    record -> {number}."""
    from docx.oxml import parse_xml
    from jinja2 import TemplateSyntaxError, nodes

    tpl = _open(template, name)
    xml = tpl.patch_xml(tpl.get_xml())
    for rel in tpl.docx.part.rels.values():
        if rel.reltype in (tpl.HEADER_URI, tpl.FOOTER_URI) and rel.target_part.blob:
            xml += tpl.patch_xml(tpl.xml_to_string(parse_xml(rel.target_part.blob)))
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
