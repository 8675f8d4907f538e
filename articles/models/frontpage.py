"""The curated front page (lead and top stories) and the breaking-news banner."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .articles import Article
from .base import NaturalKeyManager, max_length_checks

# Stories per section block on the curated home page.
SECTION_BLOCK_SIZE = 3


class FrontPageSlotQuerySet(models.QuerySet):
    def current(self):
        """Slots whose time has not run out (whether their article is public is published()'s business)."""
        return self.filter(Q(until__isnull=True) | Q(until__gt=timezone.now()))

    def stories(self):
        """
        The current slots' articles that readers can see, in front-page order,
        ready for teasers (section, lead image). The slots are read first, a
        handful of rows: with nothing curated that one small query is all.
        """
        order = {article_id: n for n, article_id in enumerate(self.current().values_list("article_id", flat=True))}
        if not order:
            return []
        articles = Article.objects.published().filter(pk__in=order).select_related("section", "lead_image")
        return sorted(articles.defer("body"), key=lambda article: order[article.pk])


class FrontPageSlot(models.Model):
    """A curated place on the home page: the first current slot holding a published article is the lead."""

    natural_key_lookups = ["article__slug"]

    article = models.OneToOneField(
        Article,
        on_delete=models.CASCADE,
        related_name="front_page_slot",
        help_text="Shown on the front page only while it is published.",
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Order on the front page: the first published story is the lead."
    )
    until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Leave empty to keep it there. After this time it leaves the front page by itself.",
    )

    objects = NaturalKeyManager.from_queryset(FrontPageSlotQuerySet)()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "front-page story"
        verbose_name_plural = "front page"

    def __str__(self):
        return str(self.article)

    def natural_key(self):
        return self.article.natural_key()

    natural_key.dependencies = ["articles.article"]

    @property
    def has_ended(self):
        return self.until is not None and self.until <= timezone.now()

    @classmethod
    def next_position(cls):
        """The position after the last slot: new stories go to the bottom of the list."""
        last = cls.objects.aggregate(last=models.Max("position"))["last"]
        return 0 if last is None else last + 1


class BreakingNewsQuerySet(models.QuerySet):
    def get_by_natural_key(self, text, starts_at):
        return self.get(text=text, starts_at=starts_at)

    def current(self):
        """Banners showing now: started, and not yet at their end time."""
        now = timezone.now()
        return self.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now), starts_at__lte=now)


class BreakingNews(models.Model):
    """A one-line banner on every public page; the newest current one shows."""

    text = models.CharField(
        max_length=200, help_text="One short line, e.g. “Earthquake in central Italy: follow live”."
    )
    url = models.CharField(
        "link",
        max_length=500,
        help_text="Where the line leads: an address on this site (/2026/12/03/…) or a full https:// address.",
    )
    starts_at = models.DateTimeField(
        "shows from", default=timezone.now, help_text="Shows on every page from this time."
    )
    ends_at = models.DateTimeField(
        "shows until",
        null=True,
        blank=True,
        help_text="Leave empty to show it until you delete it or set a time. At this time it disappears by itself.",
    )

    objects = BreakingNewsQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = "breaking-news banner"
        verbose_name_plural = "breaking-news banners"
        constraints = [
            models.UniqueConstraint(
                fields=["text", "starts_at"],
                name="breakingnews_unique_text_start",
                violation_error_message="This banner already exists.",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="breakingnews_ends_after_start",
                violation_error_message="The banner must end after it starts.",
            ),
            models.CheckConstraint(
                condition=(Q(url__startswith="/") & ~Q(url__startswith="//"))
                | Q(url__startswith="https://")
                | Q(url__startswith="http://"),
                name="breakingnews_url_is_a_link",
                violation_error_message="The link must be an address on this site (/…) or start with https://.",
            ),
            *max_length_checks("breakingnews", text=200, url=500),
        ]

    def __str__(self):
        return self.text

    def natural_key(self):
        return (self.text, self.starts_at)

    @property
    def is_current(self):
        now = timezone.now()
        return self.starts_at <= now and (self.ends_at is None or self.ends_at > now)
