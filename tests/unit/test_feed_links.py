"""Deep links into the Auth0 dashboard."""

from __future__ import annotations

from desktop.feed.links import event_link, tenant_path, user_link


def test_links_name_the_tenant_when_the_domain_does() -> None:
    assert tenant_path("example.eu.auth0.com") == "eu/example"
    assert tenant_path("Example.auth0.com.") == "us/example"
    assert tenant_path("login.example.com") is None and tenant_path(None) is None
    assert event_link("example.eu.auth0.com", "9002021") == "https://manage.auth0.com/dashboard/eu/example/logs/9002021"
    assert user_link("example.eu.auth0.com", "auth0|61/x") == (
        "https://manage.auth0.com/dashboard/eu/example/users/auth0%7C61%2Fx")
    assert event_link(None, "../../evil?x#y") == "https://manage.auth0.com/#/logs/..%2F..%2Fevil%3Fx%23y"
