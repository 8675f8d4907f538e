"""
The public pages: who sees what, what an article page says, canonical URLs,
staff preview, page metadata, pagination, query budgets and security headers.
"""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.views.defaults import server_error
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from articles.models import Article, Correction, Tag

from .factories import make_article, make_author, make_image, make_section, relate

pytestmark = pytest.mark.django_db

DRAFT = Article.Status.DRAFT
PUBLISHED = Article.Status.PUBLISHED
SEED_TIME = datetime(2021, 10, 1, 9, 0, tzinfo=UTC)


def h1_count(response):
    return response.content.count(b"<h1")


def canonical_href(response):
    match = re.search(rb'<link rel="canonical" href="([^"]*)">', response.content)
    assert match, "no <link rel=canonical>"
    return match.group(1).decode()


def teaser_headlines(response):
    return [article.headline for article in response.context["page_obj"].object_list]


@pytest.fixture
def utc(settings):
    """Pin the newsroom's time zone for tests that spell out dates and URLs."""
    settings.TIME_ZONE = "UTC"


@pytest.fixture
def newsroom():
    """
    One section, author and tag shared by four articles, in publication order:
    an older published one, a draft, the published one under test and a
    scheduled one. The draft and the scheduled article are curated as related
    to the published one and share its tag, so every way they could leak
    (lists, previous/next, curated and tag-based related links) is open.
    """
    section = make_section("Africa", slug="africa")
    author = make_author("Amara Diallo", slug="amara-diallo")
    common = {"section": section, "authors": [author], "tags": ["Mali"]}
    older = make_article(days=-5, headline="Older published story", slug="older", **common)
    draft = make_article(days=-3, status=DRAFT, headline="Embargoed draft story", slug="draft", **common)
    published = make_article(days=-2, headline="Published story", slug="published", **common)
    scheduled = make_article(days=3, headline="Future scheduled story", slug="scheduled", **common)
    relate(published, draft, scheduled, older)
    return {
        "section": section,
        "author": author,
        "tag": Tag.objects.get(name="Mali"),
        "older": older,
        "draft": draft,
        "published": published,
        "scheduled": scheduled,
    }


def list_urls(newsroom):
    return {
        "home": reverse("articles:home"),
        "section": newsroom["section"].get_absolute_url(),
        "tag": newsroom["tag"].get_absolute_url(),
        "author": newsroom["author"].get_absolute_url(),
    }


# Visibility: published, draft and scheduled on every public page.


@pytest.mark.parametrize("page", ["home", "section", "tag", "author"])
def test_lists_show_published_articles_only(client, newsroom, page):
    response = client.get(list_urls(newsroom)[page])

    assert response.status_code == 200
    assert teaser_headlines(response) == ["Published story", "Older published story"]
    assertContains(response, newsroom["published"].get_absolute_url())
    for hidden in ("draft", "scheduled"):
        assertNotContains(response, newsroom[hidden].headline)
        assertNotContains(response, newsroom[hidden].get_absolute_url())


def test_published_article_page_answers_200(client, newsroom):
    response = client.get(newsroom["published"].get_absolute_url())

    assertContains(response, '<h1 class="headline">Published story</h1>', html=True)


@pytest.mark.parametrize("hidden", ["draft", "scheduled"])
def test_unpublished_article_is_404_for_anonymous_readers(client, newsroom, hidden):
    response = client.get(newsroom[hidden].get_absolute_url())

    assert response.status_code == 404
    assertNotContains(response, newsroom[hidden].headline, status_code=404)


@pytest.mark.parametrize("hidden", ["draft", "scheduled"])
def test_unpublished_article_is_404_for_logged_in_non_staff(client, newsroom, hidden):
    """Permission alone is not enough: preview is for staff."""
    user = User.objects.create_user("reader", password="x")
    user.user_permissions.add(Permission.objects.get(codename="view_article"))
    client.force_login(user)

    assert client.get(newsroom[hidden].get_absolute_url()).status_code == 404


def test_unpublished_articles_never_appear_as_neighbours_or_related(client, newsroom):
    response = client.get(newsroom["published"].get_absolute_url())

    assert response.context["links"].previous == newsroom["older"]
    assert response.context["links"].next is None
    assert response.context["links"].related == [newsroom["older"]]
    for hidden in ("draft", "scheduled"):
        assertNotContains(response, newsroom[hidden].headline)
        assertNotContains(response, newsroom[hidden].get_absolute_url())


def test_older_article_skips_the_draft_to_reach_its_next(client, newsroom):
    response = client.get(newsroom["older"].get_absolute_url())

    assert response.context["links"].previous is None
    assert response.context["links"].next == newsroom["published"]
    assertNotContains(response, "Embargoed draft story")


def test_scheduled_article_appears_once_its_time_has_come(client, newsroom):
    """Scheduling needs no job: moving the time into the past is publishing."""
    scheduled = newsroom["scheduled"]
    Article.objects.filter(pk=scheduled.pk).update(published_at=timezone.now() - timedelta(minutes=1))
    scheduled.refresh_from_db()

    assert client.get(scheduled.get_absolute_url()).status_code == 200
    assert "Future scheduled story" in teaser_headlines(client.get(reverse("articles:home")))


# The article page.


@pytest.fixture
def seed_page(utc):
    """An article with everything an article page shows, between two neighbours."""
    section = make_section("Africa", slug="africa")
    staff = make_author("Al Jazeera Staff", slug="al-jazeera-staff")
    amara = make_author("Amara Diallo", slug="amara-diallo")
    previous = make_article(
        headline="Forced repossession of leased assets to be suspended until next year",
        published_at=SEED_TIME - timedelta(hours=1, minutes=20),
    )
    article = make_article(
        headline="Mali receives helicopters and weapons from Russia",
        slug="mali-receives-helicopters-and-weapons-from-russia",
        standfirst="The delivery of military equipment from Moscow comes amid tense relations.",
        credit="Al Jazeera and news agencies",
        section=section,
        authors=[staff, amara],
        tags=["Mali", "Russia", "Wagner Group"],
        published_at=SEED_TIME,
        created_at=SEED_TIME - timedelta(hours=1),
    )
    Article.objects.filter(pk=article.pk).update(updated_at=SEED_TIME)
    following = make_article(
        headline="Dubai Expo 2020 attempt to shield UAE rights abuses, says HRW",
        published_at=SEED_TIME + timedelta(hours=2, minutes=20),
    )
    return {"article": article, "previous": previous, "next": following, "authors": [staff, amara]}


def test_article_page_has_one_h1_with_the_headline(client, seed_page):
    response = client.get(seed_page["article"].get_absolute_url())

    assert h1_count(response) == 1
    assertContains(response, '<h1 class="headline">Mali receives helicopters and weapons from Russia</h1>', html=True)


def test_article_page_shows_standfirst_section_and_byline(client, seed_page):
    response = client.get(seed_page["article"].get_absolute_url())

    assertContains(
        response,
        '<p class="standfirst">The delivery of military equipment from Moscow comes amid tense relations.</p>',
        html=True,
    )
    assertContains(response, '<p class="kicker"><a href="/section/africa/">Africa</a></p>', html=True)
    assertContains(
        response,
        '<p>By <a href="/author/al-jazeera-staff/" rel="author">Al Jazeera Staff</a>'
        ' and <a href="/author/amara-diallo/" rel="author">Amara Diallo</a>'
        ' <span class="credit"> · Al Jazeera and news agencies</span></p>',
        html=True,
    )


def test_byline_lists_three_authors_with_commas_and_and(client):
    authors = [make_author(name) for name in ("Ann", "Ben", "Cal")]
    article = make_article(authors=authors)

    response = client.get(article.get_absolute_url())

    assert re.search(rb">Ann</a>, <a [^>]+>Ben</a> and <a [^>]+>Cal</a>", response.content)


def test_article_page_shows_credit_alone_without_authors(client):
    article = make_article(credit="News agencies")

    response = client.get(article.get_absolute_url())

    assertContains(response, '<p><span class="credit">News agencies</span></p>', html=True)
    assertNotContains(response, "By ")


def test_article_page_has_machine_readable_publication_time(client, seed_page):
    response = client.get(seed_page["article"].get_absolute_url())

    assertContains(response, '<time datetime="2021-10-01T09:00:00+00:00">1 October 2021, 09:00 UTC</time>', html=True)
    assertNotContains(response, "Updated")


@pytest.mark.parametrize(
    ("edited_after", "shows_updated"),
    [(timedelta(0), False), (timedelta(seconds=30), False), (timedelta(hours=3), True)],
)
def test_updated_time_shows_only_when_edited_after_publication(client, utc, edited_after, shows_updated):
    """The publishing save itself (within a minute) is not an update."""
    article = make_article(published_at=SEED_TIME, created_at=SEED_TIME - timedelta(days=1))
    Article.objects.filter(pk=article.pk).update(updated_at=SEED_TIME + edited_after)

    response = client.get(article.get_absolute_url())

    updated = '<time datetime="2021-10-01T12:00:00+00:00">1 October 2021, 12:00 UTC</time>'
    assert ("Updated" in response.content.decode()) is shows_updated
    if shows_updated:
        assert re.search(r"· Updated <time datetime=\"2021-10-01T12:00:00\+00:00\">", response.content.decode())
        assertContains(response, updated, html=True, count=1)


def test_tags_link_to_their_tag_pages(client, seed_page):
    response = client.get(seed_page["article"].get_absolute_url())

    for name, slug in [("Mali", "mali"), ("Russia", "russia"), ("Wagner Group", "wagner-group")]:
        assertContains(response, f'<a href="/tag/{slug}/" rel="tag">{name}</a>', html=True, count=1)
        assert client.get(f"/tag/{slug}/").status_code == 200


def test_article_without_tags_has_no_tag_list(client):
    response = client.get(make_article().get_absolute_url())

    assertNotContains(response, 'class="article-tags"')


def test_related_articles_are_curated_first_then_filled_by_shared_tags(client):
    """Up to four: curated links in their position order, then most shared tags first."""
    article = make_article(tags=["Mali", "Russia", "France"])
    curated_second = make_article(days=-3, headline="Curated second")
    curated_first = make_article(days=-9, headline="Curated first")
    two_shared = make_article(days=-8, headline="Shares two tags", tags=["Mali", "Russia"])
    one_shared_newer = make_article(days=-2, headline="Shares one tag, newer", tags=["France"])
    make_article(days=-4, headline="Shares one tag, older", tags=["Mali"])
    make_article(days=-2, headline="Shares nothing", tags=["Science"])
    relate(article, curated_first, curated_second)

    response = client.get(article.get_absolute_url())

    assert response.context["links"].related == [curated_first, curated_second, two_shared, one_shared_newer]
    section = response.content.decode().split('id="related-heading"')[1]
    positions = [section.index(headline) for headline in ("Curated first", "Curated second", "Shares two tags")]
    assert positions == sorted(positions)
    assert "Shares one tag, older" not in section
    assert "Shares nothing" not in section
    assertContains(response, f'<a href="{two_shared.get_absolute_url()}">Shares two tags</a>', html=True)


def test_article_without_related_articles_has_no_related_section(client):
    response = client.get(make_article(tags=["Lonely"]).get_absolute_url())

    assertNotContains(response, "Related articles")


def test_previous_and_next_links_name_the_neighbours(client, seed_page):
    response = client.get(seed_page["article"].get_absolute_url())

    assertContains(response, '<span class="label">Previous article</span>', html=True)
    assertContains(response, '<span class="label">Next article</span>', html=True)
    assertContains(
        response,
        f'<a rel="prev" href="{seed_page["previous"].get_absolute_url()}">'
        "Forced repossession of leased assets to be suspended until next year</a>",
        html=True,
        count=1,
    )
    assertContains(
        response,
        f'<a rel="next" href="{seed_page["next"].get_absolute_url()}">'
        "Dubai Expo 2020 attempt to shield UAE rights abuses, says HRW</a>",
        html=True,
        count=1,
    )


def test_oldest_article_has_no_previous_link(client, seed_page):
    response = client.get(seed_page["previous"].get_absolute_url())

    assertNotContains(response, "Previous article")
    assertNotContains(response, 'rel="prev"')
    assertContains(response, "Next article")
    assertContains(response, 'rel="next"')


def test_newest_article_has_no_next_link(client, seed_page):
    response = client.get(seed_page["next"].get_absolute_url())

    assertContains(response, "Previous article")
    assertContains(response, 'rel="prev"')
    assertNotContains(response, "Next article")
    assertNotContains(response, 'rel="next"')


def test_lone_article_has_no_previous_next_navigation(client):
    response = client.get(make_article().get_absolute_url())

    assertNotContains(response, 'class="prev-next"')


def test_neighbours_with_the_same_publication_time_are_ordered_by_id(client):
    """Two articles published in the same second still have a previous and next."""
    first = make_article(published_at=SEED_TIME, headline="First in the second")
    second = make_article(published_at=SEED_TIME, headline="Second in the second")

    assert client.get(first.get_absolute_url()).context["links"].next == second
    assert client.get(second.get_absolute_url()).context["links"].previous == first


# Canonical URLs and the 404 page.


def test_canonical_url_uses_the_local_publication_date(client, settings):
    settings.TIME_ZONE = "Pacific/Auckland"
    article = make_article(slug="late-news", published_at=datetime(2021, 10, 1, 20, 0, tzinfo=UTC))

    assert article.get_absolute_url() == "/2021/10/02/late-news/"
    assert client.get("/2021/10/02/late-news/").status_code == 200


def test_wrong_date_redirects_permanently_to_the_canonical_url(client, seed_page):
    canonical = seed_page["article"].get_absolute_url()
    assert canonical == "/2021/10/01/mali-receives-helicopters-and-weapons-from-russia/"

    response = client.get("/2020/01/31/mali-receives-helicopters-and-weapons-from-russia/")

    assertRedirects(response, canonical, status_code=301, target_status_code=200)


def test_wrong_date_redirect_for_a_preview_is_temporary(admin_client):
    """A draft's date is not final, so its redirect must not be cached as permanent."""
    draft = make_article(status=DRAFT, slug="draft-redirect")

    response = admin_client.get("/2001/01/01/draft-redirect/")

    assertRedirects(response, draft.get_absolute_url(), status_code=302, target_status_code=200)


@pytest.mark.parametrize(
    "path",
    [
        "/2021/02/30/mali-receives-helicopters-and-weapons-from-russia/",
        "/2021/13/01/mali-receives-helicopters-and-weapons-from-russia/",
        "/2021/00/01/mali-receives-helicopters-and-weapons-from-russia/",
        "/2021/10/01/no-such-article/",
        "/2021/10/02/",  # a day without articles (the day archive; /2021/10/01/ lists the seed)
        "/section/no-such-section/",
        "/tag/no-such-tag/",
        "/author/no-such-author/",
        "/no/such/page/",
    ],
)
def test_bad_addresses_answer_404_with_the_sites_page(client, seed_page, path):
    response = client.get(path)

    assert response.status_code == 404
    assertContains(response, '<h1 class="page-title">Page not found</h1>', html=True, status_code=404)
    assertContains(response, f"<title>Page not found · {settings.NEWSROOM_NAME}</title>", status_code=404)
    assertContains(response, 'class="site-header"', status_code=404)
    assertContains(response, '<meta name="robots" content="noindex">', html=True, status_code=404)
    assertContains(response, '<a href="/">Go to the latest news</a>', html=True, status_code=404)
    assert h1_count(response) == 1


# Staff preview.


def make_staff_viewer():
    user = User.objects.create_user("editor", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_article"))
    return user


@pytest.mark.parametrize("hidden", ["draft", "scheduled"])
def test_superuser_previews_unpublished_articles(admin_client, newsroom, hidden):
    article = newsroom[hidden]

    response = admin_client.get(article.get_absolute_url())

    assert response.status_code == 200
    assertContains(response, f'<h1 class="headline">{article.headline}</h1>', html=True)
    assertContains(response, "<strong>Not published.</strong>", html=True)
    assertContains(response, f'href="{reverse("admin:articles_article_change", args=[article.pk])}"')
    assertContains(response, '<meta name="robots" content="noindex, nofollow">', html=True)
    cache_control = response.headers["Cache-Control"]
    for directive in ("no-cache", "no-store", "private", "max-age=0"):
        assert directive in cache_control


def test_preview_banner_says_draft_or_scheduled_time(admin_client, utc):
    draft = make_article(status=DRAFT)
    scheduled = make_article(published_at=datetime(2031, 1, 15, 8, 0, tzinfo=UTC))

    draft_page, scheduled_page = (
        admin_client.get(draft.get_absolute_url()),
        admin_client.get(scheduled.get_absolute_url()),
    )

    assertContains(draft_page, "This is a draft.")
    assertContains(scheduled_page, "Scheduled for 15 January 2031, 08:00 UTC.")
    # The dates line under the byline too: never "Published <date>" before it is.
    assertContains(draft_page, '<p class="dates">Not published</p>', html=True)
    assertContains(
        scheduled_page,
        '<p class="dates">Scheduled for '
        '<time datetime="2031-01-15T08:00:00+00:00">15 January 2031, 08:00 UTC</time></p>',
        html=True,
    )
    for page in (draft_page, scheduled_page):
        assertNotContains(page, "Published")


@pytest.mark.parametrize("hidden", ["draft", "scheduled"])
def test_staff_with_view_permission_previews(client, newsroom, hidden):
    client.force_login(make_staff_viewer())

    response = client.get(newsroom[hidden].get_absolute_url())

    assertContains(response, "Not published.")
    assert "no-store" in response.headers["Cache-Control"]


def test_staff_without_view_permission_cannot_preview(client, newsroom):
    client.force_login(User.objects.create_user("intern", password="x", is_staff=True))

    assert client.get(newsroom["draft"].get_absolute_url()).status_code == 404


def test_published_article_has_no_banner_even_for_staff(admin_client, client, newsroom):
    for reader in (admin_client, client):
        response = reader.get(newsroom["published"].get_absolute_url())

        assert response.status_code == 200
        assertNotContains(response, "Not published")
        assertNotContains(response, 'name="robots"')
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_preview_does_not_leak_unpublished_neighbours(admin_client, newsroom):
    """Even for staff, previous/next and related links only point at live articles."""
    response = admin_client.get(newsroom["draft"].get_absolute_url())

    assert response.context["links"].previous == newsroom["older"]
    assert response.context["links"].next == newsroom["published"]
    assertNotContains(response, "Future scheduled story")


# Page metadata and the one-<h1> hygiene rule.


def public_pages(newsroom):
    """Every kind of public URL, with the canonical address and description each should declare."""
    published = newsroom["published"]
    return [
        ("/", "http://testserver/", settings.NEWSROOM_DESCRIPTION),
        ("/?page=1&utm_source=x", "http://testserver/", settings.NEWSROOM_DESCRIPTION),
        ("/section/africa/", "http://testserver/section/africa/", "Africa news."),
        ("/tag/mali/", "http://testserver/tag/mali/", f"The latest articles on Mali from {settings.NEWSROOM_NAME}."),
        ("/author/amara-diallo/", "http://testserver/author/amara-diallo/", "Amara covers the Sahel."),
        (
            published.get_absolute_url() + "?utm_source=x",
            "http://testserver" + published.get_absolute_url(),
            "What happened, in one sentence.",
        ),
    ]


@pytest.fixture
def described_newsroom(newsroom):
    newsroom["section"].description = "Africa news."
    newsroom["section"].save()
    newsroom["author"].bio = "Amara covers the Sahel."
    newsroom["author"].save()
    newsroom["published"].standfirst = "What happened, in one sentence."
    newsroom["published"].save()
    return newsroom


def test_every_page_declares_title_description_and_canonical(client, described_newsroom):
    for path, canonical, description in public_pages(described_newsroom):
        response = client.get(path)

        assert response.status_code == 200, path
        assert re.search(rb"<title>[^<]*\S[^<]*</title>", response.content), path
        assertContains(response, f'<meta name="description" content="{description}">', html=True)
        assert canonical_href(response) == canonical, path


def test_article_title_and_description_come_from_the_article(client, described_newsroom):
    response = client.get(described_newsroom["published"].get_absolute_url())

    assertContains(response, f"<title>Published story · {settings.NEWSROOM_NAME}</title>", html=True)


def test_long_standfirst_is_truncated_in_the_description(client):
    article = make_article(standfirst="word " * 100)

    response = client.get(article.get_absolute_url())

    description = re.search(rb'<meta name="description" content="([^"]*)">', response.content).group(1)
    assert len(description.decode()) == 160
    assert description.decode().endswith("…")


def test_article_without_standfirst_is_described_by_its_headline(client):
    article = make_article(headline="Just a headline", standfirst="")

    assertContains(client.get(article.get_absolute_url()), '<meta name="description" content="Just a headline">')


def test_second_page_canonical_keeps_the_page_number(client):
    for days in range(12):
        make_article(days=-days - 1)

    response = client.get("/?page=2&utm_source=x")

    assert canonical_href(response) == "http://testserver/?page=2"
    assertContains(response, f"<title>Latest news, page 2 · {settings.NEWSROOM_NAME}</title>", html=True)


def test_every_public_url_has_exactly_one_h1(client, admin_client, newsroom):
    """The hygiene rule, including a body that tries to smuggle in its own <h1>."""
    newsroom["published"].body = "<h1>Smuggled heading</h1><h2>Allowed subheading</h2><p>Text.</p>"
    newsroom["published"].save()
    for days in range(12):
        make_article(days=-days - 10)
    urls = [path for path, _canonical, _description in public_pages(newsroom)]
    urls += ["/?page=2", newsroom["older"].get_absolute_url(), "/no-such-page/"]

    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert h1_count(response) == 1, url
    for hidden in ("draft", "scheduled"):
        assert h1_count(admin_client.get(newsroom[hidden].get_absolute_url())) == 1


def test_every_public_page_has_one_labelled_search_landmark(client, newsroom):
    """The search page has its own form, so the header's is left out there: never two unnamed landmarks."""
    urls = [path for path, _canonical, _description in public_pages(newsroom)] + ["/search/?q=story"]

    for url in urls:
        forms = re.findall(r"<form[^>]*>", client.get(url).content.decode())
        landmarks = [form for form in forms if 'role="search"' in form]
        assert len(landmarks) == 1, url
        assert re.search(r'aria-label="[^"]+"', landmarks[0]), url
    assert 'id="site-search-q"' not in client.get("/search/").content.decode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<h3>Background</h3><p>a</p><h4>Detail</h4>", ["h2", "h3"]),  # jumps from the headline's h1 to h3
        ("<h2>One</h2><h4>Two</h4><h2>Three</h2>", ["h2", "h3", "h2"]),  # skips a level inside
        ("<h2>One</h2><h3>Two</h3>", ["h2", "h3"]),  # already right: untouched
    ],
)
def test_body_headings_follow_the_headline_without_skipping_a_level(client, body, expected):
    article = make_article(days=-1)
    Article.objects.filter(pk=article.pk).update(body=body)  # stored before the editor's levels were fixed

    html = client.get(article.get_absolute_url()).content.decode()
    body_html = html.split('<div class="article-body">', 1)[1].split("</div>", 1)[0]

    assert re.findall(r"<(h[1-6])>", body_html) == expected
    assert re.findall(r"</(h[1-6])>", body_html) == expected


def test_empty_lists_say_so_and_still_have_one_h1(client):
    section = make_section("Empty")

    home = client.get("/")

    assertContains(home, "No articles yet.")
    assert h1_count(home) == 1
    # A section with nothing published is not public yet (test_unpublished_scopes.py).
    assert client.get(section.get_absolute_url()).status_code == 404


# Pagination.


@pytest.fixture
def twenty_five():
    """25 published articles, newest first in this list."""
    section = make_section("Economy", slug="economy")
    return [make_article(days=-(i + 1), headline=f"Story {i:02}", section=section) for i in range(25)]


def test_home_is_paginated_newest_first(client, twenty_five):
    per_page = settings.NEWSROOM_ARTICLES_PER_PAGE
    assert per_page == 10
    headlines = [article.headline for article in twenty_five]

    pages = [client.get("/"), client.get("/?page=2"), client.get("/?page=3")]

    assert [teaser_headlines(page) for page in pages] == [headlines[:10], headlines[10:20], headlines[20:]]
    assertContains(pages[0], "<span>Page 1</span>", html=True)
    assertContains(pages[2], "<span>Page 3</span>", html=True)
    assertContains(pages[0], '<a rel="next" href="/?page=2">Older →</a>', html=True)
    assertNotContains(pages[0], 'rel="prev"')
    # Page 1 is the list's own address (never ?page=1, a duplicate of it).
    assertContains(pages[1], '<a rel="prev" href="/">← Newer</a>', html=True)
    assertContains(pages[1], '<a rel="next" href="/?page=3">Older →</a>', html=True)
    assertContains(pages[2], '<a rel="prev" href="/?page=2">← Newer</a>', html=True)
    assertNotContains(pages[2], 'rel="next"')


@pytest.mark.parametrize("path", ["/", "/section/economy/", "/corrections/", "/2026/01/"])
def test_each_page_of_a_list_has_its_own_title_and_description(client, twenty_five, path):
    first_day = twenty_five[-1].published_at
    Article.objects.filter(pk__in=[a.pk for a in twenty_five]).update(published_at=first_day)
    for article in twenty_five:
        Correction.objects.create(article=article, text=f"A correction to {article.headline}.")
    path = path.replace("/2026/01/", timezone.localtime(first_day).strftime("/%Y/%m/"))
    first, second = client.get(path), client.get(f"{path}?page=2")

    assert first.status_code == second.status_code == 200
    assertContains(second, f'<a rel="prev" href="{path}">← Newer</a>', html=True)
    assert description(second) == f"{description(first)} Page 2."
    assert title(second) != title(first) and "page 2" in title(second)


def description(response):
    return re.search(r'<meta name="description" content="([^"]*)">', response.content.decode()).group(1)


def title(response):
    return re.search(r"<title>([^<]*)</title>", response.content.decode()).group(1)


def test_home_without_a_second_page_shows_no_pagination(client):
    make_article()

    assertNotContains(client.get("/"), 'class="pagination"')


@pytest.mark.parametrize("page", ["999", "4", "0", "-1", "abc", "2.5"])
def test_out_of_range_or_malformed_page_is_404(client, twenty_five, page):
    response = client.get("/", {"page": page})

    assert response.status_code == 404
    assertContains(response, "Page not found", status_code=404)


def test_section_page_is_paginated_too(client, twenty_five):
    response = client.get("/section/economy/?page=3")

    assert teaser_headlines(response) == [article.headline for article in twenty_five[20:]]
    assert client.get("/section/economy/?page=4").status_code == 404


# Query budgets (anonymous readers unless said otherwise).

# The article page: the article; its byline, tags and corrections (Article.load_page_data);
# previous/next and related articles (Article.get_links); the page header, the section
# navigation and the breaking-news banner in one query (every page, articles/header.py).
# Related articles with lead images add their images and renditions (2, see below).
ARTICLE_PAGE_QUERIES = 4
ARTICLE_PAGE_QUERIES_CURATED_FULL = 4
# A draft seen by staff: the reader's 4, the session, the user, and whether they set up a second
# factor that this session has not used (the admin's rule, newsroom/admin.py).
PREVIEW_PAGE_QUERIES = 7
# Lists never COUNT (articles/pagination.py): one page query fetching a row more than it shows.
# The home page also looks up its curated stories (test_frontpage.py pins the curated page).
HOME_PAGE_QUERIES = 4
SCOPED_PAGE_QUERIES = 4


def build_article_world(*, tags, curated, others, authors):
    """An article with `tags` tags, `curated` curated links and `others` published articles sharing its tags."""
    section = make_section()
    byline = [make_author() for _ in range(authors)]
    names = [f"Topic {n}" for n in range(tags)]
    article = make_article(days=-50, section=section, authors=byline, tags=names)
    neighbours = [
        make_article(days=-i - 1, section=section, authors=byline, tags=names[: i % tags + 1]) for i in range(others)
    ]
    relate(article, *neighbours[:curated])
    return article


@pytest.mark.parametrize(
    ("tags", "curated", "others", "authors"),
    [(1, 0, 0, 1), (8, 0, 30, 3), (8, 3, 30, 3)],
    ids=["one-tag-alone", "eight-tags-many-articles", "eight-tags-three-curated"],
)
def test_article_page_query_count_is_constant(client, django_assert_num_queries, tags, curated, others, authors):
    """The same 5 queries whatever the numbers of tags, curated links, related articles and authors."""
    article = build_article_world(tags=tags, curated=curated, others=others, authors=authors)

    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):
        response = client.get(article.get_absolute_url())

    assert response.status_code == 200
    assert len(response.context["links"].related) == min(4, curated + others)


def test_article_page_with_more_curated_links_than_shown(client, django_assert_num_queries):
    """With 8 tags and 6 curated links the related list is the first 4 curated ones, in the same queries."""
    article = build_article_world(tags=8, curated=6, others=30, authors=3)

    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):
        response = client.get(article.get_absolute_url())

    curated = [link.related_article for link in article.related_links.order_by("position", "id")]
    assert response.context["links"].related == curated[:4]


@pytest.mark.parametrize("size", [3, 25])
def test_preview_query_count(admin_client, django_assert_num_queries, size):
    """A superuser's preview adds the session and user lookups and the second-factor check (3) to the reader's 5."""
    build_article_world(tags=size // 3, curated=0, others=size, authors=2)
    draft = make_article(status=DRAFT, tags=["Topic 0", "Topic 1"], authors=[make_author()])

    with django_assert_num_queries(PREVIEW_PAGE_QUERIES):
        response = admin_client.get(draft.get_absolute_url())

    assertContains(response, "Not published.")


def build_listing_world(count):
    """`count` published articles, each with a section, two authors and tags, all under one of each scope."""
    section = make_section("Scoped", slug="scoped")
    authors = [make_author(slug="lead-author"), make_author()]
    for i in range(count):
        make_article(days=-i - 1, section=section, authors=authors, tags=["Everywhere", f"Only {i}"])
    make_article(status=DRAFT, section=section, authors=authors, tags=["Everywhere"])


@pytest.mark.parametrize("count", [3, 25])
@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/", HOME_PAGE_QUERIES),
        ("/section/scoped/", SCOPED_PAGE_QUERIES),
        ("/tag/everywhere/", SCOPED_PAGE_QUERIES),
        ("/author/lead-author/", SCOPED_PAGE_QUERIES),
    ],
)
def test_list_page_query_count_is_constant(client, django_assert_num_queries, count, path, queries):
    """Page, bylines and navigation (plus the scope lookup) for 3 articles or a full page of 25."""
    build_listing_world(count)

    with django_assert_num_queries(queries):
        response = client.get(path)

    assert len(teaser_headlines(response)) == min(count, settings.NEWSROOM_ARTICLES_PER_PAGE)


# Security headers.


def test_pages_carry_a_strict_content_security_policy(client, newsroom):
    for path in ("/", newsroom["published"].get_absolute_url(), "/tag/mali/", "/no-such-page/"):
        response = client.get(path)

        policy = response.headers["Content-Security-Policy"]
        directives = dict(
            (part.split(" ", 1) + [""])[:2] for part in (item.strip() for item in policy.split(";")) if part
        )
        assert "'self'" in directives["script-src"].split(), path
        assert "'unsafe-inline'" not in policy, path
        assert "'unsafe-eval'" not in policy, path
        assert directives["object-src"] == "'none'", path
        assert directives["frame-ancestors"] == "'none'", path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style_without_a_nonce(client, newsroom):
    """The policy allows no inline code, so a page must not ship any."""
    for path in ("/", newsroom["published"].get_absolute_url()):
        content = client.get(path).content.decode()

        for tag in re.findall(r"<(?:script|style)\b[^>]*>", content):
            assert "nonce=" in tag or "src=" in tag, tag
        assert not re.search(r"\son[a-z]+=", content), "inline event handler"


# The 500 page.


def test_500_template_renders_in_the_sites_design_without_context_or_database(django_assert_num_queries):
    """Django renders 500.html with an empty context; it must need neither context processors nor the database."""
    with django_assert_num_queries(0):
        html = render_to_string("500.html", {})

    assert html.count("<h1") == 1
    assert '<h1 class="page-title">Something went wrong</h1>' in html
    assert '<header class="site-header">' in html
    assert 'href="/static/css/site.css"' in html
    assert '<meta name="robots" content="noindex">' in html
    assert "<title>Something went wrong</title>" in html


def test_djangos_server_error_view_uses_the_template(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert b'class="site-header"' in response.content


# Delivery: compression, validators, the favicon (issue 14).


def without_nonces(content):
    return re.sub(rb' nonce="[^"]*"', b"", content)


def test_pages_are_compressed_for_readers_who_accept_gzip(client, newsroom):
    import gzip

    for path in ("/", newsroom["published"].get_absolute_url(), "/feed/rss/", "/sitemap.xml"):
        plain = client.get(path)
        response = client.get(path, headers={"accept-encoding": "gzip, br"})

        assert response["Content-Encoding"] == "gzip", path
        assert "Accept-Encoding" in response["Vary"], path
        assert len(response.content) < len(plain.content), path
        # The CSP nonce differs per request; the rest of the page is the same.
        assert without_nonces(gzip.decompress(response.content)) == without_nonces(plain.content), path


def test_pages_with_a_csrf_token_are_not_compressed(admin_client):
    """BREACH needs a secret in a compressed page: the admin's forms carry one, so they are sent as they are."""
    response = admin_client.get(reverse("admin:articles_article_add"), headers={"accept-encoding": "gzip"})

    assert b"csrfmiddlewaretoken" in response.content
    assert "Content-Encoding" not in response


@pytest.mark.parametrize("cached", [False, True])
def test_pages_carry_an_etag_and_answer_304_in_every_configuration(client, newsroom, settings, cached):
    """The embedded default (no Redis: no page cache, no HTTP cache to purge) included."""
    settings.NEWSROOM_CACHE_PAGES = cached
    for path in ("/", newsroom["published"].get_absolute_url(), "/section/africa/", "/feed/atom/", "/sitemap.xml"):
        response = client.get(path, headers={"accept-encoding": "gzip"})
        etag = response["ETag"]

        assert etag.startswith('W/"'), path  # weak once compressed, as HTTP asks
        assert "must-revalidate" in response["Cache-Control"], path
        again = client.get(path, headers={"accept-encoding": "gzip", "if-none-match": etag})
        assert again.status_code == 304, path


def test_favicon_ico_answers_with_a_cached_redirect_to_the_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/img/favicon.ico"
    assert "max-age=86400" in response["Cache-Control"]
    icon = finders.find("img/favicon.ico")
    assert Path(icon).read_bytes()[:4] == b"\x00\x00\x01\x00"  # an ICO file, served with the static files


def test_the_search_page_has_one_search_form(client, newsroom):
    search = client.get("/search/?q=mali").content.decode()
    home = client.get("/").content.decode()

    assert search.count('role="search"') == 1
    assert home.count('role="search"') == 1
    assert 'class="search-link"' in home  # phones get a link to the search page instead of the form


def test_related_articles_show_thumbnails(client, newsroom, settings, tmp_path, django_assert_num_queries):
    settings.MEDIA_ROOT = tmp_path / "media"
    url = newsroom["published"].get_absolute_url()
    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):  # no related article has an image: no renditions
        client.get(url)
    newsroom["older"].lead_image = make_image(width=800, height=500, alt_text="Dunes at dusk")
    newsroom["older"].save()

    with django_assert_num_queries(ARTICLE_PAGE_QUERIES + 2):  # their images, then the images' renditions
        response = client.get(url)

    related = response.content.decode().split('<section class="related"')[1]
    assert 'class="teaser-image"' in related and 'alt="Dunes at dusk"' in related and 'loading="lazy"' in related
