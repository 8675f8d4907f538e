"""The admin as newsroom editors use it, in Chromium: tags, reordering, who else is editing, and axe."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from playwright.sync_api import expect

from articles.models import Article, Tag
from articles.tests.factories import make_article, make_author, make_section

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple-7"


@pytest.fixture
def newsroom():
    User.objects.create_superuser("editor", "editor@example.com", PASSWORD, first_name="Eddie", last_name="Ba")
    User.objects.create_superuser("sam", "sam@example.com", PASSWORD, first_name="Sam", last_name="Okafor")
    section = make_section("Africa", slug="africa")
    ana, bo = make_author("Ana Diallo"), make_author("Bo Traoré")
    other = make_article(headline="Background: a long headline about the Sahel that runs on past forty characters")
    article = make_article(headline="Helicopters arrive in Bamako", section=section, authors=[ana, bo], tags=["Army"])
    Tag.objects.create(name="Mali")
    return {"article": article, "other": other, "ana": ana, "bo": bo}


def log_in(page, username="editor"):
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def serious_violations(page):
    results = Axe().run(page)
    found = [v for v in results.response["violations"] if v["impact"] in {"serious", "critical"}]
    return [(v["id"], [node["target"] for node in v["nodes"]]) for v in found]


def test_axe_on_the_article_form(open_page, newsroom):
    page, problems = open_page()
    log_in(page)
    page.goto(f"/admin/articles/article/{newsroom['article'].pk}/change/")
    expect(page.locator(".field-body .ProseMirror[contenteditable=true]")).to_be_visible()
    found = serious_violations(page)
    print("AXE", found)
    assert found == []
