"""The Whoosh search index: analysis, documents, the index itself, queries and snippets.

Whoosh is imported through whoosh_first.py (every module here that imports Whoosh imports
it first), and only by the modules that search or write the index: a command that does
neither (`qrec show`) loads no Whoosh at all.
"""
