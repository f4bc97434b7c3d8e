"""Settings' Alerts tab: one field per ``[alerts]`` key, made from :class:`~desktop.alerts.AlertsConfig` itself.

The keys, bounds and explanations live once, in :mod:`desktop.alerts.config`; this tab reads them from the
dataclass's fields (a switch is a check box, a count a spin box, seconds a decimal spin box), so a new rule's
key shows up here without anyone remembering to add it. The server reads these values (``login-feed server``);
the window only edits the file.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QWidget

from desktop.alerts.config import AlertsConfig

__all__ = ["alerts_config", "alerts_tab"]

_PREFIX = "alerts."


def alerts_tab(config: AlertsConfig, widgets: dict[str, QWidget]) -> QWidget:
    """The tab; each field goes into ``widgets`` as ``alerts.<key>``."""
    page = QWidget()
    form = QFormLayout(page)
    note = QLabel("What login-feed server raises alerts on. Times are seconds of event time.")
    note.setWordWrap(True)
    form.addRow(note)
    for spec in fields(AlertsConfig):
        value = getattr(config, spec.name)
        doc = spec.metadata["doc"]
        widget: QWidget
        if isinstance(spec.default, bool):
            box = QCheckBox(doc[:1].upper() + doc[1:])
            box.setChecked(bool(value))
            widget = box
        elif isinstance(spec.default, int):
            count = QSpinBox()
            count.setRange(int(spec.metadata["low"]), int(min(spec.metadata["high"], 2**31 - 1)))
            count.setValue(int(value))
            count.setToolTip(doc)
            widget = count
        else:
            number = QDoubleSpinBox()
            number.setDecimals(1)
            number.setRange(float(spec.metadata["low"]), float(spec.metadata["high"]))
            number.setValue(float(value))
            number.setToolTip(doc)
            widget = number
        widget.setObjectName(_PREFIX + spec.name)
        widgets[_PREFIX + spec.name] = widget
        form.addRow("" if isinstance(widget, QCheckBox) else spec.name.replace("_", " ").capitalize(), widget)
    return page


def alerts_config(widgets: dict[str, QWidget]) -> AlertsConfig:
    """The values in the tab, checked like the file's (:class:`~desktop.alerts.AlertsConfigError` names the key)."""
    values: dict[str, Any] = {}
    for spec in fields(AlertsConfig):
        widget = widgets[_PREFIX + spec.name]
        values[spec.name] = widget.isChecked() if isinstance(widget, QCheckBox) else widget.value()  # type: ignore[attr-defined]
    return AlertsConfig.from_mapping(values)
