from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone
from django.utils.text import Truncator
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

from ..fields import SanitizedHTMLField
from ..urlmemo import reverse_memo
from .base import NaturalKeyManager
from .images import Rendition
from .taxonomy import Author, Section, Tag

RELATED_ARTICLES_COUNT = 4
# The tag-filled related articles come from the articles written around this one
# (this many ids either side); the best RELATED_CANDIDATES of them by shared tags are ranked.
RELATED_WINDOW = 1000
RELATED_CANDIDATES = 20


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """The one visibility rule: published, and its publication time has come."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())

    def scheduled(self):
        """Published, but hidden from readers until its publication time comes."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__gt=timezone.now())

    def with_listing_data(self):
        """
        What a teaser needs (section, byline, lead image and its renditions), in
        a constant number of queries: the renditions query runs only when some
        article on the page has a lead image.
        """
        return self.select_related("section", "lead_image").prefetch_related(
            Prefetch("authorships", queryset=Authorship.objects.select_related("author")),
            Prefetch("lead_image__renditions", queryset=Rendition.objects.order_by("width", "id")),
        )

    def newest_first(self):
        return self.order_by("-published_at", "-id")

    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    headline = models.CharField(max_length=255)
    slug = models.SlugField(
        max_length=200, unique=True, help_text="The last part of the article's address. Keep it once published."
    )
    standfirst = models.TextField(
        blank=True, help_text="The one or two sentences under the headline; also the page's description."
    )
    body = SanitizedHTMLField(blank=True)
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.PROTECT, related_name="articles")
    authors = models.ManyToManyField(Author, through="Authorship", blank=True, related_name="articles")
    credit = models.CharField(
        max_length=255, blank=True, help_text="Shown after the byline, e.g. “Al Jazeera and news agencies”."
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    published_at = models.DateTimeField(
        "publication time",
        default=timezone.now,
        help_text="Hidden from readers until this time, even when published. A future time schedules the article.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    tags = TaggableManager(through="TaggedArticle", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        default=None,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        # Workflow bookkeeping, not content: fixtures move between sites without user accounts.
        serialize=False,
        help_text="Who wrote it first in the admin: reporters may edit their own drafts.",
    )
    version = models.PositiveIntegerField(
        default=0,
        help_text="Goes up by one on every save; the admin uses it to catch edit conflicts.",
    )
    lead_image = models.ForeignKey(
        "Image",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
        help_text="Shown at the top of the article, as its thumbnail in lists and on social cards.",
    )
    lead_image_caption = models.TextField(
        "caption for this article",
        blank=True,
        default="",
        help_text="Replaces the image's own caption on this article only. Leave empty to use the image's caption.",
    )
    live_coverage = models.BooleanField(
        "live page",
        default=False,
        help_text="Coverage as it happens: timestamped updates, newest first, with key points at the top. "
        "Readers' pages fetch new updates by themselves.",
    )
    coverage_ended_at = models.DateTimeField(
        "live coverage ended",
        null=True,
        blank=True,
        help_text="Set when the coverage is over: the page says so and stops looking for new updates.",
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["status", "published_at", "id"], name="article_status_published_idx"),
            # A section's page, newest first, for small sections as well as big ones.
            models.Index(fields=["section", "status", "published_at", "id"], name="article_section_published_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(live_coverage=True) | Q(coverage_ended_at__isnull=True),
                name="article_coverage_end_on_live_pages",
                violation_error_message="Only a live page has an end of live coverage.",
            ),
        ]
        permissions = [("publish_article", "Can publish, unpublish and schedule articles")]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        self.updated_at = timezone.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at", "version"}
        if not self._state.adding:
            # Incremented in the UPDATE itself, so two saves never hand out the
            # same number; Django reads the new value back (RETURNING).
            self.version = F("version") + 1
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        published = timezone.localtime(self.published_at)
        return reverse_memo(
            "articles:article", year=published.year, month=published.month, day=published.day, slug=self.slug
        )

    def natural_key(self):
        return (self.slug,)

    @property
    def byline(self):
        """The authors in byline order (prefetched by with_listing_data())."""
        return [authorship.author for authorship in self.authorships.all()]

    @property
    def is_live(self):
        """True when readers can see it; mirrors ArticleQuerySet.published() for one instance."""
        return self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()

    @property
    def is_scheduled(self):
        return self.status == self.Status.PUBLISHED and self.published_at > timezone.now()

    @property
    def coverage_is_ongoing(self):
        """A live page whose coverage has not ended: readers' pages look for new updates."""
        return self.live_coverage and self.coverage_ended_at is None

    @property
    def was_updated(self):
        """Edited after it was written and published (a minute's grace for the publishing save)."""
        return self.updated_at - max(self.published_at, self.created_at) > timedelta(minutes=1)

    @property
    def lead_caption(self):
        """The caption shown under the lead image: this article's override, else the image's own."""
        if not self.lead_image_id:
            return ""
        return self.lead_image_caption or self.lead_image.caption

    @property
    def social_image(self):
        """
        The 1200×630 social-card rendition of the lead image (a Rendition with
        url, width and height), or None. Needs the renditions prefetched by
        with_listing_data() to stay query-free.
        """
        return self.lead_image.social_rendition if self.lead_image_id else None

    def description(self):
        return Truncator(self.standfirst).chars(160) if self.standfirst else self.headline

    def corrections_for_readers(self):
        """
        (updates, corrections and clarifications) as readers see them, oldest
        first, from the prefetched `corrections`; none while the article is not live.
        """
        if not self.is_live:
            return [], []
        notes = list(self.corrections.all())
        updates = [note for note in notes if note.kind == note.Kind.UPDATE]
        return updates, [note for note in notes if note.kind != note.Kind.UPDATE]

    @property
    def _older_than_me(self):
        # The first term is implied by the second; it gives the database a range on the
        # (status, published_at, id) index to start from (PostgreSQL cannot derive it from the OR).
        return Q(published_at__lte=self.published_at) & (
            Q(published_at__lt=self.published_at) | Q(published_at=self.published_at, id__lt=self.id)
        )

    @property
    def _newer_than_me(self):
        return Q(published_at__gte=self.published_at) & (
            Q(published_at__gt=self.published_at) | Q(published_at=self.published_at, id__gt=self.id)
        )

    def get_previous_and_next_published(self, scope=None):
        """
        (previous, next) by (published_at, id), within `scope` (a queryset of
        articles, e.g. one tag's) when given, in one query: each side is an
        index-served subquery.
        """
        articles = (Article.objects.all() if scope is None else scope).published()
        older = articles.filter(self._older_than_me).order_by("-published_at", "-id").values("pk")[:1]
        newer = articles.filter(self._newer_than_me).order_by("published_at", "id").values("pk")[:1]
        previous = following = None
        for other in Article.objects.filter(Q(pk=Subquery(older)) | Q(pk=Subquery(newer))).only(
            "headline", "slug", "published_at"
        ):
            if (other.published_at, other.pk) < (self.published_at, self.pk):
                previous = other
            else:
                following = other
        return previous, following

    def get_previous_published(self, scope=None):
        """The published article immediately older, by (published_at, id); within `scope` when given."""
        return self.get_previous_and_next_published(scope)[0]

    def get_next_published(self, scope=None):
        """The published article immediately newer, by (published_at, id); within `scope` when given."""
        return self.get_previous_and_next_published(scope)[1]

    @staticmethod
    def _published_among(pks):
        """
        The published articles among `pks` (a subquery), found by primary key and
        each checked against published(). Filtering the outer query with
        published() directly lets SQLite (which has no statistics unless ANALYZE
        runs) walk the whole (status, published_at) index instead.
        """
        return Article.objects.filter(pk__in=pks).filter(Exists(Article.objects.published().filter(pk=OuterRef("pk"))))

    def get_related_articles(self, limit=RELATED_ARTICLES_COUNT):
        """
        The editor's curated links in position order, then, up to `limit`, the
        published articles sharing the most tags (most recent first on ties)
        among the RELATED_WINDOW articles written before and after this one.
        Two queries, whatever the number of tags or articles; the window keeps
        the second one's cost the same at any size of archive (a busy tag is on
        thousands of articles).
        """
        curated = list(
            self._published_among(Related.objects.filter(article=self).values("related_article"))
            .annotate(
                position=Subquery(
                    Related.objects.filter(article=self, related_article=OuterRef("pk")).values("position")[:1]
                )
            )
            .order_by("position", "id")
            .only("headline", "slug", "published_at", "standfirst")
        )
        if len(curated) >= limit:
            return curated[:limit]
        my_tags = TaggedArticle.objects.filter(content_object=self).values("tag")
        candidates = (
            TaggedArticle.objects.filter(
                tag__in=my_tags,
                content_object__gte=self.pk - RELATED_WINDOW,
                content_object__lte=self.pk + RELATED_WINDOW,
            )
            .exclude(content_object__in=[self.pk, *(article.pk for article in curated)])
            .values("content_object")
            .annotate(shared=Count("id"))
            .order_by("-shared", "-content_object")
            .values("content_object")[:RELATED_CANDIDATES]
        )
        fill = (
            self._published_among(candidates)
            .filter(tags__in=my_tags)
            .annotate(shared_tags=Count("id"))
            .order_by("-shared_tags", "-published_at", "-id")
            .only("headline", "slug", "published_at", "standfirst")[: limit - len(curated)]
        )
        return curated + list(fill)


class Authorship(models.Model):
    """An author's place in an article's byline."""

    natural_key_lookups = ["article__slug", "author__slug"]

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="authorships")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="authorships")
    position = models.PositiveSmallIntegerField(default=0)

    objects = NaturalKeyManager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["article", "author"], name="authorship_unique_author"),
        ]

    def __str__(self):
        return f"{self.author} on “{self.article}”"

    def natural_key(self):
        return self.article.natural_key() + self.author.natural_key()

    natural_key.dependencies = ["articles.article", "articles.author"]


class TaggedArticle(TaggedItemBase):
    natural_key_lookups = ["content_object__slug", "tag__slug"]

    content_object = models.ForeignKey(Article, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="taggedarticle_items")

    objects = NaturalKeyManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_object", "tag"], name="taggedarticle_unique_tag"),
        ]
        indexes = [
            # A tag's articles without touching the article table (related fill-in, rare tags' pages).
            models.Index(fields=["tag", "content_object"], name="taggedarticle_tag_article_idx"),
        ]

    def natural_key(self):
        return self.content_object.natural_key() + self.tag.natural_key()

    natural_key.dependencies = ["articles.article", "articles.tag"]


class Related(models.Model):
    """An editor's curated link from one article to another."""

    natural_key_lookups = ["article__slug", "related_article__slug"]

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="related_links")
    related_article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="related_from")
    position = models.PositiveSmallIntegerField(default=0)

    objects = NaturalKeyManager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "related article"
        verbose_name_plural = "related articles"
        constraints = [
            models.UniqueConstraint(fields=["article", "related_article"], name="related_unique_pair"),
            models.CheckConstraint(condition=~Q(article=F("related_article")), name="related_not_itself"),
        ]

    def __str__(self):
        return f"“{self.article}” → “{self.related_article}”"

    def natural_key(self):
        return self.article.natural_key() + self.related_article.natural_key()

    natural_key.dependencies = ["articles.article"]
