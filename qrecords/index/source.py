"""What the index reads of the catalog, behind the few methods SearchIndex needs."""

from __future__ import annotations

from ..errors import QrecError
from .documents import documents


BATCH = 500  # records read in one go: bounded statements and memory


class CatalogSource:
    def __init__(self, store, form_of_revision, reopen=None, owned: bool = False):
        """`store`: the catalog; `form_of_revision(revision id)`: its Form as frozen in the
        catalog; `reopen()`: the same source on a catalog connection of its own (None: this
        source cannot be reopened); `owned`: close() closes `store`."""
        self.store = store
        self.form_of_revision = form_of_revision
        self.reopen = reopen
        self._owned = owned

    def reopened(self) -> "CatalogSource":
        """The same source on a catalog connection of its own, for a process forked from
        this one (a connection must not be used across fork): close() it after. Raises
        QrecError when this source cannot be reopened."""
        if self.reopen is None:
            raise QrecError("this index source cannot open a catalog connection of its own")
        return self.reopen()

    def close(self) -> None:
        if self._owned:
            self.store.close()

    def latest_change(self) -> int:
        return self.store.latest_change_id()

    def changed_since(self, event_id: int) -> tuple[int, list[str]]:
        return self.store.changed_since(event_id)

    def all_numbers(self) -> list[str]:
        return self.store.record_numbers()

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
