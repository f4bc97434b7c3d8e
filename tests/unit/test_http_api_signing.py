"""HTTP API request signing: the documented vector, the pusher SDK as reference, bad input."""

from __future__ import annotations

import hashlib
import hmac
import json

import pusher
import pytest
from pusher.http import POST, Request

from desktop.signing.http_api import body_md5, sign_request, string_to_sign

KEY = "278d425bdf160c739803"
SECRET = "7ad3773142a6692b25b8"
TIMESTAMP = 1353088179
# https://pusher.com/docs/channels/library_auth_reference/rest-api#worked-authentication-example
DOC_BODY = b'{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}'
DOC_MD5 = "ec365a775a4cd0599faeb73354201b6f"
DOC_SIGNATURE = "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"


def test_documented_vector() -> None:
    assert body_md5(DOC_BODY) == DOC_MD5
    query = sign_request("POST", "/apps/3/events", {}, DOC_BODY, key=KEY, secret=SECRET, timestamp=TIMESTAMP)
    assert query == {
        "auth_key": KEY,
        "auth_timestamp": "1353088179",
        "auth_version": "1.0",
        "body_md5": DOC_MD5,
        "auth_signature": DOC_SIGNATURE,
    }


def test_string_to_sign_of_documented_vector() -> None:
    params = {"auth_version": "1.0", "body_md5": DOC_MD5, "auth_timestamp": "1353088179", "auth_key": KEY}
    assert string_to_sign("post", "/apps/3/events", params) == (
        f"POST\n/apps/3/events\nauth_key={KEY}&auth_timestamp=1353088179&auth_version=1.0&body_md5={DOC_MD5}"
    )


def test_matches_sdk_for_a_trigger() -> None:
    client = pusher.Pusher(app_id="3", key=KEY, secret=SECRET)._pusher_client
    payload = {"name": "user-signedUp", "channels": ["private-login-feed"], "data": json.dumps({"v": 1})}
    request = Request(client, POST, "/apps/3/events", payload)
    timestamp = int(request.query_params["auth_timestamp"])
    ours = sign_request("POST", "/apps/3/events", {}, request.body, key=KEY, secret=SECRET, timestamp=timestamp)
    assert ours == request.query_params


def test_get_without_body_has_no_body_md5_and_signs_sorted_lowercase_params() -> None:
    query = sign_request(
        "get",
        "/apps/3/channels",
        {"info": "user_count", "Filter_By_Prefix": "presence-"},
        b"",
        key=KEY,
        secret=SECRET,
        timestamp=TIMESTAMP,
    )
    assert "body_md5" not in query
    assert "filter_by_prefix" in query
    expected = (
        "GET\n/apps/3/channels\n"
        f"auth_key={KEY}&auth_timestamp={TIMESTAMP}&auth_version=1.0&filter_by_prefix=presence-&info=user_count"
    )
    assert query["auth_signature"] == hmac.new(SECRET.encode(), expected.encode(), hashlib.sha256).hexdigest()


def test_integer_params_are_sent_as_text() -> None:
    query = sign_request("GET", "/apps/3/channels", {"limit": 5}, b"", key=KEY, secret=SECRET, timestamp=1)
    assert query["limit"] == "5"


@pytest.mark.parametrize("name", ["auth_signature", "AUTH_KEY", "body_md5", "auth_timestamp", "auth_version"])
def test_auth_params_cannot_be_smuggled_in(name: str) -> None:
    with pytest.raises(ValueError, match="set by sign_request"):
        sign_request("GET", "/apps/3/channels", {name: "x"}, b"", key=KEY, secret=SECRET, timestamp=1)


def test_case_insensitive_duplicates_are_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        sign_request("GET", "/p", {"info": "a", "INFO": "b"}, b"", key=KEY, secret=SECRET, timestamp=1)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"path": "apps/3/events"}, ValueError),
        ({"key": ""}, ValueError),
        ({"secret": ""}, ValueError),
        ({"timestamp": True}, TypeError),
        ({"timestamp": 1.5}, TypeError),
        ({"body": "text"}, TypeError),
        ({"params": {"info": ["a"]}}, TypeError),
        ({"params": {"flag": False}}, TypeError),
    ],
)
def test_bad_input(kwargs: dict[str, object], error: type[Exception]) -> None:
    args: dict[str, object] = {
        "method": "POST",
        "path": "/apps/3/events",
        "params": {},
        "body": DOC_BODY,
        "key": KEY,
        "secret": SECRET,
        "timestamp": TIMESTAMP,
    } | kwargs
    with pytest.raises(error) as excinfo:
        sign_request(**args)  # type: ignore[arg-type]
    assert SECRET not in str(excinfo.value)
