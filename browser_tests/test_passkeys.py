"""
A staff member registers a passkey in Chromium (a virtual authenticator, over the DevTools protocol),
then logs in with the password and the passkey; django-otp-webauthn's script breaks no CSP.
"""

import re

import pytest
from django.contrib.auth.models import User
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple-7"


@pytest.fixture
def passkey_origin(settings, live_server):
    """Passkeys belong to a domain, not an IP address: the live server is at http://localhost:<port>."""
    assert live_server.url.startswith("http://localhost:")
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]


def add_virtual_authenticator(page):
    """A platform authenticator (like a laptop's fingerprint reader) that says yes by itself."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
    }
    return cdp, cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]


def log_in_with_the_password(page):
    page.goto("/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_register_a_passkey_then_log_in_with_it(open_page, passkey_origin):
    User.objects.create_superuser("editor", "editor@example.com", PASSWORD)
    page, problems = open_page()
    cdp, authenticator = add_virtual_authenticator(page)

    log_in_with_the_password(page)
    page.click("text=Two-factor authentication")
    page.fill("#id_passkey_name", "This laptop")
    page.click("#passkey-register-button")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    assert WebAuthnCredential.objects.get().name == "This laptop"
    assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]) == 1
    page.click("text=Two-factor authentication")
    expect(page.locator("table.passkeys tbody tr")).to_have_count(1)
    expect(page.locator("table.passkeys")).to_contain_text("This laptop")
    assert not problems.take()

    page.click("#logout-form button")
    log_in_with_the_password(page)
    expect(page.locator("#id_otp_token")).to_have_count(1)  # the recovery code, for a lost key
    page.click("text=Use a passkey / security key")
    # The whole URL: the second step's own ends with "?next=/admin/".
    expect(page).to_have_url(re.compile(r"^http://localhost:\d+/admin/$"))
    expect(page.locator("#user-tools")).to_contain_text("Two-factor authentication")
    assert WebAuthnCredential.objects.get().last_used_at is not None
    assert not problems.take()
