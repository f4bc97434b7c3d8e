"""Where a login came from, as a point with an uncertainty, and how far apart two such points surely are.

The server's GeoIP step puts only ``country`` and ``city`` on an event (the contract's fields). If it also hands
the detector ``lat``/``lon`` (the same DB-IP record has them), those are used with a city-level uncertainty of
:data:`COORDINATE_RADIUS_KM`; otherwise the country's point and spread from :mod:`desktop.alerts.countries`.
Distances subtract both uncertainties (:func:`surely_apart_km`), so a login in Detroit and one in Windsor are not
"1,900 km apart" because the USA's and Canada's centres are: impossible travel is only claimed when it is certain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = ["COORDINATE_RADIUS_KM", "Spot", "haversine_km", "spot_of", "surely_apart_km"]

EARTH_RADIUS_KM = 6371.0088
COORDINATE_RADIUS_KM = 50.0


class Spot(NamedTuple):
    lat: float
    lon: float
    radius_km: float  #: how far from (lat, lon) the login may really have been


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def surely_apart_km(a: Spot, b: Spot) -> float:
    """The distance the two logins were at least apart (0 when their uncertainties overlap)."""
    return max(0.0, haversine_km(a.lat, a.lon, b.lat, b.lon) - a.radius_km - b.radius_km)


def spot_of(event: Mapping[str, Any]) -> Spot | None:
    """The event's ``lat``/``lon`` if valid, else its ``country``'s spot, else None (nothing to compare)."""
    lat, lon = event.get("lat"), event.get("lon")
    if _number(lat) and _number(lon) and -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0:
        return Spot(float(lat), float(lon), COORDINATE_RADIUS_KM)
    country = event.get("country")
    if isinstance(country, str):
        from desktop.alerts.countries import COUNTRIES  # noqa: PLC0415 - 250 rows, loaded on first use

        found = COUNTRIES.get(country.upper())
        if found is not None:
            return Spot(*found)
    return None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
