"""
No page served from the page cache is ever stale.

A hypothesis state machine makes random sequences of the edits editors make
(publish, unpublish, schedule and reschedule, move a publication time across a
neighbour's, retag, change the section or the byline, add or remove a curated
link, add a correction, change the lead image or its photo, rename and merge
tags, delete, put a story on the front page or move or take it off, post or
take down a breaking-news banner; post, edit and delete live updates, start and
end live coverage) and moves the clock (past scheduled times
front-page and banner end times, and an
article's leaving the news sitemap's 48 hours), on a running site with the page cache on.
After every step, every public page of a small corpus is fetched once through
the cache (which warms it) and compared with a fresh render of the same
request with the cache off: the same status, redirect, content type and
content, but for the CSP nonce, which is each request's own. The request to the
cache carries the ETag it last gave for the page, so a 304 (the reader's copy is
still good) is checked against the fresh render too. A page that stopped
existing (a deleted tag, an article moved to another date) is kept in the list
and must answer as a fresh render does (a 404, a redirect).

The clock is frozen at a start time and moved only by the clock rules
(time_machine): scheduled articles go live when it passes their time, with no
write to announce it, and the local-memory cache's timeouts follow the same
clock.

CI runs STALENESS_STEPS random steps (default 50, with a new seed on every run:
the corpus now has ~150 pages to compare after each step, and CI's budget is 30
minutes for both databases), split into STALENESS_PARTS tests (default 2) that
pytest-xdist spreads over the cores; each part prints its seed:
STALENESS_SEED=<seed> repeats a part, STALENESS_STEPS=3000 runs longer. Run
with -s to see the counts of steps and pages compared.
"""

import contextlib
import difflib
import math
import os
import random
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.cache import caches
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, note, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from articles import services, views
from articles.images import request_renditions
from articles.models import (
    Article,
    Author,
    Authorship,
    BreakingNews,
    Correction,
    FrontPageSlot,
    Image,
    LiveUpdate,
    Related,
    Section,
    Tag,
)
from articles.sitemaps import NEWS_WINDOW, sitemaps

from .factories import make_image

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.page_cache]

# The edits, made the way the product makes them ------------------------------------------------
# Each runs in one transaction, as an admin request does, so the cache hears of it when it commits.


def publish(article, editor):
    """
    The list's "Publish now": live at once (a scheduled article keeps nothing of its time).
    An article without a section is not ready for readers: refused, nothing changes.
    """
    with contextlib.suppress(services.NotReady):
        services.publish_articles(articles=[article], by=editor, at=timezone.now())


def unpublish(article, editor):
    services.unpublish_articles(articles=[article], by=editor)


def merge_tags(tags, into):
    services.merge_tags(tags=tags, into=into)


def schedule(article, when):
    """An editor sets the status to published and the publication time (in the future: scheduled)."""
    article.status = Article.Status.PUBLISHED
    article.published_at = when
    article.save()


def set_publication_time(article, when):
    article.published_at = when
    article.save()


def edit_headline(article, headline):
    article.headline = headline
    article.save()


def retag(article, names):
    """The admin's tag field: names, new ones created. (The admin saves the article too; the tags alone must do.)"""
    article.tags.set(names)


def change_section(article, section):
    article.section = section
    article.save()


def change_byline(article, authors):
    """The byline inline: rows removed, added and reordered, one save or delete each."""
    for authorship in article.authorships.exclude(author__in=authors):
        authorship.delete()
    existing = {authorship.author_id: authorship for authorship in article.authorships.all()}
    for position, author in enumerate(authors):
        authorship = existing.get(author.pk) or Authorship(article=article, author=author)
        if authorship.pk is None or authorship.position != position:
            authorship.position = position
            authorship.save()


def add_relation(article, other):
    position = max(article.related_links.values_list("position", flat=True), default=-1) + 1
    Related.objects.create(article=article, related_article=other, position=position)


def remove_relation(related):
    related.delete()


def add_correction(article, kind, text):
    Correction.objects.create(article=article, kind=kind, text=text)


def change_lead_image(article, image, caption):
    article.lead_image = image
    article.lead_image_caption = caption if image else ""
    article.save()


def edit_photo(image, caption, focal_point):
    """The image admin: a new caption, and a new social card when the focal point moves (ImageAdmin.save_model)."""
    moved = (image.focal_x, image.focal_y) != focal_point
    image.caption = caption
    image.focal_x, image.focal_y = focal_point
    image.save()
    if moved:
        request_renditions(image)


def put_on_front_page(article, until):
    """The article list's "Put on the front page", with an end time set in the front page's admin."""
    FrontPageSlot.objects.create(article=article, position=FrontPageSlot.next_position(), until=until)


def move_on_front_page(slot, position):
    """The front page's admin: a row dragged to another place, or its end time changed."""
    slot.position = position
    slot.save()


def post_banner(text, ends_at):
    BreakingNews.objects.create(text=text, url="/", ends_at=ends_at)


def post_live_update(article, text, is_key_point):
    """The live-update form: posted now (to the microsecond: the form sets the time itself)."""
    LiveUpdate.objects.create(article=article, body=f"<p>{text}</p>", title=text, is_key_point=is_key_point)


def edit_live_update(update, text):
    update.body = f"<p>{text}</p>"
    update.is_key_point = not update.is_key_point
    update.save()


def set_live_coverage(article, live, ended):
    article.live_coverage = live
    article.coverage_ended_at = timezone.now() if live and ended else None
    article.save()


def rename(obj, name):
    """A section, author or tag renamed: its slug, and so its address, stays."""
    obj.name = name
    obj.save()


def delete(obj):
    obj.delete()


# The corpus --------------------------------------------------------------------------------------

START = datetime(2031, 3, 1, 1, 26, 53, 589793, tzinfo=UTC)  # late February in the archive, too
HOUR = timedelta(hours=1)
PUBLISHED, DRAFT = Article.Status.PUBLISHED, Article.Status.DRAFT
SECTIONS = {"world": "World", "science": "Science", "sport": "Sport"}
AUTHORS = {"amina-diallo": "Amina Diallo", "omar-haddad": "Omar Haddad", "lena-berg": "Lena Berg"}
TAGS = ["Climate", "Space", "Elections", "Football"]
# slug: (hours from the start, status, section, tags, authors)
ARTICLES = {
    "floods-recede": (-1, PUBLISHED, "world", ["Climate"], ["amina-diallo"]),
    "comet-sighted": (-5, PUBLISHED, "science", ["Space", "Climate"], ["omar-haddad", "lena-berg"]),
    "vote-count": (-26, PUBLISHED, "world", ["Elections"], ["amina-diallo"]),
    "cup-final": (-28, PUBLISHED, "sport", ["Football"], ["lena-berg"]),
    "rover-lands": (-50, PUBLISHED, "science", ["Space"], ["omar-haddad"]),
    "heat-record": (-75, PUBLISHED, None, ["Climate"], []),
    "unfinished": (-2, DRAFT, "world", ["Elections"], ["amina-diallo"]),
    "embargoed": (2, PUBLISHED, "science", ["Space"], ["omar-haddad"]),
}
RELATIONS = [("floods-recede", "heat-record"), ("floods-recede", "embargoed"), ("vote-count", "unfinished")]
# Times an edit moves a publication to, from now: into the past (a correction of the date) or the future.
OFFSETS = [-49 * HOUR, -25 * HOUR, -3 * HOUR, timedelta(minutes=-1), timedelta(minutes=30), 3 * HOUR, 26 * HOUR]
# Moves of a publication time to a neighbour's: just before, the same instant (the id decides), just after.
NUDGES = [timedelta(seconds=-1), timedelta(0), timedelta(microseconds=1), timedelta(seconds=61)]
CLOCK_STEPS = [timedelta(seconds=1), timedelta(minutes=1), timedelta(minutes=10), 6 * HOUR, 25 * HOUR]

STALENESS_STEPS = int(os.environ.get("STALENESS_STEPS", "50"))
STALENESS_PARTS = int(os.environ.get("STALENESS_PARTS", "2"))
STEPS_PER_RUN = 25
DIFF_LINES = 30
counts = Counter()


def build_corpus(editor):
    sections = {slug: Section.objects.create(name=name, slug=slug) for slug, name in SECTIONS.items()}
    authors = {slug: Author.objects.create(name=name, slug=slug) for slug, name in AUTHORS.items()}
    for name in TAGS:
        Tag.objects.create(name=name, slug=name.lower())
    articles = {}
    for slug, (hours, status, section, tags, bylines) in ARTICLES.items():
        article = Article.objects.create(
            headline=slug.replace("-", " ").capitalize(),
            slug=slug,
            standfirst=f"What happened: {slug}.",
            body=f"<p>The story of {slug}.</p>",
            credit="Newsroom staff",
            status=status,
            published_at=START + hours * HOUR,
            section=sections.get(section),
            created_by=editor,
        )
        article.tags.set(tags)
        for position, author in enumerate(bylines):
            Authorship.objects.create(article=article, author=authors[author], position=position)
        articles[slug] = article
    for source, target in RELATIONS:
        add_relation(articles[source], articles[target])
    add_correction(articles["vote-count"], Correction.Kind.CORRECTION, "An earlier version gave the wrong turnout.")
    add_correction(articles["comet-sighted"], Correction.Kind.UPDATE, "Observatories confirmed the sighting.")
    photos = [make_image(width=400, height=260, caption="Rising water"), make_image(width=360, height=240)]
    change_lead_image(articles["floods-recede"], photos[0], "")
    # A photo in a body (and an embed), and a live page with an update.
    articles["comet-sighted"].body += (
        f'<figure data-image-id="{photos[1].pk}"><img src="/x.jpg" alt=""></figure>'
        "<p>https://www.youtube.com/watch?v=dQw4w9WgXcQ</p>"
    )
    articles["comet-sighted"].save()
    set_live_coverage(articles["vote-count"], True, False)
    post_live_update(articles["vote-count"], "Counting begins", True)


def in_news_window():
    return Article.objects.published().filter(published_at__gte=timezone.now() - NEWS_WINDOW)


def signed(delta):
    return f"-{-delta}" if delta < timedelta(0) else f"+{delta}"


def clear_caches():
    for alias in django_settings.CACHES:
        caches[alias].clear()


# Pages -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A response as a reader gets it: what may legitimately differ per request (the CSP nonce) taken out."""

    status: int
    location: str
    content_type: str
    content: str

    @classmethod
    def of(cls, response):
        content = response.content.decode()
        nonce = re.search(r"'nonce-([^']+)'", response.get("Content-Security-Policy", ""))
        if nonce:
            content = content.replace(nonce[1], "NONCE")
        return cls(response.status_code, response.get("Location", ""), response.get("Content-Type", ""), content)

    def diff(self, fresh):
        lines = difflib.unified_diff(
            fresh.content.splitlines(), self.content.splitlines(), "fresh render", "served from the cache", lineterm=""
        )
        return "\n".join(list(lines)[:DIFF_LINES])


def scope_pages(scope, name):
    """A section's, tag's or author's page, its second page and its feeds."""
    url = scope.get_absolute_url()
    feeds = [reverse(f"articles:{name}-{kind}", args=[scope.slug]) for kind in ("rss", "atom")]
    return [url, f"{url}?page=2", *feeds]


def public_pages():
    """Every public page of the corpus as it is now (drafts and scheduled articles included: they must 404)."""
    home = reverse("articles:home")
    urls = [
        home,
        f"{home}?page=2",
        f"{home}?page=3",
        reverse("articles:latest-rss"),
        reverse("articles:latest-atom"),
        reverse("articles:archive"),
        reverse("articles:corrections"),
        reverse("sitemap"),
        *(reverse("sitemap-section", kwargs={"section": name}) for name in sitemaps),
        reverse("news-sitemap"),
    ]
    for section in Section.objects.order_by("pk"):
        urls += scope_pages(section, "section")
    for tag in Tag.objects.order_by("pk"):
        urls += scope_pages(tag, "tag")
    for author in Author.objects.order_by("pk"):
        urls += scope_pages(author, "author")
    for article in Article.objects.select_related("section").prefetch_related("tags").order_by("pk"):
        url = article.get_absolute_url()
        urls.append(url)
        if article.section:
            urls.append(f"{url}?in=section:{article.section.slug}")
        urls += [f"{url}?in=tag:{tag.slug}" for tag in article.tags.all()]
        day = timezone.localtime(article.published_at)
        urls += [
            reverse("articles:archive-year", args=[day.year]),
            reverse("articles:archive-month", args=[day.year, day.month]),
            reverse("articles:archive-day", args=[day.year, day.month, day.day]),
        ]
    return urls


# The machine ------------------------------------------------------------------------------------

# An object is picked by an index (modulo the number there are): shrinks well, survives deletions.
INDEX = st.integers(min_value=0, max_value=63)


class StalenessMachine(RuleBasedStateMachine):
    """A cached site under random edits; after each step, every page served from the cache is a fresh render."""

    def __init__(self, *, settings, editor):
        super().__init__()
        self.settings, self.editor = settings, editor
        self.client = Client()
        self.served = {}  # url: (ETag, Page) the cache last gave
        self.urls = {}  # every page seen in this run, in order: pages that stopped existing stay
        self.serial = 0
        counts["runs"] += 1
        clear_caches()
        self.clock = time_machine.travel(START, tick=False)
        self.traveller = self.clock.start()
        build_corpus(editor)

    def teardown(self):
        try:
            Article.objects.all().delete()
            for model in (Tag, Section, Author, Image, BreakingNews):
                model.objects.all().delete()
        finally:
            self.clock.stop()

    # Helpers ----------------------------------------------------------------------------------------

    @staticmethod
    def pick(queryset, index):
        objects = list(queryset.order_by("pk"))
        return objects[index % len(objects)] if objects else None

    def edit(self, description, operation, *args):
        note(description)
        counts["edits"] += 1
        with transaction.atomic():
            operation(*args)

    def new_name(self, prefix):
        self.serial += 1
        return f"{prefix} {self.serial}"

    # Edits ----------------------------------------------------------------------------------------

    @precondition(lambda self: Article.objects.exclude(pk__in=Article.objects.published()).exists())
    @rule(index=INDEX)
    def publish(self, index):
        article = self.pick(Article.objects.exclude(pk__in=Article.objects.published()), index)
        self.edit(f"publish {article.slug} now", publish, article, self.editor)

    @precondition(lambda self: Article.objects.filter(status=PUBLISHED).exists())
    @rule(index=INDEX)
    def unpublish(self, index):
        article = self.pick(Article.objects.filter(status=PUBLISHED), index)
        self.edit(f"unpublish {article.slug}", unpublish, article, self.editor)

    @rule(index=INDEX, offset=st.sampled_from(OFFSETS))
    def schedule(self, index, offset):
        article = self.pick(Article.objects.all(), index)
        when = timezone.now() + offset
        self.edit(f"publish {article.slug} at now{signed(offset)}", schedule, article, when)

    @rule(index=INDEX, offset=st.sampled_from(OFFSETS))
    def reschedule(self, index, offset):
        """A new publication time, the status kept (a draft's time matters once it is published)."""
        article = self.pick(Article.objects.all(), index)
        self.edit(
            f"move {article.slug} to now{signed(offset)}", set_publication_time, article, timezone.now() + offset
        )

    @rule(index=INDEX, neighbour=INDEX, nudge=st.sampled_from(NUDGES))
    def move_next_to(self, index, neighbour, nudge):
        """A publication time moved to just before, at or just after another article's: the order changes."""
        article = self.pick(Article.objects.all(), index)
        other = self.pick(Article.objects.exclude(pk=article.pk), neighbour)
        if other is not None:
            description = f"move {article.slug} to {other.slug}'s time{signed(nudge)}"
            self.edit(description, set_publication_time, article, other.published_at + nudge)

    @rule(index=INDEX)
    def edit_headline(self, index):
        article = self.pick(Article.objects.all(), index)
        headline = self.new_name("Headline")
        self.edit(f"retitle {article.slug} {headline!r}", edit_headline, article, headline)

    @rule(index=INDEX, tags=st.lists(INDEX, max_size=3), new_tag=st.booleans())
    def retag(self, index, tags, new_tag):
        article = self.pick(Article.objects.all(), index)
        names = sorted({self.pick(Tag.objects.all(), tag).name for tag in tags if Tag.objects.exists()})
        if new_tag:
            names.append(self.new_name("Topic"))
        self.edit(f"tag {article.slug} {names}", retag, article, names)

    @rule(index=INDEX, section=st.one_of(st.none(), INDEX))
    def change_section(self, index, section):
        article = self.pick(Article.objects.all(), index)
        section = None if section is None else self.pick(Section.objects.all(), section)
        self.edit(f"put {article.slug} in {section and section.slug}", change_section, article, section)

    @rule(index=INDEX, authors=st.lists(INDEX, max_size=3, unique=True))
    def change_byline(self, index, authors):
        article = self.pick(Article.objects.all(), index)
        byline = list(dict.fromkeys(self.pick(Author.objects.all(), i) for i in authors))
        description = f"byline of {article.slug}: {[author.slug for author in byline]}"
        self.edit(description, change_byline, article, byline)

    @rule(index=INDEX, other=INDEX)
    def add_relation(self, index, other):
        article = self.pick(Article.objects.all(), index)
        other = self.pick(Article.objects.exclude(pk=article.pk).exclude(related_from__article=article), other)
        if other is not None:
            self.edit(f"link {article.slug} to {other.slug}", add_relation, article, other)

    @precondition(lambda self: Related.objects.exists())
    @rule(index=INDEX)
    def remove_relation(self, index):
        related = self.pick(Related.objects.select_related("article", "related_article"), index)
        description = f"unlink {related.article.slug} from {related.related_article.slug}"
        self.edit(description, remove_relation, related)

    @rule(index=INDEX, kind=st.sampled_from(Correction.Kind.values))
    def add_correction(self, index, kind):
        article = self.pick(Article.objects.all(), index)
        text = self.new_name("An earlier version was wrong, note")
        self.edit(f"add a {kind} to {article.slug}", add_correction, article, kind, text)

    @rule(index=INDEX, image=st.one_of(st.none(), INDEX), own_caption=st.booleans())
    def change_lead_image(self, index, image, own_caption):
        article = self.pick(Article.objects.all(), index)
        image = None if image is None else self.pick(Image.objects.all(), image)
        caption = self.new_name("Caption on this article") if own_caption else ""
        description = f"lead image of {article.slug}: {image and image.pk} {caption!r}"
        self.edit(description, change_lead_image, article, image, caption)

    @rule(index=INDEX, focal_point=st.sampled_from([(None, None), (0.2, 0.3), (0.8, 0.5)]))
    def edit_photo(self, index, focal_point):
        image = self.pick(Image.objects.all(), index)
        caption = self.new_name("Photo caption")
        self.edit(f"photo {image.pk}: {caption!r}, focal point {focal_point}", edit_photo, image, caption, focal_point)

    @rule(index=INDEX, is_key_point=st.booleans())
    def post_live_update(self, index, is_key_point):
        article = self.pick(Article.objects.all(), index)
        text = self.new_name("Live update")
        self.edit(f"post {text!r} on {article.slug}", post_live_update, article, text, is_key_point)

    @precondition(lambda self: LiveUpdate.objects.exists())
    @rule(index=INDEX)
    def edit_live_update(self, index):
        update = self.pick(LiveUpdate.objects.all(), index)
        text = self.new_name("Edited update")
        self.edit(f"edit live update {update.pk} to {text!r}", edit_live_update, update, text)

    @precondition(lambda self: LiveUpdate.objects.exists())
    @rule(index=INDEX)
    def delete_live_update(self, index):
        update = self.pick(LiveUpdate.objects.all(), index)
        self.edit(f"delete live update {update.pk}", delete, update)

    @rule(index=INDEX, live=st.booleans(), ended=st.booleans())
    def set_live_coverage(self, index, live, ended):
        article = self.pick(Article.objects.all(), index)
        self.edit(f"{article.slug}: live page {live}, ended {ended}", set_live_coverage, article, live, ended)

    @precondition(lambda self: Tag.objects.exists())
    @rule(index=INDEX)
    def rename_tag(self, index):
        tag = self.pick(Tag.objects.all(), index)
        name = self.new_name("Tag")
        self.edit(f"rename tag {tag.slug} {name!r}", rename, tag, name)

    @rule(index=INDEX, kind=st.sampled_from([Section, Author]))
    def rename_section_or_author(self, index, kind):
        obj = self.pick(kind.objects.all(), index)
        name = self.new_name(kind.__name__)
        self.edit(f"rename {kind.__name__.lower()} {obj.slug} {name!r}", rename, obj, name)

    @precondition(lambda self: Tag.objects.count() >= 2)
    @rule(tags=st.lists(INDEX, min_size=1, max_size=3), into=INDEX)
    def merge_tags(self, tags, into):
        into = self.pick(Tag.objects.all(), into)
        merged = {self.pick(Tag.objects.exclude(pk=into.pk), tag) for tag in tags}
        description = f"merge tags {sorted(tag.slug for tag in merged)} into {into.slug}"
        self.edit(description, merge_tags, [*merged, into], into)

    @precondition(lambda self: Article.objects.count() > 1)
    @rule(index=INDEX)
    def delete_article(self, index):
        article = self.pick(Article.objects.all(), index)
        self.edit(f"delete {article.slug}", delete, article)

    @precondition(lambda self: Tag.objects.exists())
    @rule(index=INDEX)
    def delete_tag(self, index):
        tag = self.pick(Tag.objects.all(), index)
        self.edit(f"delete tag {tag.slug}", delete, tag)

    @rule(index=INDEX, offset=st.one_of(st.none(), st.sampled_from(OFFSETS[3:])))
    def put_on_front_page(self, index, offset):
        """Any article (a draft or a scheduled one waits), for good or until a time."""
        article = self.pick(Article.objects.filter(front_page_slot__isnull=True), index)
        if article is not None:
            until = offset and timezone.now() + offset
            self.edit(f"put {article.slug} on the front page until {until}", put_on_front_page, article, until)

    @precondition(lambda self: FrontPageSlot.objects.exists())
    @rule(index=INDEX)
    def take_off_front_page(self, index):
        slot = self.pick(FrontPageSlot.objects.select_related("article"), index)
        self.edit(f"take {slot.article.slug} off the front page", delete, slot)

    @precondition(lambda self: FrontPageSlot.objects.exists())
    @rule(index=INDEX, position=st.integers(min_value=0, max_value=5))
    def move_on_front_page(self, index, position):
        slot = self.pick(FrontPageSlot.objects.select_related("article"), index)
        description = f"move {slot.article.slug} to place {position} on the front page"
        self.edit(description, move_on_front_page, slot, position)

    # A banner ends after it starts (a database constraint): end times from now on only.
    @rule(offset=st.one_of(st.none(), st.sampled_from([offset for offset in OFFSETS if offset > timedelta(0)])))
    def post_banner(self, offset):
        text = self.new_name("Breaking")
        ends_at = offset and timezone.now() + offset
        self.edit(f"banner {text!r} until {ends_at}", post_banner, text, ends_at)

    @precondition(lambda self: BreakingNews.objects.exists())
    @rule(index=INDEX)
    def take_down_banner(self, index):
        banner = self.pick(BreakingNews.objects.all(), index)
        self.edit(f"delete banner {banner.text!r}", delete, banner)

    # The clock ----------------------------------------------------------------------------------------

    @rule(step=st.sampled_from(CLOCK_STEPS))
    def wait(self, step):
        note(f"the clock moves on {step}")
        self.traveller.shift(step)

    @precondition(lambda self: Article.objects.filter(status=PUBLISHED, published_at__gt=timezone.now()).exists())
    @rule(index=INDEX, past=st.sampled_from(NUDGES[1:]))
    def wait_for_scheduled(self, index, past):
        """The clock moves to a scheduled article's time, or just past it."""
        article = self.pick(Article.objects.filter(status=PUBLISHED, published_at__gt=timezone.now()), index)
        note(f"the clock moves to {article.slug}'s publication{signed(past)}")
        self.traveller.move_to(article.published_at + past)

    @precondition(
        lambda self: (
            FrontPageSlot.objects.filter(until__gt=timezone.now()).exists()
            or BreakingNews.objects.filter(ends_at__gt=timezone.now()).exists()
        )
    )
    @rule(index=INDEX, past=st.sampled_from(NUDGES[1:]))
    def wait_for_an_end_time(self, index, past):
        """The clock moves to a front-page slot's or a banner's end time, or just past it."""
        now = timezone.now()
        ends = sorted(
            [*FrontPageSlot.objects.filter(until__gt=now).values_list("until", flat=True)]
            + [*BreakingNews.objects.filter(ends_at__gt=now).values_list("ends_at", flat=True)]
        )
        end = ends[index % len(ends)]
        note(f"the clock moves to the end time {end}{signed(past)}")
        self.traveller.move_to(end + past)

    @precondition(lambda self: in_news_window().exists())
    @rule(index=INDEX, past=st.sampled_from(NUDGES[1:]))
    def wait_for_news_window_edge(self, index, past):
        """The clock moves to when an article leaves the news sitemap's window, or just past it (no write)."""
        article = self.pick(in_news_window(), index)
        note(f"the clock moves to {article.slug}'s {NEWS_WINDOW} in the news{signed(past)}")
        self.traveller.move_to(article.published_at + NEWS_WINDOW + past)

    # The proof ------------------------------------------------------------------------------------------

    @invariant()
    def every_page_is_fresh(self):
        counts["checks"] += 1
        self.urls.update(dict.fromkeys(public_pages()))
        served = {url: self.fetch_cached(url) for url in self.urls}
        stored = {url: self.fetch_cached(url, revalidate=False) for url in self.urls}
        self.settings.NEWSROOM_CACHE_PAGES = False
        try:
            fresh = {url: Page.of(self.client.get(url)) for url in self.urls}
        finally:
            self.settings.NEWSROOM_CACHE_PAGES = True
        assert not self.client.cookies, "an anonymous reader was given a cookie"
        counts["pages compared"] += 2 * len(fresh)
        stale = [
            (f"{url} ({request} request)", page, fresh[url])
            for request, pages in (("first", served), ("second", stored))
            for url, page in pages.items()
            if page != fresh[url]
        ]
        assert not stale, f"{len(stale)} stale: {', '.join(name for name, _, _ in stale)}\n\n" + "\n\n".join(
            f"{name}: status {page.status} from the cache, {fresh_page.status} fresh\n{page.diff(fresh_page)}"
            for name, page, fresh_page in stale[:3]
        )

    def fetch_cached(self, url, revalidate=True):
        """
        The page through the cache. The first request after a step revalidates the copy the
        cache gave last time (a 304 says that copy is current); the second is served as stored.
        """
        etag, previous = self.served.get(url, (None, None)) if revalidate else (None, None)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url, headers={"if-none-match": etag} if etag else {})
        if not queries.captured_queries:
            counts["served from the cache"] += 1
        if response.status_code == 304:
            counts["304s"] += 1
            return previous
        page = Page.of(response)
        if "ETag" in response:
            self.served[url] = (response["ETag"], page)
        return page


@pytest.mark.parametrize("part", range(STALENESS_PARTS))
def test_no_page_served_from_the_cache_is_stale(settings, monkeypatch, tmp_path, part):
    """
    Random edits and clock moves on a cached site: after each step, every public page from the cache is fresh.
    On failure hypothesis prints the shortest sequence of steps it found that serves a stale page.
    """
    settings.MEDIA_ROOT = tmp_path / "media"
    # Three articles a page, so that a small corpus has second pages (home, sections, tags, authors).
    monkeypatch.setattr(views.PublishedArticlesMixin, "paginate_by", 3)
    editor = User.objects.create_user("editor", is_staff=True, is_superuser=True)
    run_seed = int(os.environ.get("STALENESS_SEED") or random.SystemRandom().randrange(2**32))
    steps = math.ceil(STALENESS_STEPS / STALENESS_PARTS)
    print(f"\nstaleness: seed {run_seed} (STALENESS_SEED={run_seed} repeats this part), {steps} steps")
    counts.clear()

    def machine():
        return StalenessMachine(settings=settings, editor=editor)

    options = hypothesis_settings(
        # Hypothesis starts with its simplest run (the first rule over and over): one run more.
        max_examples=math.ceil(steps / STEPS_PER_RUN) + 1,
        stateful_step_count=min(STEPS_PER_RUN, steps),
        deadline=None,
        database=None,  # the seed alone repeats a run
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    try:
        run_state_machine_as_test(seed(run_seed)(machine), settings=options)
    except BaseException as error:
        error.add_note(f"STALENESS_SEED={run_seed} repeats this part.")
        raise
    finally:
        print("staleness: " + ", ".join(f"{count} {what}" for what, count in counts.items()))
    assert counts["served from the cache"] > 0, "no page was ever served from the cache: nothing was tested"
