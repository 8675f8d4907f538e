"""A staff member turns on two-factor authentication in Chromium and logs in with a code; the pages break no CSP."""

import re

import pytest
from django.contrib.auth.models import User
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple-7"


def current_code(device):
    device.refresh_from_db()
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


def test_enrol_with_the_qr_code_page_then_log_in_with_a_code(open_page):
    User.objects.create_superuser("editor", "editor@example.com", PASSWORD)
    page, problems = open_page()

    page.goto("/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.click("text=Two-factor authentication")
    expect(page.locator(".qr-code svg")).to_be_visible()
    device = TOTPDevice.objects.get(confirmed=False)
    page.fill("#id_otp_token", current_code(device))
    page.click("input[type=submit]")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    assert not problems.take()

    page.click("#logout-form button")
    page.goto("/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator(".errornote")).to_contain_text("Enter the code from your authenticator app")
    page.fill("#id_password", PASSWORD)
    # A code is accepted once; within the same 30 seconds the test lets the enrolment's code count again.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    page.fill("#id_otp_token", current_code(device))
    page.click("input[type=submit]")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    assert not problems.take()
