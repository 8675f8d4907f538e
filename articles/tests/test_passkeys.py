"""
Passkeys and security keys as the second factor (django-otp-webauthn, newsroom/admin.py and newsroom/passkeys.py),
driven through the package's own endpoints by a software authenticator that signs what a browser would send.
"""

import hashlib
import json
import re
import secrets
from base64 import urlsafe_b64encode
from datetime import timedelta

import cbor2
import pytest
import time_machine
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.auth.models import Group, User
from django.contrib.staticfiles import finders
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from articles.models import Article
from articles.roles import EDITOR

from .factories import make_article

LOGIN = "/admin/login/"
PASSWORD = "correct horse battery staple"
RP_ID = "localhost"
ORIGIN = "http://localhost:8000"


def b64(data):
    return urlsafe_b64encode(data).rstrip(b"=").decode()


class Authenticator:
    """A software passkey: a P-256 key answering the server's challenges as a browser passes them on."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(16)
        self.sign_count = 0

    def public_key(self):
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def client_data(self, kind, options, origin):
        return json.dumps({"type": kind, "challenge": options["challenge"], "origin": origin}).encode()

    def create(self, options, origin=ORIGIN):
        """The browser's answer to navigator.credentials.create() (attestation "none")."""
        auth_data = (
            hashlib.sha256(options["rp"]["id"].encode()).digest()
            + bytes([0x45])  # user present, user verified, attested credential data
            + (0).to_bytes(4, "big")
            + bytes(16)  # AAGUID
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + self.public_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(self.client_data("webauthn.create", options, origin)),
                "attestationObject": b64(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {"credProps": {"rk": True}},
        }

    def get(self, options, origin=ORIGIN, key=None):
        """The browser's answer to navigator.credentials.get(), signed with `key` (default: its own)."""
        self.sign_count += 1
        client_data = self.client_data("webauthn.get", options, origin)
        auth_data = (
            hashlib.sha256(options["rpId"].encode()).digest() + bytes([0x05]) + self.sign_count.to_bytes(4, "big")
        )
        signature = (key or self.key).sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "authenticatorData": b64(auth_data),
                "signature": b64(signature),
            },
            "clientExtensionResults": {},
        }


@pytest.fixture(autouse=True)
def _passkey_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.OTP_WEBAUTHN_RP_ID = RP_ID
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [ORIGIN]


@pytest.fixture
def editor(db):
    user = User.objects.create_user("amina", "amina@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=EDITOR))
    return user


def post_json(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def register(client, authenticator, name="Work laptop"):
    """Register a passkey as the setup page does: the package's two calls, then our naming form."""
    options = post_json(client, "/admin/passkeys/registration/begin/").json()
    assert options["rp"]["id"] == RP_ID
    created = post_json(client, "/admin/passkeys/registration/complete/", authenticator.create(options))
    assert created.status_code == 200, created.content
    return client.post("/admin/two-factor/", {"credential": created.json()["id"], "name": name})


def give_passkey(user, name="YubiKey"):
    """A passkey registered earlier, straight into the database."""
    authenticator = Authenticator()
    WebAuthnCredential.objects.create(
        user=user,
        name=name,
        confirmed=True,
        credential_id=authenticator.credential_id,
        public_key=authenticator.public_key(),
    )
    return authenticator


def log_in(client, password=PASSWORD, code=""):
    return client.post(LOGIN, {"username": "amina", "password": password, "otp_token": code}, REMOTE_ADDR="192.0.2.10")


def use_passkey(client, authenticator, **kwargs):
    options = post_json(client, "/admin/passkeys/authentication/begin/").json()
    return post_json(
        client, "/admin/passkeys/authentication/complete/?next=/admin/", authenticator.get(options, **kwargs)
    )


def verified_by(client):
    return client.session.get("otp_device_id")


def test_a_user_with_only_a_passkey_gives_the_password_then_the_passkey(client, editor):
    authenticator = give_passkey(editor)

    response = log_in(client)
    assert response.status_code == 302  # no code asked for with the password
    # Until the passkey, the admin sends the user back to the login page, which now asks for it.
    response = client.get("/admin/articles/article/")
    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next=/admin/articles/article/"
    page = client.get(response.url)
    assert page.status_code == 200
    assert 'id="passkey-verification-button"' in page.text
    assert "Use a passkey / security key" in page.text
    assert "authenticator app" not in page.text
    assert 'name="otp_token"' not in page.text  # no app and no recovery codes: nothing to type
    assert 'name="password"' not in page.text

    response = use_passkey(client, authenticator)
    assert response.status_code == 200, response.content
    assert response.json()["redirect_url"] == "/admin/"
    assert verified_by(client) == WebAuthnCredential.objects.get(user=editor).persistent_id
    assert client.get("/admin/articles/article/").status_code == 200
    assert WebAuthnCredential.objects.get(user=editor).last_used_at is not None


def test_a_passkey_satisfies_the_rule_for_editors(client, settings, editor):
    settings.NEWSROOM_REQUIRE_2FA = True
    log_in(client)
    assert client.get("/admin/").url == "/admin/two-factor/"
    authenticator = Authenticator()
    response = register(client, authenticator)
    # The first key brings recovery codes, shown once.
    assert response.status_code == 200
    assert len(response.context["recovery_codes"]) == 10
    assert WebAuthnCredential.objects.get(user=editor).name == "Work laptop"
    assert client.get("/admin/articles/article/").status_code == 200
    client.logout()

    log_in(client)
    assert client.get("/admin/articles/article/").status_code == 302
    assert use_passkey(client, authenticator).status_code == 200
    assert client.get("/admin/articles/article/").status_code == 200


def test_a_recovery_code_stands_in_for_a_lost_passkey(client, editor):
    log_in(client)
    codes = register(client, Authenticator()).context["recovery_codes"]
    client.logout()

    log_in(client)
    second_step = f"{LOGIN}?next=/admin/articles/article/"
    assert "Without your key: a recovery code" in client.get(second_step).text
    response = client.post(second_step, {"otp_token": "not-a-code"})
    assert "That code is not right" in response.text
    with time_machine.travel(timezone.now() + timedelta(seconds=10)):  # wrong codes are throttled
        response = client.post(second_step, {"otp_token": codes[0]})
    assert response.status_code == 302
    assert response.url == "/admin/articles/article/"
    assert client.get("/admin/articles/article/").status_code == 200
    assert not StaticToken.objects.filter(token=codes[0]).exists()


def test_with_the_code_at_the_first_step_no_second_step(client, editor):
    log_in(client)
    codes = register(client, Authenticator()).context["recovery_codes"]
    client.logout()
    assert log_in(client, code=codes[0]).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_an_app_user_still_gives_the_code_with_the_password(client, editor):
    TOTPDevice.objects.create(user=editor, name="Authenticator app", confirmed=True)
    response = log_in(client)
    assert response.status_code == 200
    assert "Enter the code from your authenticator app" in response.text
    assert "_auth_user_id" not in client.session


def test_the_setup_page_lists_and_removes_passkeys(client, editor):
    log_in(client)
    register(client, Authenticator(), name="Work laptop")
    register(client, Authenticator(), name="")  # unnamed: called "Passkey"
    someone_else = User.objects.create_user("bo", password=PASSWORD, is_staff=True)
    theirs = WebAuthnCredential.objects.create(user=someone_else, name="Bo's key", credential_id=b"x", public_key=b"y")

    page = client.get("/admin/two-factor/")
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td><time[^>]*>(.*?)</time></td>\s*<td>(.*?)</td>", page.text)
    assert [(name, used) for name, _added, used in rows] == [("Work laptop", "never"), ("Passkey", "never")]
    assert "Bo&#x27;s key" not in page.text
    assert "one of your passkeys or security keys" in page.text

    spare = WebAuthnCredential.objects.get(user=editor, name="Passkey")
    response = client.post("/admin/two-factor/", {"credential": spare.pk, "remove": ""}, follow=True)
    assert "“Passkey” is removed" in response.text
    assert list(WebAuthnCredential.objects.filter(user=editor).values_list("name", flat=True)) == ["Work laptop"]

    response = client.post("/admin/two-factor/", {"credential": theirs.pk, "remove": ""}, follow=True)
    assert "That passkey is not one of yours" in response.text
    assert WebAuthnCredential.objects.filter(pk=theirs.pk).exists()


def test_removing_a_passkey_ends_the_sessions_it_verified(client, editor):
    """A stolen key removed: whoever logged in with it is asked for a second factor again."""
    log_in(client)
    register(client, Authenticator(), name="Lost phone")
    register(client, Authenticator(), name="YubiKey")
    lost = WebAuthnCredential.objects.get(name="Lost phone")
    assert verified_by(client) == lost.persistent_id
    client.post("/admin/two-factor/", {"credential": lost.pk, "remove": ""})
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def assert_scripts_allowed(page, script):
    """`script` is on the page, and every script there is one the page's CSP lets run."""
    policy = page.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1).split()
    assert "'self'" in script_src and "'unsafe-inline'" not in script_src
    assert "connect-src 'self'" in policy  # the script's calls go to the site itself
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, re.S)
    sources = [re.search(r'src="([^"]+)"', attributes).group(1) for attributes, _ in scripts if "src=" in attributes]
    assert f"/static/{script}" in sources
    assert all(src.startswith("/") and not src.startswith("//") for src in sources)  # 'self'
    for attributes, body in scripts:
        # Inline script only as data (the package's configuration), which CSP does not run.
        assert not body.strip() or 'type="application/json"' in attributes or "nonce=" in attributes
    return [src for src in sources if not src.startswith("/static/") or not finders.find(src.removeprefix("/static/"))]


def test_the_passkey_scripts_run_under_the_content_security_policy(client, editor):
    authenticator = give_passkey(editor)
    log_in(client)
    dynamic = assert_scripts_allowed(client.get(LOGIN), "django_otp_webauthn/otp_webauthn_auth.js")
    use_passkey(client, authenticator)
    dynamic += assert_scripts_allowed(client.get("/admin/two-factor/"), "django_otp_webauthn/otp_webauthn_register.js")
    assert dynamic == ["/admin/passkeys/jsi18n/"] * 2  # the package's translations, served by a view
    assert client.get(dynamic[0])["Content-Type"].startswith("text/javascript")


def test_refused_passkeys_count_as_failed_logins(client, settings, editor):
    authenticator = give_passkey(editor)
    impostor_key = ec.generate_private_key(ec.SECP256R1())
    log_in(client)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = use_passkey(client, authenticator, key=impostor_key)
        assert response.status_code == 422
        assert not verified_by(client)
    response = use_passkey(client, authenticator, key=impostor_key)
    assert response.status_code == 429  # locked out, and logged out
    assert "_auth_user_id" not in client.session
    assert log_in(client).status_code == 429


def test_a_passkey_from_another_origin_or_another_account_is_refused(client, editor):
    authenticator = give_passkey(editor)
    someone_else = User.objects.create_user("bo", password=PASSWORD, is_staff=True)
    theirs = give_passkey(someone_else)
    log_in(client)
    assert use_passkey(client, authenticator, origin="https://phish.example").status_code == 422
    assert use_passkey(client, theirs).status_code == 403
    assert not verified_by(client)
    assert client.get("/admin/").status_code == 302


def test_a_passkey_is_never_the_only_factor(client, editor):
    """Passwordless login is off: without the password step there is no challenge to answer."""
    give_passkey(editor)
    response = post_json(client, "/admin/passkeys/authentication/begin/")
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_before_the_passkey_drafts_stay_hidden_on_the_site(client, editor):
    editor.user_permissions.add(*editor.groups.get().permissions.all())
    draft = make_article(status=Article.Status.DRAFT)
    authenticator = give_passkey(editor)
    log_in(client)
    assert client.get(draft.get_absolute_url()).status_code != 200
    use_passkey(client, authenticator)
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_logging_out_at_the_second_step(client, editor):
    give_passkey(editor)
    log_in(client)
    response = client.post(LOGIN, {"cancel": ""})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert 'name="password"' in client.get(LOGIN).text
