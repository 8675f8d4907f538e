"""
The editors' admin site: Django's, with a second factor at login (django-otp: TOTP, passkeys
and security keys through django-otp-webauthn, recovery codes) and, when NEWSROOM_REQUIRE_2FA
is on, Editors and superusers sent to set one up before anything else. Login throttling is
django-axes' (settings). See docs/security.md.
"""

import hashlib
import logging
from base64 import b32encode

import segno
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import logout
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.admin import WebAuthnCredentialAdmin
from django_otp_webauthn.models import WebAuthnCredential

from articles.roles import EDITOR

logger = logging.getLogger(__name__)

RECOVERY_CODES = 10
RESET_MAIL_INTERVAL = 15 * 60  # seconds
# Admin pages a user who must set up two-factor authentication can still open.
OPEN_BEFORE_ENROLMENT = {"two_factor", "logout", "password_change", "password_change_done", "jsi18n"}


def client_ip_address(request):
    """
    The address login failures count against (django-axes): REMOTE_ADDR, or behind
    NEWSROOM_PROXY_COUNT proxies the address the outermost one saw, taken from the right
    of X-Forwarded-For, where the client cannot forge it.
    """
    proxies = settings.NEWSROOM_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login: the admin's look, a plain message, status 429."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    logger.warning("Login refused, locked out: account %r from %s", username, client_ip_address(request))
    context = {
        **admin.site.each_context(request),
        "title": "Too many failed logins",
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)),
        "username": username,
    }
    return TemplateResponse(request, "admin/locked_out.html", context, status=429).render()


def two_factor_required(user):
    """Editors and superusers must use a second factor when NEWSROOM_REQUIRE_2FA is on."""
    if not settings.NEWSROOM_REQUIRE_2FA or not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name=EDITOR).exists()


def has_passkey(user):
    """Whether the user registered a passkey or security key; asked once a request (kept on the user object)."""
    if not hasattr(user, "_has_passkey"):
        user._has_passkey = WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    return user._has_passkey


def has_authenticator(user):
    """Whether the user set up a second factor, an authenticator app or a passkey (either satisfies the rule)."""
    if not hasattr(user, "_has_authenticator"):
        apps = TOTPDevice.objects.filter(user=user, confirmed=True).values("pk")
        passkeys = WebAuthnCredential.objects.filter(user=user, confirmed=True).values("pk")
        user._has_authenticator = apps.union(passkeys).exists()  # one query, on every admin page
    return user._has_authenticator


def verify_code(user, code):
    """
    The confirmed device that accepts `code`, or None: six digits are an authenticator
    app's code, anything else a recovery code. Each device throttles its own failures.
    """
    code = "".join(code.split())
    if not code:
        return None
    devices = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    for device in devices.objects.filter(user=user, confirmed=True):
        if device.verify_is_allowed()[0] and device.verify_token(code):
            return device
    return None


@transaction.atomic
def issue_recovery_codes(user):
    """New recovery codes in place of any old ones; returns them, to be shown once."""
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=code) for code in codes])
    return codes


class LoginForm(AdminAuthenticationForm):
    """
    The admin login with the code of the user's authenticator, asked only of those who set one up.
    Someone with a passkey may leave it empty: the password logs them in unverified, and the
    login page then asks for the passkey (NewsroomAdminSite.second_step).
    """

    otp_token = forms.CharField(
        label="Authentication code",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="The 6-digit code from your authenticator app, or a recovery code. "
        "Leave empty if you use a passkey or security key (asked for next), "
        "or have not set up two-factor authentication.",
    )

    def clean(self):
        cleaned_data = super().clean()
        user = self.get_user()
        if user is not None and has_authenticator(user):
            code = cleaned_data.get("otp_token", "")
            if not code and has_passkey(user):
                return cleaned_data
            if not code:
                raise ValidationError(
                    "Enter the code from your authenticator app (or a recovery code) as well.", code="token_required"
                )
            device = verify_code(user, code)
            if device is None:
                raise ValidationError(
                    "That authentication code is not right or has expired. Enter the current code from your app "
                    "(codes change every 30 seconds); after several wrong codes, each new try must wait longer.",
                    code="invalid_token",
                )
            # django_otp marks the session as verified when the login completes.
            user.otp_device = device
        return cleaned_data


class ThrottledPasswordResetForm(PasswordResetForm):
    """At most one reset mail per address every RESET_MAIL_INTERVAL, so the form cannot flood an inbox."""

    def get_users(self, email):
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        if not cache.add(f"password-reset-mail:{digest}", True, RESET_MAIL_INTERVAL):
            logger.warning("Password reset mail not sent: one went to that address less than 15 minutes ago")
            return []
        return super().get_users(email)


class SecondStepForm(forms.Form):
    otp_token = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "none"}),
    )


class PasskeyForm(forms.Form):
    """Names (after registration) or removes one of the user's passkeys."""

    credential = forms.ModelChoiceField(queryset=WebAuthnCredential.objects.none(), widget=forms.HiddenInput)
    name = forms.CharField(label="Name", max_length=64, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["credential"].queryset = WebAuthnCredential.objects.filter(user=user)


class ConfirmAuthenticatorForm(forms.Form):
    otp_token = forms.CharField(
        label="Code from the app",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class NewsroomAdminSite(admin.AdminSite):
    login_form = LoginForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # django-otp-webauthn ships this admin without registering it: administrators remove lost keys there.
        self.register(WebAuthnCredential, WebAuthnCredentialAdmin)

    def has_permission(self, request):
        """Staff who set up an authenticator must have used it in this session."""
        if not super().has_permission(request):
            return False
        return request.user.is_verified() or not has_authenticator(request.user)

    def admin_view(self, view, cacheable=False):
        checked = super().admin_view(view, cacheable)

        def view_after_enrolment(request, *args, **kwargs):
            match = request.resolver_match
            if (
                self.has_permission(request)
                and (match is None or match.url_name not in OPEN_BEFORE_ENROLMENT)
                and two_factor_required(request.user)
                and not has_authenticator(request.user)
            ):
                messages.warning(request, "Set up two-factor authentication before you go on: it is required.")
                return redirect("admin:two_factor")
            return checked(request, *args, **kwargs)

        view_after_enrolment.__dict__.update(checked.__dict__)
        view_after_enrolment.__name__ = getattr(checked, "__name__", "view")
        view_after_enrolment.__wrapped__ = checked
        return view_after_enrolment

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        """The password, then for a user who has a passkey and left the code empty, the second step."""
        user = request.user
        if user.is_active and user.is_staff and not user.is_verified() and has_authenticator(user):
            return self.second_step(request)
        return super().login(request, extra_context)

    def second_step(self, request):
        """Finish logging in with a passkey (django-otp-webauthn's script), an app's code or a recovery code."""
        user = request.user
        next_url = request.GET.get("next", "")  # the forms post back to this URL, ?next= and all
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
            next_url = reverse("admin:index", current_app=self.name)
        if request.method == "POST" and "cancel" in request.POST:
            logout(request)
            return redirect("admin:login")
        form = SecondStepForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            device = verify_code(user, form.cleaned_data["otp_token"])
            if device is not None:
                otp_login(request, device)
                return redirect(next_url)
            form.add_error("otp_token", "That code is not right or has expired (after several, each try waits).")
        context = {
            **self.each_context(request),
            "title": "Finish logging in",
            "form": form,
            "has_passkey": has_passkey(user),
            "has_app": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
            "has_recovery_codes": StaticToken.objects.filter(device__user=user, device__confirmed=True).exists(),
        }
        return TemplateResponse(request, "admin/login_second_step.html", context)

    def get_urls(self):
        return [path("two-factor/", self.admin_view(self.two_factor), name="two_factor"), *super().get_urls()]

    def two_factor(self, request):
        """
        Set up an authenticator app (scan the QR code, confirm with a code) or passkeys (registered by
        django-otp-webauthn's script, then named or removed here), and keep the recovery codes.
        """
        user = request.user
        if request.method == "POST" and "credential" in request.POST:
            return self.change_passkey(request)
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        form = ConfirmAuthenticatorForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            code = "".join(form.cleaned_data["otp_token"].split())
            if device.verify_token(code):
                recovery_codes = self.confirm(request, device)
                messages.success(request, "Two-factor authentication is on. Keep the recovery codes below safe.")
                return TemplateResponse(
                    request,
                    "admin/two_factor_done.html",
                    {**self.each_context(request), "title": "Recovery codes", "recovery_codes": recovery_codes},
                )
            form.add_error("otp_token", "That code is not right. Check the phone's clock and enter the current code.")
        secret = b32encode(device.bin_key).decode()
        context = {
            **self.each_context(request),
            "title": "Two-factor authentication",
            "form": form,
            "required": two_factor_required(user),
            "devices": TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at"),
            "passkeys": WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at"),
            "recovery_codes_left": StaticToken.objects.filter(device__user=user, device__confirmed=True).count(),
            "qr_code": mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4, omitsize=False)),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        }
        return TemplateResponse(request, "admin/two_factor.html", context)

    @transaction.atomic
    def confirm(self, request, device):
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        request.user._has_authenticator = True
        # A new phone replaces the old one (perhaps lost), and new recovery codes the old ones.
        TOTPDevice.objects.filter(user=request.user).exclude(pk=device.pk).delete()
        codes = issue_recovery_codes(request.user)
        otp_login(request, device)
        return codes

    def change_passkey(self, request):
        """Name a passkey just registered (the first one also brings recovery codes), or remove one."""
        form = PasskeyForm(request.POST, user=request.user)
        if not form.is_valid():
            messages.error(request, "That passkey is not one of yours, or is already removed.")
            return redirect("admin:two_factor")
        passkey = form.cleaned_data["credential"]
        if "remove" in request.POST:
            passkey.delete()
            messages.success(request, f"“{passkey.name}” is removed: it no longer logs you in.")
            return redirect("admin:two_factor")
        passkey.name = form.cleaned_data["name"].strip() or "Passkey"
        passkey.save(update_fields=["name"])
        messages.success(request, f"“{passkey.name}” is registered: logging in now asks for it after your password.")
        if StaticDevice.objects.filter(user=request.user).exists():
            return redirect("admin:two_factor")
        context = {
            **self.each_context(request),
            "title": "Recovery codes",
            "recovery_codes": issue_recovery_codes(request.user),
        }
        return TemplateResponse(request, "admin/two_factor_done.html", context)
