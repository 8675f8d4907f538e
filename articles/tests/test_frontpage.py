"""
The curated front page and the breaking-news banner (issue 14, points 1 and 2):
models, the home page (who shows where, what falls back by itself, query
budget), cache invalidation and lifetimes, and the editors' admin.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from articles.caching import keys
from articles.caching import pages as page_cache
from articles.models import SECTION_BLOCK_SIZE, Article, BreakingNews, FrontPageSlot

from .factories import make_article, make_author, make_image, make_section

pytestmark = pytest.mark.django_db

DRAFT = Article.Status.DRAFT
HOME = "/"
START = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)


def curate(*articles, until=None):
    for article in articles:
        FrontPageSlot.objects.create(article=article, position=FrontPageSlot.next_position(), until=until)


def section_of(response, name):
    """The HTML of one <section> of the home page, by its heading id."""
    match = re.search(rf'<section[^>]*aria-labelledby="{name}".*?</section>', response.content.decode(), re.S)
    return match.group(0) if match else ""


def lead_of(response):
    match = re.search(r'<article class="lead-story.*?</article>', response.content.decode(), re.S)
    return match.group(0) if match else ""


@pytest.fixture
def desk():
    """Two sections with a few stories each, newest first within each section."""
    world, sport = make_section("World", slug="world"), make_section("Sport", slug="sport")
    author = make_author("Amina Diallo")
    stories = {
        name: make_article(days=-days, headline=headline, slug=name, section=section, authors=[author])
        for name, days, headline, section in [
            ("floods", 1, "Floods recede", world),
            ("vote", 2, "Vote count begins", world),
            ("summit", 3, "Summit ends", world),
            ("treaty", 4, "Treaty signed", world),
            ("final", 5, "Cup final tonight", sport),
            ("transfer", 6, "Record transfer", sport),
        ]
    }
    stories["draft"] = make_article(days=-1, status=DRAFT, headline="Unfinished draft", section=world)
    stories["scheduled"] = make_article(days=1, headline="Embargoed scoop", section=world)
    return stories


# Models -----------------------------------------------------------------------------------------


def test_an_article_has_at_most_one_slot(desk):
    curate(desk["vote"])
    with pytest.raises(IntegrityError), transaction.atomic():
        FrontPageSlot.objects.create(article=desk["vote"], position=5)


def test_new_slots_go_to_the_bottom():
    assert FrontPageSlot.next_position() == 0
    FrontPageSlot.objects.create(article=make_article(), position=4)
    assert FrontPageSlot.next_position() == 5


def test_current_slots_and_banners_follow_the_clock():
    with time_machine.travel(START, tick=False) as clock:
        slot = FrontPageSlot.objects.create(article=make_article(), until=START + timedelta(hours=1))
        banner = BreakingNews.objects.create(text="Quake", url="/quake/", ends_at=START + timedelta(hours=1))
        later = BreakingNews.objects.create(text="Later", url="/later/", starts_at=START + timedelta(minutes=30))
        assert list(FrontPageSlot.objects.current()) == [slot] and not slot.has_ended
        assert list(BreakingNews.objects.current()) == [banner] and banner.is_current and not later.is_current
        clock.shift(timedelta(hours=1))
        assert not FrontPageSlot.objects.current().exists() and slot.has_ended
        assert list(BreakingNews.objects.current()) == [later]


@pytest.mark.parametrize("url", ["javascript:alert(1)", "//evil.example/", "www.example.com", ""])
def test_a_banner_link_is_a_site_path_or_a_web_address(url):
    with pytest.raises(IntegrityError), transaction.atomic():
        BreakingNews.objects.create(text="Quake", url=url)


def test_a_banner_ends_after_it_starts():
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        BreakingNews.objects.create(text="Quake", url="/", starts_at=now, ends_at=now)


# The home page ---------------------------------------------------------------------------------


def test_with_nothing_curated_the_home_page_is_the_newest_first_list(client, desk):
    response = client.get(HOME)

    assert response.context["lead"] is None and not response.context["section_blocks"]
    assertContains(response, '<h1 class="page-title">Latest news</h1>')
    headlines = [article.headline for article in response.context["page_obj"].object_list]
    assert headlines[:3] == ["Floods recede", "Vote count begins", "Summit ends"]


def test_the_lead_top_stories_section_blocks_and_the_rest(client, desk):
    curate(desk["treaty"], desk["final"], desk["summit"])

    response = client.get(HOME)

    assert response.content.count(b"<h1") == 1
    assert response.context["lead"] == desk["treaty"]
    assert "Treaty signed" in lead_of(response)
    assert response.context["top_stories"] == [desk["final"], desk["summit"]]
    top = section_of(response, "top-stories-heading")
    assert top.index("Cup final tonight") < top.index("Summit ends")
    blocks = {section.slug: articles for section, articles in response.context["section_blocks"]}
    # Each section's latest stories, the curated ones left out.
    assert blocks["world"] == [desk["floods"], desk["vote"]]
    assert blocks["sport"] == [desk["transfer"]]
    assert [section.slug for section, _ in response.context["section_blocks"]] == ["sport", "world"]
    # The rest, newest first, without the curated stories.
    latest = [article.slug for article in response.context["page_obj"].object_list]
    assert latest == ["floods", "vote", "transfer"]


def test_section_blocks_hold_at_most_a_few_stories(client, desk):
    for days in range(SECTION_BLOCK_SIZE + 2):
        make_article(days=-0.1 - days / 100, section=desk["final"].section)
    curate(desk["floods"])

    blocks = dict(client.get(HOME).context["section_blocks"])

    assert all(len(articles) == SECTION_BLOCK_SIZE for articles in blocks.values())


def test_drafts_and_scheduled_articles_never_show_from_the_front_page(client, desk):
    curate(desk["draft"], desk["scheduled"], desk["vote"])

    response = client.get(HOME)

    assert response.context["lead"] == desk["vote"]
    assertNotContains(response, "Unfinished draft")
    assertNotContains(response, "Embargoed scoop")


def test_a_slot_falls_back_at_its_end_time_and_a_scheduled_story_takes_its_place_on_time(client, desk):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        curate(desk["summit"], until=timezone.now() + timedelta(hours=2))
        curate(desk["scheduled"], desk["vote"])
        assert client.get(HOME).context["lead"] == desk["summit"]
        clock.shift(timedelta(hours=2))
        response = client.get(HOME)
        assert response.context["lead"] == desk["vote"]
        assert desk["summit"] in response.context["page_obj"].object_list  # back in the list
        clock.shift(timedelta(days=1))
        assert client.get(HOME).context["lead"] == desk["scheduled"]


def test_the_second_page_is_the_rest_without_the_curated_stories(client, desk, settings, monkeypatch):
    from articles import views

    monkeypatch.setattr(views.PublishedArticlesMixin, "paginate_by", 2)
    curate(desk["floods"])

    response = client.get(HOME + "?page=2")

    assert response.context["lead"] is None and not response.context["section_blocks"]
    assert [article.slug for article in response.context["page_obj"].object_list] == ["treaty", "final"]
    assertContains(response, '<h1 class="page-title">Latest news</h1>')


# Queries: the page header (sections, also for the blocks, and the breaking-news banner), the
# front-page slots, their stories, the section blocks, the page of the list, bylines and renditions
# (some stories have a lead image).
CURATED_HOME_PAGE_QUERIES = 7


@pytest.mark.parametrize("count", [3, 25])
def test_the_curated_home_page_runs_a_constant_number_of_queries(
    client, django_assert_num_queries, settings, tmp_path, count
):
    settings.MEDIA_ROOT = tmp_path / "media"
    image = make_image(width=800, height=500)
    sections = [make_section() for _ in range(3)]
    authors = [make_author(), make_author()]
    articles = [
        make_article(days=-1 - i, section=sections[i % 3], authors=authors, lead_image=image if i % 2 else None)
        for i in range(count)
    ]
    curate(*articles[: count // 2 + 1])
    BreakingNews.objects.create(text="Quake", url="/quake/")

    with django_assert_num_queries(CURATED_HOME_PAGE_QUERIES):
        response = client.get(HOME)

    assert response.context["lead"] is not None
    assertContains(response, "Quake")
    assertContains(response, 'class="lead-story-image"' if response.context["lead"].lead_image_id else "lead-story")


def test_the_lead_image_is_large_and_loaded_first(client, desk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    desk["vote"].lead_image = make_image(width=1600, height=1000)
    desk["vote"].save()
    curate(desk["vote"])

    lead = lead_of(client.get(HOME))

    assert 'fetchpriority="high"' in lead and 'loading="lazy"' not in lead
    assert "44rem" in lead  # its sizes: the wide column


# The breaking-news banner -------------------------------------------------------------------------


def test_the_banner_shows_on_every_public_page_and_goes_at_its_end_time(client, desk):
    with time_machine.travel(START, tick=False) as clock:
        article = make_article(days=-1, headline="Quake hits the coast")
        BreakingNews.objects.create(
            text="Earthquake: follow live", url=article.get_absolute_url(), ends_at=START + timedelta(minutes=30)
        )
        pages = [HOME, article.get_absolute_url(), "/section/world/", "/search/?q=quake", "/archive/", "/nowhere/"]
        for url in pages:
            response = client.get(url)
            assertContains(response, "Earthquake: follow live", status_code=response.status_code)
            assertContains(response, f'href="{article.get_absolute_url()}"', status_code=response.status_code)
        clock.shift(timedelta(minutes=30))
        for url in pages:
            response = client.get(url)
            assertNotContains(response, "Earthquake: follow live", status_code=response.status_code)


def test_the_newest_current_banner_shows(client):
    now = timezone.now()
    BreakingNews.objects.create(text="Old news", url="/", starts_at=now - timedelta(hours=2))
    BreakingNews.objects.create(text="Newer news", url="/", starts_at=now - timedelta(hours=1))
    BreakingNews.objects.create(text="Not yet", url="/", starts_at=now + timedelta(hours=1))

    response = client.get(HOME)

    assertContains(response, "Newer news")
    assertNotContains(response, "Old news")
    assertNotContains(response, "Not yet")


def test_the_banner_text_is_escaped(client):
    BreakingNews.objects.create(text="<script>x</script> & more", url="/?a=1&b=2")

    content = client.get(HOME).content.decode()

    assert "&lt;script&gt;x&lt;/script&gt; &amp; more" in content
    assert 'href="/?a=1&amp;b=2"' in content


# Caching ------------------------------------------------------------------------------------------


@pytest.mark.page_cache
def test_curating_and_uncurating_refresh_the_home_page_at_once(client, desk):
    article_page = desk["vote"].get_absolute_url()
    client.get(HOME), client.get(article_page)
    assert client.get(HOME).context is None  # served from the cache

    slot = FrontPageSlot.objects.create(article=desk["vote"])
    assert client.get(HOME).context["lead"] == desk["vote"]
    assert client.get(article_page).context is None  # an article page does not show the curation
    slot.position = 3
    slot.save()
    assert client.get(HOME).context is not None
    slot.delete()
    assert client.get(HOME).context["lead"] is None


@pytest.mark.page_cache
def test_a_slot_end_time_bounds_the_cached_home_page():
    from django.test import Client

    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        article = make_article(days=-1, headline="Lead for an hour")
        FrontPageSlot.objects.create(article=article, until=START + timedelta(minutes=2))
        response = client.get(HOME)
        assert response.context["lead"] == article
        assert "s-maxage=120" in response["Cache-Control"]
        clock.shift(timedelta(minutes=1, seconds=59))
        assert client.get(HOME).context is None  # still the cached copy
        clock.shift(timedelta(seconds=1))
        assert client.get(HOME).context["lead"] is None


@pytest.mark.page_cache
def test_a_banner_reaches_every_cached_page_at_once_and_leaves_at_its_end_time():
    from django.test import Client

    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        article = make_article(days=-1, headline="Quiet day")
        pages = [HOME, article.get_absolute_url(), reverse("articles:archive")]
        for url in pages:
            client.get(url)
        banner = BreakingNews.objects.create(text="Breaking: storm", url="/", ends_at=START + timedelta(minutes=5))
        for url in pages:
            response = client.get(url)
            assertContains(response, "Breaking: storm")
            assert "s-maxage=300" in response["Cache-Control"]
            assert client.get(url).context is None  # cached again
        clock.shift(timedelta(minutes=5))
        for url in pages:
            assertNotContains(client.get(url), "Breaking: storm")
        banner.ends_at = None
        banner.save()
        for url in pages:
            assertContains(client.get(url), "Breaking: storm")


def test_next_change_time_is_the_earliest_unannounced_change():
    with time_machine.travel(START, tick=False):
        assert page_cache.next_change_time() is None
        make_article(days=3)
        assert page_cache.next_change_time() == START + timedelta(days=3)
        FrontPageSlot.objects.create(article=make_article(), until=START + timedelta(days=2))
        FrontPageSlot.objects.create(article=make_article(), until=START - timedelta(days=2))  # over
        assert page_cache.next_change_time() == START + timedelta(days=2)
        BreakingNews.objects.create(text="Later", url="/", starts_at=START + timedelta(hours=5))
        assert page_cache.next_change_time() == START + timedelta(hours=5)
        BreakingNews.objects.create(text="Now", url="/", ends_at=START + timedelta(hours=1))
        assert page_cache.next_change_time() == START + timedelta(hours=1)


def test_what_curation_and_banners_invalidate(django_capture_on_commit_callbacks, settings, monkeypatch):
    settings.NEWSROOM_CACHE_PAGES = True
    invalidated = []
    monkeypatch.setattr(page_cache, "invalidate", invalidated.append)
    with django_capture_on_commit_callbacks(execute=True):
        article = make_article()
    invalidated.clear()
    with django_capture_on_commit_callbacks(execute=True):
        FrontPageSlot.objects.create(article=article)
    assert set().union(*invalidated) == {keys.FRONT_PAGE}
    invalidated.clear()
    with django_capture_on_commit_callbacks(execute=True):
        BreakingNews.objects.create(text="Quake", url="/")
    assert set().union(*invalidated) == {keys.ALL}


# The admin ----------------------------------------------------------------------------------------

FRONT_PAGE_ADMIN = "/admin/articles/frontpageslot/"
ARTICLES_ADMIN = "/admin/articles/article/"


def test_put_on_the_front_page_from_the_article_list(admin_client, desk):
    curate(desk["vote"])
    selected = [desk["floods"], desk["vote"], desk["draft"]]
    data = {"action": "put_on_front_page", "_selected_action": [a.pk for a in selected], "index": 0}

    response = admin_client.post(ARTICLES_ADMIN, data, follow=True)

    slots = list(FrontPageSlot.objects.select_related("article"))
    assert [slot.article for slot in slots][0] == desk["vote"]
    assert {slot.article.slug for slot in slots[1:]} == {"floods", desk["draft"].slug}
    assert [slot.position for slot in slots] == [0, 1, 2]
    assertContains(response, "2 articles put on the front page. 1 shows once it is published.")
    assertContains(response, f'href="{FRONT_PAGE_ADMIN}"')

    again = admin_client.post(ARTICLES_ADMIN, {**data, "_selected_action": [desk["vote"].pk]}, follow=True)
    assertContains(again, "already on the")
    assert FrontPageSlot.objects.count() == 3


def test_put_on_the_front_page_from_the_article_form(admin_client, desk):
    change = reverse("admin:articles_article_change", args=[desk["vote"].pk])
    response = admin_client.get(change)
    add_url = f"{FRONT_PAGE_ADMIN}add/?article={desk['vote'].pk}"
    assertContains(response, f'href="{add_url}"')
    assertContains(response, "Put on the front page")

    curate(desk["floods"])
    form = admin_client.get(add_url)
    assert form.context["adminform"].form.initial["position"] == 1
    assert str(form.context["adminform"].form.initial["article"]) == str(desk["vote"].pk)
    saved = admin_client.post(f"{FRONT_PAGE_ADMIN}add/", {"article": desk["vote"].pk, "position": 1, "until_0": ""})
    assert saved.status_code == 302
    assert FrontPageSlot.objects.get(article=desk["vote"]).position == 1
    assertContains(admin_client.get(change), "On the front page")


def test_a_reporter_cannot_curate(client, desk):
    reporter = User.objects.create_user("reporter", password="a-long-password-1", is_staff=True)
    reporter.user_permissions.set(Permission.objects.filter(codename__in=["view_article", "change_article"]))
    client.force_login(reporter)
    action_form = client.get(ARTICLES_ADMIN).context["action_form"]
    assert action_form is None or "put_on_front_page" not in dict(action_form.fields["action"].choices)
    assertNotContains(client.get(reverse("admin:articles_article_change", args=[desk["vote"].pk])), "front page")
    assert client.get(FRONT_PAGE_ADMIN).status_code == 403


def test_the_front_page_admin_orders_the_stories_and_shows_the_preview(admin_client, desk):
    curate(desk["vote"], desk["draft"], desk["floods"])
    curate(desk["summit"], until=timezone.now() - timedelta(minutes=1))
    curate(desk["scheduled"])

    response = admin_client.get(FRONT_PAGE_ADMIN)

    assert [slot.article for slot in response.context["cl"].result_list] == [
        desk["vote"],
        desk["draft"],
        desk["floods"],
        desk["summit"],
        desk["scheduled"],
    ]
    assertContains(response, "Showing")
    assertContains(response, "Scheduled: shows from")
    assertContains(response, "Hidden: a draft")
    assertContains(response, "Ended")
    assertContains(response, '<iframe src="/admin/articles/frontpageslot/preview/"')
    assertContains(response, "js/front-page-order.js")

    # Saving a new order (what dragging does) through the list's own form.
    slots = list(response.context["cl"].result_list)
    order = {desk["floods"].pk: 0, desk["vote"].pk: 1, desk["draft"].pk: 2, desk["summit"].pk: 3}
    order[desk["scheduled"].pk] = 4
    data = {
        "form-TOTAL_FORMS": len(slots),
        "form-INITIAL_FORMS": len(slots),
        "_save": "Save",
    }
    for index, slot in enumerate(slots):
        data |= {f"form-{index}-id": slot.pk, f"form-{index}-position": order[slot.article_id]}
    assert admin_client.post(FRONT_PAGE_ADMIN, data).status_code == 302
    assert FrontPageSlot.objects.order_by("position").first().article == desk["floods"]


def test_the_preview_is_the_readers_page_framed_by_the_admin_only(admin_client, client, desk):
    curate(desk["draft"], desk["summit"])

    response = admin_client.get(f"{FRONT_PAGE_ADMIN}preview/")

    assert response.status_code == 200
    assert "Summit ends" in lead_of(response)
    assertNotContains(response, "Unfinished draft")
    assertContains(response, '<base target="_top">')
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert "noindex" in response["X-Robots-Tag"]
    assert "frame-ancestors 'none'" in admin_client.get(FRONT_PAGE_ADMIN)["Content-Security-Policy"]
    assert client.get(f"{FRONT_PAGE_ADMIN}preview/").status_code == 302  # to the login page


def test_breaking_news_admin_adds_and_takes_down(admin_client):
    url = "/admin/articles/breakingnews/"
    now = timezone.localtime()
    bad = admin_client.post(
        f"{url}add/",
        {"text": "Quake", "url": "javascript:alert(1)", "starts_at_0": now.date(), "starts_at_1": now.time()},
    )
    assert bad.status_code == 200 and not BreakingNews.objects.exists()
    assertContains(bad, "The link must be an address on this site")
    good = admin_client.post(
        f"{url}add/",
        {"text": "Quake", "url": "/quake/", "starts_at_0": now.date(), "starts_at_1": now.time()},
    )
    assert good.status_code == 302
    banner = BreakingNews.objects.get()
    assert banner.is_current

    response = admin_client.post(url, {"action": "end_now", "_selected_action": [banner.pk], "index": 0}, follow=True)

    assertContains(response, "1 banner taken down.")
    banner.refresh_from_db()
    assert not banner.is_current


def test_the_demo_fixture_curates_the_front_page(client):
    from django.core.management import call_command

    call_command("loaddata", "demo", verbosity=0)

    response = client.get(HOME)

    assert response.context["lead"] is not None
    assert len(response.context["top_stories"]) >= 3
    assert response.context["section_blocks"]
    assert settings.NEWSROOM_NAME in response.content.decode()
