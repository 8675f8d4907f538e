"""
The editorial workflow in a real browser: a reporter drafts and cannot publish,
an editor schedules the draft, and a second editor who had it open gets an edit
conflict instead of overwriting the first editor's work.
"""

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.utils import timezone
from playwright.sync_api import expect

from articles.models import Article
from articles.roles import ensure_roles
from articles.tests.factories import make_section

from .test_editor_flow import pick_section

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple-7"
HEADLINE = "Dust storm closes Bamako airport"


@pytest.fixture
def staff():
    ensure_roles(apps)  # transactional tests empty the tables the migration filled
    users = {}
    for username, group in [("rita", "Reporter"), ("eddie", "Editor"), ("sam", "Editor")]:
        users[username] = User.objects.create_user(username, f"{username}@example.com", PASSWORD, is_staff=True)
        users[username].groups.add(Group.objects.get(name=group))
    make_section("Africa", slug="africa")
    return users


def assert_no_problems(problems, where):
    found = problems.take()
    assert not found, f"browser problems on {where}:\n" + "\n".join(found)


def log_in(open_page, username):
    page, problems = open_page()
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_contain_text("editors")
    return page, problems


def save(page):
    """Save draft, or Update a published article (the same button, named _continue)."""
    page.locator("input[name=_continue]").last.click()


def test_reporter_drafts_editor_schedules_second_editor_gets_a_conflict(open_page, staff):
    # A reporter drafts; the form offers no way to publish.
    reporter, problems = log_in(open_page, "rita")
    reporter.goto("/admin/articles/article/add/")
    reporter.locator("#id_headline").press_sequentially(HEADLINE, delay=5)
    reporter.fill("#id_standfirst", "Flights are diverted to Ouagadougou.")
    reporter.locator(".field-body .ProseMirror[contenteditable=true]").click()
    reporter.keyboard.type("Visibility fell below fifty metres.")
    pick_section(reporter, "Africa")
    reporter.fill("#id_credit", "Newsroom staff")
    expect(reporter.locator("input[name=_publish]")).to_have_count(0)
    reporter.locator("input[name=_continue]").last.click()  # Save draft
    expect(reporter.locator(".messagelist .success")).to_contain_text("was added successfully")
    assert_no_problems(problems, "the reporter's add form")
    article = Article.objects.get(headline=HEADLINE)
    assert (article.status, article.created_by) == (Article.Status.DRAFT, staff["rita"])
    reporter.goto("/admin/articles/article/")
    expect(reporter.locator("select[name=action] option")).not_to_contain_text(["Publish now"])

    # Forcing a Publish button into the form is refused by the server, and nothing changes.
    reporter.goto(f"/admin/articles/article/{article.pk}/change/")
    reporter.evaluate(
        """() => {
            const form = document.querySelector("#article_form");
            const button = document.createElement("input");
            Object.assign(button, {type: "hidden", name: "_publish", value: "Publish"});
            form.append(button);
            form.submit();
        }"""
    )
    expect(reporter.locator("h1")).to_contain_text("403")
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
    problems.take()  # the refused publication answers 403

    # Two editors open the draft.
    eddie, eddie_problems = log_in(open_page, "eddie")
    sam, sam_problems = log_in(open_page, "sam")
    for page in (eddie, sam):
        page.goto(f"/admin/articles/article/{article.pk}/change/")
        expect(page.locator("#id_headline")).to_have_value(HEADLINE)

    # The first schedules it for tomorrow at 09:00.
    tomorrow = timezone.localtime() + timedelta(days=1)
    eddie.fill("#id_published_at_0", tomorrow.strftime("%d/%m/%Y"))
    eddie.fill("#id_published_at_1", "09:00:00")
    eddie.fill("#id_headline", "Dust storm shuts Bamako airport")
    eddie.locator("input[name=_publish]").last.click()
    expect(eddie.locator(".messagelist .success")).to_contain_text("Scheduled for")
    eddie.goto("/admin/articles/article/")
    row = eddie.locator("#result_list tr", has_text="Dust storm shuts Bamako airport")
    expect(row.locator(".badge-scheduled")).to_have_text(
        re.compile(rf"Scheduled for {tomorrow.day} {tomorrow:%b %Y}, 09:00 \(in \d+\s(hours?|minutes?)\)")
    )
    assert_no_problems(eddie_problems, "the first editor's save and the list")
    article.refresh_from_db()
    assert article.is_scheduled

    # The second, who opened it before, edits the standfirst and saves: a conflict.
    sam.fill("#id_standfirst", "All flights are diverted to Ouagadougou until Friday.")
    save(sam)
    conflict = sam.locator(".edit-conflict")
    expect(conflict).to_contain_text("Edit conflict: nothing was saved.")
    expect(conflict).to_contain_text("eddie")
    expect(conflict.locator(".revision-diff th[scope=row]")).to_have_text(["Headline", "Status", "Publication time"])
    expect(sam.locator("#id_standfirst")).to_have_value("All flights are diverted to Ouagadougou until Friday.")
    article.refresh_from_db()
    assert (article.headline, article.standfirst) == (
        "Dust storm shuts Bamako airport",
        "Flights are diverted to Ouagadougou.",
    )
    sam_problems.take()  # the conflict answers 200 with errors

    # They merge in the first editor's changes and save again.
    sam.fill("#id_headline", "Dust storm shuts Bamako airport")
    sam.fill("#id_published_at_0", tomorrow.strftime("%d/%m/%Y"))
    sam.fill("#id_published_at_1", "09:00:00")
    sam.locator("input[name=_continue]").last.click()  # Update: the article is scheduled now
    expect(sam.locator(".messagelist .success")).to_contain_text("was changed successfully")
    article.refresh_from_db()
    assert (article.headline, article.standfirst, article.is_scheduled) == (
        "Dust storm shuts Bamako airport",
        "All flights are diverted to Ouagadougou until Friday.",
        True,
    )

    # The history shows every save, and compares them.
    sam.goto(f"/admin/articles/article/{article.pk}/history/")
    expect(sam.locator(".revision-history tbody tr")).to_have_count(3)
    sam.get_by_role("button", name="Compare selected revisions").click()
    expect(sam.locator(".revision-diff th[scope=row]")).to_have_text(["Standfirst"])
    assert_no_problems(sam_problems, "the history and the comparison")
