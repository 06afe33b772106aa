"""The package's layers, read from its imports: faces -> verbs -> unit of work -> domain and
backends -> base. A module that imports a layer above its own, or a face-only library below
the faces, fails this test (docs/DESIGN.md, "Layers")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "qrecords"

# Layer of each module or package, by dotted prefix (the longest prefix wins); higher numbers
# may import lower ones (and their own layer), never higher.
LAYERS = {
    "qrecords.errors": 0, "qrecords.labels": 0, "qrecords.textfmt": 0, "qrecords.text_rules": 0,
    "qrecords.processes": 0,
    "qrecords.settings": 1, "qrecords.settings_backends": 0, "qrecords.clock": 1,
    "qrecords.faults": 1,
    "qrecords.outputs": 1, "qrecords.inputs": 1,
    "qrecords.domain": 2,
    "qrecords.catalog": 3, "qrecords.files": 3, "qrecords.index": 3, "qrecords.render": 3,
    "qrecords.formlib": 4, "qrecords.workspace": 4,
    "qrecords.api": 5,
    "qrecords.cli": 6, "qrecords.web": 6,
    "qrecords": 6,  # the package's __init__
}
FACE_ONLY = {"click": "qrecords.cli", "flask": "qrecords.web", "gunicorn": "qrecords.web"}
# What the domain may import: no I/O (DESIGN.md: the domain is pure).
DOMAIN_IMPORTS_NOT = {"os", "sqlite3", "subprocess", "socket", "shutil", "pathlib", "whoosh",
                      "docx", "docxtpl", "pypdf", "openpyxl", "psycopg", "boto3"}


def layer(module: str) -> int:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(module imported, line) of every import in the file, relative ones resolved."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base != "qrecords":  # `from .. import clock` imports clock, not the package
                found.append((base, node.lineno))
            # `from . import x` imports module x
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names
                      if f"{base}.{alias.name}" in modules()]
    return found


MODULES = modules()


def test_the_walk_sees_the_package():
    assert {"qrecords.api.records", "qrecords.catalog.base", "qrecords.domain.workflow",
            "qrecords.cli.app", "qrecords.workspace"} <= set(MODULES)
    found = {target for target, _ in imports("qrecords.api.records",
                                             MODULES["qrecords.api.records"])}
    assert {"qrecords.clock", "qrecords.workspace", "qrecords.api.versions",
            "qrecords.domain.forms"} <= found


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_a_layer_above_its_own(name):
    own = layer(name)
    wrong = [f"line {line}: {target} (layer {layer(target)})"
             for target, line in imports(name, MODULES[name])
             if target.startswith("qrecords") and layer(target) > own]
    assert not wrong, f"{name} (layer {own}) imports upward: {wrong}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_face_libraries_only_in_their_face(name):
    wrong = [f"line {line}: {target}" for target, line in imports(name, MODULES[name])
             for library, face in FACE_ONLY.items()
             if target.split(".")[0] == library and not name.startswith(face)]
    assert not wrong, f"{name} imports a face's library: {wrong}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("qrecords.domain")))
def test_the_domain_does_no_io(name):
    wrong = [f"line {line}: {target}" for target, line in imports(name, MODULES[name])
             if target.split(".")[0] in DOMAIN_IMPORTS_NOT]
    assert not wrong, f"{name} imports I/O: {wrong}"


def test_only_the_catalog_speaks_sql():
    speaking = sorted(name for name, path in MODULES.items()
                      if any(target.split(".")[0] in ("sqlite3", "psycopg")
                             for target, _ in imports(name, path)))
    assert speaking == ["qrecords.catalog.postgres", "qrecords.catalog.sqlite"]


def test_only_the_s3_file_store_speaks_s3():
    speaking = sorted(name for name, path in MODULES.items()
                      if any(target.split(".")[0] in ("boto3", "botocore")
                             for target, _ in imports(name, path)))
    assert speaking in ([], ["qrecords.files.s3"])


def test_only_settings_reads_the_qrec_environment():
    reading = re.compile(r"""(environ(\.get)?[(\[]|getenv\()\s*["']QREC_""")
    readers = sorted(name for name, path in MODULES.items()
                     if reading.search(path.read_text(encoding="utf-8")))
    assert readers == ["qrecords.settings"]


def test_no_module_outside_the_file_store_names_the_records_folder():
    """Keys, not paths: only files/ and the unit of work know where records/ is."""
    allowed = {"qrecords.files.local", "qrecords.settings", "qrecords.settings_backends",
               "qrecords.workspace"}
    naming = sorted(name for name, path in MODULES.items()
                    if '/ "records"' in path.read_text(encoding="utf-8")
                    or "/ 'records'" in path.read_text(encoding="utf-8"))
    assert set(naming) <= allowed, naming
