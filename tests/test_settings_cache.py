"""qrecords.yaml is parsed once per process for the same text (a portal worker reads it at
every request), and an edit is read at the next load; parsed YAML texts (qrecords.yaml, form
schemas) are kept across processes in the workspace's cache/yaml/, keyed by the text's
SHA-256, and a cache file that cannot be trusted is ignored and written again."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

from qrecords import settings
from qrecords.settings import CONFIG_NAME, load_settings
from tests.conftest import init_workspace


def test_the_same_text_is_parsed_once_and_an_edit_is_read_at_once(tmp_path, monkeypatch):
    init_workspace(tmp_path / "ws").close()
    root = tmp_path / "ws"
    shutil.rmtree(settings.yaml_cache(root))  # as before the first command
    parsed = []
    real = settings.safe_yaml
    monkeypatch.setattr(settings, "safe_yaml", lambda text: parsed.append(text) or real(text))
    settings._config_document.cache_clear()
    first, again = load_settings(root), load_settings(root)
    assert len(parsed) == 1 and first == again
    config = root / CONFIG_NAME
    text = config.read_text(encoding="utf-8")
    name = first.organisation
    config.write_text(text.replace(name, name + "（新）", 1), encoding="utf-8")
    assert load_settings(root).organisation == name + "（新）" and len(parsed) == 2
    config.write_text(text, encoding="utf-8")
    assert load_settings(root).organisation == name and len(parsed) == 2  # parsed before


def _new_process(monkeypatch):
    """Parses counted as a fresh process would make them (no in-process caches)."""
    from qrecords.domain import form_schema

    settings._config_document.cache_clear()
    monkeypatch.setattr(form_schema, "_parsed", {})
    parsed = []
    real = settings.safe_yaml
    monkeypatch.setattr(settings, "safe_yaml", lambda text: parsed.append(text) or real(text))
    return parsed


def test_a_later_process_reads_the_parsed_texts_from_the_cache(tmp_path, monkeypatch):
    _new_process(monkeypatch)  # a first process: parses and fills the cache
    ws = init_workspace(tmp_path / "ws")
    ws.forms.all_current()
    ws.close()
    root = tmp_path / "ws"
    text = (root / CONFIG_NAME).read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()
    kept = settings.yaml_cache(root) / f"{digest}.json"
    assert json.loads(kept.read_text(encoding="utf-8"))["sha256"] == digest
    parsed = _new_process(monkeypatch)
    ws = init_workspace.__globals__["open_workspace"](root)
    try:
        assert ws.forms.all_current() and ws.settings.organisation
    finally:
        ws.close()
    assert parsed == []  # qrecords.yaml and the three schemas: all from the cache


def test_a_damaged_or_foreign_cache_file_is_ignored_and_written_again(tmp_path, monkeypatch):
    init_workspace(tmp_path / "ws").close()
    root = tmp_path / "ws"
    text = (root / CONFIG_NAME).read_text(encoding="utf-8")
    kept = settings.yaml_cache(root) / f"{hashlib.sha256(text.encode()).hexdigest()}.json"
    good = load_settings(root)
    for damage in ('{"sha256": "', json.dumps({"sha256": "0" * 64, "document": {}}), None):
        if damage is None:  # another account could have written it: not trusted
            kept.write_text(json.dumps({"sha256": kept.stem, "document": {}}))
            os.chmod(kept, 0o666)
        else:
            kept.write_text(damage)
        parsed = _new_process(monkeypatch)
        assert load_settings(root) == good and len(parsed) == 1
        assert json.loads(kept.read_text(encoding="utf-8"))["sha256"] == kept.stem
        assert not kept.stat().st_mode & 0o022
