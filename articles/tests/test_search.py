"""
Search: the query parser, safe highlighting, the index staying in sync with
articles on every way in, ranking and filters that agree on SQLite and
PostgreSQL, the bounded candidate set (only the newest MAX_RESULTS matches are
ranked, and nothing counts every match), bad input, query budgets and (on
PostgreSQL) the GIN index.

The corpus tests run on whichever database the suite runs on; CI runs both.
"""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles import search
from articles.models import Article, Section, Tag
from articles.search import highlights, postgresql, sqlite
from articles.search.query import Term
from articles.services import publish_articles
from articles.views import SearchView

from .factories import make_article, make_author, make_section

DRAFT = Article.Status.DRAFT
SEARCH_URL = reverse("articles:search")

# the page header (sections, also for the form, and the breaking-news banner), tags, the ranked page
# with its count, its articles, bylines
SEARCH_QUERIES = 5
# the header, tags, the ranked page (empty: no articles to fetch)
NO_MATCH_QUERIES = 3
# the header, tags
FORM_ONLY_QUERIES = 2


def result_slugs(response):
    return [article.slug for article in response.context["results"]]


def results_html(response):
    content = response.content.decode()
    start = content.find('<ol class="teasers search-results"')
    return content[start : content.index("</ol>", start)] if start >= 0 else ""


def notices(response):
    return re.findall(r'<p class="notice" role="status">(.*?)</p>', response.content.decode())


# The parser: no database


@pytest.mark.parametrize(
    ("text", "websearch", "fts5"),
    [
        ("wagner", '"wagner"', '("wagner")'),
        ("Wagner  mali", '"Wagner" "mali"', '("Wagner" AND "mali")'),
        ('"wagner group" mali', '"wagner group" "mali"', '("wagner group" AND "mali")'),
        ("wagner -helicopters", '"wagner" -"helicopters"', '(("wagner") NOT "helicopters")'),
        ('wagner -"sadio camara"', '"wagner" -"sadio camara"', '(("wagner") NOT "sadio camara")'),
        ("satellite or inflation", '"satellite" or "inflation"', '("satellite") OR ("inflation")'),
        ("a b OR c", '"a" "b" or "c"', '("a" AND "b") OR ("c")'),
        ('"wagner group', '"wagner group"', '("wagner group")'),  # unbalanced quote: to the end
        ("'; DROP TABLE articles--", '"DROP" "TABLE" "articles--"', '("DROP" AND "TABLE" AND "articles--")'),
        ("covid-19", '"covid-19"', '("covid-19")'),
        ("مالي 马里 Мали", '"مالي" "马里" "Мали"', '("مالي" AND "马里" AND "Мали")'),
    ],
)
def test_parse_query_writes_the_same_question_for_both_databases(text, websearch, fts5):
    parsed = search.parse_query(text)
    assert parsed.as_websearch() == websearch
    if fts5:
        assert parsed.as_fts5() == fts5


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "!!!",
        "?!.,;:",
        '""',
        '"',
        "or",
        "or or",
        "-wagner",
        '-"wagner group"',
        "- -- ---",
        "-wagner or -mali",
    ],
)
def test_parse_query_is_empty_when_nothing_can_be_looked_for(text):
    assert not search.parse_query(text)


def test_parse_query_drops_punctuation_terms_and_groups_of_exclusions_only():
    parsed = search.parse_query("wagner !!! or -mali or ??? or russia")
    assert parsed.as_websearch() == '"wagner" or "russia"'


def test_any_term_sought_once():
    """
    SQLite scores the mentions of any term sought (not the excluded ones) in
    the headline and the standfirst; PostgreSQL highlights any in a passage.
    """
    parsed = search.parse_query('wagner -mali or "wagner group" wagner')
    assert parsed.as_fts5_any(["headline", "standfirst"]) == '{headline standfirst} : ("wagner" OR "wagner group")'
    assert parsed.as_websearch_any() == '"wagner" or "wagner group"'


def test_fts5_strings_cannot_break_out_of_their_quotes():
    # A term never holds a double quote (it delimits phrases), but the writer doubles it anyway.
    assert Term('say "hi"').as_fts5() == '"say ""hi"""'


def test_clean_query_caps_the_length_and_drops_control_characters():
    assert search.clean_query("  wagner\x00 \t group\x07 ") == ("wagner group", False)
    cleaned, truncated = search.clean_query("wagner " * 2000)
    assert truncated and len(cleaned) <= search.MAX_QUERY_LENGTH


def test_mark_up_escapes_first_and_only_then_marks():
    text = f'<script>alert(1)</script> & {highlights.START}Wagner{highlights.STOP} "quoted"'
    assert highlights.mark_up(text) == (
        "&lt;script&gt;alert(1)&lt;/script&gt; &amp; <mark>Wagner</mark> &quot;quoted&quot;"
    )


def test_mark_up_drops_stray_markers_and_decodes_html_text_before_escaping():
    assert highlights.mark_up(f"a{highlights.STOP}b{highlights.START}c") == "abc"
    assert highlights.mark_up(f"AT&amp;T &lt;b&gt; {highlights.START}x{highlights.STOP}", from_html=True) == (
        "AT&amp;T &lt;b&gt; <mark>x</mark>"
    )


def test_html_to_text_keeps_words_apart_and_drops_markup():
    html = '<p>Mali</p><p>Bamako &amp; <strong>Ga</strong>o<br>Kidal <a href="https://example.com/zebra">link</a></p>'
    assert sqlite.html_to_text(html) == "Mali Bamako & Gao Kidal link"


# A small corpus


@pytest.fixture
def corpus():
    """
    Wagner is named in three of eight published articles, most (and in the
    standfirst) by the Mali article; a draft and a scheduled article name it
    in their headlines and must never show.
    """
    africa = make_section("Africa", slug="africa")
    europe = make_section("Europe", slug="europe")
    science = make_section("Science", slug="science")
    author = make_author("Amara Diallo", slug="amara-diallo")
    mali = make_article(
        days=-10,
        headline="Mali receives helicopters and weapons from Russia",
        slug="mali-helicopters",
        standfirst="Deliveries come as Bamako weighs a deal with the Wagner Group.",
        body=(
            "<p>Mali acquired four helicopters. Sources say the government is close to hiring the "
            "<strong>Wagner</strong> Group.</p><p>France warned that hiring Wagner fighters would isolate the "
            "country.</p>"
        ),
        section=africa,
        authors=[author],
        tags=["Mali", "Russia"],
    )
    rivalry = make_article(
        days=-8,
        headline="Russia and France trade accusations over Sahel influence",
        slug="rivalry",
        standfirst="Officials in Paris and Moscow traded barbs this week.",
        body="<p>French officials said Wagner was linked to the state; its group of contractors is large.</p>",
        section=europe,
        tags=["Russia"],
    )
    envoys = make_article(
        days=-6,
        headline="UN envoys urge Mali to keep to its election timetable",
        slug="envoys",
        standfirst="Security Council diplomats visited Bamako.",
        body="<p>The envoys did not mention Wagner by name but asked about foreign forces.</p>",
        section=africa,
        tags=["Mali"],
    )
    satellite = make_article(
        days=-5,
        headline="Student-built satellite reaches orbit",
        slug="satellite",
        standfirst="A small satellite built by students sent back its first signal.",
        body="<p>The team tracked the satellite from a rooftop antenna.</p>",
        section=science,
    )
    inflation = make_article(
        days=-4,
        headline="Central banks signal patience as inflation edges higher",
        slug="inflation",
        standfirst="Rates were left unchanged.",
        body="<p>Inflation rose to 3 percent.</p>",
        section=europe,
    )
    for n in range(3):
        make_article(
            days=-20 - n,
            headline=f"Weather report {n}",
            slug=f"weather-{n}",
            standfirst="Sunny spells and showers.",
            body="<p>Rain in the north, sun in the south.</p>",
            section=science,
        )
    draft = make_article(
        days=-3,
        status=DRAFT,
        headline="Wagner draft story",
        slug="draft",
        body="<p>Wagner Wagner Wagner.</p>",
        ready=True,
    )
    scheduled = make_article(
        days=3, headline="Wagner scheduled story", slug="scheduled", body="<p>Wagner Wagner Wagner.</p>"
    )
    return {
        "mali": mali,
        "rivalry": rivalry,
        "envoys": envoys,
        "satellite": satellite,
        "inflation": inflation,
        "draft": draft,
        "scheduled": scheduled,
        "africa": africa,
        "tag_mali": Tag.objects.get(name="Mali"),
    }


def search_results(text, queryset=None, **kwargs):
    queryset = Article.objects.published() if queryset is None else queryset
    articles, _, _ = search.search(queryset, search.parse_query(text), **kwargs).ranked(offset=0, limit=50)
    return articles


def search_slugs(text, queryset=None, **kwargs):
    return [article.slug for article in search_results(text, queryset, **kwargs)]


@pytest.mark.django_db
def test_wagner_finds_the_mali_article_first_and_never_drafts_or_scheduled(corpus):
    slugs = search_slugs("Wagner")
    assert slugs[0] == "mali-helicopters"
    assert set(slugs) == {"mali-helicopters", "rivalry", "envoys"}


@pytest.mark.django_db
def test_headline_outranks_standfirst_outranks_body(corpus):
    make_article(
        days=-1, headline="Notes", standfirst="A quokka census.", body="<p>Counting.</p>", slug="in-standfirst"
    )
    make_article(days=-2, headline="Notes", standfirst="A census.", body="<p>Counting quokka.</p>", slug="in-body")
    make_article(days=-3, headline="Quokka notes", standfirst="A census.", body="<p>Counting.</p>", slug="in-headline")
    assert search_slugs("quokka") == ["in-headline", "in-standfirst", "in-body"]


@pytest.mark.django_db
def test_more_mentions_rank_higher_than_a_newer_article(corpus):
    body = "<p>Counting.</p>"
    make_article(days=-1, headline="Quokka notes", standfirst="A small census.", body=body, slug="once")
    make_article(days=-2, headline="Quokka notes", standfirst="A quokka census.", body=body, slug="twice")
    assert search_slugs("quokka") == ["twice", "once"]


@pytest.mark.django_db
def test_words_are_stemmed_and_case_folded(corpus):
    assert search_slugs("HELICOPTER") == ["mali-helicopters"]


@pytest.mark.django_db
def test_quoted_phrase_needs_the_words_together(corpus):
    # "Wagner Group" is a phrase in the Mali article; the rivalry article has both words apart.
    assert search_slugs('"Wagner Group"') == ["mali-helicopters"]
    assert set(search_slugs("Wagner group")) == {"mali-helicopters", "rivalry"}


@pytest.mark.django_db
def test_exclusion_leaves_out_articles_with_the_word(corpus):
    assert set(search_slugs("wagner -helicopters")) == {"rivalry", "envoys"}
    assert set(search_slugs('wagner -"election timetable"')) == {"mali-helicopters", "rivalry"}


@pytest.mark.django_db
def test_or_finds_either(corpus):
    assert set(search_slugs("satellite or inflation")) == {"satellite", "inflation"}
    assert set(search_slugs("helicopters or satellite")) == {"mali-helicopters", "satellite"}


@pytest.mark.django_db
def test_html_markup_in_the_body_is_not_searchable(corpus):
    make_article(body='<p>A <a href="https://example.com/zebra">link</a> in <strong>bold</strong>.</p>', slug="markup")
    assert search_slugs("zebra") == []
    assert search_slugs("href") == []
    assert search_slugs("strong") == []
    assert search_slugs("bold") == ["markup"]


@pytest.mark.django_db
def test_the_index_follows_save_update_delete_and_bulk_create(corpus):
    mali = corpus["mali"]
    mali.headline = "Mali takes delivery of aircraft"
    mali.save()
    assert search_slugs("aircraft") == ["mali-helicopters"]
    Article.objects.filter(pk=corpus["satellite"].pk).update(body="<p>Now about a comet.</p>")
    assert search_slugs("comet") == ["satellite"]
    assert search_slugs("rooftop") == []
    corpus["inflation"].delete()
    assert search_slugs("inflation") == []
    Article.objects.bulk_create(
        [
            Article(
                headline="Quokka census", slug="quokka", status=Article.Status.PUBLISHED, published_at=timezone.now()
            )
        ]
    )
    assert search_slugs("quokka") == ["quokka"]


@pytest.mark.django_db
def test_the_index_follows_publishing(corpus):
    assert search_slugs("draft") == []
    publish_articles(articles=Article.objects.filter(pk=corpus["draft"].pk), by=None)
    assert search_slugs("draft") == ["draft"]


@pytest.mark.django_db
def test_loaddata_is_indexed():
    call_command("loaddata", "demo", verbosity=0)
    assert "mali-receives-helicopters-and-weapons-from-russia" in search_slugs("Wagner")[:2]
    assert search_slugs("helicopter")[0] == "mali-receives-helicopters-and-weapons-from-russia"


# The page


@pytest.mark.django_db
def test_search_page_shows_ranked_highlighted_published_results(client, corpus):
    response = client.get(SEARCH_URL, {"q": "wagner"})
    assert response.status_code == 200
    assert result_slugs(response) == search_slugs("wagner")
    html = results_html(response)
    assert "draft" not in html and "scheduled" not in html.lower()
    assert "<mark>Wagner</mark> Group." in html  # the standfirst, highlighted
    assert html.count("<mark>") >= 3
    assert "3 articles match." in response.content.decode()


@pytest.mark.django_db
def test_body_matches_show_a_highlighted_passage(client, corpus):
    response = client.get(SEARCH_URL, {"q": "rooftop"})
    assert re.search(r'<p class="search-excerpt">[^<]*<mark>rooftop</mark>', results_html(response))


@pytest.mark.django_db
def test_highlights_never_let_article_text_through_unescaped(client):
    make_article(
        headline='Wagner <img src=x onerror="alert(1)"> & co',
        standfirst="<script>alert('x')</script> wagner",
        body="<p>Wagner &lt;script&gt;alert(2)&lt;/script&gt;</p>",
    )
    response = client.get(SEARCH_URL, {"q": "wagner"})
    html = results_html(response)
    assert "<img" not in html and "<script" not in html
    assert "<mark>Wagner</mark> &lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co" in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; <mark>wagner</mark>" in html
    assert "&lt;script&gt;alert(2)&lt;/script" in html  # the body's text, decoded then escaped again


@pytest.mark.django_db
def test_section_and_tag_filters(client, corpus):
    response = client.get(SEARCH_URL, {"q": "wagner", "section": "africa"})
    assert set(result_slugs(response)) == {"mali-helicopters", "envoys"}
    assert "in Africa" in response.content.decode()
    response = client.get(SEARCH_URL, {"q": "wagner", "tag": corpus["tag_mali"].slug})
    assert set(result_slugs(response)) == {"mali-helicopters", "envoys"}
    response = client.get(SEARCH_URL, {"q": "wagner", "section": "africa", "tag": "russia"})
    assert result_slugs(response) == ["mali-helicopters"]
    assert '<option value="africa" selected>Africa</option>' in response.content.decode()


@pytest.mark.django_db
def test_tag_choices_are_the_tags_of_published_articles(client, corpus):
    corpus["draft"].tags.add("Embargoed")
    corpus["satellite"].tags.add("Space & <Science>")
    response = client.get(SEARCH_URL, {"q": "wagner", "tag": "mali"})
    assert [tag.name for tag in response.context["tags"]] == ["Mali", "Russia", "Space & <Science>"]
    content = response.content.decode()
    assert '<option value="mali" selected>Mali</option><option value="russia">Russia</option>' in content
    assert '<option value="space-science">Space &amp; &lt;Science&gt;</option>' in content
    assert "Embargoed" not in content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "notice"),
    [
        ({"q": "wagner", "section": "atlantis"}, "There is no section “atlantis”"),
        ({"q": "wagner", "tag": "nope"}, "There is no tag “nope”"),
        ({"q": "wagner", "section": "x" * 5000}, "There is no section"),
        ({"q": "wagner", "page": "abc"}, None),
        ({"q": "wagner", "page": "-1"}, None),
        ({"q": "wagner", "page": "99999999999999999999"}, None),
    ],
)
def test_bad_filters_and_pages_answer_200_with_all_results(client, corpus, params, notice):
    response = client.get(SEARCH_URL, params)
    assert response.status_code == 200
    assert set(result_slugs(response)) == {"mali-helicopters", "rivalry", "envoys"}
    if notice:
        assert any(notice in text for text in notices(response))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "form"),
        ("   ", "form"),
        ("!!!", "nothing to look for"),
        ("-wagner", "nothing to look for"),
        ('"', "nothing to look for"),
        ('"wagner group', "1 article matches"),
        ('wagner "group', "2 articles match"),
        ("'; DROP TABLE articles_article--", "No articles match"),
        ("wagner' OR 1=1 --", "3 articles match"),  # "wagner'" or "1=1"
        ("مالي", "No articles match"),
        ("马里", "No articles match"),
        ("Мали", "No articles match"),
        ("wagner\x00", "3 articles match"),
        ("x" * 10_000, "limited to 200 characters"),
        ("wagner " * 1500, "limited to 200 characters"),
        ("NEAR(wagner mali) * ^ : ( ) { } AND NOT", "No articles match"),
        ("\U0001f600 wagner", "3 articles match"),
    ],
)
def test_any_query_answers_200_with_a_sensible_page(client, corpus, query, expected):
    response = client.get(SEARCH_URL, {"q": query})
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count("<h1") == 1
    if expected == "form":
        assert 'name="q"' in content and "search-summary" not in content
    else:
        assert expected in content


@pytest.mark.django_db
def test_non_latin_text_is_found(client):
    make_article(headline="Новости из Мали", slug="ru", body="<p>مالي تتسلم طائرات</p>")
    assert search_slugs("Мали") == ["ru"]
    assert search_slugs("مالي") == ["ru"]


@pytest.mark.django_db
def test_pages_of_results_keep_the_query_and_filters(client, settings):
    section = make_section("Africa", slug="africa")
    for n in range(settings.NEWSROOM_ARTICLES_PER_PAGE + 2):
        make_article(days=-n - 1, headline=f"Drought report {n}", section=section)
    response = client.get(SEARCH_URL, {"q": "drought", "section": "africa"})
    assert len(result_slugs(response)) == settings.NEWSROOM_ARTICLES_PER_PAGE
    assert 'href="?q=drought&amp;section=africa&amp;page=2"' in response.content.decode()
    second = client.get(SEARCH_URL, {"q": "drought", "section": "africa", "page": 2})
    assert len(result_slugs(second)) == 2
    assert not set(result_slugs(second)) & set(result_slugs(response))
    assert 'href="?q=drought&amp;section=africa"' in second.content.decode()


@pytest.mark.django_db
def test_counting_stops_at_max_results(client, monkeypatch):
    monkeypatch.setattr(search, "MAX_RESULTS", 3)
    for _ in range(5):
        make_article(headline="Drought report")
    response = client.get(SEARCH_URL, {"q": "drought"})
    assert "At least 3 articles match. Here are the best of the newest 3" in response.content.decode()


@pytest.mark.django_db
def test_only_the_newest_matches_are_ranked(client, monkeypatch):
    """
    A common word's results are the best of its newest MAX_RESULTS matches: an
    older headline match is not ranked, however good, and the pages stop there.
    """
    monkeypatch.setattr(search, "MAX_RESULTS", 4)
    monkeypatch.setattr(SearchView, "paginate_by", 2)
    make_article(days=-30, headline="Drought grips the north", slug="old-headline")
    for n in range(3):
        make_article(days=-10 + n, headline=f"Weather {n}", body="<p>A drought is feared.</p>", slug=f"body-{n}")
    make_article(days=-20, headline="Drought ends", slug="newer-headline")
    # The newest four: body-2, body-1, body-0 and newer-headline, the headline match first, then newest first.
    assert search_slugs("drought") == ["newer-headline", "body-2", "body-1", "body-0"]
    first = client.get(SEARCH_URL, {"q": "drought"})
    assert result_slugs(first) == ["newer-headline", "body-2"]
    assert "Page 1 of 2" in first.content.decode()
    last = client.get(SEARCH_URL, {"q": "drought", "page": 2})
    assert result_slugs(last) == ["body-1", "body-0"]
    assert 'rel="next"' not in last.content.decode()


@pytest.mark.django_db
def test_newest_is_by_publication_on_postgresql_and_by_addition_on_sqlite(monkeypatch):
    """
    The candidates come in the index's order: on PostgreSQL the newest
    published, on SQLite the most recently added (FTS5's rowid is the
    article's id). They differ for an article added late with an old date.
    """
    monkeypatch.setattr(search, "MAX_RESULTS", 2)
    make_article(days=-3, headline="Drought", slug="three-days")
    make_article(days=-2, headline="Drought", slug="two-days")
    make_article(days=-1, headline="Drought", slug="yesterday")
    make_article(days=-400, headline="Drought", slug="imported-from-the-archive")
    expected = {"postgresql": ["yesterday", "two-days"], "sqlite": ["yesterday", "imported-from-the-archive"]}
    assert search_slugs("drought") == expected[connection.vendor]


@pytest.mark.django_db
def test_a_page_past_the_end_is_the_last_page(client, monkeypatch):
    monkeypatch.setattr(SearchView, "paginate_by", 2)
    for n in range(3):
        make_article(days=-n - 1, headline=f"Drought report {n}")
    for page in ("3", "99", "99999999999999999999"):
        response = client.get(SEARCH_URL, {"q": "drought", "page": page})
        assert response.status_code == 200
        assert len(result_slugs(response)) == 1
        content = response.content.decode()
        assert "Page 2 of 2" in content and 'href="?q=drought">← Better matches' in content


@pytest.mark.django_db
def test_ties_come_newest_first(corpus):
    for days, slug in ((-3, "older"), (-1, "newest"), (-2, "middle")):
        make_article(days=days, headline="Notes", standfirst="A census.", body="<p>Quokka counted.</p>", slug=slug)
    assert search_slugs("quokka") == ["newest", "middle", "older"]


@pytest.mark.django_db
def test_the_tag_filter(corpus):
    assert set(search_slugs("wagner", tag=corpus["tag_mali"])) == {"mali-helicopters", "envoys"}
    sahel = Article.objects.published().filter(section=corpus["africa"])
    assert search_slugs("wagner", sahel, tag=Tag.objects.get(name="Russia")) == ["mali-helicopters"]


@pytest.mark.django_db
def test_passages_come_from_anywhere_in_the_body(corpus):
    """
    The passage is found wherever the match is: far into a long body, in a
    word whose stem is not its prefix ("citi" for "cities" and "city"), and for
    a phrase whose second word appears alone earlier, typed as it appears or
    in other forms of its words (PostgreSQL cuts the passage from a piece
    around the phrase as typed or the first likely word, and from the whole
    body when that piece does not hold a match).
    """
    filler = "<p>" + "Nothing of note happened on the farm that week. " * 40 + "</p>"
    make_article(headline="Notes", slug="deep", body=f"{filler}<p>At last a quokka appeared.</p>")
    make_article(headline="Notes", slug="city", body=f"{filler}<p>The city council met.</p>")
    make_article(
        headline="Notes", slug="phrase", body=f"<p>The group met.</p>{filler}<p>Then the marmot group left.</p>"
    )
    for text, slug, marked in [
        ("quokka", "deep", "quokka"),
        ("cities", "city", "city"),
        ('"marmot group"', "phrase", "marmot group"),
        ('"marmots grouped"', "phrase", "marmot group"),
    ]:
        [article] = search_results(text)
        assert article.slug == slug
        # PostgreSQL marks each word of a phrase, SQLite the phrase.
        assert "<mark>" in article.highlighted_excerpt, (text, article.highlighted_excerpt)
        assert marked in re.sub("</?mark>", "", article.highlighted_excerpt)


@pytest.mark.django_db
def test_no_query_counts_every_match(client, corpus):
    with CaptureQueriesContext(connection) as captured:
        client.get(SEARCH_URL, {"q": "wagner"})
    assert not [query["sql"] for query in captured if query["sql"].lstrip().upper().startswith("SELECT COUNT")]


@pytest.mark.django_db
def test_page_metadata(client, corpus):
    bare = client.get(SEARCH_URL).content.decode()
    assert "<title>Search · " in bare
    assert 'name="robots"' not in bare
    assert '<link rel="canonical" href="http://testserver/search/">' in bare
    results = client.get(SEARCH_URL, {"q": "wagner", "section": "africa", "utm_source": "x"}).content.decode()
    assert "<title>Search results for “wagner” · " in results
    assert '<meta name="robots" content="noindex">' in results
    assert '<link rel="canonical" href="http://testserver/search/?q=wagner&amp;section=africa">' in results
    assert results.count("<h1") == 1
    assert '<label for="search-q">' in results and '<input type="search" id="search-q" name="q"' in results


@pytest.mark.django_db
def test_every_page_has_the_search_box_in_its_header(client, corpus):
    content = client.get(reverse("articles:home")).content.decode()
    assert re.search(
        r'<form class="site-search" role="search" aria-label="Site" action="/search/" method="get">', content
    )
    assert '<label class="visually-hidden" for="site-search-q">' in content


# Query budget


@pytest.mark.django_db
@pytest.mark.parametrize("extra", [0, 15])
def test_query_count_is_constant(client, django_assert_num_queries, extra):
    section = make_section()
    authors = [make_author(), make_author()]
    for n in range(3 + extra):
        make_article(headline=f"Drought {n}", section=section, authors=authors, tags=[f"tag {n}", "common"])
    with django_assert_num_queries(SEARCH_QUERIES):
        response = client.get(SEARCH_URL, {"q": "drought", "tag": "common", "section": section.slug})
    assert len(result_slugs(response)) == min(3 + extra, 10)
    with django_assert_num_queries(SEARCH_QUERIES):
        client.get(SEARCH_URL, {"q": "drought", "page": 2})
    with django_assert_num_queries(NO_MATCH_QUERIES):
        client.get(SEARCH_URL, {"q": "nothing-like-this"})
    with django_assert_num_queries(FORM_ONLY_QUERIES):
        client.get(SEARCH_URL, {"q": "!!!"})


# The indexes themselves


@pytest.mark.django_db(transaction=True)
def test_index_dropped_by_a_schema_change_comes_back(corpus):
    """
    SQLite's schema editor rebuilds a table to alter it, which drops its
    triggers; the post_migrate hook restores them. On PostgreSQL the same
    install step recreates a dropped trigger, column and index.
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for name in sqlite.TRIGGERS:
                cursor.execute(f"DROP TRIGGER {name}")
        Article.objects.filter(pk=corpus["satellite"].pk).update(headline="Comet sighted")
        # The FTS table stayed, but without its triggers it no longer follows edits.
        assert search_slugs("comet") == []
        search.restore_sqlite_index(sender=None, using=connection.alias)
    else:
        with connection.schema_editor() as schema_editor:
            search.uninstall_index(schema_editor)
        Article.objects.filter(pk=corpus["satellite"].pk).update(headline="Comet sighted")
        with connection.schema_editor() as schema_editor:
            search.install_index(schema_editor)
    assert search_slugs("comet") == ["satellite"]
    make_article(headline="Quokka census", slug="quokka")
    assert search_slugs("quokka") == ["quokka"]


@pytest.mark.django_db(transaction=True)
def test_rebuild_search_index_command(corpus):
    call_command("rebuild_search_index", verbosity=0)
    assert search_slugs("Wagner")[0] == "mali-helicopters"
    make_article(headline="Quokka census", slug="quokka")
    assert search_slugs("quokka") == ["quokka"]


@pytest.mark.django_db
def test_search_is_served_by_the_indexes():
    """
    A rare word: FTS5's MATCH on SQLite, the GIN index on PostgreSQL. A word
    in every article: the index hands over the newest matches and stops (FTS5
    by rowid; on PostgreSQL the (status, published_at, id) index, newest
    first, checking each row's vector). Never a scan of the article table.
    """
    section = Section.objects.create(name="Bulk", slug="bulk")
    now = timezone.now()
    Article.objects.bulk_create(
        Article(
            headline=f"Routine report {n}",
            slug=f"routine-{n}",
            standfirst="Nothing unusual happened.",
            body="<p>" + "Ordinary words about ordinary things. " * 20 + "</p>",
            section=section,
            status=Article.Status.PUBLISHED,
            published_at=now - timedelta(minutes=2000 - n),
        )
        for n in range(2000)
    )
    make_article(headline="Quokka census", slug="quokka", days=-30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE articles_article")

    def plan(text):
        matches = search.search(Article.objects.published(), search.parse_query(text))
        with CaptureQueriesContext(connection) as captured:
            articles, _, total = matches.ranked(offset=0, limit=10)
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + captured[0]["sql"])
                return articles, total, "\n".join(row[-1] for row in cursor.fetchall())
            cursor.execute("EXPLAIN " + captured[0]["sql"])
            return articles, total, "\n".join(row[0] for row in cursor.fetchall())

    articles, total, rare = plan("quokka")
    assert [article.slug for article in articles] == ["quokka"] and total == 1
    articles, total, common = plan("ordinary")
    assert [article.slug for article in articles] == [f"routine-{n}" for n in range(1999, 1989, -1)]
    assert total == search.MAX_RESULTS
    for text in (rare, common):
        if connection.vendor == "sqlite":
            assert "VIRTUAL TABLE INDEX" in text and sqlite.TABLE in text, text
            assert not re.search(r"SCAN articles_article\b(?! USING)", text), text
        else:
            assert "Seq Scan on articles_article" not in text, text
    if connection.vendor == "postgresql":
        assert f"Bitmap Index Scan on {postgresql.INDEX}" in rare, rare
        assert "Index Scan Backward using article_status_published_idx" in common, common


@pytest.mark.django_db(transaction=True)
def test_stemming_and_the_language_setting(corpus, settings):
    """
    Both databases stem English by default ("helicopter" finds "helicopters");
    NEWSROOM_SEARCH_CONFIG = "simple" turns stemming off on both.
    """
    assert search_slugs("helicopter") == ["mali-helicopters"]
    settings.NEWSROOM_SEARCH_CONFIG = "simple"
    call_command("rebuild_search_index", verbosity=0)
    assert search_slugs("helicopter") == []
    assert search_slugs("helicopters") == ["mali-helicopters"]
