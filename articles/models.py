import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Prefetch, ProtectedError, Q, Subquery
from django.db.models.functions import Lower
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import Truncator
from taggit.managers import TaggableManager
from taggit.models import TagBase, TaggedItemBase

from . import caching
from .fields import SanitizedHTMLField
from .urlmemo import reverse_memo

RELATED_ARTICLES_COUNT = 4
# The tag-filled related articles come from the articles written around this one
# (this many ids either side); the best RELATED_CANDIDATES of them by shared tags are ranked.
RELATED_WINDOW = 1000
RELATED_CANDIDATES = 20


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

    def get_absolute_url(self):
        return reverse_memo("articles:section", slug=self.slug)

    def natural_key(self):
        return (self.slug,)


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

    def get_absolute_url(self):
        return reverse_memo("articles:author", slug=self.slug)

    def natural_key(self):
        return (self.slug,)


class Tag(TagBase):
    natural_key_fields = ["slug"]  # taggit's name for it
    natural_key_lookups = ["slug"]

    objects = NaturalKeyManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="tag_name_unique_ignoring_case",
                violation_error_message="A tag with this name already exists (tag names ignore upper and lower case).",
            ),
        ]

    def natural_key(self):
        return (self.slug,)

    def get_absolute_url(self):
        return reverse_memo("articles:tag", slug=self.slug)


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """The one visibility rule: published, and its publication time has come."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())

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

    def publish_now(self):
        """Make every article here live now; those already live keep their time. Returns how many changed."""
        now = timezone.now()
        changed = self.exclude(status=Article.Status.PUBLISHED, published_at__lte=now).update(
            status=Article.Status.PUBLISHED, published_at=now, updated_at=now, version=F("version") + 1
        )
        if changed:
            caching.content_changed()  # update() sends no post_save
        return changed

    def unpublish(self):
        """Return published and scheduled articles to draft. Returns how many changed."""
        changed = self.filter(status=Article.Status.PUBLISHED).update(
            status=Article.Status.DRAFT, updated_at=timezone.now(), version=F("version") + 1
        )
        if changed:
            caching.content_changed()  # update() sends no post_save
        return changed

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

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["status", "published_at", "id"], name="article_status_published_idx"),
            # A section's page, newest first, for small sections as well as big ones.
            models.Index(fields=["section", "status", "published_at", "id"], name="article_section_published_idx"),
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
        updates = [note for note in notes if note.kind == Correction.Kind.UPDATE]
        return updates, [note for note in notes if note.kind != Correction.Kind.UPDATE]

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
        (previous, next) as get_previous_published() and get_next_published()
        return them, in one query: each side is an index-served subquery.
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
        """
        The published article immediately older, by (published_at, id); within
        `scope` (a queryset of articles, e.g. one tag's) when given.
        """
        return (
            (Article.objects.all() if scope is None else scope)
            .published()
            .filter(self._older_than_me)
            .order_by("-published_at", "-id")
            .only("headline", "slug", "published_at")
            .first()
        )

    def get_next_published(self, scope=None):
        """The published article immediately newer, by (published_at, id); within `scope` when given."""
        return (
            (Article.objects.all() if scope is None else scope)
            .published()
            .filter(self._newer_than_me)
            .order_by("published_at", "id")
            .only("headline", "slug", "published_at")
            .first()
        )

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


def new_preview_token():
    return secrets.token_urlsafe(32)


def preview_expiry():
    return timezone.now() + timedelta(hours=settings.NEWSROOM_PREVIEW_HOURS)


class PreviewLinkQuerySet(models.QuerySet):
    def active(self):
        """Links that still open their article: not revoked and not expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


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
        return not self.is_revoked and not self.is_expired

    def revoke(self):
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


def image_upload_to(image, filename):
    """Originals are named by their content hash, never by the uploader's file name."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "img"
    return f"images/{image.sha256[:2]}/{image.sha256}.{extension}"


class Image(models.Model):
    """A photo in the library: described once (alt text, caption, credit), used on many articles."""

    natural_key_lookups = ["sha256"]

    file = models.FileField(
        upload_to=image_upload_to,
        max_length=255,
        help_text="JPEG, PNG, WebP or GIF, up to 25 MB and 50 megapixels. Location and camera data are removed.",
    )
    alt_text = models.CharField(
        "alt text",
        max_length=300,
        help_text="What the photo shows, for readers who cannot see it. Required. E.g. “Soldiers unload a "
        "helicopter at Bamako airport”.",
    )
    caption = models.TextField(blank=True, help_text="Shown under the photo. An article can replace it.")
    credit = models.CharField(max_length=255, blank=True, help_text="E.g. “Reuters/Moussa Sissoko”.")
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    focal_x = models.FloatField(
        "focal point (across)",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="0 is the left edge, 1 the right. Crops (e.g. social cards) keep this point in view.",
    )
    focal_y = models.FloatField(
        "focal point (down)",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="0 is the top edge, 1 the bottom. Leave both empty for the centre.",
    )
    sha256 = models.CharField(
        "content hash", max_length=64, unique=True, editable=False, help_text="SHA-256 of the stored file."
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        editable=False,
        related_name="uploaded_images",
    )
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = NaturalKeyManager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(width__gt=0, height__gt=0), name="image_has_dimensions"),
            models.CheckConstraint(
                condition=(Q(focal_x__isnull=True) | Q(focal_x__gte=0, focal_x__lte=1))
                & (Q(focal_y__isnull=True) | Q(focal_y__gte=0, focal_y__lte=1)),
                name="image_focal_point_inside",
            ),
        ]

    def __str__(self):
        return Truncator(self.alt_text).chars(80)

    def delete(self, *args, **kwargs):
        # Django's ProtectedError only names the field; editors need the articles.
        used_by = list(self.articles.order_by("headline"))
        if used_by:
            raise ProtectedError(
                f"The image “{self}” is the lead image of {len(used_by)} article(s): "
                + ", ".join(f"“{article}”" for article in used_by)
                + ". Choose another lead image for them first.",
                set(used_by),
            )
        return super().delete(*args, **kwargs)

    def natural_key(self):
        return (self.sha256,)

    @property
    def focal_point(self):
        """(x, y) between 0 and 1; the centre when none is set."""
        return (
            0.5 if self.focal_x is None else self.focal_x,
            0.5 if self.focal_y is None else self.focal_y,
        )

    @cached_property
    def picture(self):
        """
        Everything a <picture> needs (includes/picture.html), from the rendition
        rows alone (prefetched by with_listing_data()): no storage access, no
        decoding. Until renditions exist, the (metadata-free) original stands in.
        """
        return self._picture(default_width=960)

    @cached_property
    def thumbnail_picture(self):
        """The same for list thumbnails: candidates up to 640 pixels wide."""
        return self._picture(default_width=320, max_width=640)

    def _picture(self, *, default_width, max_width=None):
        ladder = [
            rendition
            for rendition in self.renditions.all()
            if rendition.kind == Rendition.Kind.WIDTH and (max_width is None or rendition.width <= max_width)
        ]
        by_format = {}
        for rendition in sorted(ladder, key=lambda rendition: rendition.width):
            by_format.setdefault(rendition.format, []).append(rendition)
        fallback = by_format.get(Rendition.Format.JPEG)
        if not fallback:
            return {"sources": [], "src": self.file.url, "srcset": "", "width": self.width, "height": self.height}
        default = next((r for r in fallback if r.width >= default_width), fallback[-1])
        return {
            "sources": [
                {"type": f"image/{format}", "srcset": srcset(by_format[format])}
                for format in (Rendition.Format.AVIF, Rendition.Format.WEBP)
                if format in by_format
            ],
            "src": default.url,
            "srcset": srcset(fallback),
            "width": default.width,
            "height": default.height,
        }

    @property
    def thumbnail_url(self):
        """The smallest JPEG rendition (or the original until renditions exist), for the admin."""
        jpegs = [
            rendition
            for rendition in self.renditions.all()
            if rendition.kind == Rendition.Kind.WIDTH and rendition.format == Rendition.Format.JPEG
        ]
        return min(jpegs, key=lambda rendition: rendition.width).url if jpegs else self.file.url

    @property
    def social_rendition(self):
        return next((r for r in self.renditions.all() if r.kind == Rendition.Kind.SOCIAL), None)


def srcset(renditions):
    return ", ".join(f"{rendition.url} {rendition.width}w" for rendition in renditions)


class Rendition(models.Model):
    """
    A resized copy of an image, generated once (articles/images.py) and
    recorded here so that pages are rendered from rows, never from files.
    """

    class Kind(models.TextChoices):
        WIDTH = "width", "Responsive width"
        SOCIAL = "social", "Social card (1200×630)"

    class Format(models.TextChoices):
        AVIF = "avif", "AVIF"
        WEBP = "webp", "WebP"
        JPEG = "jpeg", "JPEG"

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="renditions")
    spec = models.CharField(max_length=40, help_text="What was asked for, e.g. “w640.webp” or “social.jpeg”.")
    kind = models.CharField(max_length=10, choices=Kind)
    format = models.CharField(max_length=10, choices=Format)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    file = models.FileField(max_length=255)
    signature = models.CharField(
        max_length=16, help_text="A digest of the source and the settings it was made with; stale when it differs."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["image", "kind", "format", "width"]
        constraints = [
            models.UniqueConstraint(fields=["image", "spec"], name="rendition_unique_spec"),
        ]

    def __str__(self):
        return f"{self.spec} ({self.width}×{self.height}) of “{self.image}”"

    @property
    def url(self):
        # Storage.url() builds a URL from the name: no file-system or network access.
        return self.file.url


class ArticleSearchEntry(models.Model):
    """
    An article's row in the SQLite full-text index: an FTS5 table that triggers
    keep in sync with the articles (articles/search.py). Read-only; it exists on
    SQLite only (PostgreSQL indexes the article table itself).
    """

    article = models.OneToOneField(
        Article,
        primary_key=True,
        db_column="rowid",
        db_constraint=False,
        on_delete=models.DO_NOTHING,
        related_name="search_entry",
    )
    headline = models.TextField()
    standfirst = models.TextField()
    body = models.TextField(help_text="The body's text, without HTML.")
    # FTS5's hidden column named after the table: `articles_search = 'query'` is a MATCH.
    match = models.TextField(db_column="articles_search")

    class Meta:
        managed = False
        db_table = "articles_search"

    def __str__(self):
        return self.headline
