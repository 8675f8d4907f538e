from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from .articles import Article
from .base import NaturalKeyManager, max_length_checks


class CorrectionQuerySet(models.QuerySet):
    def published(self):
        """Corrections readers may see: those of articles Article.objects.published() lets through."""
        return self.filter(article__in=Article.objects.published().values("pk"))

    def newest_first(self):
        return self.order_by("-created_at", "-id")


class CorrectionManager(NaturalKeyManager.from_queryset(CorrectionQuerySet)):
    pass


class Correction(models.Model):
    """A correction, clarification or update shown to readers with the article."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", "Correction"
        CLARIFICATION = "clarification", "Clarification"
        UPDATE = "update", "Update"

    natural_key_lookups = ["article__slug", "created_at"]

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="corrections")
    kind = models.CharField(
        max_length=13,
        choices=Kind,
        default=Kind.CORRECTION,
        help_text="Updates show under the byline; corrections and clarifications at the foot of the article.",
    )
    text = models.TextField(help_text="Plain text, shown to readers as written, e.g. “An earlier version said…”.")
    created_at = models.DateTimeField(
        "date", default=timezone.now, help_text="Shown to readers with the note; also the article's modified date."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name="added by",
    )

    objects = CorrectionManager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # Also the natural key: fixtures find a correction by its article and time.
            models.UniqueConstraint(fields=["article", "created_at"], name="correction_unique_time"),
            models.CheckConstraint(
                condition=Q(kind__in=["correction", "clarification", "update"]), name="correction_kind_valid"
            ),
            *max_length_checks("correction", kind=13),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to “{self.article}”"

    def save(self, *args, **kwargs):
        # Whole milliseconds: what JSON fixtures keep, so a dump loads back onto the same rows.
        self.created_at = self.created_at.replace(microsecond=self.created_at.microsecond // 1000 * 1000)
        if self._state.adding:
            # (article, time) is the natural key: notes added in the same millisecond step apart.
            taken = Correction.objects.filter(article_id=self.article_id)
            while taken.filter(created_at=self.created_at).exists():
                self.created_at += timedelta(milliseconds=1)
        super().save(*args, **kwargs)
        # The article changed for its readers now: its modified date (dateModified) says so.
        Article.objects.filter(pk=self.article_id).update(updated_at=timezone.now())

    def natural_key(self):
        return (*self.article.natural_key(), self.created_at.isoformat())

    natural_key.dependencies = ["articles.article"]


@receiver(post_save, sender=Correction)
def _bump_article_on_fixture_load(sender, instance, raw, **kwargs):
    """
    loaddata saves raw, without calling save(): the article's modified date is
    then at least the correction's date (idempotent, so loading twice changes nothing).
    """
    if raw:
        Article.objects.filter(pk=instance.article_id, updated_at__lt=instance.created_at).update(
            updated_at=instance.created_at
        )
