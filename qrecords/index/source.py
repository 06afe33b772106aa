"""What the index reads of the catalog, behind the few methods SearchIndex needs."""

from __future__ import annotations

from .documents import documents


class CatalogSource:
    def __init__(self, store, form_of_revision):
        self.store = store
        self.form_of_revision = form_of_revision  # revision id -> Form, as frozen in the catalog

    def latest_change(self) -> int:
        return self.store.latest_change_id()

    def changed_since(self, event_id: int) -> tuple[int, list[str]]:
        return self.store.changed_since(event_id)

    def all_numbers(self) -> list[str]:
        return self.store.record_numbers()

    def documents(self, number: str) -> list[dict]:
        record = self.store.record(number)
        if record is None:  # disposed of: its documents leave the index
            return []
        form = self.form_of_revision(record["form_revision_id"])
        return documents(form, number, self.store.versions(record["id"]),
                         record["current_version"])
