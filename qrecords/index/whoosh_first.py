"""Whoosh, imported without the imports that a search never uses and a cold `qrec search`
paid for (issue 20). Every module of this package that imports Whoosh imports this module
first; `qrec show` and the other commands that never search import neither.

- whoosh.compat imports `urlretrieve` from urllib.request, which brings http.client, email,
  ssl and tempfile (about 120 M instructions); nothing in Whoosh calls it.
- whoosh.reading takes `cached_property` from the package of that name, whose module imports
  asyncio for its async variants (about 190 M instructions). It gets functools' own
  cached_property, which does the same for the one property Whoosh decorates.
- whoosh.query.terms imports `variations` from whoosh.lang.morph_en, which compiles a few
  hundred regular expressions of English word endings (about 8 ms) for the Variations query,
  which qrecords never makes.
- whoosh.analysis.morph imports the double metaphone (about 2 ms) for its sound-alike filter,
  which qrecords' analysis (analysis.py) does not use.

Except cached_property, each of these names gets a function that imports the real module
when it is called (_LATER). The stand-ins are in sys.modules only while these Whoosh modules
load: anyone importing those modules afterwards gets the real ones.
"""


from __future__ import annotations

import functools
import sys
import types
from importlib import import_module

# module -> the names Whoosh takes from it, each imported from the real module when called
_LATER = {"urllib.request": ("urlretrieve",), "whoosh.lang.morph_en": ("variations",),
          "whoosh.lang.dmetaphone": ("double_metaphone",)}


def _later(module: str, name: str):
    def call(*args, **kwargs):
        return getattr(import_module(module), name)(*args, **kwargs)
    return call


def _import_whoosh() -> None:
    if "whoosh.reading" in sys.modules:
        return
    stand_ins = {}
    for module, names in _LATER.items():
        if module not in sys.modules:
            stand_ins[module] = types.ModuleType(module)
            for name in names:
                setattr(stand_ins[module], name, _later(module, name))
    if "cached_property" not in sys.modules:
        stand_ins["cached_property"] = types.ModuleType("cached_property")
        stand_ins["cached_property"].cached_property = functools.cached_property
    sys.modules.update(stand_ins)
    try:
        import whoosh.analysis  # noqa: F401
        import whoosh.compat  # noqa: F401
        import whoosh.query  # noqa: F401
        import whoosh.reading  # noqa: F401
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


_import_whoosh()
