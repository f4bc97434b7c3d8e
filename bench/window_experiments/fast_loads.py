"""Candidate fix E1: parse with orjson first; the slow exactness check only when the result holds a float.

orjson turns an integer beyond 64 bits into a float; a result without any float cannot have lost digits, so
today's regex (and, when it matches, the standard library) is only needed when a float is present.
NaN, lone surrogates and other input orjson refuses still go to the standard library, as today.
"""
import json

import orjson

from desktop.pusher import protocol


def _has_float(value):
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            return True
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
    return False


def _loads(raw):
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)
    if (type(value) in (dict, list) and _has_float(value)) or type(value) is float:
        pattern = protocol._LONG_DIGITS_BYTES if isinstance(raw, bytes | bytearray) else protocol._LONG_DIGITS_TEXT
        if pattern.search(raw) is not None:
            return json.loads(raw)
    return value


protocol._loads = _loads
