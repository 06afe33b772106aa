"""qrecords.yaml is parsed once per process for the same text (a portal worker reads it at
every request), and an edit is read at the next load."""

from __future__ import annotations

from qrecords import settings
from qrecords.settings import CONFIG_NAME, load_settings
from tests.conftest import init_workspace


def test_the_same_text_is_parsed_once_and_an_edit_is_read_at_once(tmp_path, monkeypatch):
    init_workspace(tmp_path / "ws").close()
    root = tmp_path / "ws"
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
