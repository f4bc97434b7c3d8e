"""Alerts (issue 15): a pure detector that turns tenant-log events (v2) into alert events (kind ``alert``).

The server runs :class:`AlertDetector` over its stored events and stores, publishes and serves the alerts it
returns like any other event; :class:`AlertsConfig` is the ``[alerts]`` section.
"""

from desktop.alerts.config import AlertsConfig, AlertsConfigError
from desktop.alerts.detector import AlertDetector
from desktop.alerts.episodes import RULES, alert_id

__all__ = ["RULES", "AlertDetector", "AlertsConfig", "AlertsConfigError", "alert_id"]
