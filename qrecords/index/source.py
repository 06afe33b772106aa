"""What the index reads of the catalog, behind the few methods SearchIndex needs."""

from __future__ import annotations

from .documents import documents


BATCH = 500  # records read in one go: bounded statements and memory


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
        return self.documents_of([number])[number]

    def documents_of(self, numbers: list[str]) -> dict[str, list[dict]]:
        """{number: its index documents} ([] for a record disposed of: its documents leave
        the index), read BATCH records at a time: two catalog statements a batch, not two a
        record (a machine catching up with a thousand records made elsewhere)."""
        found: dict[str, list[dict]] = {}
        for start in range(0, len(numbers), BATCH):
            chunk = numbers[start:start + BATCH]
            rows = self.store.records_with_versions(chunk)
            for number in chunk:
                if number not in rows:
                    found[number] = []
                    continue
                record, versions = rows[number]
                form = self.form_of_revision(record["form_revision_id"])
                found[number] = documents(form, number, versions, record["current_version"])
        return found
