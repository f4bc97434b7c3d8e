"""Auth0 tenant-log event codes -> the ``kind``, ``outcome`` and human ``label`` of event v2.

The table covers every code of Auth0's log event type list that a support person may meet (the reference's §3 and
the log-stream filter categories). A code missing here is not an error: it becomes kind ``other``, with the outcome
read from Auth0's own naming habit (``f...`` failure, ``w...`` warning, anything else success) and a label that
names the code, so a new Auth0 event type still shows up in the feed instead of being lost.

Kinds say what the event is about, for the window's filters and counters: ``signup``, ``login``, ``login_failed``,
``signup_failed``, ``blocked`` (attack protection: brute force, breached passwords, rate limits), ``mfa``,
``password``, ``logout``, ``account`` (email, phone, username, verification, deletion, invitations) and ``other``
(token exchanges, admin and system notices). ``outcome`` is ``success``, ``failure`` or ``warning``.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

__all__ = ["CODES", "KINDS", "OUTCOMES", "CodeInfo", "describe_code"]

Kind = Literal["signup", "login", "login_failed", "signup_failed", "blocked", "mfa", "password", "logout", "account",
               "other"]
Outcome = Literal["success", "failure", "warning"]
KINDS: tuple[str, ...] = ("signup", "login", "login_failed", "signup_failed", "blocked", "mfa", "password", "logout",
                          "account", "other")
OUTCOMES: tuple[str, ...] = ("success", "failure", "warning")


class CodeInfo(NamedTuple):
    kind: Kind
    outcome: Outcome
    label: str


_S, _F, _W = "success", "failure", "warning"


def _table(kind: Kind, rows: dict[str, tuple[Outcome, str]]) -> dict[str, CodeInfo]:
    return {code: CodeInfo(kind, outcome, label) for code, (outcome, label) in rows.items()}


CODES: dict[str, CodeInfo] = {
    **_table("login", {
        "s": (_S, "Logged in"),
        "scoa": (_S, "Logged in (cross-origin)"),
        "sens": (_S, "Logged in (native social)"),
        "ssa": (_S, "Silent authentication"),
        "w": (_W, "Warning during login"),
    }),
    **_table("login_failed", {
        "f": (_F, "Failed login"),
        "fp": (_F, "Failed login (wrong password)"),
        "fu": (_F, "Failed login (unknown user)"),
        "fc": (_F, "Failed login (connector)"),
        "fco": (_F, "Failed login (origin not allowed)"),
        "fcoa": (_F, "Failed cross-origin login"),
        "fens": (_F, "Failed native social login"),
        "fsa": (_F, "Failed silent authentication"),
        "fdeaz": (_F, "Failed device authorization request"),
        "fdeac": (_F, "Failed device activation"),
        "fdecc": (_F, "Device confirmation cancelled"),
    }),
    **_table("signup", {"ss": (_S, "Signed up")}),
    **_table("signup_failed", {"fs": (_F, "Failed signup")}),
    **_table("blocked", {
        "limit_wc": (_F, "Blocked account (too many failed logins)"),
        "limit_mu": (_F, "Blocked IP address (too many attempts)"),
        "limit_sul": (_F, "Blocked account (too many logins from one IP)"),
        "ublkdu": (_S, "Login block released"),
        "pwd_leak": (_F, "Breached password on login"),
        "signup_pwd_leak": (_F, "Breached password on signup"),
        "reset_pwd_leak": (_F, "Breached password on reset"),
        "pla": (_W, "Pre-login assessment (bot detection)"),
    }),
    **_table("mfa", {
        "mfar": (_W, "MFA required"),
        "gd_start_auth": (_S, "MFA started"),
        "gd_auth_succeed": (_S, "MFA passed"),
        "gd_auth_failed": (_F, "MFA failed"),
        "gd_auth_rejected": (_F, "MFA push rejected"),
        "gd_otp_rate_limit_exceed": (_F, "Too many MFA failures"),
        "gd_recovery_succeed": (_S, "MFA recovery code used"),
        "gd_recovery_failed": (_F, "MFA recovery code wrong"),
        "gd_recovery_rate_limit_exceed": (_F, "Too many wrong MFA recovery codes"),
        "gd_start_enroll": (_S, "MFA enrollment started"),
        "gd_enrollment_complete": (_S, "MFA enrollment completed"),
        "gd_start_enroll_failed": (_F, "MFA enrollment failed"),
        "gd_unenroll": (_S, "MFA device removed"),
        "gd_update_device_account": (_S, "MFA device updated"),
        "gd_send_sms": (_S, "MFA SMS sent"),
        "gd_send_sms_failure": (_F, "MFA SMS failed"),
        "gd_send_pn": (_S, "MFA push notification sent"),
        "gd_send_pn_failure": (_F, "MFA push notification failed"),
        "gd_send_voice": (_S, "MFA voice call made"),
        "gd_send_voice_failure": (_F, "MFA voice call failed"),
        "gd_send_email": (_S, "MFA email sent"),
        "gd_webauthn_challenge_failed": (_F, "WebAuthn verification failed"),
        "passkey_challenge_failed": (_F, "Passkey challenge failed"),
    }),
    **_table("password", {
        "scpr": (_S, "Password reset requested"),
        "fcpr": (_F, "Failed password reset request"),
        "scp": (_S, "Password changed"),
        "fcp": (_F, "Failed password change"),
        "fcph": (_F, "Failed post-change-password hook"),
    }),
    **_table("logout", {
        "slo": (_S, "Logged out"),
        "flo": (_F, "Failed logout"),
        "oidc_backchannel_logout_succeeded": (_S, "Back-channel logout"),
        "oidc_backchannel_logout_failed": (_F, "Failed back-channel logout"),
        "federated_logout_failed": (_F, "Failed federated logout"),
    }),
    **_table("account", {
        "sv": (_S, "Email verified"),
        "fv": (_F, "Failed to send verification email"),
        "svr": (_S, "Verification email requested"),
        "fvr": (_F, "Failed verification email request"),
        "sce": (_S, "Email changed"),
        "fce": (_F, "Failed email change"),
        "scu": (_S, "Username changed"),
        "fcu": (_F, "Failed username change"),
        "scpn": (_S, "Phone number changed"),
        "fcpn": (_F, "Failed phone number change"),
        "sdu": (_S, "User deleted"),
        "du": (_S, "User deleted"),
        "fdu": (_F, "Failed user deletion"),
        "si": (_S, "Invitation accepted"),
        "fi": (_F, "Failed invitation"),
        "sui": (_S, "Users imported"),
        "fn": (_F, "Failed to send notification"),
    }),
    **_table("other", {
        "cs": (_S, "Passwordless code sent"),
        "cls": (_S, "Passwordless code or link sent"),
        "seacft": (_S, "Code exchanged for token"),
        "feacft": (_F, "Failed code exchange for token"),
        "sertft": (_S, "Refresh token exchanged"),
        "fertft": (_F, "Failed refresh token exchange"),
        "ferrt": (_F, "Refresh token reuse detected"),
        "srrt": (_S, "Refresh token revoked"),
        "sepft": (_S, "Password exchanged for token"),
        "fepft": (_F, "Failed password exchange for token"),
        "seccft": (_S, "Client credentials exchanged"),
        "feccft": (_F, "Failed client credentials exchange"),
        "seotpft": (_S, "MFA OTP exchanged for token"),
        "feotpft": (_F, "Failed MFA OTP exchange"),
        "seoobft": (_S, "MFA OOB exchanged for token"),
        "feoobft": (_F, "Failed MFA OOB exchange"),
        "sercft": (_S, "MFA recovery code exchanged"),
        "fercft": (_F, "Failed MFA recovery code exchange"),
        "fepotpft": (_F, "Failed passwordless OTP exchange"),
        "sede": (_S, "Device code exchanged for token"),
        "fede": (_F, "Failed device code exchange"),
        "api_limit": (_W, "API rate limit reached"),
        "api_limit_warning": (_W, "API rate limit nearly reached"),
        "sapi": (_S, "Management API operation"),
        "fapi": (_F, "Failed Management API operation"),
        "mgmt_api_read": (_S, "Management API read of secrets"),
        "actions_execution_failed": (_F, "Action failed"),
        "coff": (_W, "AD/LDAP connector offline"),
        "con": (_S, "AD/LDAP connector online"),
        "depnote": (_W, "Deprecation notice"),
    }),
}


def describe_code(code: str) -> CodeInfo:
    """The table's entry, or kind ``other`` for a code Auth0 added after this table was written."""
    known = CODES.get(code)
    if known is not None:
        return known
    outcome: Outcome = _F if code.startswith("f") else _W if code.startswith("w") else _S
    return CodeInfo("other", outcome, f"Auth0 event {code}" if code else "Auth0 event")
