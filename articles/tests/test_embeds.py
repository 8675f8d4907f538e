"""
Embeds: a provider's URL on its own line becomes a click-to-load placeholder on
the page, a plain link in feeds; unknown URLs stay links; the CSP lets in
exactly the providers' frames.
"""

import feedparser
import pytest
from django.conf import settings

from articles import bodies, embeds
from articles.embeds import find_embed

from .factories import make_article

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "provider", "embed_url"),
    [
        (
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "YouTube",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        ),
        ("https://youtu.be/dQw4w9WgXcQ?t=42", "YouTube", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        (
            "https://www.youtube.com/shorts/dQw4w9WgXcQ",
            "YouTube",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        ),
        ("https://vimeo.com/76979871", "Vimeo", "https://player.vimeo.com/video/76979871?dnt=1"),
        (
            "https://x.com/AJEnglish/status/1460000000000000000",
            "X",
            "https://platform.twitter.com/embed/Tweet.html?id=1460000000000000000&dnt=true",
        ),
        (
            "https://twitter.com/AJEnglish/status/1460000000000000000?s=20",
            "X",
            "https://platform.twitter.com/embed/Tweet.html?id=1460000000000000000&dnt=true",
        ),
        ("https://www.instagram.com/p/CUbHfhpswxt/", "Instagram", "https://www.instagram.com/p/CUbHfhpswxt/embed/"),
        (
            "https://www.tiktok.com/@aljazeeraenglish/video/7012345678901234567",
            "TikTok",
            "https://www.tiktok.com/embed/v2/7012345678901234567",
        ),
        (
            "https://bsky.app/profile/did:plc:z72i7hdynmk6r22z27h6tvur/post/3l6oveex3ii2l",
            "Bluesky",
            "https://embed.bsky.app/embed/did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3l6oveex3ii2l",
        ),
        (
            "https://mastodon.social/@Gargron/111111111111111111",
            "Mastodon",
            "https://mastodon.social/@Gargron/111111111111111111/embed",
        ),
        (
            "https://soundcloud.com/aljazeera/the-take",
            "SoundCloud",
            "https://w.soundcloud.com/player/?url=https%3A%2F%2Fsoundcloud.com%2Faljazeera%2Fthe-take",
        ),
        ("https://datawrapper.dwcdn.net/Ab1Cd/3/", "Datawrapper", "https://datawrapper.dwcdn.net/Ab1Cd/"),
        (
            "https://public.flourish.studio/visualisation/1234567/",
            "Flourish",
            "https://flo.uri.sh/visualisation/1234567/embed",
        ),
    ],
)
def test_each_provider_is_recognised(url, provider, embed_url):
    embed = find_embed(url)

    assert embed.provider.name == provider
    assert embed.embed_url == embed_url
    assert embed.url == url


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/video",
        "https://www.youtube.com/channel/UCNye-wNBqNL5ZzHSJj3l8Bg",
        "https://vimeo.com/76979871x",
        "https://evil.example/@someone/111111111111111111",  # a Mastodon server the newsroom does not list
        "https://youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
        "javascript:alert(1)",
    ],
)
def test_unknown_urls_are_not_embeds(url):
    assert find_embed(url) is None


def test_every_provider_frame_is_allowed_and_nothing_else():
    frame_src = settings.SECURE_CSP["frame-src"]

    assert sorted(frame_src) == embeds.FRAME_ORIGINS
    for provider in embeds.PROVIDERS:
        for origin in provider.frame_origins:
            assert origin in frame_src
    assert "*" not in frame_src and "https:" not in frame_src


EMBED_BODY = (
    "<p>Before.</p>"
    '<p><a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ&amp;t=3">Watch: the launch</a></p>'
    "<p>https://x.com/AJEnglish/status/1460000000000000000</p>"
    '<p>See <a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">this video</a> in a sentence.</p>'
    '<p><a href="https://example.org/report">https://example.org/report</a></p>'
)


def test_the_page_shows_placeholders_that_load_nothing_from_the_provider(client):
    article = make_article(body=EMBED_BODY)

    response = client.get(article.get_absolute_url())
    html = response.content.decode()

    assert html.count('class="embed ') == 2
    assert 'data-embed-src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in html
    assert '<p class="embed-title">Watch: the launch</p>' in html
    assert "X post" in html
    # Nothing from a third party loads before a click: no frame, no third-party image or script.
    assert "<iframe" not in html
    assert "ytimg" not in html and "platform.twitter.com/widgets" not in html
    assert ' src="https://' not in html
    # A link inside a sentence and an unknown URL stay links.
    assert '<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ" rel="noopener noreferrer">this video</a>' in html
    assert '<a href="https://example.org/report" rel="noopener noreferrer">https://example.org/report</a>' in html
    assert "js/embeds" in html
    # The stored body is unchanged: the editor gets back what they wrote.
    article.refresh_from_db()
    assert "https://www.youtube.com/watch?v=dQw4w9WgXcQ&amp;t=3" in article.body


def test_pages_without_embeds_load_no_embed_script(client):
    article = make_article(body="<p>Plain.</p>")

    assert "js/embeds" not in client.get(article.get_absolute_url()).content.decode()


def test_the_page_sends_a_csp_that_allows_the_providers_frames(client):
    article = make_article(body=EMBED_BODY)

    policy = client.get(article.get_absolute_url())["Content-Security-Policy"]

    assert "frame-src https://datawrapper.dwcdn.net" in policy
    assert "https://www.youtube-nocookie.com" in policy


def test_a_title_cannot_inject_markup(client):
    article = make_article(
        body='<p><a href="https://vimeo.com/76979871">&lt;script&gt;alert(1)&lt;/script&gt;</a></p>'
    )

    html = client.get(article.get_absolute_url()).content.decode()

    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_feeds_get_plain_links(client):
    make_article(body=EMBED_BODY)

    entry = feedparser.parse(client.get("/feed/atom/").content).entries[0]
    content = entry.content[0].value

    assert (
        '<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ&amp;t=3">YouTube video: Watch: the launch</a>' in content
    )
    assert "data-embed-src" not in content and "<button" not in content


def test_parsing_is_cached_per_body():
    bodies.parse.cache_clear()
    bodies.parse(EMBED_BODY)
    bodies.parse(EMBED_BODY)

    assert bodies.parse.cache_info().hits == 1
