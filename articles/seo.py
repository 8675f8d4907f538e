"""
What search engines, feed readers and social networks are told about a page:
images with their sizes, the publisher, and schema.org structured data.

Everything here works on objects a page has already loaded (the article with
its section, byline and tags), so it adds no query.
"""

import mimetypes
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator
from PIL import Image


def w3c_datetime(value):
    """
    2026-10-01T09:00:00+02:00: local time in whole seconds, the one form of a
    date for <time datetime> (HTML allows at most three fraction digits),
    structured data, sitemaps and meta tags.
    """
    return timezone.localtime(value).replace(microsecond=0).isoformat()


@lru_cache
def static_image_size(path):
    """(width, height) of an image shipped in static/, read once per process."""
    found = finders.find(path)
    if not found:
        return None, None
    with Image.open(found) as image:
        return image.size


def static_image(request, path):
    width, height = static_image_size(path)
    return {
        "url": request.build_absolute_uri(static(path)),
        "width": width,
        "height": height,
        "type": mimetypes.guess_type(path)[0] or "image/png",
        "alt": settings.NEWSROOM_NAME,
    }


def _image_from(value):
    """
    Reads url, size and alt text from an image-like object: a rendition or an
    image with `url` or `file`, `width`, `height` (model fields, so no file is
    opened) and `alt`, or a dict with those keys.
    """
    if callable(value):
        value = value()
    if not value:
        return None
    if isinstance(value, dict):
        get = value.get
    else:

        def get(name):
            return getattr(value, name, None)

    url = get("url")
    if not url:
        file = get("file") or get("image")
        url = getattr(file, "url", None) if file else None
    if not url:
        return None
    return {
        "url": str(url),
        "width": get("width"),
        "height": get("height"),
        "type": get("mime_type") or mimetypes.guess_type(str(url))[0] or "image/jpeg",
        "alt": get("alt") or get("alt_text") or "",
        "file_size": get("file_size"),  # bytes, None when unknown
    }


def lead_image(article, request):
    """
    The article's lead image as {url, width, height, type, alt}, or None when it
    has none: the page's default JPEG rendition, from rows with_listing_data() has
    loaded. None too while the worker has made no rendition yet: the placeholder is
    no picture for search engines or social cards.
    """
    source = getattr(article, "lead_image", None)
    if not source:
        return None
    picture = getattr(source, "picture", None)
    if picture and picture.get("placeholder"):
        return None
    image = _image_from(
        {
            "url": picture["src"],
            "width": picture["width"],
            "height": picture["height"],
            "file_size": picture["file_size"],
        }
        if picture
        else source
    )
    if image:
        image["url"] = request.build_absolute_uri(image["url"])
        image["alt"] = image["alt"] or getattr(source, "alt_text", "") or article.headline
    return image


def social_image(article, request):
    """
    The image for social cards: the article's 1200x630 social rendition, else its
    lead image, else the site's default (NEWSROOM_DEFAULT_SOCIAL_IMAGE).
    """
    if article is not None:
        image = _image_from(getattr(article, "social_image", None))
        if image:
            image["url"] = request.build_absolute_uri(image["url"])
            source = getattr(article, "lead_image", None)
            image["alt"] = image["alt"] or getattr(source, "alt_text", "") or article.headline
            return image
        image = lead_image(article, request)
        if image:
            return image
    return static_image(request, settings.NEWSROOM_DEFAULT_SOCIAL_IMAGE)


def structured_data_images(article, request):
    """
    The lead image for Google: its 16:9, 4:3 and 1:1 crops around the focal
    point, as Google recommends, or the lead image itself until they are made.
    Nothing without a lead image: the site's default picture does not show the story.
    """
    if not article.lead_image_id:
        return []
    crops = [_image_from(rendition) for rendition in article.lead_image.crop_renditions]
    images = crops or [lead_image(article, request)]
    return [
        {
            "@type": "ImageObject",
            "url": request.build_absolute_uri(image["url"]),
            "width": image["width"],
            "height": image["height"],
        }
        for image in images
        if image
    ]


def publisher(request):
    logo = static_image(request, settings.NEWSROOM_LOGO)
    return {
        "@type": "NewsMediaOrganization",
        "name": settings.NEWSROOM_NAME,
        "url": request.build_absolute_uri(reverse("articles:home")),
        "logo": {"@type": "ImageObject", "url": logo["url"], "width": logo["width"], "height": logo["height"]},
    }


def article_structured_data(article, request, live_updates=()):
    """NewsArticle (LiveBlogPosting on a live page, with its updates) and BreadcrumbList for an article's page."""
    url = request.build_absolute_uri(article.get_absolute_url())
    home = request.build_absolute_uri(reverse("articles:home"))
    tags = [tag.name for tag in article.tags.all()]
    news_article = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.headline,
        "description": article.description(),
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "datePublished": w3c_datetime(article.published_at),
        "dateModified": w3c_datetime(article.updated_at if article.was_updated else article.published_at),
        "author": [
            {"@type": "Person", "name": author.name, "url": request.build_absolute_uri(author.get_absolute_url())}
            for author in article.byline
        ]
        or [{"@type": "Organization", "name": settings.NEWSROOM_NAME, "url": home}],
        "publisher": publisher(request),
        "keywords": tags,
        "inLanguage": settings.NEWSROOM_LANGUAGE,
        "isAccessibleForFree": True,
    }
    images = structured_data_images(article, request)
    if images:
        news_article["image"] = images
    notes = sorted(sum(article.corrections_for_readers(), []), key=lambda note: (note.created_at, note.pk))
    if notes:
        news_article["correction"] = [
            {
                "@type": "CorrectionComment",
                "name": note.get_kind_display(),
                "text": note.text,
                "datePublished": w3c_datetime(note.created_at),
            }
            for note in notes
        ]
    if article.live_coverage:
        news_article |= live_blog(article, request, url, live_updates)
        if live_updates:  # the newest update changed the page
            modified = max(
                article.updated_at if article.was_updated else article.published_at,
                *(update.updated_at for update in live_updates),
            )
            news_article["dateModified"] = modified.isoformat()
    crumbs = [(settings.NEWSROOM_NAME, reverse("articles:home"))]
    if article.section:
        news_article["articleSection"] = article.section.name
        crumbs.append((article.section.name, article.section.get_absolute_url()))
    crumbs.append((article.headline, article.get_absolute_url()))
    breadcrumbs = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": position, "name": name, "item": request.build_absolute_uri(path)}
            for position, (name, path) in enumerate(crumbs, start=1)
        ],
    }
    return [news_article, breadcrumbs]


def live_blog(article, request, url, live_updates):
    """What makes a NewsArticle a LiveBlogPosting: the coverage times and every update, with its own URL."""
    data = {
        "@type": "LiveBlogPosting",
        "coverageStartTime": article.published_at.isoformat(),
        "liveBlogUpdate": [
            {
                "@type": "BlogPosting",
                "headline": update.title or Truncator(strip_tags(update.body)).chars(110) or article.headline,
                "url": f"{url}#{update.anchor}",
                "datePublished": update.posted_at.isoformat(),
                "dateModified": update.updated_at.isoformat(),
                "articleBody": strip_tags(update.body),
                **(
                    {
                        "author": {
                            "@type": "Person",
                            "name": update.author.name,
                            "url": request.build_absolute_uri(update.author.get_absolute_url()),
                        }
                    }
                    if update.author
                    else {}
                ),
            }
            for update in live_updates
        ],
    }
    if article.coverage_ended_at:
        data["coverageEndTime"] = article.coverage_ended_at.isoformat()
    return data


def collection_structured_data(request, name, description, articles):
    """CollectionPage for a list page, with the articles it shows as an ItemList."""
    home = request.build_absolute_uri(reverse("articles:home"))
    return {
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "name": name,
        "description": description,
        "url": request.build_absolute_uri(),
        "inLanguage": settings.NEWSROOM_LANGUAGE,
        "isPartOf": {"@type": "WebSite", "name": settings.NEWSROOM_NAME, "url": home},
        "publisher": publisher(request),
        "mainEntity": {
            "@type": "ItemList",
            "itemListElement": [
                {
                    "@type": "ListItem",
                    "position": position,
                    "url": request.build_absolute_uri(article.get_absolute_url()),
                    "name": article.headline,
                }
                for position, article in enumerate(articles, start=1)
            ],
        },
    }
