"""
Structured data and social cards, read back with extruct as a search engine
would: NewsArticle and BreadcrumbList on article pages, CollectionPage on
lists, Open Graph and Twitter tags, the CSP nonce on the JSON-LD script, and
nothing for an unpublished article.
"""

import re
from datetime import UTC, datetime, timedelta

import extruct
import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from articles.models import Article, Correction, Rendition

from .factories import make_article, make_author, make_section
from .test_feeds import make_lead_image

pytestmark = pytest.mark.django_db

DRAFT = Article.Status.DRAFT


@pytest.fixture
def world(settings):
    settings.TIME_ZONE = "UTC"
    section = make_section("Africa", slug="africa", description="News from the continent.")
    amara = make_author("Amara Diallo", slug="amara-diallo")
    staff = make_author("Staff Reporter", slug="staff-reporter")
    common = {"section": section, "authors": [amara, staff], "tags": ["Mali", "Russia"]}
    older = make_article(days=-3, headline="Older story", slug="older", **common)
    article = make_article(
        days=-1,
        headline="Mali receives helicopters </script><script>alert(1)</script>",
        slug="mali-helicopters",
        standfirst="Moscow delivers & Paris frowns.",
        **common,
    )
    draft = make_article(days=-2, status=DRAFT, headline="Embargoed draft", slug="draft", **common)
    scheduled = make_article(days=2, headline="Future scheduled", slug="scheduled", **common)
    return {"section": section, "older": older, "article": article, "draft": draft, "scheduled": scheduled}


def seconds(moment):
    """As pages write dates: whole seconds (the world is in UTC)."""
    return moment.replace(microsecond=0).isoformat()


def extract(response):
    html = response.content.decode()
    data = extruct.extract(html, base_url="http://testserver/", syntaxes=["json-ld", "opengraph"], uniform=False)
    json_ld = [item for block in data["json-ld"] for item in (block if isinstance(block, list) else [block])]
    og = [pair for block in data["opengraph"] for pair in block["properties"]]
    return {item["@type"]: item for item in json_ld}, og


def meta(og, name):
    return [value for key, value in og if key == name]


def twitter(response, name):
    match = re.search(rf'<meta name="twitter:{name}" content="([^"]*)">'.encode(), response.content)
    return match.group(1).decode() if match else None


def test_article_page_carries_news_article(client, world):
    article = world["article"]
    response = client.get(article.get_absolute_url())
    items, _ = extract(response)
    url = f"http://testserver{article.get_absolute_url()}"

    news = items["NewsArticle"]
    assert news["@context"] == "https://schema.org"
    assert news["headline"] == article.headline
    assert news["description"] == "Moscow delivers & Paris frowns."
    assert news["datePublished"] == seconds(article.published_at)
    assert news["dateModified"] == seconds(article.published_at)  # never edited since
    assert news["author"] == [
        {"@type": "Person", "name": "Amara Diallo", "url": "http://testserver/author/amara-diallo/"},
        {"@type": "Person", "name": "Staff Reporter", "url": "http://testserver/author/staff-reporter/"},
    ]
    assert news["publisher"]["@type"] == "NewsMediaOrganization"
    assert news["publisher"]["name"] == "The Newsroom"
    assert news["publisher"]["logo"] == {
        "@type": "ImageObject",
        "url": "http://testserver/static/img/logo.png",
        "width": 600,
        "height": 60,
    }
    assert "image" not in news  # no lead image: the site's default picture does not illustrate the story
    assert news["articleSection"] == "Africa"
    assert news["keywords"] == ["Mali", "Russia"]
    assert news["mainEntityOfPage"] == {"@type": "WebPage", "@id": url}
    assert news["isAccessibleForFree"] is True
    assert news["inLanguage"] == "en"


def test_json_ld_is_escaped_and_carries_the_csp_nonce(client, world):
    response = client.get(world["article"].get_absolute_url())
    html = response.content.decode()

    scripts = re.findall(r'<script type="application/ld\+json" nonce="([^"]+)">', html)
    assert len(scripts) == 1
    assert f"'nonce-{scripts[0]}'" in response["Content-Security-Policy"]
    assert "<script>alert(1)" not in html  # the headline cannot close the script element
    assert html.count("</script>") == 1


def test_breadcrumbs(client, world):
    article = world["article"]
    items, _ = extract(client.get(article.get_absolute_url()))

    crumbs = items["BreadcrumbList"]["itemListElement"]
    assert [(crumb["position"], crumb["name"], crumb["item"]) for crumb in crumbs] == [
        (1, "The Newsroom", "http://testserver/"),
        (2, "Africa", "http://testserver/section/africa/"),
        (3, article.headline, f"http://testserver{article.get_absolute_url()}"),
    ]


def test_open_graph_and_twitter_card(client, world):
    article = world["article"]
    response = client.get(article.get_absolute_url())
    _, og = extract(response)

    assert meta(og, "og:type") == ["article"]
    assert meta(og, "og:title") == [article.headline]
    assert meta(og, "og:description") == ["Moscow delivers & Paris frowns."]
    assert meta(og, "og:url") == [f"http://testserver{article.get_absolute_url()}"]
    assert meta(og, "og:site_name") == ["The Newsroom"]
    assert meta(og, "og:image") == ["http://testserver/static/img/social-default.png"]
    assert meta(og, "og:image:width") == ["1200"]
    assert meta(og, "og:image:height") == ["630"]
    assert meta(og, "article:published_time") == [seconds(article.published_at)]
    assert meta(og, "article:modified_time") == [seconds(article.published_at)]
    assert meta(og, "article:section") == ["Africa"]
    assert meta(og, "article:tag") == ["Mali", "Russia"]
    assert twitter(response, "card") == "summary_large_image"
    assert twitter(response, "image") == "http://testserver/static/img/social-default.png"
    assert twitter(response, "description") == "Moscow delivers &amp; Paris frowns."


def test_edited_article_reports_its_modification_time(client, world):
    article = world["article"]
    edited = article.published_at + timedelta(hours=5)
    Article.objects.filter(pk=article.pk).update(created_at=article.published_at, updated_at=edited)
    response = client.get(article.get_absolute_url())
    items, og = extract(response)

    assert items["NewsArticle"]["dateModified"] == seconds(edited)
    assert meta(og, "article:modified_time") == [seconds(edited)]


def test_lead_image_is_the_social_image(client, world):
    article = world["article"]
    make_lead_image(article)
    response = client.get(article.get_absolute_url())
    items, og = extract(response)
    social = f"http://testserver/media/renditions/{article.pk}-social.jpg"

    assert meta(og, "og:image") == [social]
    assert (meta(og, "og:image:width"), meta(og, "og:image:height")) == (["1200"], ["630"])
    assert meta(og, "og:image:alt") == ["Soldiers unload a helicopter"]
    assert twitter(response, "image") == social
    # Until its crops are made, search engines get the page's own rendition of the lead image.
    assert items["NewsArticle"]["image"] == [
        {
            "@type": "ImageObject",
            "url": f"http://testserver/media/renditions/{article.pk}-1280.jpg",
            "width": 1280,
            "height": 853,
        }
    ]


def test_structured_data_gives_google_the_16_9_4_3_and_1_1_crops(client, world, django_assert_num_queries):
    article = world["article"]
    image = make_lead_image(article)
    for kind, (width, height) in {"1x1": (1200, 1200), "16x9": (1200, 675), "4x3": (1200, 900)}.items():
        Rendition.objects.create(
            image=image, spec=f"{kind}.jpeg", kind=kind, format="jpeg", width=width, height=height,
            file=f"renditions/{article.pk}-{kind}.jpg", signature="s",
        )  # fmt: skip
    items, _ = extract(client.get(article.get_absolute_url()))

    assert items["NewsArticle"]["image"] == [
        {"@type": "ImageObject", "url": f"http://testserver/media/renditions/{article.pk}-{kind}.jpg", **size}
        for kind, size in [
            ("16x9", {"width": 1200, "height": 675}),
            ("4x3", {"width": 1200, "height": 900}),
            ("1x1", {"width": 1200, "height": 1200}),
        ]
    ]


def test_an_article_without_a_byline_names_the_organization_with_its_url(client, world):
    article = make_article(days=-1, headline="Agency copy", slug="agency-copy", section=world["section"])
    items, _ = extract(client.get(article.get_absolute_url()))

    assert items["NewsArticle"]["author"] == [
        {"@type": "Organization", "name": "The Newsroom", "url": "http://testserver/"}
    ]


TIME_DATETIME = re.compile(r'<time datetime="([^"]*)"')
# HTML's valid date strings allow at most three fraction digits; pages write whole seconds.
WHOLE_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")


def test_dates_are_whole_seconds_everywhere_they_are_written(client, world):
    """Times saved through the admin carry microseconds; no page may pass them on."""
    article = world["article"]
    published = datetime(2026, 3, 2, 9, 15, 30, 123456, tzinfo=UTC)
    edited = published + timedelta(hours=2, microseconds=654321)
    Correction.objects.create(article=article, text="An earlier version misspelt a name.")
    Article.objects.filter(pk=article.pk).update(published_at=published, created_at=published, updated_at=edited)
    article.refresh_from_db()

    for path in (article.get_absolute_url(), "/corrections/", "/", "/section/africa/", "/search/?q=helicopters"):
        response = client.get(path)
        values = TIME_DATETIME.findall(response.content.decode())
        assert values, path
        assert all(WHOLE_SECONDS.fullmatch(value) for value in values), (path, values)
    response = client.get(article.get_absolute_url())
    news = extract(response)[0]["NewsArticle"]
    assert news["datePublished"] == "2026-03-02T09:15:30+00:00"
    assert news["dateModified"] == "2026-03-02T11:15:30+00:00"
    assert all(WHOLE_SECONDS.fullmatch(note["datePublished"]) for note in news["correction"])
    assert '<time datetime="2026-03-02T11:15:30+00:00">' in response.content.decode()


def test_organisation_and_images_are_settings(client, world, settings):
    settings.NEWSROOM_NAME = "Le Journal"
    settings.NEWSROOM_LANGUAGE = "fr"
    settings.NEWSROOM_LOGO = "img/social-default.png"
    items, og = extract(client.get(world["article"].get_absolute_url()))

    assert items["NewsArticle"]["publisher"]["name"] == "Le Journal"
    assert items["NewsArticle"]["publisher"]["logo"]["url"] == "http://testserver/static/img/social-default.png"
    assert items["NewsArticle"]["inLanguage"] == "fr"
    assert meta(og, "og:site_name") == ["Le Journal"]


@pytest.mark.parametrize("hidden", ["draft", "scheduled"])
def test_staff_preview_of_an_unpublished_article_carries_no_structured_data(client, world, hidden):
    client.force_login(User.objects.create_superuser("editor", "e@example.com", "x"))
    response = client.get(world[hidden].get_absolute_url())
    items, og = extract(response)

    assert response.status_code == 200
    assert items == {}
    assert og == []
    assert twitter(response, "card") is None


def test_published_pages_never_mention_unpublished_articles_in_structured_data(client, world):
    for path in ("/", "/section/africa/", "/tag/mali/", "/author/amara-diallo/", world["article"].get_absolute_url()):
        items, _ = extract(client.get(path))
        text = repr(items)
        assert "Embargoed draft" not in text and "Future scheduled" not in text
        assert "/draft/" not in text and "/scheduled/" not in text


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/", "The Newsroom"),
        ("/section/africa/", "Africa"),
        ("/tag/mali/", "Mali"),
        ("/author/amara-diallo/", "Amara Diallo"),
    ],
)
def test_lists_carry_a_collection_page(client, world, path, name):
    response = client.get(path)
    items, og = extract(response)

    page = items["CollectionPage"]
    assert page["name"] == name
    assert page["url"] == f"http://testserver{path}"
    assert page["isPartOf"] == {"@type": "WebSite", "name": "The Newsroom", "url": "http://testserver/"}
    assert [item["url"] for item in page["mainEntity"]["itemListElement"]] == [
        f"http://testserver{world['article'].get_absolute_url()}",
        f"http://testserver{world['older'].get_absolute_url()}",
    ]
    assert meta(og, "og:type") == ["website"]
    assert meta(og, "og:image:width") == ["1200"]


def test_collection_page_description_follows_the_meta_description(client, world):
    items, _ = extract(client.get("/section/africa/"))

    assert items["CollectionPage"]["description"] == "News from the continent."


def test_scheduled_article_gets_structured_data_once_live(client, world, monkeypatch):
    later = timezone.now() + timedelta(days=3)
    monkeypatch.setattr(timezone, "now", lambda: later)

    items, _ = extract(client.get(world["scheduled"].get_absolute_url()))

    assert items["NewsArticle"]["headline"] == "Future scheduled"
