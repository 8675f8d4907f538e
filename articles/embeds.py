"""
The embed providers: a URL an editor pastes on its own line in a body becomes
a click-to-load embed when it matches one of these (docs/editors.md).

Each provider is data: its name, what it embeds, the URL patterns it
recognises (named groups feed the embed URL template, `{url}` is the whole
pasted URL, quoted) and the origins its frames come from. The Content Security
Policy's frame-src is built from FRAME_ORIGINS, so adding a provider here is
the whole change. Nothing is fetched from a provider until a reader clicks.
This module imports nothing from Django: newsroom/settings.py reads it.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote

# Mastodon is one network of many servers: only these (and their frames) are embedded.
MASTODON_SERVERS = ["mastodon.social", "mastodon.online", "mstdn.social", "journa.host", "newsie.social"]


@dataclass(frozen=True)
class Provider:
    name: str
    kind: str  # "video", "post", "audio" or "chart": the placeholder's words and the frame's shape
    patterns: tuple
    embed_url: str
    frame_origins: tuple


@dataclass(frozen=True)
class Embed:
    provider: Provider
    url: str
    embed_url: str


def _host(pattern):
    """A pattern for the URL's scheme and host, with or without www."""
    return r"https?://(?:www\.|m\.)?" + pattern


PROVIDERS = [
    Provider(
        "YouTube",
        "video",
        (
            _host(r"youtube\.com/watch\?(?:[^#]*&)?v=(?P<id>[\w-]{11})"),
            _host(r"youtube\.com/(?:shorts|embed|live)/(?P<id>[\w-]{11})"),
            r"https?://youtu\.be/(?P<id>[\w-]{11})",
        ),
        # The no-cookie domain: no tracking cookie until the reader plays the video.
        "https://www.youtube-nocookie.com/embed/{id}",
        ("https://www.youtube-nocookie.com",),
    ),
    Provider(
        "Vimeo",
        "video",
        (_host(r"vimeo\.com/(?:video/)?(?P<id>\d+)"), r"https?://player\.vimeo\.com/video/(?P<id>\d+)"),
        "https://player.vimeo.com/video/{id}?dnt=1",
        ("https://player.vimeo.com",),
    ),
    Provider(
        "X",
        "post",
        (_host(r"(?:twitter|x)\.com/\w{1,15}/status(?:es)?/(?P<id>\d+)"),),
        "https://platform.twitter.com/embed/Tweet.html?id={id}&dnt=true",
        ("https://platform.twitter.com",),
    ),
    Provider(
        "Instagram",
        "post",
        (_host(r"instagram\.com/(?:[\w.]+/)?(?P<type>p|reel|tv)/(?P<id>[\w-]+)"),),
        "https://www.instagram.com/{type}/{id}/embed/",
        ("https://www.instagram.com",),
    ),
    Provider(
        "TikTok",
        "video",
        (_host(r"tiktok\.com/@[\w.-]+/video/(?P<id>\d+)"),),
        "https://www.tiktok.com/embed/v2/{id}",
        ("https://www.tiktok.com",),
    ),
    Provider(
        "Bluesky",
        "post",
        (r"https?://bsky\.app/profile/(?P<profile>[\w.:-]+)/post/(?P<id>[\w]+)",),
        "https://embed.bsky.app/embed/{profile}/app.bsky.feed.post/{id}",
        ("https://embed.bsky.app",),
    ),
    Provider(
        "Mastodon",
        "post",
        # Any server would let anyone's page into ours: only the servers the newsroom lists.
        tuple(
            rf"https://(?P<server>{re.escape(server)})/@(?P<account>\w+(?:@[\w.-]+)?)/(?P<id>\d+)"
            for server in MASTODON_SERVERS
        ),
        "https://{server}/@{account}/{id}/embed",
        tuple(f"https://{server}" for server in MASTODON_SERVERS),
    ),
    Provider(
        "SoundCloud",
        "audio",
        (_host(r"soundcloud\.com/[\w-]+/(?:sets/)?[\w-]+"),),
        "https://w.soundcloud.com/player/?url={url}",
        ("https://w.soundcloud.com",),
    ),
    Provider(
        "Datawrapper",
        "chart",
        (
            r"https?://datawrapper\.dwcdn\.net/(?P<id>\w{5})(?:/\d+)?/?",
            _host(r"datawrapper\.de/_/(?P<id>\w{5})/?"),
        ),
        "https://datawrapper.dwcdn.net/{id}/",
        ("https://datawrapper.dwcdn.net",),
    ),
    Provider(
        "Flourish",
        "chart",
        (
            r"https?://public\.flourish\.studio/(?P<type>visualisation|story)/(?P<id>\d+)/?",
            r"https?://flo\.uri\.sh/(?P<type>visualisation|story)/(?P<id>\d+)(?:/embed)?/?",
        ),
        "https://flo.uri.sh/{type}/{id}/embed",
        ("https://flo.uri.sh",),
    ),
]

FRAME_ORIGINS = sorted({origin for provider in PROVIDERS for origin in provider.frame_origins})

# After what a pattern recognises, only a path, query or fragment may follow (a time code, a tracking parameter).
_compiled = [
    (provider, re.compile(pattern + r"(?:[/?#&]\S*)?\Z", re.IGNORECASE))
    for provider in PROVIDERS
    for pattern in provider.patterns
]


def find_embed(url):
    """The Embed for a pasted URL, or None when no provider recognises it (it stays a link)."""
    url = url.strip()
    for provider, pattern in _compiled:
        match = pattern.match(url)
        if match:
            values = {name: value for name, value in match.groupdict().items() if value is not None}
            return Embed(provider, url, provider.embed_url.format(**values, url=quote(url, safe="")))
    return None
