"""Word differences as readers read them, at a bounded cost (articles/diff.py)."""

import random

import pytest

from articles import diff
from articles.diff import diff_html, diff_text


def text_of(segments, kinds):
    return "".join(text for kind, text, _ in segments if kind in kinds)


def test_words_deleted_and_inserted_between_the_words_that_stayed():
    result = diff_text("Original headline", "First editor's headline")
    assert result.segments == [("del", "Original", ""), ("ins", "First editor's", ""), ("same", " headline", "")]


def test_the_body_is_compared_as_text_not_markup():
    result = diff_html(
        '<p>The minister <a href="https://example.com/a">said</a> no.</p>',
        '<p>The minister <a href="https://example.com/a">said</a> yes.</p>',
    )
    assert ("del", " no", "") in result.segments
    assert ("ins", " yes", "") in result.segments
    assert "<" not in "".join(text for _, text, _ in result.segments)


def test_formatting_changes_are_marked_with_what_changed():
    result = diff_html(
        "<p>Hello <strong>world</strong> and all.</p><h2>Next</h2>",
        '<p>Hello world and <a href="/x">all</a>.</p><p>Next</p>',
    )
    formats = [(text.strip(), note) for kind, text, note in result.segments if kind == "format"]
    assert formats == [("world", "no longer bold"), ("all", "now link to /x"), ("Next", "no longer heading 2")]
    assert not [kind for kind, _, _ in result.segments if kind in {"del", "ins"}]


def test_images_read_as_their_alt_text():
    result = diff_html('<p>A</p><figure><img src="/a.jpg" alt="A cat"></figure>', "<p>A</p>")
    assert text_of(result.segments, {"del"}).strip() == "[Image: A cat]"


def test_nothing_is_left_out_however_long_the_unchanged_text():
    old = "<p>" + " ".join(f"word{i}" for i in range(3000)) + " end.</p>"
    new = old.replace(" end.", " finish.")
    result = diff_html(old, new)
    everything_old = text_of(result.segments, {"same", "del", "format"})
    everything_new = text_of(result.segments, {"same", "ins", "format"})
    assert everything_old == " ".join(f"word{i}" for i in range(3000)) + " end."
    assert everything_new.endswith("word2999 finish.")
    assert "…" not in everything_old


def body(words, rng, paragraph=60):
    vocabulary = ["the", "a", "of", "minister", "said", "war", "peace", "talks", "city", "and", "to", "in"]
    picked = [rng.choice(vocabulary) for _ in range(words)]
    return "".join(f"<p>{' '.join(picked[i : i + paragraph])}.</p>" for i in range(0, words, paragraph))


@pytest.mark.parametrize(
    "old, new",
    [
        # Two unrelated 10,000-word bodies of common words (30 s with plain difflib).
        (body(10_000, random.Random(1)), body(10_000, random.Random(2))),
        # One 10,000-word paragraph each: no paragraph alignment to lean on.
        (body(10_000, random.Random(3), paragraph=10_000), body(10_000, random.Random(4), paragraph=10_000)),
        # Repetition, difflib's worst case.
        ("<p>" + "a " * 10_000 + "</p>", "<p>" + "a b " * 5_000 + "</p>"),
        ("".join(["<p>a x</p>"] * 5_000), "".join(["<p>a x</p>", "<p>b</p>"] * 2_500)),
    ],
)
def test_every_comparison_has_a_bounded_cost(old, new, monkeypatch):
    """The work is counted, not timed: the searches difflib runs stay within the budgets (unbounded: 30 s)."""
    performed = []
    search = diff._BudgetedMatcher.find_longest_match

    def counted_search(self, *args, **kwargs):
        before = self.spent
        found = search(self, *args, **kwargs)  # raises, without searching, past the budget
        performed.append(self.spent - before)
        return found

    monkeypatch.setattr(diff._BudgetedMatcher, "find_longest_match", counted_search)
    result = diff_html(old, new)
    # At most one budget for aligning the paragraphs, one for all the word-by-word comparisons.
    assert sum(performed) <= 2 * diff.WORD_BUDGET
    assert not result.too_large
    # Coarser or not, both texts are there whole.
    assert text_of(result.segments, {"same", "del", "format"}).split() == [
        word for paragraph in diff.html_paragraphs(old) for word in diff._text(paragraph).split()
    ]


def test_a_costly_group_falls_back_to_whole_paragraphs_and_says_so(monkeypatch):
    monkeypatch.setattr(diff, "WORD_BUDGET", 10)
    result = diff_text("one two three four five six", "six five four three two one")
    assert result.coarse
    assert result.segments == [("del", "one two three four five six", ""), ("ins", "six five four three two one", "")]


def test_a_small_edit_in_a_long_body_is_still_word_by_word():
    old = body(10_000, random.Random(5))
    new = old.replace("minister", "premier", 3)
    result = diff_html(old, new)
    assert not result.coarse
    assert text_of(result.segments, {"del"}).split() == ["minister"] * 3
    assert text_of(result.segments, {"ins"}).split() == ["premier"] * 3


def test_beyond_the_largest_size_nothing_is_compared(monkeypatch):
    monkeypatch.setattr(diff, "MAX_WORDS", 5)
    assert diff_text("one two three four five six", "one").too_large
