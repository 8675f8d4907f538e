"""
Article body HTML: the editor's configuration and the sanitizer that follows it.

EDITOR_EXTENSIONS configures django-prose-editor, and the allowlist is the one
django-prose-editor derives from those extensions (allowlist_from_extensions),
so what an editor can make is what survives; everything else is removed by nh3
whatever the way in: the admin, the ORM, a fixture or an import. HOUSE_RULES
are the newsroom's deliberate differences from the derived allowlist.
"""

import functools
import re

import nh3
from django_prose_editor.config import allowlist_from_extensions

URL_SCHEMES = {"http", "https", "mailto", "tel"}

EDITOR_EXTENSIONS = {
    "Bold": True,
    "Italic": True,
    "Heading": {"levels": [2, 3, 4]},
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "Blockquote": True,
    "HardBreak": True,
    # Not autolink: that also makes the link "inclusive", swallowing the punctuation typed after it.
    "Link": {"enableTarget": False, "protocols": sorted(URL_SCHEMES), "autolink": False},
    "Figure": True,
    "Caption": True,
    "Image": True,
    "History": True,
    # django-prose-editor turns the browser's spellcheck off by default; editors want it.
    "NoSpellCheck": False,
}

HOUSE_RULES = {
    # Every link gets rel="noopener noreferrer" whatever was pasted, so rel itself is not kept.
    "link_rel": "noopener noreferrer",
    # <b> and <i> from wire copy and pasted HTML are kept (the editor reads them as bold and italic).
    "extra_tags": {"b", "i"},
    # What the editor writes for itself rather than for readers: the figure's default
    # class="figure", the file picker's data-file (no picker is configured), the list-style dialog.
    "dropped_attributes": {"a": {"rel"}, "figure": {"class"}, "img": {"data-file"}, "ol": {"type", "data-type"}},
    # A figure from the image library names its Image; readers get its renditions, alt text
    # and credit from the library when the page renders (articles/bodies.py).
    "extra_attributes": {"figure": {"data-image-id"}, "img": {"data-image-id"}},
}


def allowlist():
    """nh3.Cleaner's arguments: django-prose-editor's allowlist for EDITOR_EXTENSIONS with HOUSE_RULES applied."""
    allowed = allowlist_from_extensions(EDITOR_EXTENSIONS)
    extra = HOUSE_RULES["extra_attributes"]
    attributes = {
        tag: (allowed["attributes"].get(tag, set()) | extra.get(tag, set()))
        - HOUSE_RULES["dropped_attributes"].get(tag, set())
        for tag in allowed["attributes"].keys() | extra.keys()
    }
    return {
        **allowed,
        "tags": allowed["tags"] | HOUSE_RULES["extra_tags"],
        "attributes": {tag: names for tag, names in attributes.items() if names},
        "link_rel": HOUSE_RULES["link_rel"],
        "strip_comments": True,
    }


def drop_empty_attributes(tag, name, value):
    """An empty title (a link dialog left blank) says nothing: leave no empty attribute behind."""
    if name == "title" and not value.strip():
        return None
    return value


@functools.cache
def cleaner():
    return nh3.Cleaner(**allowlist(), attribute_filter=drop_empty_attributes)


class SanitizedHTML(str):
    """HTML that came out of sanitize_html(): a later write stores it as it is, without cleaning it again."""

    __slots__ = ()


def clean(html):
    return cleaner().clean(html).strip()


def sanitize_html(html):
    """Return `html` with everything outside the allowlist removed (at once when it already was)."""
    if isinstance(html, SanitizedHTML):
        return html
    return SanitizedHTML(clean(html) if html else "")


HEADING_TAG = re.compile(r"<(/?)h([1-6])\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.IGNORECASE)


def nest_headings(html, top=2):
    """
    The body's headings renumbered to follow the page's <h1> without a skipped
    level: the levels used, in order, become h2, h3, ... (an <h3> under the
    headline becomes <h2>, h2 then h4 becomes h2 then h3). Stored text from
    before the editor's levels were fixed, wire copy and imports read the same.
    """
    levels = sorted({int(level) for _, level, _ in HEADING_TAG.findall(html)})
    renumbered = {level: min(top + rank, 6) for rank, level in enumerate(levels)}
    if all(level == new for level, new in renumbered.items()):
        return html
    return HEADING_TAG.sub(lambda tag: f"<{tag[1]}h{renumbered[int(tag[2])]}{tag[3]}>", html)


def image_sources(html):
    """The src of every <img> in `html`, in order."""
    from html.parser import HTMLParser

    found = []

    class Images(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "img":
                found.append(dict(attrs).get("src") or "")

    parser = Images()
    parser.feed(html or "")
    parser.close()
    return found


def outside_images(html):
    """
    The image addresses in `html` that readers' browsers would refuse to load:
    those on another site than ours and the media storage's (SECURE_CSP img-src).
    """
    from urllib.parse import urlsplit

    from django.conf import settings

    allowed = {source.rstrip("/") for source in settings.SECURE_CSP.get("img-src", []) if "://" in str(source)}
    outside = []
    for src in image_sources(html):
        parts = urlsplit(src)
        if not parts.scheme and not parts.netloc:
            continue  # this site
        if f"{parts.scheme}://{parts.netloc}" in allowed:
            continue
        outside.append(src)
    return outside
