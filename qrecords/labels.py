"""Bilingual labels: Chinese first, English beside it, as on every form and document. The
English is optional (a Chinese-only form): whatever prints a label falls back to the Chinese."""

from __future__ import annotations

from typing import NamedTuple


class Label(NamedTuple):
    zh: str
    en: str = ""  # "" when the schema gives only the Chinese

    def __str__(self) -> str:
        return f"{self.zh} {self.en}" if self.en else self.zh

    def text(self, language: str = "both") -> str:
        """The label in a document language: "zh", "en" (the Chinese when there is no
        English) or "both" (as str())."""
        if language == "zh":
            return self.zh
        if language == "en":
            return self.en or self.zh
        return str(self)
