from datetime import timedelta

from django.db import models
from django.db.models import Count, F, Prefetch, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from taggit.managers import TaggableManager
from taggit.models import TagBase, TaggedItemBase

from .fields import SanitizedHTMLField

RELATED_ARTICLES_COUNT = 4


class NaturalKeyManager(models.Manager):
    """Finds a row by the lookups its model lists in `natural_key_lookups`."""

    def get_by_natural_key(self, *key):
        return self.get(**dict(zip(self.model.natural_key_lookups, key, strict=True)))


class Section(models.Model):
    natural_key_lookups = ["slug"]

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(
        blank=True, help_text="One or two sentences shown on the section page and in search results."
    )

    objects = NaturalKeyManager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)

    def get_absolute_url(self):
        return reverse("articles:section", kwargs={"slug": self.slug})


class Author(models.Model):
    natural_key_lookups = ["slug"]

    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True)
    bio = models.TextField(blank=True, help_text="Plain text, shown on the author's page.")

    objects = NaturalKeyManager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)

    def get_absolute_url(self):
        return reverse("articles:author", kwargs={"slug": self.slug})


class Tag(TagBase):
    natural_key_fields = ["slug"]  # taggit's name for it
    natural_key_lookups = ["slug"]

    objects = NaturalKeyManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="tag_name_unique_ignoring_case"),
        ]

    def natural_key(self):
        return (self.slug,)

    def get_absolute_url(self):
        return reverse("articles:tag", kwargs={"slug": self.slug})


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """The one visibility rule: published, and its publication time has come."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())

    def with_listing_data(self):
        """What a teaser needs (section and byline), in a constant number of queries."""
        return self.select_related("section").prefetch_related(
            Prefetch("authorships", queryset=Authorship.objects.select_related("author"))
        )

    def publish_now(self):
        """Make every article here live now; those already live keep their time. Returns how many changed."""
        now = timezone.now()
        return self.exclude(status=Article.Status.PUBLISHED, published_at__lte=now).update(
            status=Article.Status.PUBLISHED, published_at=now, updated_at=now
        )

    def unpublish(self):
        """Return published and scheduled articles to draft. Returns how many changed."""
        return self.filter(status=Article.Status.PUBLISHED).update(
            status=Article.Status.DRAFT, updated_at=timezone.now()
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
    section = models.ForeignKey(
        Section, null=True, blank=True, on_delete=models.PROTECT, related_name="articles"
    )
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

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["status", "published_at", "id"], name="article_status_published_idx"),
        ]
        permissions = [("publish_article", "Can publish, unpublish and schedule articles")]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        self.updated_at = timezone.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        published = timezone.localtime(self.published_at)
        return reverse(
            "articles:article",
            kwargs={
                "year": published.year,
                "month": published.month,
                "day": published.day,
                "slug": self.slug,
            },
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
    def was_updated(self):
        """Edited after it was written and published (a minute's grace for the publishing save)."""
        return self.updated_at - max(self.published_at, self.created_at) > timedelta(minutes=1)

    def description(self):
        return Truncator(self.standfirst).chars(160) if self.standfirst else self.headline

    def get_previous_published(self):
        """The published article immediately older, by (published_at, id)."""
        return (
            Article.objects.published()
            .filter(Q(published_at__lt=self.published_at) | Q(published_at=self.published_at, id__lt=self.id))
            .order_by("-published_at", "-id")
            .only("headline", "slug", "published_at")
            .first()
        )

    def get_next_published(self):
        """The published article immediately newer, by (published_at, id)."""
        return (
            Article.objects.published()
            .filter(Q(published_at__gt=self.published_at) | Q(published_at=self.published_at, id__gt=self.id))
            .order_by("published_at", "id")
            .only("headline", "slug", "published_at")
            .first()
        )

    def get_related_articles(self, limit=RELATED_ARTICLES_COUNT):
        """
        The editor's curated links in position order, then, up to `limit`, the
        published articles sharing the most tags (most recent first on ties).
        Two queries, whatever the number of tags or articles.
        """
        curated = list(
            Article.objects.published()
            .filter(related_from__article=self)
            .order_by("related_from__position", "related_from__id")
            .only("headline", "slug", "published_at", "standfirst")
        )
        if len(curated) >= limit:
            return curated[:limit]
        fill = (
            Article.objects.published()
            .filter(tags__taggedarticle_items__content_object=self)
            .exclude(pk=self.pk)
            .exclude(pk__in=[article.pk for article in curated])
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
            models.CheckConstraint(
                condition=~Q(article=F("related_article")), name="related_not_itself"
            ),
        ]

    def __str__(self):
        return f"“{self.article}” → “{self.related_article}”"

    def natural_key(self):
        return self.article.natural_key() + self.related_article.natural_key()

    natural_key.dependencies = ["articles.article"]
