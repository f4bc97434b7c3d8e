"""Event v2 from real-looking Auth0 records: the code table, reason, device, place, trimming, only contract fields."""

from __future__ import annotations

import json

import pytest
from support.auth0_log_samples import LONDON_IP, record

from desktop.tenantlog.body import Record
from desktop.tenantlog.codes import CODES, KINDS, OUTCOMES, describe_code
from desktop.tenantlog.enrich import GeoIpLocator, Place, describe_device
from desktop.tenantlog.normalize import EVENT_FIELDS, MAX_EVENT_BYTES, encode_event, normalize

RECEIVED = 1_764_900_000.0  # 2025-12-05T02:00:00Z
# Every code in the reference's §3 (auth0-log-streams.md), plus the filter categories' extras.
_CODES_TEXT = (
    "actions_execution_failed api_limit api_limit_warning cls cs du f fapi fc fce fco fcoa fcp fcph fcpn fcpr fcu "
    "fdeac fdeaz fdecc fdu feacft feccft fede federated_logout_failed fens feoobft feotpft fepft fepotpft fercft "
    "ferrt fertft fi flo fp fs fsa fu fv fvr gd_auth_failed gd_auth_rejected gd_auth_succeed gd_enrollment_complete "
    "gd_otp_rate_limit_exceed gd_recovery_failed gd_recovery_rate_limit_exceed gd_recovery_succeed gd_send_email "
    "gd_send_pn gd_send_pn_failure gd_send_sms gd_send_sms_failure gd_send_voice gd_send_voice_failure gd_start_auth "
    "gd_start_enroll gd_start_enroll_failed gd_unenroll gd_update_device_account gd_webauthn_challenge_failed "
    "limit_mu limit_sul limit_wc mfar mgmt_api_read oidc_backchannel_logout_failed oidc_backchannel_logout_succeeded "
    "passkey_challenge_failed pla pwd_leak reset_pwd_leak s sapi sce scoa scp scpn scpr scu sdu seacft seccft sede "
    "sens seoobft seotpft sepft sercft sertft si signup_pwd_leak slo srrt ss ssa sv svr ublkdu w "
    "coff con depnote fn sui"
)
SECTION_3_CODES = _CODES_TEXT.split()


def london(ip: str) -> Place:
    return Place("GB", "London") if ip == LONDON_IP else Place(None, None)


def v2(raw: dict, **kwargs: object) -> dict:
    return normalize(Record(raw["log_id"], raw["data"]), RECEIVED, locate=london, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("code", SECTION_3_CODES)
def test_every_documented_code_has_a_kind_an_outcome_and_a_label(code: str) -> None:
    info = CODES[code]
    assert info.kind in KINDS and info.outcome in OUTCOMES and info.label.strip()


def test_the_codes_support_staff_ask_about_most() -> None:
    assert describe_code("fp") == ("login_failed", "failure", "Failed login (wrong password)")
    assert describe_code("s")[:2] == ("login", "success")
    assert describe_code("ss")[:2] == ("signup", "success")
    assert describe_code("fs")[:2] == ("signup_failed", "failure")
    assert describe_code("limit_wc")[:2] == ("blocked", "failure")
    assert describe_code("pwd_leak")[:2] == ("blocked", "failure")
    assert describe_code("gd_auth_failed")[:2] == ("mfa", "failure")
    assert describe_code("scpr")[:2] == ("password", "success")
    assert describe_code("slo")[:2] == ("logout", "success")
    assert describe_code("w")[1] == "warning"


@pytest.mark.parametrize(("code", "outcome"), [("fbrandnew", "failure"), ("wnew", "warning"), ("znew", "success"),
                                               ("", "success")])
def test_unknown_codes_become_other_never_an_error(code: str, outcome: str) -> None:
    info = describe_code(code)
    assert info.kind == "other" and info.outcome == outcome and info.label


def test_a_failed_login_with_the_wrong_password() -> None:
    raw = record("fp")
    event = v2(raw)
    assert event == {
        "v": 2, "log_id": raw["log_id"], "code": "fp", "kind": "login_failed", "outcome": "failure",
        "label": "Failed login (wrong password)", "reason": "Wrong email or password.",
        "user_id": "auth0|61823277a44a21007221a59a", "user_name": "new@test.com", "email": "new@test.com",
        "client_id": "aI61p8I8aFjmYRliLWgvM9ev97kCCNDB", "client_name": "Default App",
        "connection": "Username-Password-Authentication", "strategy": "auth0", "ip": LONDON_IP, "country": "GB",
        "city": "London", "device": "Chrome 120 / macOS", "is_mobile": False, "logins_count": None,
        "at": "2021-11-03T08:25:14.466Z",
    }


def test_only_contract_fields_leave_never_details_sessions_or_fingerprints() -> None:
    text = encode_event(v2(record("fp"))).decode()
    assert set(json.loads(text)) <= set(EVENT_FIELDS)
    for private in ("session_id", "redirect_uri", "hKFo2SBYd2V4", "ja3", "t13d", "qs", "details", "hostname"):
        assert private not in text
    signup = encode_event(v2(record("ss"))).decode()
    assert "*****" not in signup and "password" not in signup


def test_a_login_carries_the_logins_count_and_an_auth0_parsed_user_agent() -> None:
    event = v2(record("s"))
    assert event["logins_count"] == 4
    assert event["device"] == "Chrome 120 / macOS"
    assert event["reason"] is None  # no description on a success


def test_reason_falls_back_to_the_error_message_and_fu_has_no_user_id() -> None:
    event = v2(record("gd_auth_failed"))
    assert event["reason"] == "Wrong or expired code."
    unknown_user = v2(record("fu"))
    assert unknown_user["user_id"] is None and unknown_user["user_name"] == "neo@gmail.com"
    assert unknown_user["device"] == "Mobile Safari 17 / iOS 17" and unknown_user["is_mobile"] is True


def test_a_user_name_that_is_not_an_email_is_not_the_email() -> None:
    event = v2(record("fp", user_name="+44 7700 900123"))
    assert event["user_name"] == "+44 7700 900123" and event["email"] is None


def test_missing_or_odd_fields_never_fail() -> None:
    event = normalize(Record("1", {}), RECEIVED)
    assert event["code"] == "" and event["kind"] == "other" and event["at"] == "2025-12-05T02:00:00.000Z"
    odd = normalize(Record("2", {"type": ["s"], "date": "yesterday", "ip": 7, "user_agent": None,
                                 "details": "x", "is_mobile": "yes", "user_name": {"a": 1}}), RECEIVED)
    assert odd["at"] == "2025-12-05T02:00:00.000Z" and odd["kind"] == "other" and odd["is_mobile"] is None
    assert odd["user_name"] is None and odd["ip"] == "7"


def test_dates_are_normalised_to_utc_milliseconds() -> None:
    assert v2(record("fp", date="2021-11-03T10:25:14+02:00"))["at"] == "2021-11-03T08:25:14.000Z"


def test_control_characters_become_spaces() -> None:
    event = v2(record("fp", description="line one\nline\u0000two\u202e"))
    assert event["reason"] == "line one line two"


@pytest.mark.parametrize("filler", ["x", "é", "\U0001F600", "\u0001"])
def test_huge_events_are_trimmed_under_budget_never_dropped(filler: str) -> None:
    big = filler * 200_000
    raw = record("fp", description=big, user_name=big, client_name=big, connection=big, user_agent=big,
                 type="f" + big, strategy=big, client_id=big, user_id=big)
    event = v2(raw)
    assert len(encode_event(event)) <= MAX_EVENT_BYTES
    assert event["log_id"] == raw["log_id"] and event["reason"]


def test_devices_from_raw_and_parsed_user_agents() -> None:
    assert describe_device("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                           "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91") == ("Edge 120 / Windows 10", False)
    assert describe_device("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                           "Chrome/120.0.0.0 Mobile Safari/537.36") == ("Chrome Mobile 120 / Android 14", True)
    assert describe_device("curl/8.4.0") == ("curl 8", None)
    assert describe_device("unknown") == (None, None)
    assert describe_device("Firefox 121.0 / Linux") == ("Firefox 121 / Linux", False)


def test_the_shipped_geoip_database_finds_country_and_city() -> None:
    locator = GeoIpLocator()
    try:
        assert locator(LONDON_IP) == ("GB", "London")
        assert locator("127.0.0.1") == (None, None)
        assert locator("10.1.2.3") == (None, None)
        assert locator("not an ip") == (None, None)
        assert locator("2001:4860:4860::8888").country is not None
    finally:
        locator.close()
