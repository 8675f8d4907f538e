from datetime import timedelta

from django.conf import settings
from django.db import connections, models
from django.db.models import F, Prefetch, Q, prefetch_related_objects
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

from ..fields import SanitizedHTMLField
from ..urlmemo import reverse_memo
from .base import NaturalKeyManager, max_length_checks
from .images import Rendition
from .taxonomy import Author, Section, Tag, TagsByKeyManager

RELATED_ARTICLES_COUNT = 4
# The tag-filled related articles come from the articles written around this one
# (this many ids either side); the best RELATED_CANDIDATES of them by shared tags are ranked.
RELATED_WINDOW = 1000
RELATED_CANDIDATES = 20
# What a related article's teaser shows (get_related_articles()).
TEASER_FIELDS = ("headline", "slug", "published_at", "standfirst", "lead_image")


def listing_prefetches():
    """A teaser's byline and lead image renditions; pages mixing several lists prefetch them once."""
    # to_attr: a plain list on each article; without it, prefetch_related() builds a
    # filtered queryset per article, which cost more than the page's own query.
    return (
        Prefetch("authorships", queryset=Authorship.objects.select_related("author"), to_attr="byline_order"),
        lead_image_renditions(),
    )


def lead_image_renditions():
    """The lead image's renditions, smallest first, as pictures and social cards read them."""
    return Prefetch("lead_image__renditions", queryset=Rendition.objects.order_by("width", "id"))


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
        return self.select_related("section", "lead_image").prefetch_related(*listing_prefetches())

    def newest_first(self):
        return self.order_by("-published_at", "-id")

    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Article(models.Model):
    Status = ArticleStatus

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
    publication_time_chosen = models.BooleanField(
        default=False,
        help_text=(
            "Set when an editor chose the publication time (a schedule, a back-date) or the article went live: "
            "publishing keeps that time. Otherwise publishing sets it to the moment of publication."
        ),
    )
    first_published_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When it first went live (or is scheduled to): from then on its preview links are dead for good.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    tags = TaggableManager(through="TaggedArticle", blank=True, manager=TagsByKeyManager)
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
        permissions = [("publish_article", "Can publish, unpublish and schedule articles")]
        constraints = [
            models.CheckConstraint(
                condition=Q(live_coverage=True) | Q(coverage_ended_at__isnull=True),
                name="article_coverage_end_on_live_pages",
                violation_error_message="Only a live page has an end of live coverage.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ArticleStatus.values),
                name="article_status_valid",
                violation_error_message="The status is draft or published.",
            ),
            *max_length_checks("article", headline=255, slug=200, credit=255, status=10),
        ]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        self.updated_at = timezone.now()
        self.note_first_publication()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at", "version", "first_published_at"}
        previous_address = None
        if not self._state.adding:
            # Incremented in the UPDATE itself, so two saves never hand out the
            # same number; Django reads the new value back (RETURNING).
            self.version = F("version") + 1
            previous_address = self.address_readers_may_know()
        super().save(*args, **kwargs)
        if previous_address is not None:
            self.remember_address(previous_address)

    def get_absolute_url(self):
        published = timezone.localtime(self.published_at)
        return reverse_memo(
            "articles:article", year=published.year, month=published.month, day=published.day, slug=self.slug
        )

    def natural_key(self):
        return (self.slug,)

    def address_readers_may_know(self):
        """
        The stored article's address when readers may have it (it is or was
        published, or its time is set), else None. Read before a save that may move it.
        """
        stored = (
            Article.objects.filter(pk=self.pk)
            .filter(Q(status=Article.Status.PUBLISHED) | Q(publication_time_chosen=True))
            .values("slug", "published_at")
            .first()
        )
        return Article(**stored).get_absolute_url() if stored else None

    def remember_address(self, old_address):
        """After a move: the old address redirects here for good (articles.ArticleRedirect)."""
        from .redirects import ArticleRedirect

        if old_address != self.get_absolute_url():
            ArticleRedirect.objects.remember(self, old_address)

    def time_to_publish(self, now):
        """The one rule: publishing keeps a time an editor chose (or it had when live), else it is now."""
        return self.published_at if self.publication_time_chosen else now

    def missing_for_publication(self, *, has_byline=None):
        """
        What the article still needs before readers may see it, as phrases for
        one message ("a standfirst", ...); empty when it is ready. Every way
        of going live asks this (services.publish_articles, the admin form,
        restores). `has_byline` for a byline not saved yet (the admin's inline).
        """
        if has_byline is None:
            has_byline = self.pk is not None and self.authorships.exists()
        missing = []
        if not self.headline.strip():
            missing.append("a headline")
        if not self.standfirst.strip():
            missing.append("a standfirst")
        if not strip_tags(self.body or "").strip():
            missing.append("a body with text")
        if self.section_id is None:
            missing.append("a section")
        if not (has_byline or self.credit.strip()):
            missing.append("a byline or a credit")
        if self.lead_image_id is not None and not self.lead_image.alt_text.strip():
            missing.append("alt text for the lead image (in the photo library)")
        return missing

    def note_first_publication(self):
        """
        Keep first_published_at: until that time has passed it follows the
        schedule (a scheduled article taken back was never live); after, it stays.
        """
        if self.first_published_at is None or self.first_published_at > timezone.now():
            self.first_published_at = self.published_at if self.status == self.Status.PUBLISHED else None

    @property
    def has_been_live(self):
        return self.first_published_at is not None and self.first_published_at <= timezone.now()

    @property
    def byline(self):
        """The authors in byline order (loaded by with_listing_data() or load_page_data())."""
        authorships = getattr(self, "byline_order", None)
        if authorships is None:
            authorships = self.authorships.all()
        return [authorship.author for authorship in authorships]

    def load_page_data(self):
        """
        Load the byline, tags and corrections an article page shows in one
        query, where prefetch_related() would put them, so that byline,
        tags.all() and corrections.all() read them without a query. Three
        prefetches cost four times the CPU of this query (docs/performance.md).
        """
        db = self._state.db or "default"
        # Each part is ordered in its own subquery, where PostgreSQL types a bare NULL as text:
        # the empty time column is cast to the database's own type for a DateTimeField.
        no_time = f"CAST(NULL AS {connections[db].data_types['DateTimeField']})"
        sql = f"""
            SELECT * FROM (SELECT 'correction' AS part, c.id, c.created_by_id AS other_id, c.kind AS name,
                '' AS slug, c.text, c.created_at, 0 AS position
                FROM articles_correction c WHERE c.article_id = %s ORDER BY c.created_at, c.id) corrections
            UNION ALL
            SELECT * FROM (SELECT 'author', w.id, w.author_id, a.name, a.slug, '', {no_time}, w.position
                FROM articles_authorship w JOIN articles_author a ON a.id = w.author_id
                WHERE w.article_id = %s ORDER BY w.position, w.id) byline
            UNION ALL
            SELECT * FROM (SELECT 'tag', t.id, t.id, t.name, t.slug, '', {no_time}, 0
                FROM articles_taggedarticle x JOIN articles_tag t ON t.id = x.tag_id
                WHERE x.content_object_id = %s ORDER BY t.name, t.id) tags
        """
        Correction = self.corrections.model
        created_at = Correction._meta.get_field("created_at").get_col(Correction._meta.db_table)
        converters = connections[db].ops.get_db_converters(created_at) + created_at.get_db_converters(connections[db])
        found = {"corrections": [], "byline_order": [], "tags": []}
        with connections[db].cursor() as cursor:
            cursor.execute(sql, [self.pk] * 3)
            for part, pk, other_id, name, slug, text, at, position in cursor.fetchall():
                if part == "correction":
                    for convert in converters:
                        at = convert(at, created_at, connections[db])
                    # from_db() takes the values in the model's field order.
                    fields = ["id", "article_id", "kind", "text", "created_at", "created_by_id"]
                    values = [pk, self.pk, name, text, at, other_id]
                    found["corrections"].append(Correction.from_db(db, fields, values))
                elif part == "author":
                    authorship = Authorship.from_db(
                        db, ["id", "article_id", "author_id", "position"], [pk, self.pk, other_id, position]
                    )
                    authorship.author = Author.from_db(db, ["id", "name", "slug"], [other_id, name, slug])
                    found["byline_order"].append(authorship)
                else:
                    found["tags"].append(Tag.from_db(db, ["id", "name", "slug"], [pk, name, slug]))
        self.byline_order = found.pop("byline_order")
        # What prefetch_related() does with the rows it fetched (QuerySet.prefetch_one_level).
        cache = self.__dict__.setdefault("_prefetched_objects_cache", {})
        for name, rows in found.items():
            queryset = getattr(self, name).get_queryset()
            queryset._result_cache, queryset._prefetch_done = rows, True
            cache[name] = queryset
        if self.lead_image_id:
            prefetch_related_objects([self], lead_image_renditions())
        return self

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

    def get_links(self, scope=None, *, related=RELATED_ARTICLES_COUNT):
        """ArticleLinks(previous, next, related) for this article's page, in one query (links.article_links)."""
        from .links import article_links  # links.py builds on this module's models

        return article_links(self, scope, related=related)

    def get_previous_and_next_published(self, scope=None):
        """(previous, next) published articles by (published_at, id), within `scope` (a Section or Tag) when given."""
        links = self.get_links(scope, related=0)
        return links.previous, links.next

    def get_previous_published(self, scope=None):
        return self.get_previous_and_next_published(scope)[0]

    def get_next_published(self, scope=None):
        return self.get_previous_and_next_published(scope)[1]

    def get_related_articles(self, limit=RELATED_ARTICLES_COUNT):
        """Curated, then tag-filled related articles, as get_links() finds them."""
        return self.get_links(related=limit).related


@receiver(pre_save, sender=Article)
def _note_first_publication_on_fixture_load(sender, instance, raw, **kwargs):
    """loaddata saves raw, without calling save(): a published article from a fixture has been published too."""
    if raw:
        instance.note_first_publication()


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
