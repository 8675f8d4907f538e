import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import models
from django.urls import reverse
from django.utils import timezone

from .articles import Article
from .base import NaturalKeyManager, max_length_checks


def new_preview_token():
    return secrets.token_urlsafe(32)


def preview_expiry():
    return timezone.now() + timedelta(hours=settings.NEWSROOM_PREVIEW_HOURS)


class PreviewLinkQuerySet(models.QuerySet):
    def active(self):
        """Links that still open their article: not revoked, not expired, and the article never live."""
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now).exclude(article__first_published_at__lte=now)


class PreviewLinkManager(NaturalKeyManager.from_queryset(PreviewLinkQuerySet)):
    pass


class PreviewLink(models.Model):
    """
    A link that shows a draft or scheduled article to someone without an account.

    The URL carries the random token signed with SECRET_KEY (salted), so a
    tampered or made-up link is refused before the database is asked.
    """

    signing_salt = "articles.preview-link"
    natural_key_lookups = ["token"]

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="preview_links")
    token = models.CharField(max_length=64, unique=True, default=new_preview_token, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name="created by",
    )
    expires_at = models.DateTimeField(
        "expires", default=preview_expiry, help_text="The link stops working at this time."
    )
    revoked_at = models.DateTimeField("revoked", null=True, blank=True, editable=False)

    objects = PreviewLinkManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "preview link"
        constraints = max_length_checks("previewlink", token=64)

    def __str__(self):
        return f"Preview of “{self.article}”"

    def get_absolute_url(self):
        return reverse("articles:preview", kwargs={"signed_token": self.signed_token})

    def natural_key(self):
        return (self.token,)

    natural_key.dependencies = ["articles.article"]

    @property
    def signed_token(self):
        return signing.Signer(salt=self.signing_salt).sign(self.token)

    @classmethod
    def token_from_signed(cls, signed_token):
        """The token inside a signed one; raises signing.BadSignature when it was tampered with."""
        return signing.Signer(salt=cls.signing_salt).unsign(signed_token)

    @property
    def is_revoked(self):
        return self.revoked_at is not None

    @property
    def is_expired(self):
        return self.expires_at <= timezone.now()

    @property
    def is_active(self):
        """Mirrors PreviewLinkQuerySet.active() for one link."""
        return not self.is_revoked and not self.is_expired and not self.article.has_been_live

    def revoke(self):
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
