"""Whoosh, imported without three imports that a search never uses and a cold `qrec search`
paid for (issue 20). Every module of this package that imports Whoosh imports this module
first; `qrec show` and the other commands that never search import neither.

- whoosh.compat imports `urlretrieve` from urllib.request, which brings http.client, email,
  ssl and tempfile (about 120 M instructions); nothing in Whoosh calls it. It gets a function
  that imports urllib.request when called.
- whoosh.reading takes `cached_property` from the package of that name, whose module imports
  asyncio for its async variants (about 190 M instructions). It gets functools' own
  cached_property, which does the same for the one property Whoosh decorates.
- whoosh.query.terms imports `variations` from whoosh.lang.morph_en, which compiles a few
  hundred regular expressions of English word endings (about 8 ms) for the Variations query,
  which qrecords never makes. It gets a function that imports the real one when called.

The stand-ins are in sys.modules only while these Whoosh modules load: anyone importing
urllib.request, cached_property or whoosh.lang.morph_en afterwards gets the real ones.
"""


from __future__ import annotations

import functools
import sys
import types


def _urlretrieve(*args, **kwargs):
    from importlib import import_module

    return import_module("urllib.request").urlretrieve(*args, **kwargs)


def _variations(*args, **kwargs):
    from importlib import import_module

    return import_module("whoosh.lang.morph_en").variations(*args, **kwargs)


def _import_whoosh() -> None:
    if "whoosh.reading" in sys.modules:
        return
    stand_ins = {}
    if "urllib.request" not in sys.modules:
        stand_ins["urllib.request"] = types.ModuleType("urllib.request")
        stand_ins["urllib.request"].urlretrieve = _urlretrieve
    if "cached_property" not in sys.modules:
        stand_ins["cached_property"] = types.ModuleType("cached_property")
        stand_ins["cached_property"].cached_property = functools.cached_property
    if "whoosh.lang.morph_en" not in sys.modules:
        stand_ins["whoosh.lang.morph_en"] = types.ModuleType("whoosh.lang.morph_en")
        stand_ins["whoosh.lang.morph_en"].variations = _variations
    sys.modules.update(stand_ins)
    try:
        import whoosh.compat  # noqa: F401
        import whoosh.query  # noqa: F401
        import whoosh.reading  # noqa: F401
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


_import_whoosh()
