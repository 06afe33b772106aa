"""The Whoosh search index: analysis, documents, the index itself, queries and snippets."""
