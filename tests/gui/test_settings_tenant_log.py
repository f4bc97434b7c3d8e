"""Settings and the tenant log: local mode says plainly there is no server to ask; block notifications can be
turned off."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel

from desktop.config_schema import Config
from desktop.secrets import SecretStore
from desktop.ui.settings_dialog import SettingsDialog


def test_the_missed_events_note_follows_the_mode_and_block_notifications_are_a_choice(qtbot, tmp_path: Path) -> None:
    prefs = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    dialog = SettingsDialog(Config(path=tmp_path / "config.toml"), prefs, secrets=SecretStore(env={}))
    qtbot.addWidget(dialog)
    note = dialog.findChild(QLabel, "catchUpNote")
    assert note is not None and note.text().startswith("Local mode has no server to ask")
    mode = dialog.fields["authorization.mode"]
    assert isinstance(mode, QComboBox)
    mode.setCurrentIndex(mode.findData("remote"))
    assert "GET /events" in note.text()
    blocks = dialog.fields["app.notify_blocks"]
    assert isinstance(blocks, QCheckBox) and blocks.isChecked()
