"""
manage.py import_article PATH... turns wire and web text pages into draft articles
(the page format is in docs/editors.md). Only --publish-at publishes: whoever can
run manage.py already holds every right the admin grants. Publishing goes through
services.publish_articles, so an article that is not ready stays a draft.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.text import slugify

from articles.html import sanitize_html
from articles.models import Article, Section
from articles.services import NotReady, publish_articles

NEIGHBOUR_LINE = re.compile(r"^(?P<label>previous|next) article\s*[:\-–—|]?\s*(?P<title>.+)$", re.IGNORECASE)
MAX_BYTES = 5 * 1024 * 1024


class Unparseable(Exception):
    """A file the importer refuses; the message says why."""


@dataclass
class ParsedPage:
    headline: str
    standfirst: str
    paragraphs: list
    neighbours: dict = field(default_factory=dict)  # "previous"/"next" -> title

    @property
    def body(self):
        # Sanitized as the database will store it, so a re-import can tell it is unchanged.
        return sanitize_html("".join(f"<p>{escape(paragraph)}</p>" for paragraph in self.paragraphs))


def parse_page(data):
    """Parse the bytes of one text page; raises Unparseable with the reason."""
    if not data.strip():
        raise Unparseable("the file is empty")
    if len(data) > MAX_BYTES:
        raise Unparseable(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB; this is not an article page")
    if b"\0" in data:
        raise Unparseable("the file is binary, not a text page")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Unparseable(f"the file is not UTF-8 text (invalid byte at position {error.start})") from None
    if any(ord(char) < 32 and char not in "\t\n\r\f" for char in text):
        raise Unparseable("the file contains control characters; this is not a text page")

    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    neighbours = {}
    while lines and (not lines[-1] or NEIGHBOUR_LINE.match(lines[-1])):
        match = NEIGHBOUR_LINE.match(lines.pop())
        if match:
            neighbours.setdefault(match["label"].lower(), match["title"].strip())

    content = iter(lines)
    headline = next((line for line in content if line), "")
    standfirst = next((line for line in content if line), "")
    paragraphs, current = [], []
    for line in content:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))

    if not headline:
        raise Unparseable("no headline: the file has only whitespace and previous/next lines")
    if not paragraphs:
        raise Unparseable(
            "no body: expected a headline line, a standfirst line, then paragraphs separated by blank lines"
        )
    limit = Article._meta.get_field("headline").max_length
    if len(headline) > limit:
        raise Unparseable(
            f"the headline is {len(headline)} characters long (at most {limit}); is the first line really a headline?"
        )
    return ParsedPage(headline, standfirst, paragraphs, neighbours)


def slug_for(headline):
    limit = Article._meta.get_field("slug").max_length
    return slugify(headline)[:limit].strip("-")


def same_title(a, b):
    def normal(title):
        return " ".join(title.replace("’", "'").replace("‘", "'").split()).casefold()

    return normal(a) == normal(b)


class Command(BaseCommand):
    help = (
        "Import text pages (headline line, standfirst line, body paragraphs, optional "
        "'Previous article'/'Next article' lines) as draft articles. A second run updates "
        "drafts with the same slug and never touches published articles."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="text files to import")
        parser.add_argument(
            "--publish-at",
            metavar="DATETIME",
            help="publish at this ISO 8601 time (e.g. 2021-10-01T09:00; without an offset, "
            "in the newsroom's time zone); a future time schedules the article",
        )
        parser.add_argument("--credit", help="the credit line, e.g. 'Al Jazeera and news agencies'")
        parser.add_argument("--section", metavar="SLUG", help="the section the articles belong to, by its slug")

    def handle(self, *, paths, publish_at=None, credit=None, section=None, **options):
        publish_at = self.parse_publish_at(publish_at)
        if section is not None:
            try:
                section = Section.objects.get(slug=section)
            except Section.DoesNotExist:
                raise CommandError(f"--section {section!r}: there is no section with that slug.") from None
        credit_limit = Article._meta.get_field("credit").max_length
        if credit is not None and len(credit) > credit_limit:
            raise CommandError(f"--credit is {len(credit)} characters long; the most is {credit_limit}.")

        refused = 0
        for path in paths:
            try:
                lines = self.import_file(Path(path), publish_at=publish_at, credit=credit, section=section)
            except Unparseable as reason:
                refused += 1
                self.stderr.write(f"{path}: refused: {reason}.")
                continue
            self.stdout.write(f"{path}: {lines[0]}")
            for line in lines[1:]:
                self.stdout.write(f"  {line}")
        if refused:
            raise CommandError(f"{refused} of {len(paths)} files refused; the others were processed.")

    def parse_publish_at(self, value):
        if value is None:
            return None
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is None:
            raise CommandError(f"--publish-at {value!r} is not an ISO 8601 date and time, e.g. 2021-10-01T09:00.")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment

    def import_file(self, path, *, publish_at, credit, section):
        """Import one file in one transaction; returns the report lines, raises Unparseable."""
        try:
            data = path.read_bytes()
        except IsADirectoryError:
            raise Unparseable("it is a directory, not a file") from None
        except OSError as error:
            raise Unparseable(f"cannot read it ({error.strerror})") from None
        page = parse_page(data)
        slug = slug_for(page.headline)
        if not slug:
            raise Unparseable(f"the headline {page.headline!r} gives no address (slug)")

        with transaction.atomic():
            article = Article.objects.select_for_update().filter(slug=slug).first()
            if article is not None and article.status == Article.Status.PUBLISHED:
                state = "scheduled" if article.is_scheduled else "published"
                report = [f"skipped “{article.headline}” ({slug}): already {state}, so not overwritten"]
            else:
                report = [self.save(article, slug, page, publish_at=publish_at, credit=credit, section=section)]
                article = Article.objects.get(slug=slug)
        return report + self.neighbour_report(article, page.neighbours)

    def save(self, article, slug, page, *, publish_at, credit, section):
        created = article is None
        if created:
            article = Article(slug=slug)
        before = self.snapshot(article)
        article.headline = page.headline
        article.standfirst = page.standfirst
        article.body = page.body
        if credit is not None:
            article.credit = credit
        if section is not None:
            article.section = section
        try:
            article.full_clean()
        except ValidationError as error:
            messages = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in error.message_dict.items())
            raise Unparseable(f"the article would be invalid ({messages})") from None
        if not created and publish_at is None and self.snapshot(article) == before:
            return f"unchanged draft “{article.headline}” ({slug}): already imported"
        article.save()
        verb = "created" if created else "updated"
        summary = f"“{article.headline}” ({slug}), {len(page.paragraphs)} paragraphs"
        if publish_at is None:
            return f"{verb} draft {summary}"
        try:
            publish_articles(articles=[article], by=None, at=publish_at, comment="Published by import_article.")
        except NotReady as not_ready:
            return f"{verb} draft {summary}; {not_ready.message()[0].lower()}{not_ready.message()[1:]}"
        article.refresh_from_db()
        when = f"{timezone.localtime(publish_at):%Y-%m-%d %H:%M %Z}"
        what = f"article scheduled for {when}" if article.is_scheduled else f"article published at {when}"
        return f"{verb} {what} {summary}"

    @staticmethod
    def snapshot(article):
        fields = ["headline", "standfirst", "body", "credit", "section_id", "status", "published_at"]
        return {name: getattr(article, name) for name in fields}

    @staticmethod
    def neighbour_report(article, neighbours):
        """Whether the site's previous/next for `article` are the titles the page names."""
        lines = []
        computed = {"previous": article.get_previous_published, "next": article.get_next_published}
        for which in ("previous", "next"):
            if which not in neighbours:
                continue
            expected = neighbours[which]
            actual = computed[which]()
            if actual is None:
                lines.append(f"{which} article: MISMATCH: the page names “{expected}”, the site has none")
            elif same_title(actual.headline, expected):
                lines.append(f"{which} article: matches “{actual.headline}”")
            else:
                lines.append(
                    f"{which} article: MISMATCH: the page names “{expected}”, the site has “{actual.headline}”"
                )
        return lines
