"""Staff logins: throttling (django-axes), two-factor authentication (django-otp), password reset by e-mail."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.core import mail
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from articles.roles import EDITOR

LOGIN = "/admin/login/"
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor(db):
    user = User.objects.create_user("amina", "amina@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=EDITOR))
    return user


def log_in(client, username, password, code="", address="192.0.2.10"):
    return client.post(LOGIN, {"username": username, "password": password, "otp_token": code}, REMOTE_ADDR=address)


def logged_in(client):
    return "_auth_user_id" in client.session


def current_code(device):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def test_the_right_password_logs_in(client, editor):
    response = log_in(client, "amina", PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_a_hundred_wrong_passwords_then_the_right_one_is_refused(client, settings, editor):
    for attempt in range(100):
        log_in(client, "amina", f"guess {attempt}")
    response = log_in(client, "amina", PASSWORD)
    assert response.status_code == 429
    assert not logged_in(client)
    # Until the cool-off has passed.
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        response = log_in(client, "amina", PASSWORD)
        assert response.status_code == 302
        assert logged_in(client)


def test_the_lockout_comes_after_the_limit_with_a_plain_message(client, settings, editor):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = log_in(client, "amina", f"guess {attempt}")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.text
    response = log_in(client, "amina", "one guess too many")
    assert response.status_code == 429
    assert "admin/locked_out.html" in [template.name for template in response.templates]
    text = re.sub(r"\s+", " ", response.text)
    assert f"Logging in as “amina” is paused after {settings.AXES_FAILURE_LIMIT} failed attempts" in text
    assert "Try again in 15 minutes." in text
    assert 'href="/admin/password-reset/"' in text


def test_an_account_is_locked_whatever_the_address(client, settings, editor):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "amina", f"guess {attempt}", address=f"198.51.100.{attempt}")
    assert log_in(client, "amina", PASSWORD, address="203.0.113.7").status_code == 429


def test_an_address_is_locked_whatever_the_account(client, settings, editor):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, f"someone-{attempt}", "guess")
    assert log_in(client, "amina", PASSWORD).status_code == 429
    assert log_in(client, "amina", PASSWORD, address="203.0.113.7").status_code == 302


def test_failures_and_lockouts_are_logged(client, settings, editor, caplog):
    with caplog.at_level("WARNING"):
        for attempt in range(settings.AXES_FAILURE_LIMIT):
            log_in(client, "amina", f"guess {attempt}")
    messages = [record.getMessage() for record in caplog.records]
    assert sum("login failure" in message for message in messages) >= settings.AXES_FAILURE_LIMIT
    assert "Login refused, locked out: account 'amina' from 192.0.2.10" in messages


def test_behind_a_proxy_failures_count_against_the_address_it_saw(client, settings, editor):
    settings.NEWSROOM_PROXY_COUNT = 1
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        # A client writing its own X-Forwarded-For cannot move its failures to another address.
        client.post(
            LOGIN,
            {"username": f"someone-{attempt}", "password": "guess"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}, 192.0.2.99",
        )
    response = client.post(
        LOGIN, {"username": "amina", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.99"
    )
    assert response.status_code == 429


def test_a_successful_login_clears_the_failures(client, settings, editor):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "amina", f"guess {attempt}")
    assert log_in(client, "amina", PASSWORD).status_code == 302
    client.logout()
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "amina", f"guess {attempt}")
    assert log_in(client, "amina", PASSWORD).status_code == 302


def test_force_login_is_not_throttled(admin_client):
    assert admin_client.get("/admin/").status_code == 200


# Two-factor authentication.


def enrol(client):
    """Set up an authenticator through the admin page, as a user would; returns the device and recovery codes."""
    page = client.get("/admin/two-factor/")
    assert page.status_code == 200
    assert "<svg" in page.text  # the QR code
    device = TOTPDevice.objects.get(user__username="amina", confirmed=False)
    secret = page.context["secret"].replace(" ", "")
    assert secret and device.config_url.count(secret) == 1
    response = client.post("/admin/two-factor/", {"otp_token": current_code(device)})
    assert response.status_code == 200, response.text
    device.refresh_from_db()
    assert device.confirmed
    return device, response.context["recovery_codes"]


def test_a_staff_member_enrols_from_the_admin_and_then_needs_a_code(client, editor):
    log_in(client, "amina", PASSWORD)
    device, recovery_codes = enrol(client)
    assert len(recovery_codes) == 10
    client.logout()

    response = log_in(client, "amina", PASSWORD)
    assert response.status_code == 200
    assert "Enter the code from your authenticator app" in response.text
    assert not logged_in(client)

    response = log_in(client, "amina", PASSWORD, code="000000" if current_code(device) != "000000" else "111111")
    assert "That authentication code is not right" in response.text
    assert not logged_in(client)

    device.refresh_from_db()
    device.throttle_reset()
    with time_machine.travel(timezone.now() + timedelta(seconds=60)):
        response = log_in(client, "amina", PASSWORD, code=current_code(device))
        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200


def test_a_recovery_code_logs_in_once(client, editor):
    log_in(client, "amina", PASSWORD)
    _device, recovery_codes = enrol(client)
    client.logout()
    assert log_in(client, "amina", PASSWORD, code=recovery_codes[0]).status_code == 302
    assert not StaticToken.objects.filter(token=recovery_codes[0]).exists()
    client.logout()
    assert log_in(client, "amina", PASSWORD, code=recovery_codes[0]).status_code == 200
    assert not logged_in(client)


def test_a_session_without_the_second_factor_is_sent_to_the_login(client, editor):
    device = TOTPDevice.objects.create(user=editor, name="Authenticator app", confirmed=True)
    client.force_login(editor)  # e.g. a password-only session from before the authenticator was set up
    response = client.get("/admin/articles/article/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
    assert device.pk


def test_two_factor_is_required_for_editors_when_the_setting_is_on(client, settings, editor):
    settings.NEWSROOM_REQUIRE_2FA = True
    assert log_in(client, "amina", PASSWORD).status_code == 302
    for url in ["/admin/", "/admin/articles/article/", "/admin/articles/article/add/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url == "/admin/two-factor/"
    page = client.get("/admin/two-factor/")
    assert "Two-factor authentication is required for your account." in page.text
    enrol(client)
    assert client.get("/admin/articles/article/").status_code == 200


def test_two_factor_is_not_required_of_reporters(client, settings, editor):
    settings.NEWSROOM_REQUIRE_2FA = True
    editor.groups.clear()
    assert log_in(client, "amina", PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_two_factor_is_optional_when_the_setting_is_off(client, editor):
    assert log_in(client, "amina", PASSWORD).status_code == 302
    assert client.get("/admin/articles/article/").status_code == 200


def test_a_wrong_confirmation_code_leaves_two_factor_off(client, editor):
    log_in(client, "amina", PASSWORD)
    client.get("/admin/two-factor/")
    device = TOTPDevice.objects.get(user=editor)
    wrong = "123456" if current_code(device) != "123456" else "654321"
    response = client.post("/admin/two-factor/", {"otp_token": wrong})
    assert "That code is not right" in response.text
    device.refresh_from_db()
    assert not device.confirmed


# Password reset.


def test_the_login_page_links_to_password_reset(client):
    response = client.get(LOGIN)
    assert 'href="/admin/password-reset/"' in response.text
    assert 'name="otp_token"' in response.text


def test_password_reset_by_email_end_to_end(client, editor):
    response = client.post("/admin/password-reset/", {"email": "amina@example.org"})
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["amina@example.org"]
    link = re.search(r"http://testserver(/admin/password-reset/\S+/\S+/)", message.body).group(1)

    form = client.get(link, follow=True)
    assert form.status_code == 200
    set_password_url = form.redirect_chain[-1][0]
    new_password = "a much better passphrase 42"
    response = client.post(set_password_url, {"new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302
    assert response.url == "/admin/password-reset/done/"
    assert "/admin/login/" in client.get(response.url).text

    assert log_in(client, "amina", PASSWORD).status_code == 200
    assert log_in(client, "amina", new_password).status_code == 302
    # The link works once.
    client.logout()
    assert "invalid" in client.get(link, follow=True).text


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, editor):
    response = client.post("/admin/password-reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_moving_to_a_new_phone_retires_the_old_one_and_its_recovery_codes(client, editor):
    log_in(client, "amina", PASSWORD)
    old_phone, old_codes = enrol(client)
    with time_machine.travel(timezone.now() + timedelta(seconds=60)):
        new_phone, new_codes = enrol(client)
    assert list(TOTPDevice.objects.filter(user=editor)) == [new_phone]
    assert not StaticToken.objects.filter(token__in=old_codes).exists()
    assert StaticToken.objects.filter(token__in=new_codes).count() == 10


def test_password_reset_mail_goes_to_an_address_at_most_once_every_15_minutes(client, editor):
    for _ in range(3):
        assert client.post("/admin/password-reset/", {"email": "Amina@example.org"}).status_code == 302
    assert len(mail.outbox) == 1
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        client.post("/admin/password-reset/", {"email": "amina@example.org"})
    assert len(mail.outbox) == 2
