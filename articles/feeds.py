"""
RSS 2.0 and Atom feeds of the latest published articles: the whole site, and
each section, tag and author. Each item carries the headline, the standfirst
as summary, the sanitized body with its corrections and updates as full
content, dates, every author, tags as categories and the lead image when there
is one. Four queries per feed (five with the section, tag or author lookup; one more
when a live page is among the items, one more when a body shows library photos),
whatever the number of items.
"""

import copy
import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Prefetch, prefetch_related_objects
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.feedgenerator import Atom1Feed, Enclosure, Rss201rev2Feed
from django.utils.html import escape, format_html, format_html_join

from . import seo
from .bodies import render_bodies
from .caching.keys import list_key, shows
from .html import nest_headings
from .models import Article, Author, LiveUpdate, Section, Tag, with_published_articles

FEED_ITEMS = 30
# Django dates an empty feed "now", which would make it change every second
# and never match its cached copy; an empty feed says the epoch instead.
EMPTY_FEED_DATE = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class StableDateMixin:
    def latest_post_date(self):
        return super().latest_post_date() if self.items else EMPTY_FEED_DATE


class NewsroomRssFeed(StableDateMixin, Rss201rev2Feed):
    """
    RSS 2.0 with content:encoded for the body, dc:creator per author and media:content for the image.

    Readers take an RSS <title> and <description> as HTML, so the plain text
    that fills them (headline, standfirst, a section's description) goes in
    HTML-escaped: `<b>` shows as `<b>`, never as markup. Only the sanitized body is HTML.
    """

    def __init__(self, title, link, description, **kwargs):
        super().__init__(escape(title), link, escape(description), **kwargs)

    def add_item(self, title, link, description, **kwargs):
        super().add_item(escape(title), link, escape(description), **kwargs)

    def rss_attributes(self):
        return {
            **super().rss_attributes(),
            "xmlns:content": "http://purl.org/rss/1.0/modules/content/",
            "xmlns:dc": "http://purl.org/dc/elements/1.1/",
            "xmlns:media": "http://search.yahoo.com/mrss/",
        }

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for name in item["authors"]:
            handler.addQuickElement("dc:creator", name)
        if item["content"]:
            handler.addQuickElement("content:encoded", item["content"])
        if item["image"]:
            add_media_content(handler, item["image"])


class NewsroomAtomFeed(StableDateMixin, Atom1Feed):
    """
    Atom with <content type="html"> for the body, one <author> per author and media:content.

    Titles and the subtitle are Atom text already; Django writes the summary as
    <summary type="html">, so the standfirst in it is HTML-escaped.
    """

    def add_item(self, title, link, description, **kwargs):
        super().add_item(title, link, escape(description), **kwargs)

    def root_attributes(self):
        return {**super().root_attributes(), "xmlns:media": "http://search.yahoo.com/mrss/"}

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for name, link in zip(item["authors"], item["author_links"], strict=True):
            handler.startElement("author", {})
            handler.addQuickElement("name", name)
            handler.addQuickElement("uri", link)
            handler.endElement("author")
        if item["content"]:
            handler.addQuickElement("content", item["content"], {"type": "html"})
        if item["image"]:
            add_media_content(handler, item["image"])


def add_media_content(handler, image):
    attributes = {"url": image["url"], "medium": "image", "type": image["type"]}
    if image["width"] and image["height"]:
        attributes |= {"width": str(image["width"]), "height": str(image["height"])}
    if image["file_size"]:
        attributes["fileSize"] = str(image["file_size"])
    handler.addQuickElement("media:content", "", attributes)


def live_updates_html(article, request):
    """A live page's updates, newest first, each linking to its place on the page (bodies rendered beforehand)."""
    updates = list(article.live_updates.all())
    if not updates:
        return ""
    url = request.build_absolute_uri(article.get_absolute_url())
    return "<h2>Live updates</h2>" + "".join(
        format_html(
            '<p><strong><a href="{}#{}">{}</a>{}</strong>{}</p>{}',
            url,
            update.anchor,
            date_format(timezone.localtime(update.posted_at), "j F Y, H:i T"),
            f" · {update.title}" if update.title else "",
            f" · {update.author.name}" if update.author else "",
            update.body_html,
        )
        for update in updates
    )


def content_with_corrections(article, body=None, request=None):
    """
    The body as the page shows it (`body`: rendered for feeds), a live page's
    updates after it; updates first, corrections and clarifications at the foot, dated.
    """
    updates, corrections = article.corrections_for_readers()
    if body is None:
        body = article.body
    if article.live_coverage and request is not None:
        body += live_updates_html(article, request)

    def notes_html(notes):
        return format_html_join(
            "",
            "<p><strong>{}, {}:</strong> {}</p>",
            (
                (note.get_kind_display(), date_format(timezone.localtime(note.created_at), "j F Y"), note.text)
                for note in notes
            ),
        )

    return str(notes_html(updates)) + nest_headings(body) + str(notes_html(corrections))


class LatestArticlesFeed(Feed):
    feed_type = NewsroomRssFeed
    language = settings.NEWSROOM_LANGUAGE
    author_name = settings.NEWSROOM_NAME  # Atom wants an author; articles without a byline inherit this one.

    def __call__(self, request, *args, **kwargs):
        # One instance serves every request: work on a copy that knows this request,
        # for absolute author and image URLs on the requested host.
        feed = copy.copy(self)
        feed.request = request
        return Feed.__call__(feed, request, *args, **kwargs)

    def title(self, obj):
        return settings.NEWSROOM_NAME

    def description(self, obj):
        return settings.NEWSROOM_DESCRIPTION

    def subtitle(self, obj):  # Atom's name for it
        return self.description(obj)

    def link(self, obj):
        return reverse("articles:home")

    def get_articles(self, obj):
        return Article.objects.published()

    def items(self, obj):
        """
        The latest articles, their bodies and live pages' updates rendered for
        feeds (embeds as links, figures as plain images): one query more for the
        updates when a live page is among them, one more for figures when any.
        """
        items = list(
            self.get_articles(obj)
            .with_listing_data()
            .prefetch_related("tags", "corrections")
            .newest_first()[:FEED_ITEMS]
        )
        live = [item for item in items if item.live_coverage]
        prefetch_related_objects(live, Prefetch("live_updates", queryset=LiveUpdate.objects.select_related("author")))
        updates = [update for item in live for update in item.live_updates.all()]
        bodies = render_bodies([item.body for item in items] + [u.body for u in updates], feed_request=self.request)
        for row, body in zip(items + updates, bodies, strict=True):
            row.body_html = body
        return items

    def item_title(self, item):
        return item.headline

    def item_description(self, item):
        return item.standfirst or item.headline

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        updated = item.updated_at if item.was_updated else item.published_at
        if item.live_coverage:  # a new update changes the entry (its updates are prefetched by items())
            updated = max([updated, *(update.updated_at for update in item.live_updates.all())])
        return updated

    def item_categories(self, item):
        return [tag.name for tag in item.tags.all()]

    def item_enclosures(self, item):
        image = seo.lead_image(item, self.request)
        # RSS asks for a length in bytes: recorded with the file (0, "unknown", for
        # files stored before sizes were; `manage.py renditions` records them).
        return [Enclosure(image["url"], str(image["file_size"] or 0), image["type"])] if image else []

    def item_extra_kwargs(self, item):
        return {
            "content": content_with_corrections(item, item.body_html, self.request),
            "authors": [author.name for author in item.byline],
            "author_links": [self.request.build_absolute_uri(author.get_absolute_url()) for author in item.byline],
            "image": seo.lead_image(item, self.request),
        }


class LatestArticlesAtomFeed(LatestArticlesFeed):
    feed_type = NewsroomAtomFeed


class ScopedArticlesFeed(LatestArticlesFeed):
    """The latest articles of one section, tag or author."""

    scope_model = None
    scope_filter = None

    def get_object(self, request, slug):
        scope = get_object_or_404(with_published_articles(self.scope_model.objects.all()), slug=slug)
        shows(list_key(scope))
        return scope

    def title(self, obj):
        return f"{obj.name} · {settings.NEWSROOM_NAME}"

    def description(self, obj):
        return getattr(obj, "description", "") or f"The latest articles on {obj.name} from {settings.NEWSROOM_NAME}."

    def link(self, obj):
        return obj.get_absolute_url()

    def get_articles(self, obj):
        return Article.objects.published().filter(**{self.scope_filter: obj})


class SectionFeed(ScopedArticlesFeed):
    scope_model = Section
    scope_filter = "section"


class SectionAtomFeed(SectionFeed):
    feed_type = NewsroomAtomFeed


class TagFeed(ScopedArticlesFeed):
    scope_model = Tag
    scope_filter = "tags"


class TagAtomFeed(TagFeed):
    feed_type = NewsroomAtomFeed


class AuthorFeed(ScopedArticlesFeed):
    scope_model = Author
    scope_filter = "authors"

    def description(self, obj):
        return f"The latest articles by {obj.name} from {settings.NEWSROOM_NAME}."


class AuthorAtomFeed(AuthorFeed):
    feed_type = NewsroomAtomFeed
