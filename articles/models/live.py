import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator

from ..fields import SanitizedHTMLField
from .articles import Article
from .base import NaturalKeyManager, max_length_checks
from .taxonomy import Author


class LiveUpdate(models.Model):
    """One timestamped post on a live page (an article with live coverage on)."""

    natural_key_lookups = ["uid"]

    # Its identity across databases (fixtures, dumps) and in its link: ids change when content moves.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="live_updates")
    title = models.CharField(max_length=255, blank=True, help_text="Optional: a short line in bold above the text.")
    body = SanitizedHTMLField(
        help_text="Text, photos from the library, or a YouTube, X, Bluesky, … link on its own line for an embed."
    )
    author = models.ForeignKey(
        Author,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="live_updates",
        help_text="Who reported it; shown with the update.",
    )
    posted_at = models.DateTimeField(
        "time", default=timezone.now, help_text="Shown with the update; updates are listed newest first."
    )
    is_key_point = models.BooleanField(
        "key point", default=False, help_text="Also listed in the key points at the top of the page."
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = NaturalKeyManager()

    class Meta:
        ordering = ["-posted_at", "-id"]
        indexes = [models.Index(fields=["article", "-posted_at", "-id"], name="liveupdate_article_time_idx")]
        constraints = max_length_checks("liveupdate", title=255)
        verbose_name = "live update"

    def __str__(self):
        return self.title or Truncator(strip_tags(self.body)).chars(80) or f"Update at {self.posted_at:%H:%M}"

    def save(self, *args, **kwargs):
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return f"{self.article.get_absolute_url()}#{self.anchor}"

    def clean(self):
        if self.posted_at and self.posted_at > timezone.now() + timedelta(minutes=1):
            raise ValidationError({"posted_at": "An update is shown at once: its time cannot be in the future."})

    def natural_key(self):
        return (str(self.uid),)

    @property
    def anchor(self):
        """The fragment of its link, the same on every copy of the site."""
        return f"update-{self.uid.hex[:12]}"
