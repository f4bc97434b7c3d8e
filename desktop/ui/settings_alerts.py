"""Settings' Alerts tab: one field per ``[alerts]`` key, made from :class:`~desktop.alerts.AlertsConfig` itself.

The keys, bounds and explanations live once, in :mod:`desktop.alerts.config`; this tab reads them from the
dataclass's fields (a switch is a check box, a count a spin box, seconds a decimal spin box), so a new rule's
key shows up here without anyone remembering to add it. The server reads these values (``login-feed server``);
the window only edits the file.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel, QWidget

from desktop.alerts.config import AlertsConfig
from desktop.ui.settings_fields import Fields

__all__ = ["alerts_config", "alerts_tab"]

_PREFIX = "alerts."


def alerts_tab(config: AlertsConfig, widgets: Fields) -> QWidget:
    """The tab; each field goes into ``widgets`` as ``alerts.<key>``."""
    page = QWidget()
    form = QFormLayout(page)
    note = QLabel("What login-feed server raises alerts on. Times are seconds of event time.")
    note.setWordWrap(True)
    form.addRow(note)
    for spec in fields(AlertsConfig):
        value = getattr(config, spec.name)
        doc = spec.metadata["doc"]
        key = _PREFIX + spec.name
        widget: QWidget
        if isinstance(spec.default, bool):
            widget = widgets.check(key, doc[:1].upper() + doc[1:], bool(value))
        elif isinstance(spec.default, int):
            widget = widgets.number(key, int(value), int(spec.metadata["low"]),
                                    int(min(spec.metadata["high"], 2**31 - 1)), tip=doc)
        else:
            widget = widgets.number(key, float(value), float(spec.metadata["low"]), float(spec.metadata["high"]),
                                    decimals=1, tip=doc)
        widget.setObjectName(key)
        form.addRow("" if isinstance(widget, QCheckBox) else spec.name.replace("_", " ").capitalize(), widget)
    return page


def alerts_config(widgets: dict[str, QWidget]) -> AlertsConfig:
    """The values in the tab, checked like the file's (:class:`~desktop.alerts.AlertsConfigError` names the key)."""
    values: dict[str, Any] = {}
    for spec in fields(AlertsConfig):
        widget = widgets[_PREFIX + spec.name]
        values[spec.name] = widget.isChecked() if isinstance(widget, QCheckBox) else widget.value()  # type: ignore[attr-defined]
    return AlertsConfig.from_mapping(values)
