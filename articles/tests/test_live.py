"""
Live pages: updates newest first with their author, time and own link, key
points at the top, LiveBlogPosting structured data, updates in feeds, a
constant number of queries, the admin's focused form, and a posted update that
reaches readers through every cache while other pages stay cached.
"""

import json
import re
from datetime import timedelta

import feedparser
import pytest
from django.contrib.auth.models import Group, User
from django.db import IntegrityError
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from articles.caching.keys import key
from articles.models import Article, LiveUpdate

from .factories import make_article, make_author

pytestmark = pytest.mark.django_db

LIVE_PAGE_QUERIES_EXTRA = 1  # the updates with their authors, whatever their number


def post(article, minutes_ago, body="<p>Update.</p>", **fields):
    return LiveUpdate.objects.create(
        article=article, posted_at=timezone.now() - timedelta(minutes=minutes_ago), body=body, **fields
    )


@pytest.fixture
def live_page():
    reporter = make_author("Amara Diallo", slug="amara-diallo")
    article = make_article(headline="Election day: live", live_coverage=True, days=-1)
    post(article, 50, "<p>Polls open.</p>", title="Polls open", author=reporter, is_key_point=True)
    post(article, 30, "<p>Turnout is high.</p>", author=reporter)
    post(article, 5, "<p>Polls close.</p>", title="Polls close", is_key_point=True)
    return article


def test_updates_show_newest_first_with_author_time_and_their_own_link(client, live_page):
    html = client.get(live_page.get_absolute_url()).content.decode()

    positions = [html.index(text) for text in ("Polls close.", "Turnout is high.", "Polls open.")]
    assert positions == sorted(positions)
    for update in live_page.live_updates.all():
        assert f'id="{update.anchor}"' in html
        assert f'href="#{update.anchor}"' in html
    assert 'rel="author">Amara Diallo</a>' in html
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d">', html)
    assert 'data-live-poll="10"' in html
    assert "js/live-updates.js" in html


def test_key_points_are_listed_at_the_top(client, live_page):
    html = client.get(live_page.get_absolute_url()).content.decode()

    key_points = html.split('id="key-points"')[1].split("</aside>")[0]
    assert "Polls close" in key_points and "Polls open" in key_points
    assert "Turnout" not in key_points
    assert html.index('id="key-points"') < html.index('class="article-body"')


def test_an_ended_live_page_says_so_and_stops_polling(client, live_page):
    live_page.coverage_ended_at = timezone.now()
    live_page.save()

    html = client.get(live_page.get_absolute_url()).content.decode()

    assert "Live coverage ended" in html
    assert "data-live-poll" not in html
    assert 'class="live-badge"' not in html


def test_an_ordinary_article_shows_no_live_section_and_runs_no_update_query(client, live_page):
    article = make_article()
    post(article, 1, "<p>Not a live page.</p>")

    html = client.get(article.get_absolute_url()).content.decode()

    assert 'class="live"' not in html and "Not a live page" not in html


def test_structured_data_is_a_live_blog_posting(client, live_page):
    html = client.get(live_page.get_absolute_url()).content.decode()
    data = json.loads(re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)[1])

    posting = data[0]
    assert posting["@type"] == "LiveBlogPosting"
    assert posting["coverageStartTime"] == live_page.published_at.isoformat()
    assert "coverageEndTime" not in posting
    updates = posting["liveBlogUpdate"]
    assert [update["headline"] for update in updates] == ["Polls close", "Turnout is high.", "Polls open"]
    assert updates[0]["url"].endswith(f"#{live_page.live_updates.first().anchor}")
    assert updates[1]["author"]["name"] == "Amara Diallo"
    assert posting["dateModified"] >= updates[0]["datePublished"]


def test_an_ended_live_blog_has_its_coverage_end_time(client, live_page):
    live_page.coverage_ended_at = timezone.now()
    live_page.save()

    html = client.get(live_page.get_absolute_url()).content.decode()

    assert '"coverageEndTime"' in html


@pytest.mark.parametrize("updates", [1, 12])
def test_a_live_page_runs_a_constant_number_of_queries(client, django_assert_num_queries, updates):
    from .test_views import ARTICLE_PAGE_QUERIES

    reporters = [make_author() for _ in range(3)]
    article = make_article(live_coverage=True)
    for n in range(updates):
        post(article, n + 1, author=reporters[n % 3], is_key_point=n % 4 == 0)

    with django_assert_num_queries(ARTICLE_PAGE_QUERIES + LIVE_PAGE_QUERIES_EXTRA):
        response = client.get(article.get_absolute_url())

    assert response.content.decode().count('<li class="live-update') == updates


def test_feeds_carry_the_updates(client, live_page):
    entry = feedparser.parse(client.get("/feed/atom/").content).entries[0]
    content = entry.content[0].value

    assert "Live updates" in content
    assert content.index("Polls close.") < content.index("Polls open.")
    update = live_page.live_updates.first()
    assert f"{live_page.get_absolute_url()}#{update.anchor}" in content


def test_a_new_update_changes_the_feed_entrys_updated_time(client, live_page):
    live_page.live_updates.update(updated_at=F("posted_at"))  # written as they were posted, minutes ago
    before = feedparser.parse(client.get("/feed/atom/").content).entries[0].updated_parsed

    post(live_page, 0, "<p>Later.</p>")

    after = feedparser.parse(client.get("/feed/atom/").content).entries[0].updated_parsed
    assert after > before


def test_updates_of_a_draft_are_not_shown(client, live_page):
    live_page.status = Article.Status.DRAFT
    live_page.save()

    assert client.get(live_page.get_absolute_url()).status_code == 404
    assert "Polls open" not in client.get("/feed/rss/").content.decode()


def test_an_updates_link_is_the_same_on_every_copy_of_the_site(live_page):
    """The anchor comes from the update's uid (its natural key), not from an id another database would change."""
    update = live_page.live_updates.first()

    assert update.anchor == f"update-{update.uid.hex[:12]}"
    assert LiveUpdate.objects.get_by_natural_key(*update.natural_key()) == update


def test_only_a_live_page_has_an_end_of_coverage():
    with pytest.raises(IntegrityError):
        make_article(live_coverage=False, coverage_ended_at=timezone.now())


def test_an_update_cannot_be_dated_in_the_future(live_page):
    from django.core.exceptions import ValidationError

    update = LiveUpdate(article=live_page, posted_at=timezone.now() + timedelta(hours=1), body="<p>Soon.</p>")

    with pytest.raises(ValidationError, match="future"):
        update.full_clean()


def test_update_bodies_are_sanitized(live_page):
    update = post(live_page, 1, '<p onclick="x()">Hi<script>alert(1)</script></p>')

    update.refresh_from_db()
    assert update.body == "<p>Hi</p>"


def test_update_changes_make_only_their_article_stale():
    from articles.caching.keys import _row_keys

    update = LiveUpdate(article_id=7)

    assert _row_keys[LiveUpdate](update) == {key("article", 7)}


# The admin -----------------------------------------------------------------------------------


@pytest.fixture
def editor(client):
    user = User.objects.create_user("editor", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    client.force_login(user)
    return user


def test_editors_post_an_update_and_get_the_form_back_for_the_next(client, editor, live_page):
    reporter = make_author()
    add = reverse("admin:articles_liveupdate_add")

    form = client.get(f"{add}?article={live_page.pk}")
    assert form.status_code == 200
    assert f'value="{live_page.pk}" selected' in form.content.decode()

    response = client.post(
        add,
        {
            "article": live_page.pk,
            "title": "Results soon",
            "body": "<p>Counting has begun.</p>",
            "author": reporter.pk,
            "posted_at_0": timezone.localtime().strftime("%Y-%m-%d"),
            "posted_at_1": timezone.localtime().strftime("%H:%M:%S"),
            "_addanother": "1",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"{add}?article={live_page.pk}"
    update = LiveUpdate.objects.get(title="Results soon")
    assert update.author == reporter and update.article == live_page
    assert "Counting has begun" in client.get(live_page.get_absolute_url()).content.decode()


def test_the_update_form_offers_live_pages_only(client, editor, live_page):
    ordinary = make_article(headline="An ordinary story")

    response = client.post(
        reverse("admin:articles_liveupdate_add"),
        {"article": ordinary.pk, "body": "<p>x</p>", "posted_at_0": "2021-01-01", "posted_at_1": "10:00"},
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_the_article_form_links_to_posting_an_update(client, editor, live_page):
    html = client.get(reverse("admin:articles_article_change", args=[live_page.pk])).content.decode()

    assert f"{reverse('admin:articles_liveupdate_add')}?article={live_page.pk}" in html
    assert "3 updates" in html


def test_reporters_cannot_post_updates(client, live_page):
    user = User.objects.create_user("reporter", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Reporter"))
    client.force_login(user)

    assert client.get(reverse("admin:articles_liveupdate_add")).status_code == 403


# Through the caches ---------------------------------------------------------------------------


@pytest.mark.page_cache
def test_a_posted_update_reaches_readers_at_once_and_other_pages_stay_cached(
    client, django_assert_num_queries, live_page
):
    other = make_article(headline="Elsewhere")
    pages = [live_page.get_absolute_url(), other.get_absolute_url(), "/"]
    first = client.get(pages[0])
    for page in pages[1:]:
        client.get(page)

    post(live_page, 0, "<p>Breaking: results are in.</p>")

    # A reader's poll: the page's ETag no longer matches, so the new page comes back.
    response = client.get(pages[0], headers={"if-none-match": first["ETag"]})
    assert response.status_code == 200
    assert "Breaking: results are in." in response.content.decode()
    with django_assert_num_queries(0):
        for page in pages[1:]:
            client.get(page)
    # And an unchanged page answers the next poll with a 304 and no SQL.
    with django_assert_num_queries(0):
        assert client.get(pages[0], headers={"if-none-match": response["ETag"]}).status_code == 304
