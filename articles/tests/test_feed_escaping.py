"""
Feeds hand readers text as text: headlines, standfirsts and a section's
description go out escaped, so what a feed reader shows is exactly what the
editor typed, and no payload in them becomes markup. Only the sanitized body
is HTML. Checked the way a reader sees it: feedparser, with its own sanitizer off.
"""

from datetime import timedelta
from html.parser import HTMLParser

import feedparser
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from .factories import make_article, make_author, make_section

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    '"><script>alert(document.cookie)</script>',
    '<a href="javascript:alert(1)">click</a>',
    "<iframe src=javascript:alert(1)></iframe>",
    "<b>bold</b> &amp; <i>italic</i>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;img src=x onerror=alert(1)&#62;",
    "<![CDATA[<script>alert(1)</script>]]>",
    "]]><script>alert(1)</script>",
    "<!-- comment --><style>body{display:none}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "AT&T & Procter & Gamble say 1 < 2 > 0",
    "<body onload=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
]


class MarkupReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_comment(self, data):
        self.tags.append("<!--")

    def handle_data(self, data):
        self.text.append(data)


def shown(detail):
    """What a feed reader shows for a title or summary: the text, and the HTML elements it would render."""
    if detail["type"] in ("text/html", "application/xhtml+xml"):
        reader = MarkupReader()
        reader.feed(detail["value"])
        reader.close()
        return "".join(reader.text), reader.tags
    return detail["value"], []


def parse(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    feed = feedparser.parse(response.content, sanitize_html=False, resolve_relative_uris=False)
    assert not feed.bozo, (url, feed.get("bozo_exception"))
    return feed


@pytest.mark.parametrize("payload", PAYLOADS)
def test_plain_text_reaches_feed_readers_as_text(client, payload):
    section = make_section("Africa", slug="africa", description=payload)
    author = make_author("Amara", slug="amara", bio=payload)
    make_article(headline=payload, standfirst=payload, section=section, authors=[author], tags=["Mali"])
    urls = [
        reverse(f"articles:{name}-{kind}", kwargs=kwargs)
        for name, kwargs in [("latest", {}), ("section", {"slug": "africa"}), ("author", {"slug": "amara"})]
        for kind in ("rss", "atom")
    ]
    for url in urls:
        feed = parse(client, url)
        (entry,) = feed.entries
        assert shown(entry.title_detail) == (payload, []), url
        assert shown(entry.summary_detail) == (payload, []), url
    for url in urls[2:4]:  # the section's feeds carry its description
        channel = parse(client, url).feed
        assert shown(channel.subtitle_detail) == (payload, []), url


def test_the_body_stays_html(client):
    make_article(standfirst="<b>typed, not markup</b>", body="<p>Real <strong>markup</strong>.</p>")
    for kind in ("rss", "atom"):
        (entry,) = parse(client, reverse(f"articles:latest-{kind}")).entries
        text, tags = shown(entry.content[0])
        assert (text, tags) == ("Real markup.", ["p", "strong"])
        assert shown(entry.summary_detail) == ("<b>typed, not markup</b>", [])


def test_wire_text_from_import_article_reaches_feeds_as_text(client, tmp_path):
    page = tmp_path / "wire.txt"
    headline, standfirst = PAYLOADS[1], PAYLOADS[0]
    page.write_text(f"{headline}\n\n{standfirst}\n\nA first paragraph.\n")
    yesterday = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    make_section("Africa", slug="africa")  # publishing asks for a section and a credit
    call_command("import_article", str(page), publish_at=yesterday, section="africa", credit="Wire", verbosity=0)
    for kind in ("rss", "atom"):
        (entry,) = parse(client, reverse(f"articles:latest-{kind}")).entries
        assert shown(entry.title_detail) == (headline, [])
        assert shown(entry.summary_detail) == (standfirst, [])
