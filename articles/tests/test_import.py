"""
manage.py import_article: the seed page, re-runs, publishing options, the
previous/next check, and every kind of file it must refuse.
"""

from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from articles.management.commands.import_article import Unparseable, parse_page
from articles.models import Article

from .factories import make_article, make_section

pytestmark = pytest.mark.django_db

# The article page the product was designed from (public content the demo ships too).
SEED = Path(__file__).parent / "data" / "article-page.txt"
SEED_SLUG = "mali-receives-helicopters-and-weapons-from-russia"
SEED_HEADLINE = "Mali receives helicopters and weapons from Russia"
SEED_TIME = datetime(2021, 10, 1, 9, 0, tzinfo=UTC)
PREVIOUS = "Forced repossession of leased assets to be suspended until next year"
NEXT = "Dubai Expo 2020 attempt to shield UAE rights abuses, says HRW"


@pytest.fixture(autouse=True)
def world():
    return make_section("World", slug="world")


# What publishing needs that a text page does not carry (Article.missing_for_publication).
READY = ("--section", "world", "--credit", "Al Jazeera and news agencies")


def run(*args):
    """Run the command; returns (stdout, stderr, error or None)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("import_article", *map(str, args), stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# The seed page.


def test_seed_page_parses_into_headline_standfirst_paragraphs_and_neighbours():
    page = parse_page(SEED.read_bytes())

    assert page.headline == SEED_HEADLINE
    assert page.standfirst == (
        "The delivery of military equipment from Moscow comes amid tense relations between Bamako and key ally Paris."
    )
    assert len(page.paragraphs) == 13
    assert page.paragraphs[0].startswith("Interim Defence Minister Sadio Camara said late on Thursday")
    assert page.paragraphs[-1].endswith("he told Radio France International.")
    # The labels are glued to the titles in the seed file.
    assert page.neighbours == {"previous": PREVIOUS, "next": NEXT}


def test_seed_page_becomes_a_draft(tmp_path):
    out, err, error = run(SEED)

    assert error is None and err == ""
    article = Article.objects.get()
    assert (article.slug, article.headline, article.status) == (SEED_SLUG, SEED_HEADLINE, Article.Status.DRAFT)
    assert article.standfirst.startswith("The delivery of military equipment from Moscow")
    assert article.body.count("<p>") == 13
    assert article.body.startswith("<p>Interim Defence Minister Sadio Camara said")
    assert "Previous article" not in article.body and "Next article" not in article.body
    assert "“Mali bought these helicopters from the Russia Federation" in article.body
    assert f"created draft “{SEED_HEADLINE}” ({SEED_SLUG}), 13 paragraphs" in out
    assert not Article.objects.published().exists()


def test_second_run_does_not_duplicate(tmp_path):
    run(SEED)
    first = Article.objects.get()

    out, _err, error = run(SEED)

    assert error is None
    assert Article.objects.count() == 1
    assert "unchanged draft" in out
    assert Article.objects.get().updated_at == first.updated_at


def test_changed_page_updates_the_draft(tmp_path):
    run(SEED)
    changed = write(tmp_path, "changed.txt", SEED.read_text().replace("He added", "He also added"))

    out, _err, error = run(changed, "--credit", "Al Jazeera and news agencies")

    assert error is None
    article = Article.objects.get()
    assert "He also added" in article.body
    assert article.credit == "Al Jazeera and news agencies"
    assert article.status == Article.Status.DRAFT
    assert f"updated draft “{SEED_HEADLINE}”" in out


@pytest.mark.parametrize("days", [-1, 3], ids=["live", "scheduled"])
def test_published_article_with_the_same_slug_is_skipped(days):
    article = make_article(days=days, slug=SEED_SLUG, headline=SEED_HEADLINE, body="<p>Edited by the desk.</p>")

    out, _err, error = run(SEED, "--credit", "Wire")

    assert error is None
    article.refresh_from_db()
    assert article.body == "<p>Edited by the desk.</p>"
    assert article.credit == ""
    assert Article.objects.count() == 1
    state = "published" if days < 0 else "scheduled"
    assert f"skipped “{SEED_HEADLINE}” ({SEED_SLUG}): already {state}, so not overwritten" in out


def test_text_is_escaped_not_trusted(tmp_path):
    page = write(
        tmp_path,
        "xss.txt",
        "A headline\n\nA standfirst\n\nFirst <script>alert(1)</script> & co.\n\n<b onclick=x>bold</b>\n",
    )

    run(page)

    body = Article.objects.get().body
    assert (
        body == "<p>First &lt;script&gt;alert(1)&lt;/script&gt; &amp; co.</p><p>&lt;b onclick=x&gt;bold&lt;/b&gt;</p>"
    )


def test_lines_of_one_paragraph_are_joined_and_windows_line_ends_are_fine(tmp_path):
    page = write(
        tmp_path, "crlf.txt", "Headline here\r\n\r\nStandfirst\r\nFirst line\r\nsame paragraph\r\n\r\nSecond\r\n"
    )
    run(page)
    article = Article.objects.get()
    assert article.standfirst == "Standfirst"
    assert article.body == "<p>First line same paragraph</p><p>Second</p>"


# Publishing options.


def test_publish_at_in_the_past_publishes(tmp_path):
    out, _err, error = run(
        SEED, "--publish-at", "2021-10-01T09:00:00+00:00", "--credit", "Al Jazeera", "--section", "world"
    )

    assert error is None
    article = Article.objects.get()
    assert article.is_live
    assert article.published_at == SEED_TIME
    assert article.credit == "Al Jazeera"
    assert "created article published at 2021-10-01 09:00" in out
    assert article.get_absolute_url() == f"/2021/10/01/{SEED_SLUG}/"


def test_publish_at_in_the_future_schedules(tmp_path):
    when = (timezone.now() + timedelta(days=2)).replace(microsecond=0)

    out, _err, error = run(SEED, "--publish-at", when.isoformat(), *READY)

    assert error is None
    article = Article.objects.get()
    assert article.is_scheduled and article.published_at == when
    assert "created article scheduled for" in out


def test_naive_publish_at_is_in_the_newsrooms_time_zone(settings):
    settings.TIME_ZONE = "Africa/Bamako"  # UTC+0 all year, but named
    run(SEED, "--publish-at", "2021-10-01 09:00", *READY)
    assert Article.objects.get().published_at == SEED_TIME


def test_publish_at_without_what_readers_need_leaves_a_draft_and_says_what_is_missing():
    out, _err, error = run(SEED, "--publish-at", "2021-10-01T09:00:00+00:00")

    assert error is None
    article = Article.objects.get()
    assert article.status == Article.Status.DRAFT and article.body
    assert "created draft" in out
    assert "not published: it still needs a section and a byline or a credit" in out


def test_unknown_section_stops_before_touching_anything():
    _out, _err, error = run(SEED, "--section", "nowhere")
    assert "there is no section with that slug" in str(error)
    assert not Article.objects.exists()


@pytest.mark.parametrize("value", ["tomorrow", "2021-13-01T09:00", ""])
def test_bad_publish_at_stops_before_touching_anything(value):
    _out, _err, error = run(SEED, "--publish-at", value)
    assert "is not an ISO 8601 date and time" in str(error)
    assert not Article.objects.exists()


def test_too_long_credit_stops_before_touching_anything():
    _out, _err, error = run(SEED, "--credit", "x" * 300)
    assert "--credit is 300 characters long" in str(error)
    assert not Article.objects.exists()


# Previous and next.


def test_neighbours_match_when_the_site_has_them(tmp_path):
    make_article(published_at=SEED_TIME - timedelta(hours=2), headline=PREVIOUS)
    make_article(published_at=SEED_TIME + timedelta(hours=2), headline=NEXT)
    make_article(published_at=SEED_TIME + timedelta(hours=1), status=Article.Status.DRAFT, headline="A draft between")

    out, _err, _error = run(SEED, "--publish-at", SEED_TIME.isoformat(), *READY)

    assert f"previous article: matches “{PREVIOUS}”" in out
    assert f"next article: matches “{NEXT}”" in out


def test_neighbours_that_differ_are_reported(tmp_path):
    make_article(published_at=SEED_TIME - timedelta(hours=2), headline=PREVIOUS)
    make_article(published_at=SEED_TIME + timedelta(hours=1), headline="Something else came next")

    out, _err, _error = run(SEED, "--publish-at", SEED_TIME.isoformat(), *READY)

    assert f"previous article: matches “{PREVIOUS}”" in out
    assert f"next article: MISMATCH: the page names “{NEXT}”, the site has “Something else came next”" in out


def test_neighbours_are_checked_for_a_skipped_published_article():
    make_article(published_at=SEED_TIME - timedelta(hours=2), headline=PREVIOUS)
    make_article(published_at=SEED_TIME, slug=SEED_SLUG, headline=SEED_HEADLINE)

    out, _err, _error = run(SEED)

    assert "skipped" in out
    assert f"previous article: matches “{PREVIOUS}”" in out
    assert f"next article: MISMATCH: the page names “{NEXT}”, the site has none" in out


def test_no_neighbour_lines_no_neighbour_report(tmp_path):
    out, _err, _error = run(write(tmp_path, "plain.txt", "Headline\n\nStandfirst\n\nBody.\n"))
    assert "previous article" not in out and "next article" not in out


def test_neighbour_labels_with_separators_and_typographic_quotes(tmp_path):
    page = parse_page(
        "Headline\nStandfirst\n\nBody.\n\nPrevious article: Mali’s vote\nNext article – Last one\n".encode()
    )
    assert page.neighbours == {"previous": "Mali’s vote", "next": "Last one"}
    assert page.paragraphs == ["Body."]


# Refusals.

REFUSED = {
    "empty": (b"", "the file is empty"),
    "blank": (b"  \n\n \t\n", "the file is empty"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "the file is binary"),
    "latin-1": ("Café au lait\n\nStandfirst\n\nBody.\n".encode("latin-1"), "the file is not UTF-8 text"),
    "headline only": (b"Just a headline\n", "no body"),
    "no body": (b"Headline\n\nStandfirst\n\n", "no body"),
    "neighbours only": (b"Previous articleOne\nNext articleTwo\n", "no headline"),
    "headline too long": (("H" * 256 + "\n\nStandfirst\n\nBody.\n").encode(), "the headline is 256 characters long"),
    "no slug": (b"!!!\n\nStandfirst\n\nBody.\n", "the headline '!!!' gives no address"),
    "control characters": (b"Head\x07line\n\nStandfirst\n\nBody.\n", "the file contains control characters"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_unparseable_files_are_refused_with_a_reason_and_the_rest_imported(tmp_path, case):
    content, reason = REFUSED[case]
    bad = write(tmp_path, "bad.txt", content)

    out, err, error = run(bad, SEED)

    assert error is not None and "1 of 2 files refused" in str(error)
    assert f"{bad}: refused: {reason}" in err
    assert f"{SEED}: created draft" in out
    assert list(Article.objects.values_list("slug", flat=True)) == [SEED_SLUG]


def test_missing_files_and_directories_are_refused(tmp_path):
    out, err, error = run(tmp_path / "nope.txt", tmp_path, SEED)

    assert "2 of 3 files refused" in str(error)
    assert "nope.txt: refused: cannot read it (No such file or directory)" in err
    assert f"{tmp_path}: refused: it is a directory, not a file" in err
    assert Article.objects.count() == 1


def test_exit_status_is_non_zero_when_a_file_is_refused(tmp_path):
    import subprocess
    import sys

    from django.conf import settings

    bad = write(tmp_path, "bad.txt", b"")
    result = subprocess.run(
        [sys.executable, "manage.py", "import_article", "--skip-checks", str(bad)],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin", "DATABASE_URL": "sqlite:///:memory:"},
    )
    assert result.returncode == 1
    assert "refused: the file is empty" in result.stderr


def test_parse_errors_are_unparseable():
    with pytest.raises(Unparseable, match="no body"):
        parse_page(b"Headline\nStandfirst\n")
