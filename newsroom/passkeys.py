"""
Passkeys and security keys as the second factor: django-otp-webauthn's views under its own URL
names (its script finds them so), with a refused passkey counted by django-axes. See docs/security.md.
"""

from django.contrib.auth import logout
from django.contrib.auth.signals import user_login_failed
from django.urls import path, reverse
from django_otp_webauthn.exceptions import OTPWebAuthnApiError
from django_otp_webauthn.urls import urlpatterns as package_urlpatterns
from django_otp_webauthn.views import CompleteCredentialAuthenticationView


class PasskeyVerificationView(CompleteCredentialAuthenticationView):
    """The second step of a login with a passkey; a refused one is a failed login, as a wrong password is."""

    def handle_exception(self, exc):
        user = self.request.user
        if isinstance(exc, OTPWebAuthnApiError) and user.is_authenticated:
            credentials = {"username": user.get_username()}
            user_login_failed.send(sender=__name__, credentials=credentials, request=self.request)
            if getattr(self.request, "axes_locked_out", False):
                # Locked out halfway: the password step must be passed again, after the cool-off.
                logout(self.request)
        return super().handle_exception(exc)

    def get_success_url(self):
        return self.get_redirect_url() or reverse("admin:index")


app_name = "otp_webauthn"
urlpatterns = [
    path("authentication/complete/", PasskeyVerificationView.as_view(), name="credential-authentication-complete"),
    *(pattern for pattern in package_urlpatterns if pattern.name != "credential-authentication-complete"),
]
