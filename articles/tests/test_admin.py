"""The editors' admin: articles, their tags, sections and authors."""

import html
import json
import re
from datetime import timedelta

import pytest
from django.contrib import messages
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from articles.models import Article, Author, Section, Tag

from .factories import make_article, make_author, make_section, relate

pytestmark = pytest.mark.django_db

ARTICLES = "/admin/articles/article/"
TAGS = "/admin/articles/tag/"
SECTIONS = "/admin/articles/section/"
AUTHORS = "/admin/articles/author/"
AUTOCOMPLETE = "/admin/autocomplete/"


def message_texts(response):
    return [str(message) for message in response.context["messages"]]


def message_levels(response):
    return [message.level for message in response.context["messages"]]


def headlines(response):
    return [article.headline for article in response.context["cl"].result_list]


def changelist_action_names(response):
    return [name for name, _label in response.context["action_form"].fields["action"].choices if name]


def post_action(client, url, action, objects, **extra):
    data = {"action": action, "_selected_action": [obj.pk for obj in objects], "index": 0, **extra}
    return client.post(url, data, follow=True)


@pytest.fixture
def staff_without_publish(client):
    """A desk editor: may view, add, change and delete articles, but not publish them."""
    user = User.objects.create_user("desk", "desk@example.com", "a-long-password-1", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type=ContentType.objects.get_for_model(Article),
            codename__in=["view_article", "add_article", "change_article", "delete_article"],
        )
    )
    client.force_login(user)
    return client


# Changelist -----------------------------------------------------------------


def test_changelist_columns_and_state_badges(admin_client):
    section = make_section("World")
    make_article(headline="Live one", section=section, tags=["Mali", "Niger"], days=-2)
    make_article(headline="Later one", days=3)
    make_article(headline="Draft one", status=Article.Status.DRAFT)

    response = admin_client.get(ARTICLES)

    assert response.status_code == 200
    columns = response.context["cl"].list_display
    wanted = ["headline", "section", "state_badge", "published_at", "tag_list"]
    assert [column for column in columns if column in wanted] == wanted
    assert response.context["cl"].list_display_links == ["headline"]
    for column in ["headline", "section", "state_badge", "published_at", "tag_list"]:
        assertContains(response, f"column-{column}")
    assertContains(response, '<span class="badge badge-live">Live</span>', html=True)
    assertContains(response, '<span class="badge badge-scheduled">Scheduled for ')
    assertContains(response, '<span class="badge badge-draft">Draft</span>', html=True)
    assertContains(response, '<td class="field-section nowrap">World</td>', html=True)
    assertContains(response, '<td class="field-tag_list">Mali, Niger</td>', html=True)
    # The badges' colours come from the project's admin stylesheet.
    assertContains(response, "/static/css/admin.css")


def test_changelist_is_newest_first(admin_client):
    make_article(headline="Two days ago", days=-2)
    make_article(headline="Scheduled", days=2)
    make_article(headline="A week ago", days=-7)
    make_article(headline="Yesterday", days=-1)

    response = admin_client.get(ARTICLES)

    assert headlines(response) == ["Scheduled", "Yesterday", "Two days ago", "A week ago"]


def test_changelist_filters(admin_client):
    world, sport = make_section("World"), make_section("Sport")
    ana, ben = make_author("Ana"), make_author("Ben")
    make_article(headline="Mali vote", section=world, tags=["Mali"], authors=[ana])
    make_article(headline="Cup final", section=sport, tags=["Football"], authors=[ben], status=Article.Status.DRAFT)
    make_article(headline="Mali football", section=sport, tags=["Mali", "Football"], authors=[ana, ben])
    mali, football = Tag.objects.get(name="Mali"), Tag.objects.get(name="Football")

    def filtered(query):
        response = admin_client.get(ARTICLES, query)
        # An unknown lookup would redirect to ?e=1.
        assert response.status_code == 200, query
        return sorted(headlines(response))

    assert filtered({"status__exact": "draft"}) == ["Cup final"]
    assert filtered({"status__exact": "published"}) == ["Mali football", "Mali vote"]
    assert filtered({"section__id__exact": world.pk}) == ["Mali vote"]
    assert filtered({"section__id__exact": sport.pk}) == ["Cup final", "Mali football"]
    assert filtered({"tags__id__exact": mali.pk}) == ["Mali football", "Mali vote"]
    assert filtered({"tags__id__exact": football.pk}) == ["Cup final", "Mali football"]
    assert filtered({"authors__id__exact": ben.pk}) == ["Cup final", "Mali football"]
    assert filtered({"authors__id__exact": ana.pk, "section__id__exact": sport.pk}) == ["Mali football"]


def test_changelist_filter_sidebar_lists_the_choices(admin_client):
    make_article(section=make_section("World"), tags=["Mali"], authors=[make_author("Ana")])

    response = admin_client.get(ARTICLES)

    titles = [spec.title for spec in response.context["cl"].filter_specs]
    titles = [str(title).lower() for title in titles]
    assert [title for title in titles if title in {"status", "section", "tags", "authors"}] == [
        "status",
        "section",
        "tags",
        "authors",
    ]
    assertContains(response, "?tags__id__exact=")
    assertContains(response, "?authors__id__exact=")
    assertContains(response, "?section__id__exact=")


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("junta", ["In the headline"]),
        ("harmattan", ["In the standfirst"]),
        ("baobab", ["In the body"]),
        ("nothing-matches", []),
    ],
)
def test_changelist_search_covers_headline_standfirst_and_body(admin_client, term, expected):
    make_article(headline="In the headline: the junta speaks")
    make_article(headline="In the standfirst", standfirst="The harmattan blows early.")
    make_article(headline="In the body", body="<p>Under the old baobab tree.</p>")

    response = admin_client.get(ARTICLES, {"q": term})

    assert [headline.split(":")[0] for headline in headlines(response)] == expected


def _articles_with_everything(count):
    sections = [make_section() for _ in range(3)]
    authors = [make_author() for _ in range(3)]
    for n in range(count):
        make_article(
            days=-n - 1,
            section=sections[n % 3],
            tags=[f"Tag {n % 4}", f"Tag {n % 5 + 4}"],
            authors=authors[: n % 3 + 1],
            status=Article.Status.DRAFT if n % 4 == 0 else Article.Status.PUBLISHED,
        )


# The changelist's queries, whatever the number of rows: session and user; whether
# the user set up two-factor authentication (newsroom/admin.py); one each for the
# section, tag and author filter choices; the paginator's two counts; the page
# (with its section joined); its tags (prefetched); and two for the date hierarchy.
CHANGELIST_QUERIES = 12


@pytest.mark.parametrize("count", [5, 30])
def test_changelist_query_count_is_constant(admin_client, django_assert_num_queries, count):
    _articles_with_everything(count)

    with django_assert_num_queries(CHANGELIST_QUERIES):
        response = admin_client.get(ARTICLES)

    assert len(response.context["cl"].result_list) == count


# Add and change forms ---------------------------------------------------------


def test_add_form_layout(admin_client):
    response = admin_client.get(f"{ARTICLES}add/")

    assert response.status_code == 200
    adminform = response.context["adminform"]
    assert adminform.prepopulated_fields[0]["field"].name == "slug"
    assert [field.name for field in adminform.prepopulated_fields[0]["dependencies"]] == ["headline"]
    # What the admin's prepopulate.js reads: the slug follows the headline.
    config = re.search(r'data-prepopulated-fields="([^"]*)"', response.content.decode())
    assert [
        (field["id"], field["dependency_ids"], field["maxLength"]) for field in json.loads(html.unescape(config[1]))
    ] == [("#id_slug", ["#id_headline"], 200)]
    fieldsets = {fieldset.name: list(fieldset) for fieldset in adminform}
    assert next(iter(fieldsets)) is None, "the untitled fieldset comes first"
    assert "Publishing" in fieldsets
    assert "Address and history" in fieldsets
    first, publishing = fieldsets[None], fieldsets["Publishing"]
    assert [field.field.name for line in first for field in line] == ["headline", "standfirst", "body"]
    assert [
        field.field["name"] if field.is_readonly else field.field.name for line in publishing for field in line
    ] == [
        "state",
        "published_at",
        "section",
        "tags",
        "credit",
    ]
    page = response.content.decode()
    positions = [
        page.index(f'id="id_{name}"') for name in ["headline", "standfirst", "body", "published_at_0", "slug"]
    ]
    assert positions == sorted(positions)
    # The inlines, with the prefixes the POST below uses.
    assertContains(response, 'name="authorships-TOTAL_FORMS"')
    assertContains(response, 'name="related_links-TOTAL_FORMS"')
    # The tags widget: a multiple select wired to the admin's autocomplete.
    assertContains(response, 'class="tag-autocomplete"')
    assertContains(response, 'data-field-name="tags"')
    assertContains(response, "/static/js/tag-autocomplete.js")


def management_form(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def rendered_form_data(client, url):
    """
    What the admin form at `url` would post untouched: its fields' current values
    (those a plain input can carry) and every inline's management form. Tests
    override what they care about, so a field or inline added later does not
    break them.
    """
    response = client.get(url)
    assert response.status_code == 200
    data = {}
    for bound_field in response.context["adminform"].form:
        value = bound_field.value()
        if isinstance(value, str | int) and not isinstance(value, bool):
            data[bound_field.html_name] = value
        elif isinstance(value, bool) and value:
            data[bound_field.html_name] = "on"
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management.initial[name]
    return data


def article_form_data(client, url=f"{ARTICLES}add/", **overrides):
    published_at = timezone.localtime() - timedelta(days=1)
    data = {
        **rendered_form_data(client, url),
        "headline": "Mali votes on a new constitution",
        "slug": "mali-votes-on-a-new-constitution",
        "standfirst": "Polls opened at dawn.",
        "body": "<p>Voters queued from dawn.</p>",
        "published_at_0": published_at.strftime("%Y-%m-%d"),
        "published_at_1": published_at.strftime("%H:%M:%S"),
        "tags": [],
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_add_article_with_tags_byline_and_related_articles(admin_client):
    Tag.objects.create(name="Mali", slug="mali")
    section = make_section("Africa")
    ana, ben = make_author("Ana"), make_author("Ben")
    older, oldest = make_article(headline="Older", days=-3), make_article(headline="Oldest", days=-9)
    when = (timezone.localtime() - timedelta(days=1)).replace(second=0, microsecond=0)

    response = admin_client.post(
        f"{ARTICLES}add/",
        article_form_data(
            admin_client,
            section=section.pk,
            _publish="Publish",
            tags=["mali", "Constitution", "  Referendum   day ", "constitution"],
            published_at_0=when.strftime("%Y-%m-%d"),
            published_at_1=when.strftime("%H:%M"),
            **management_form("authorships", 2),
            **{
                "authorships-0-author": ben.pk,
                "authorships-0-position": "2",
                "authorships-1-author": ana.pk,
                "authorships-1-position": "1",
            },
            **management_form("related_links", 2),
            **{
                "related_links-0-related_article": oldest.pk,
                "related_links-0-position": "5",
                "related_links-1-related_article": older.pk,
                "related_links-1-position": "0",
            },
        ),
        follow=True,
    )

    assert response.status_code == 200
    article = Article.objects.get(slug="mali-votes-on-a-new-constitution")
    assert response.redirect_chain == [(f"{ARTICLES}{article.pk}/change/", 302)]
    url = article.get_absolute_url()
    assert message_texts(response) == [
        f'“{article.headline}” is live since {when:%-d %b %Y, %H:%M} at <a href="{url}">{url}</a>.'
    ]
    assert article.headline == "Mali votes on a new constitution"
    assert article.standfirst == "Polls opened at dawn."
    assert article.section == section
    assert article.status == Article.Status.PUBLISHED
    assert article.published_at == when
    assert article.is_live
    # "mali" is the existing "Mali"; "constitution" is the "Constitution" just typed.
    assert Tag.objects.filter(name__iexact="mali").count() == 1
    assert sorted(tag.name for tag in article.tags.all()) == ["Constitution", "Mali", "Referendum day"]
    assert Tag.objects.count() == 3
    assert [author.name for author in article.byline] == ["Ana", "Ben"]
    assert list(article.get_related_articles()) == [older, oldest]


def test_add_article_without_tags_or_inlines(admin_client):
    response = admin_client.post(f"{ARTICLES}add/", article_form_data(admin_client), follow=True)

    assert response.redirect_chain == [(ARTICLES, 302)]
    article = Article.objects.get()
    assert article.status == Article.Status.DRAFT
    assert not article.tags.exists()
    assert not article.authorships.exists()


def test_add_form_errors_are_shown_not_raised(admin_client):
    make_article(slug="taken")

    response = admin_client.post(
        f"{ARTICLES}add/", article_form_data(admin_client, slug="taken", tags=["x" * 101], published_at_0="not a date")
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"slug", "tags", "published_at"}
    assert Article.objects.count() == 1


def test_body_is_sanitized_when_saved_through_the_admin(admin_client):
    body = (
        "<p>Before</p><script>alert('body')</script>"
        '<p><a href="javascript:alert(1)" onclick="alert(2)">a trap</a> and '
        '<a href="https://example.com/">a link</a></p><img src="x" onerror="alert(3)">'
    )

    response = admin_client.post(f"{ARTICLES}add/", article_form_data(admin_client, body=body), follow=True)

    assert response.redirect_chain == [(ARTICLES, 302)]
    stored = Article.objects.get().body
    assert "<script" not in stored
    assert "alert" not in stored
    assert "javascript:" not in stored
    assert "onclick" not in stored
    assert "onerror" not in stored
    assert "<p>Before</p>" in stored
    assert '<a rel="noopener noreferrer">a trap</a>' in stored
    assert '<a href="https://example.com/" rel="noopener noreferrer">a link</a>' in stored


def test_change_form_renders_existing_tags_as_selected_options(admin_client):
    article = make_article(tags=["Mali", "Elections"])
    Tag.objects.create(name="Unused", slug="unused")

    response = admin_client.get(f"{ARTICLES}{article.pk}/change/")

    assert response.status_code == 200
    assertContains(response, '<option value="Mali" selected>Mali</option>', html=True)
    assertContains(response, '<option value="Elections" selected>Elections</option>', html=True)
    # Only the article's tags are rendered; the rest come from the autocomplete endpoint.
    assertNotContains(response, "Unused")


def test_change_form_resave_keeps_the_tag_whatever_its_case(admin_client):
    author = make_author("Ana")
    article = make_article(tags=["Mali"], authors=[author], ready=True)
    local = timezone.localtime(article.published_at)
    data = {
        **rendered_form_data(admin_client, f"{ARTICLES}{article.pk}/change/"),
        "published_at_0": local.strftime("%Y-%m-%d"),
        "published_at_1": local.strftime("%H:%M:%S.%f"),
        "tags": ["MALI"],
        "authorships-0-id": article.authorships.get().pk,
        "authorships-0-article": article.pk,
        "authorships-0-author": author.pk,
        "authorships-0-position": "0",
        "_save": "Save",
    }
    assert data["headline"] == article.headline
    assert data["authorships-INITIAL_FORMS"] == 1
    response = admin_client.post(f"{ARTICLES}{article.pk}/change/", data, follow=True)

    assert response.redirect_chain == [(ARTICLES, 302)]
    assert [tag.name for tag in article.tags.all()] == ["Mali"]
    assert Tag.objects.count() == 1


# Autocomplete -----------------------------------------------------------------


def autocomplete(client, model_name, field_name, term):
    response = client.get(
        AUTOCOMPLETE, {"app_label": "articles", "model_name": model_name, "field_name": field_name, "term": term}
    )
    assert response.status_code == 200
    return response.json()


def test_tag_autocomplete_endpoint(admin_client):
    for name in ["Mali", "Malawi", "Sudan", "Somalia"]:
        Tag.objects.create(name=name, slug=name.lower())

    data = autocomplete(admin_client, "article", "tags", "ma")

    assert [result["text"] for result in data["results"]] == ["Malawi", "Mali", "Somalia"]
    assert {result["id"] for result in data["results"]} == {
        str(pk) for pk in Tag.objects.filter(name__in=["Malawi", "Mali", "Somalia"]).values_list("pk", flat=True)
    }
    assert data["pagination"] == {"more": False}


def test_tag_autocomplete_needs_a_staff_user(client):
    response = client.get(
        AUTOCOMPLETE, {"app_label": "articles", "model_name": "article", "field_name": "tags", "term": "ma"}
    )
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


def test_related_article_and_section_autocomplete(admin_client):
    wanted = make_article(headline="Floods in Niamey")
    make_article(headline="Football results")
    make_section("Africa")

    data = autocomplete(admin_client, "related", "related_article", "niamey")
    assert data["results"] == [{"id": str(wanted.pk), "text": "Floods in Niamey"}]

    data = autocomplete(admin_client, "article", "section", "afr")
    assert [result["text"] for result in data["results"]] == ["Africa"]

    data = autocomplete(admin_client, "authorship", "author", "")
    assert data["results"] == []


def test_section_and_author_autocomplete_results_are_in_name_order(admin_client):
    for name in ["Zambia desk", "Africa", "Middle East"]:
        make_section(name)
        make_author(name)

    for model_name, field_name in [("article", "section"), ("authorship", "author")]:
        data = autocomplete(admin_client, model_name, field_name, "")
        assert [result["text"] for result in data["results"]] == ["Africa", "Middle East", "Zambia desk"]


# Actions ---------------------------------------------------------------------


def test_publish_now_makes_drafts_and_scheduled_articles_live(admin_client):
    draft = make_article(status=Article.Status.DRAFT, days=-5, ready=True)
    scheduled = make_article(days=4, ready=True)
    live = make_article(days=-2)
    live_since = live.published_at
    before = timezone.now()

    # Published articles among them: a page says what will happen first, and nothing changes yet.
    response = post_action(admin_client, ARTICLES, "publish_now", [draft, scheduled, live])
    assertContains(response, "Articles already live stay exactly as they are")
    assertContains(response, f"{live.headline}</a>: Live since")
    assert Article.objects.published().count() == 1

    response = post_action(admin_client, ARTICLES, "publish_now", [draft, scheduled, live], post="yes")

    assert response.status_code == 200
    assert message_texts(response) == ["2 articles are now live."]
    assert message_levels(response) == [messages.SUCCESS]
    for article in [draft, scheduled]:
        article.refresh_from_db()
        assert article.is_live
        assert before <= article.published_at <= timezone.now()
    live.refresh_from_db()
    assert live.is_live
    assert live.published_at == live_since


def test_publish_now_singular_and_nothing_to_do_messages(admin_client):
    draft = make_article(status=Article.Status.DRAFT, ready=True)
    live = make_article(days=-1)

    response = post_action(admin_client, ARTICLES, "publish_now", [draft])
    assert message_texts(response) == ["1 article is now live."]

    response = post_action(admin_client, ARTICLES, "publish_now", [live], post="yes")
    assert message_texts(response) == ["The selected articles were already live."]
    assert message_levels(response) == [messages.INFO]


def test_unpublish_returns_articles_to_draft(admin_client):
    live, scheduled = make_article(days=-1), make_article(days=2)
    draft = make_article(status=Article.Status.DRAFT)

    response = post_action(admin_client, ARTICLES, "unpublish", [live, scheduled, draft])
    assertContains(response, "Readers will no longer see this live story")
    assertContains(response, "The scheduled article will not appear at its time.")
    assert Article.objects.filter(status=Article.Status.PUBLISHED).count() == 2

    response = post_action(admin_client, ARTICLES, "unpublish", [live, scheduled, draft], post="yes")
    assert message_texts(response) == ["2 articles are back to draft and hidden from readers."]
    assert set(Article.objects.values_list("status", flat=True)) == {Article.Status.DRAFT}

    response = post_action(admin_client, ARTICLES, "unpublish", [draft])
    assert message_texts(response) == ["None of the selected articles was published."]


def test_actions_offered_to_a_superuser(admin_client):
    make_article()
    response = admin_client.get(ARTICLES)
    assert changelist_action_names(response) == [
        "delete_selected",
        "publish_now",
        "unpublish",
        "add_tag",
        "remove_tag",
        "put_on_front_page",
    ]


def test_staff_without_publish_permission_does_not_get_the_actions(staff_without_publish):
    client = staff_without_publish
    draft, live = make_article(status=Article.Status.DRAFT, days=-1), make_article(days=-1)
    live_since = live.published_at

    response = client.get(ARTICLES)
    assert response.status_code == 200
    # Tagging is changing: offered, for the articles they may change (test_admin_editing.py).
    assert changelist_action_names(response) == ["delete_selected", "add_tag", "remove_tag"]
    assertNotContains(response, "Publish now")

    for action in ["publish_now", "unpublish"]:
        response = post_action(client, ARTICLES, action, [draft, live])
        assert response.status_code == 200
        assert message_texts(response) == ["No action selected."]

    draft.refresh_from_db()
    live.refresh_from_db()
    assert draft.status == Article.Status.DRAFT
    assert (live.status, live.published_at) == (Article.Status.PUBLISHED, live_since)


def test_staff_with_publish_permission_gets_the_actions(staff_without_publish):
    user = User.objects.get(username="desk")
    user.user_permissions.add(Permission.objects.get(codename="publish_article"))
    draft = make_article(status=Article.Status.DRAFT, ready=True)

    response = staff_without_publish.get(ARTICLES)
    assert changelist_action_names(response) == [
        "delete_selected",
        "publish_now",
        "unpublish",
        "add_tag",
        "remove_tag",
    ]

    response = post_action(staff_without_publish, ARTICLES, "publish_now", [draft])
    assert message_texts(response) == ["1 article is now live."]
    draft.refresh_from_db()
    assert draft.is_live


# View on site ------------------------------------------------------------------


@pytest.mark.parametrize("days", [-1, 3])
def test_view_on_site(admin_client, days):
    article = make_article(days=days)
    content_type = ContentType.objects.get_for_model(Article)

    response = admin_client.get(f"/admin/r/{content_type.pk}/{article.pk}/")

    assert response.status_code == 302
    assert response.url == f"http://testserver{article.get_absolute_url()}"
    page = admin_client.get(article.get_absolute_url())
    assert page.status_code == 200
    # The change form links straight to the article.
    change = admin_client.get(f"{ARTICLES}{article.pk}/change/")
    assertContains(change, f'href="{article.get_absolute_url()}" class="viewsitelink"')


# Tags, sections and authors -------------------------------------------------------


def test_only_the_newsroom_tag_model_is_in_the_admin(admin_client):
    response = admin_client.get("/admin/")

    assertContains(response, 'href="/admin/articles/tag/"')
    assertNotContains(response, "/admin/taggit/")
    assert admin_client.get("/admin/taggit/tag/").status_code == 404


def test_tag_admin_search_and_article_counts(admin_client):
    make_article(tags=["Mali", "Niger"])
    make_article(tags=["Mali"], status=Article.Status.DRAFT)
    Tag.objects.create(name="Malaria", slug="malaria")

    response = admin_client.get(TAGS)
    counts = {tag.name: tag.article_count for tag in response.context["cl"].result_list}
    assert counts == {"Malaria": 0, "Mali": 2, "Niger": 1}
    assertContains(response, '<td class="field-article_count">2</td>', html=True)

    response = admin_client.get(TAGS, {"q": "mal"})
    assert [tag.name for tag in response.context["cl"].result_list] == ["Malaria", "Mali"]

    response = admin_client.get(TAGS, {"o": "-3"})
    assert [tag.name for tag in response.context["cl"].result_list][0] == "Mali"


def test_section_admin_search_and_article_counts(admin_client):
    world, sport = make_section("World"), make_section("Sport", slug="sport-news")
    make_section("Science")
    for _ in range(3):
        make_article(section=world)
    make_article(section=sport)

    response = admin_client.get(SECTIONS)
    assert {s.name: s.article_count for s in response.context["cl"].result_list} == {
        "Science": 0,
        "Sport": 1,
        "World": 3,
    }
    assertContains(response, '<td class="field-article_count">3</td>', html=True)

    response = admin_client.get(SECTIONS, {"q": "news"})
    assert [s.name for s in response.context["cl"].result_list] == ["Sport"]


def test_author_admin_search_and_article_counts(admin_client):
    ana = make_author("Ana Diallo", bio="Covers the Sahel from Bamako.")
    ben = make_author("Ben Okafor")
    make_author("Chidi Eze")
    make_article(authors=[ana, ben])
    make_article(authors=[ana])

    response = admin_client.get(AUTHORS)
    assert {a.name: a.article_count for a in response.context["cl"].result_list} == {
        "Ana Diallo": 2,
        "Ben Okafor": 1,
        "Chidi Eze": 0,
    }

    response = admin_client.get(AUTHORS, {"q": "bamako"})
    assert [a.name for a in response.context["cl"].result_list] == ["Ana Diallo"]
    response = admin_client.get(AUTHORS, {"q": "okafor"})
    assert [a.name for a in response.context["cl"].result_list] == ["Ben Okafor"]


def test_merge_tags_asks_then_merges(admin_client):
    economics = Tag.objects.create(name="Economics", slug="economics")
    economy = Tag.objects.create(name="Economy", slug="economy")
    only_economics = make_article(tags=[economics])
    only_economy = make_article(tags=[economy, "Mali"])
    both = make_article(tags=[economics, economy])

    response = admin_client.post(TAGS, {"action": "merge", "_selected_action": [economics.pk, economy.pk], "index": 0})

    assert response.status_code == 200
    assert [t.name for t in response.context["tags"]] == ["Economics", "Economy"]
    assertContains(response, "<li>Economics", count=1)
    assertContains(response, "<li>Economy", count=1)
    assertContains(response, "(economics; 2 articles)")
    assertContains(response, '<input type="hidden" name="action" value="merge">', html=True)
    assertContains(response, '<ol class="breadcrumbs">')
    choices = [label for _value, label in response.context["form"].fields["into"].choices if _value]
    assert choices == ["Economics (2 articles)", "Economy (2 articles)"]
    # The most used is chosen already (the older tag, when they are used as much).
    assert response.context["form"]["into"].initial == economics.pk
    assert Tag.objects.count() == 3

    response = admin_client.post(
        TAGS,
        {"action": "merge", "_selected_action": [economics.pk, economy.pk], "into": economics.pk},
        follow=True,
    )

    assert response.redirect_chain == [(TAGS, 302)]
    assert message_texts(response) == ["Merged “Economy” into “Economics”: 2 articles re-tagged."]
    assert message_levels(response) == [messages.SUCCESS]
    assert not Tag.objects.filter(pk=economy.pk).exists()
    for article in [only_economics, only_economy, both]:
        assert "Economics" in article.tags.names()
        assert "Economy" not in article.tags.names()
    assert sorted(only_economy.tags.names()) == ["Economics", "Mali"]
    assert both.tags.count() == 1


def test_merge_into_a_tag_that_was_not_selected_is_refused(admin_client):
    economics = Tag.objects.create(name="Economics", slug="economics")
    economy = Tag.objects.create(name="Economy", slug="economy")
    other = Tag.objects.create(name="Other", slug="other")

    response = admin_client.post(
        TAGS, {"action": "merge", "_selected_action": [economics.pk, economy.pk], "into": other.pk}
    )

    assert response.status_code == 200
    assert "into" in response.context["form"].errors
    assert Tag.objects.count() == 3


def test_merge_one_tag_warns(admin_client):
    economics = Tag.objects.create(name="Economics", slug="economics")

    response = post_action(admin_client, TAGS, "merge", [economics])

    assert message_texts(response) == ["Select at least two tags to merge."]
    assert message_levels(response) == [messages.WARNING]
    assert Tag.objects.filter(pk=economics.pk).exists()


@pytest.mark.parametrize("slug", ["mali-2", "mali"])
def test_tag_names_are_unique_ignoring_case_in_the_admin(admin_client, slug):
    Tag.objects.create(name="Mali", slug="mali")

    response = admin_client.post(f"{TAGS}add/", {"name": "mali", "slug": slug, "_save": "Save"})

    assert response.status_code == 200
    form = response.context["adminform"].form
    # Tag.key's uniqueness is checked by the model's clean(), so the editor gets
    # the form back instead of an IntegrityError.
    assert "The tag “Mali” already exists" in " ".join(form.errors["name"])
    assert ("slug" in form.errors) == (slug == "mali")
    assertContains(response, "errornote")
    assert Tag.objects.count() == 1


def test_tag_admin_add_and_section_admin_add(admin_client):
    response = admin_client.post(f"{TAGS}add/", {"name": "Côte d’Ivoire", "slug": "cote-divoire"}, follow=True)
    assert response.redirect_chain == [(TAGS, 302)]
    assert Tag.objects.get().name == "Côte d’Ivoire"

    response = admin_client.get(f"{SECTIONS}add/")
    assert response.context["adminform"].prepopulated_fields[0]["field"].name == "slug"
    response = admin_client.post(f"{SECTIONS}add/", {"name": "World", "slug": "world"}, follow=True)
    assert response.redirect_chain == [(SECTIONS, 302)]
    assert Section.objects.get().slug == "world"
    assert Author.objects.count() == 0


def test_related_helpers_are_consistent_with_the_inline(admin_client):
    article, other = make_article(), make_article()
    relate(article, other)

    response = admin_client.get(f"{ARTICLES}{article.pk}/change/")

    assertContains(response, 'name="related_links-INITIAL_FORMS" value="1"')
    assertContains(response, f'<option value="{other.pk}" selected>{other.headline}</option>', html=True)


def test_a_body_over_the_old_upload_limit_gets_a_form_error_that_keeps_the_text(admin_client):
    """Issue 13: a 3 MB body got a bare 400 (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB) and the text was lost."""
    body = "<p>" + "A very long dispatch from Bamako. " * 95_000 + "The last sentence.</p>"
    assert len(body.encode()) > 3 * 1024 * 1024

    response = admin_client.post(f"{ARTICLES}add/", article_form_data(admin_client, body=body))

    assert response.status_code == 200
    assert "the limit is 1,000,000 (about 150,000 words)" in response.text
    assert "The last sentence." in response.text  # the text comes back in the form
    assert not Article.objects.exists()


def test_a_request_over_the_new_limit_is_still_refused_plainly(admin_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = admin_client.post(f"{ARTICLES}add/", {"body": "x" * 2048})
    assert response.status_code == 400
