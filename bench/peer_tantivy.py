"""Peer of the search benchmark: Tantivy (the `tantivy` package) set up as paperless-ngx sets
up its Tantivy index (src/documents/search/ of paperless-ngx: _tokenizer.py, _schema.py,
_query.py):

- the text goes to `content` through paperless's "paperless_text" analyzer: the simple
  tokenizer (runs of letters and digits), tokens over 65 bytes removed, lowercase, ASCII
  folding and a Snowball stemmer for the search language (here English, the language of the
  corpus's Latin text);
- its CJK runs also go to `bigram_content` through "bigram_analyzer": character bigrams,
  lowercase; not stored;
- a query is the user's text parsed by Tantivy's query parser over `content` (OR by default),
  and, when it holds CJK characters, OR its CJK runs parsed over `bigram_content` (a phrase
  of bigrams: a substring of two characters or more);
- the first page of hits gets a snippet of `content` from Tantivy's SnippetGenerator.

Run as a script it is the cold-process peer of `qrec search`:
    python bench/peer_tantivy.py INDEX_DIR QUERY
prints the total and the first page of hits (number and snippet), one per line.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tantivy

PAGE = 20  # hits shown, as `qrec search` shows by default
LANGUAGE = "English"
CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("number", stored=True, tokenizer_name="raw")
    builder.add_text_field("content", stored=True, tokenizer_name="paperless_text")
    builder.add_text_field("bigram_content", stored=False, tokenizer_name="bigram_analyzer")
    return builder.build()


def _register(index: tantivy.Index) -> None:
    """paperless's analyzers; Tantivy needs them registered at every open."""
    text = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(65))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .filter(tantivy.Filter.stemmer(LANGUAGE))
            .build())
    bigrams = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.ngram(min_gram=2, max_gram=2,
                                                                   prefix_only=False))
               .filter(tantivy.Filter.lowercase())
               .build())
    index.register_tokenizer("paperless_text", text)
    index.register_tokenizer("bigram_analyzer", bigrams)


def build(path: Path, docs) -> None:
    """Write the index of `docs` (iterable of (number, content text)) to the new folder
    `path`, with one writer and one commit, as paperless's reindex does. Raises ValueError."""
    path.mkdir(parents=True)
    index = tantivy.Index(_schema(), path=str(path))
    _register(index)
    writer = index.writer()
    for number, content in docs:
        doc = tantivy.Document()
        doc.add_text("number", number)
        doc.add_text("content", content)
        doc.add_text("bigram_content", " ".join(CJK.findall(content)))
        writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()


class Searcher:
    """Searches of one index folder."""

    def __init__(self, path: Path):
        self.index = tantivy.Index.open(str(path))
        _register(self.index)
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    def query(self, text: str):
        """paperless's query: the parsed text over `content`, OR its CJK runs over the
        bigrams; None when Tantivy's parser rejects the text (paperless answers 400)."""
        try:
            exact = self.index.parse_query(text, ["content"])
        except ValueError:
            return None
        runs = " ".join(CJK.findall(text))
        if not runs:
            return exact
        bigrams = self.index.parse_query(runs, ["bigram_content"])
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, exact),
                                            (tantivy.Occur.Should, bigrams)])

    def page(self, text: str, limit: int = PAGE) -> tuple[int, list[tuple[str, str]]]:
        """(total matches, [(number, snippet)] of the best `limit` by score)."""
        query = self.query(text)
        if query is None:
            return 0, []
        found = self.searcher.search(query, limit=limit)
        snippets = tantivy.SnippetGenerator.create(self.searcher, query, self.schema,
                                                   "content")
        hits = []
        for _score, address in found.hits:
            doc = self.searcher.doc(address)
            hits.append((doc["number"][0], snippets.snippet_from_doc(doc).to_html()))
        return found.count, hits

    def numbers(self, text: str) -> set[str]:
        """Every matching record's number."""
        query = self.query(text)
        if query is None:
            return set()
        found = self.searcher.search(query, limit=max(1, self.searcher.num_docs), count=False)
        return {self.searcher.doc(address)["number"][0] for _score, address in found.hits}


def main(argv: list[str]) -> int:
    total, hits = Searcher(Path(argv[0])).page(argv[1])
    print(total)
    for number, snippet in hits:
        print(f"{number}  {snippet}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
