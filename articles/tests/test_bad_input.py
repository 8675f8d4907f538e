"""
Bad input is a 404 or a form error, never a 500: page numbers past any
integer, dates past the calendar, NUL bytes, tag names that clash only in case
or invisible characters, and staff-only query strings and forged action posts.
Each was a 500 on SQLite, PostgreSQL or both (issue 13).
"""

import pytest
from django.urls import reverse

from articles.models import Article, Correction, Tag

from .factories import make_article, make_author, make_section

pytestmark = pytest.mark.django_db

HUGE = "10000000000000000000"


@pytest.fixture
def world():
    section = make_section("Africa", slug="africa")
    author = make_author("Amara", slug="amara")
    article = make_article(days=-1, section=section, authors=[author], tags=["Mali"])
    Correction.objects.create(article=article, text="An earlier version said otherwise.")
    return article


def paginated_pages(article):
    day = article.published_at
    return [
        reverse("articles:home"),
        reverse("articles:section", kwargs={"slug": "africa"}),
        reverse("articles:tag", kwargs={"slug": "mali"}),
        reverse("articles:author", kwargs={"slug": "amara"}),
        reverse("articles:corrections"),
        reverse("articles:archive-month", kwargs={"year": day.year, "month": day.month}),
        reverse("articles:archive-day", kwargs={"year": day.year, "month": day.month, "day": day.day}),
    ]


@pytest.mark.parametrize("page", [HUGE, "9" * 400, "1" * 5000, "1000001", "-1", "0", "1e3", "½"])
def test_page_numbers_past_any_list_are_404(client, world, page):
    for url in paginated_pages(world):
        assert client.get(url, {"page": page}).status_code == 404, url
    for url in [reverse("articles:archive"), reverse("articles:search")]:  # not paginated / shown as the last page
        assert client.get(url, {"page": page}).status_code == 200, url


@pytest.mark.parametrize(
    "path",
    [
        "/9999/",
        "/9999/12/",
        "/9999/12/31/",
        "/9999/12/31/a-story/",
        "/0000/",
        "/0000/01/01/",
        "/2021/13/",
        "/2021/00/",
        "/2021/01/00/",
        "/2021/01/32/",
        "/2021/02/30/",
        "/2021/02/30/a-story/",
    ],
)
def test_dates_outside_the_calendar_are_404(client, world, path):
    assert client.get(path).status_code == 404


def test_the_last_and_first_archive_years_still_work(client, world):
    """The converter stops one year inside Python's calendar, where previous/next links still exist."""
    assert client.get("/9998/").status_code == 404  # an empty year, not an error
    assert client.get("/0001/01/01/").status_code == 404


@pytest.mark.parametrize("slug", ["%00", "a%00b", "%00/feed/rss", "%00/feed/atom", "%C0%80", "%FF", "a%0Ab"])
def test_tag_urls_with_control_or_broken_characters_are_404(client, world, slug):
    assert client.get(f"/tag/{slug}/").status_code == 404


def test_unicode_tag_slugs_still_resolve(client):
    make_article(tags=["Økonomi"])
    tag = Tag.objects.get()
    assert client.get(tag.get_absolute_url()).status_code == 200


def test_a_nul_byte_in_a_tag_name_is_dropped(world):
    world.tags.add("Ni\x00ger")
    assert set(world.tags.names()) == {"Mali", "Niger"}


def test_a_nul_byte_in_the_article_forms_tags_is_dropped(admin_client, world):
    from articles.admin.forms import TagListField

    assert TagListField().clean(["Ni\x00ger", "mali"]) == ["Niger", "mali"]


def test_a_tag_clashing_only_in_case_is_a_form_error(admin_client):
    Tag.objects.create(name="İstanbul")
    assert Tag.objects.get().slug == "istanbul"

    def add(name, slug):
        response = admin_client.post("/admin/articles/tag/add/", {"name": name, "slug": slug, "_save": "Save"})
        return response.context["adminform"].form.errors if response.status_code == 200 else response.status_code

    assert list(add("istanbul", "istanbul")) == ["slug"]  # the slug is taken; the name is another tag's
    # "İSTANBUL" and "i̇stanbul" fold to the same key as "İstanbul": the same tag.
    assert "already exists" in add("İSTANBUL", "istanbul-2")["name"][0]
    assert "already exists" in add("i̇stanbul", "istanbul-3")["name"][0]
    assert add("istanbul", "istanbul-4") == 302  # Python's case folding keeps the dotted capital apart
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["istanbul", "İstanbul"]


def test_a_regex_filter_on_the_article_list_is_refused(admin_client, world):
    response = admin_client.get("/admin/articles/article/", {"headline__regex": "("})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
    assert admin_client.get("/admin/articles/article/?e=1").status_code == 200
    assert admin_client.get("/admin/articles/tag/", {"name__iregex": "[", "q": "x"}).status_code == 302


def test_a_date_hierarchy_year_past_the_calendar_is_refused(admin_client, world):
    response = admin_client.get(
        "/admin/articles/article/",
        {"published_at__year": "9999", "published_at__month": "12", "published_at__day": "31"},
    )
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.parametrize("selected", [["abc"], ["1", "abc"], ["99999999999999999999999"], [""]])
def test_an_action_on_forged_ids_changes_nothing(admin_client, world, selected):
    data = {"action": "delete_selected", "_selected_action": selected, "index": 0}
    response = admin_client.post("/admin/articles/article/", data, follow=True)
    assert response.status_code == 200
    assert [str(message) for message in response.context["messages"]] == [
        "The selection was not understood, so nothing was changed. Select again."
    ]
    assert Article.objects.filter(pk=world.pk).exists()


@pytest.mark.parametrize(
    "query", ["q=%00", "q=a%00b", "section=%00", "tag=%00", "q=mali&tag=a%00", "page=%00", "q=%FF%FE"]
)
def test_nul_bytes_and_broken_encodings_in_search_are_no_error(client, world, query):
    assert client.get(f"{reverse('articles:search')}?{query}").status_code == 200
    assert client.get(f"{world.get_absolute_url()}?in=tag:%00").status_code == 200
