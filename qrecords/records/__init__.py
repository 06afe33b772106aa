"""The store: catalog (SQLite), numbering, immutable version files. Nothing outside speaks SQL."""
