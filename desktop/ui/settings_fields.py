"""The Settings form's inputs, by configuration key: each built, set and registered in one call, for every tab
(the dialog's own and the Alerts tab), and the form's text conventions (headers as ``Name: value; …``, an empty
line as "not set")."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from desktop.config_schema import ConfigError

__all__ = ["Fields", "format_headers", "optional", "parse_headers"]


class Fields(dict[str, QWidget]):
    """``key -> widget`` for what the form shows; the builders register what they build under ``key``."""

    def line(self, key: str, value: str | None, placeholder: str = "", *, secret: bool = False) -> QLineEdit:
        edit = QLineEdit(value or "")
        edit.setPlaceholderText(placeholder)
        if secret:
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        self[key] = edit
        return edit

    def number(self, key: str, value: float, low: float, high: float, suffix: str = "", *, special: str = "",
               decimals: int | None = None, tip: str = "") -> QSpinBox | QDoubleSpinBox:
        """Whole numbers when ``low`` is an int, else decimals; ``special`` is shown for ``low``."""
        box: QSpinBox | QDoubleSpinBox = QSpinBox() if isinstance(low, int) else QDoubleSpinBox()
        if decimals is not None and isinstance(box, QDoubleSpinBox):
            box.setDecimals(decimals)
        box.setRange(low, high)  # type: ignore[arg-type]
        box.setSuffix(suffix)
        box.setSpecialValueText(special)
        box.setValue(value)  # type: ignore[arg-type]
        box.setToolTip(tip)
        self[key] = box
        return box

    def choice(self, key: str, choices: tuple[tuple[str, str], ...], current: str) -> QComboBox:
        """A drop-down of ``(label, value)``, showing ``current`` (else the first)."""
        box = QComboBox()
        for label, value in choices:
            box.addItem(label, value)
        box.setCurrentIndex(max(0, box.findData(current)))
        self[key] = box
        return box

    def check(self, key: str, text: str, checked: bool) -> QCheckBox:
        box = QCheckBox(text)
        box.setChecked(checked)
        self[key] = box
        return box


def format_headers(headers: dict[str, str]) -> str:
    return "; ".join(f"{name}: {value}" for name, value in headers.items())


def parse_headers(text: str) -> dict[str, str]:
    """``Name: value; Other: value`` -> a dict; a part without a colon is a ConfigError naming it."""
    headers: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, colon, value = part.partition(":")
        if not colon or not name.strip():
            raise ConfigError(f"[authorization] headers: expected 'Name: value' separated by ';', got {part!r}")
        headers[name.strip()] = value.strip()
    return headers


def optional(text: str) -> str | None:
    """A line of the form as a setting: empty (or blank) is "not set"."""
    text = text.strip()
    return text or None
