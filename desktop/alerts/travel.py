"""Impossible travel: one account logging in from two places farther apart than anyone travels in between.

Per account only its last successful login is kept, packed into one ``bytes`` (time, point, uncertainty, an index
into a table of place names, the IP, and the ``log_id``: Auth0's 56 digits as a 24-byte number) under a 60-bit
hash of the account, so a million active accounts fit in about 220 MiB (see ``bench/alerts_detector.py``). The
hash is Python's own, salted per process: two of a million accounts colliding is a one-in-a-million chance per
process, and nobody can aim for it.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from desktop.alerts.geo import Spot, surely_apart_km
from desktop.alerts.windows import evict_idle

__all__ = ["Journey", "TravelWatch"]

_HEAD = struct.Struct("<dfffH")
_KEY_BITS = (1 << 60) - 1  # two 30-bit digits: the smallest int object that is still practically unique
MAX_PLACES = 65_535


class Journey(NamedTuple):
    """Two logins of one account that no traveller could have made."""

    before_at: float
    before_ip: str
    before_log_id: str
    before_place: tuple[str | None, str | None]  #: (country, city)
    km: float  #: at least this far apart
    hours: float


class TravelWatch:
    def __init__(self, speed_kmh: float, min_km: float, memory_seconds: float) -> None:
        self._speed, self._min_km, self._memory = speed_kmh, min_km, memory_seconds
        self._last: dict[int, bytes] = {}
        self._places: list[tuple[str | None, str | None]] = [(None, None)]
        self._place_ids: dict[tuple[str | None, str | None], int] = {(None, None): 0}

    def __len__(self) -> int:
        return len(self._last)

    def login(self, account: str, at: float, spot: Spot, place: tuple[str | None, str | None], *,
              ip: str, log_id: str) -> Journey | None:
        """Remember this login; the :class:`Journey` from the account's previous one if it was impossible."""
        key = hash(account) & _KEY_BITS
        packed = self._last.get(key)
        journey = None
        newer = True
        if packed is not None:
            before_at, lat, lon, radius, place_id = _HEAD.unpack_from(packed)
            newer = at >= before_at
            before_place = self._places[place_id]
            if place == before_place and place[1] is not None:
                pass  # the same city: GeoIP's jitter inside it is no journey
            else:
                km = surely_apart_km(Spot(lat, lon, radius), spot)
                hours = abs(at - before_at) / 3600
                if km >= self._min_km and km > self._speed * hours:
                    ip_before, _, id_before = packed[_HEAD.size:].partition(b"\x00")
                    journey = Journey(before_at, ip_before.decode(errors="replace"), _unpack_id(id_before),
                                      before_place, km, hours)
        if newer:
            if packed is not None:
                del self._last[key]  # to the end of the order, for eviction
            self._last[key] = (_HEAD.pack(at, spot.lat, spot.lon, spot.radius_km, self._place_id(place))
                               + ip.encode(errors="replace").replace(b"\x00", b"") + b"\x00" + _pack_id(log_id))
        return journey

    def sweep(self, high: float) -> None:
        cutoff = high - self._memory
        evict_idle(self._last, lambda packed: _HEAD.unpack_from(packed)[0] < cutoff)

    def _place_id(self, place: tuple[str | None, str | None]) -> int:
        found = self._place_ids.get(place)
        if found is None:
            if len(self._places) > MAX_PLACES:
                return 0
            found = self._place_ids[place] = len(self._places)
            self._places.append(place)
        return found


def _pack_id(log_id: str) -> bytes:
    """A decimal ``log_id`` as its digit count and a big-endian number; anything else as 0 and its text."""
    if log_id.isascii() and log_id.isdigit() and len(log_id) < 256:
        number = int(log_id)
        return bytes((len(log_id),)) + number.to_bytes(max(1, (number.bit_length() + 7) // 8), "big")
    return b"\x00" + log_id.encode(errors="replace")


def _unpack_id(packed: bytes) -> str:
    if not packed:
        return ""
    if packed[0] == 0:
        return packed[1:].decode(errors="replace")
    return str(int.from_bytes(packed[1:], "big")).zfill(packed[0])
