"""
Word differences between two versions of a text, as readers read it, at a bounded cost.

The body is compared as its readers see it: the words of the rendered text,
paragraph by paragraph, each word carrying its formatting (bold, italic, a
link and where it goes, a heading, a list item, a quote); a word whose text
stayed but whose formatting changed is marked as a formatting change. Images
read as "[Image: alt text]".

difflib compares word by word in time that grows with the product of the two
lengths (two 10,000-word bodies took 30 s), so the comparison is done in steps
that each cost little: paragraphs are aligned first (cheap: they are few and
mostly unique), then each group of changed paragraphs is compared word by word
(after setting aside its common start and end) only while the steps difflib
takes stay within WORD_BUDGET, counted as it goes (_BudgetedMatcher); a large
group is paired paragraph by paragraph; past the budget, or past TIME_BUDGET,
a group is shown whole, deleted then inserted,
and a text beyond MAX_WORDS is not compared at all ("too large to compare").
Nothing is ever elided: every word of both versions is in the result.
"""

import contextlib
import difflib
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import zip_longest

# Word by word only while the comparisons so far took fewer steps than this
# (a step: one word looked up in the other text, about a microsecond)...
WORD_BUDGET = 1_000_000
# A group of changed paragraphs longer than this (word pairs) is compared paragraph by paragraph.
GROUP_SIZE = 250_000
# ... and while the comparison has taken less than this many seconds.
TIME_BUDGET = 0.25
# Longer texts (in words and signs) are not compared at all.
MAX_WORDS = 200_000

WORD = re.compile(r"\s*(?:\w+|[^\w\s])")

INLINE_MARKS = {"strong": "bold", "b": "bold", "em": "italic", "i": "italic"}
BLOCK_MARKS = {
    "h1": "heading 1",
    "h2": "heading 2",
    "h3": "heading 3",
    "h4": "heading 4",
    "h5": "heading 5",
    "h6": "heading 6",
    "li": "list item",
    "blockquote": "quote",
    "figcaption": "caption",
}
BLOCKS = {"p", "div", "ul", "ol", "figure", *BLOCK_MARKS}


@dataclass
class Diff:
    """(kind, text, note) segments: kind is "same", "del", "ins" or "format" (note says how)."""

    segments: list = field(default_factory=list)
    coarse: bool = False  # some paragraphs were too costly to compare word by word: shown whole
    too_large: bool = False  # not compared at all


def words(text, marks=()):
    """Tokens (word or sign with the space before it, marks) of a plain text."""
    return [(token, marks) for token in WORD.findall(text)]


def plain_paragraphs(text):
    """A plain-text field as paragraphs of tokens (one per line)."""
    return [tuple(words(line)) for line in (text or "").splitlines() if line.strip()]


class _Reader(HTMLParser):
    """Sanitized body HTML as paragraphs of (token, marks), as readers read it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs, self.current, self.marks = [], [], []
        self.space = False  # a space is due before the next word

    def _close_paragraph(self):
        if any(token.strip() for token, _ in self.current):
            self.paragraphs.append(tuple(self.current))
        self.current, self.space = [], False

    def _add(self, tokens):
        if tokens and self.space and self.current:
            token, marks = tokens[0]
            tokens[0] = (" " + token, marks)
        self.current.extend(tokens)
        self.space = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in BLOCKS:
            self._close_paragraph()
        if tag == "br":
            self.current.append(("\n", tuple(self.marks)))
            self.space = False
        elif tag == "img":
            self._add([(f"[Image: {attrs.get('alt') or 'no alt text'}]", (*self.marks, "image"))])
            self.space = True
        elif tag == "a":
            self.marks.append(f"link to {attrs.get('href') or 'nowhere'}")
        elif tag in INLINE_MARKS or tag in BLOCK_MARKS:
            self.marks.append(INLINE_MARKS.get(tag) or BLOCK_MARKS[tag])

    def handle_endtag(self, tag):
        wanted = "link to" if tag == "a" else INLINE_MARKS.get(tag) or BLOCK_MARKS.get(tag)
        if wanted:
            for index in range(len(self.marks) - 1, -1, -1):
                if self.marks[index].startswith(wanted):
                    del self.marks[index]
                    break
        if tag in BLOCKS:
            self._close_paragraph()

    def handle_data(self, data):
        if not data.strip():
            self.space = self.space or bool(data)
            return
        self.space = self.space or data[0].isspace()
        self._add(words(" ".join(data.split()), tuple(sorted(set(self.marks)))))
        self.space = data[-1].isspace()


def html_paragraphs(html):
    reader = _Reader()
    reader.feed(html or "")
    reader.close()
    reader._close_paragraph()
    return reader.paragraphs


def _text(tokens):
    return "".join(token for token, _ in tokens)


def _describe_marks(old, new):
    gone = [mark for mark in old if mark not in new]
    added = [mark for mark in new if mark not in old]
    parts = [f"now {', '.join(added)}"] if added else []
    if gone:
        parts.append(f"no longer {', '.join(gone)}")
    return "; ".join(parts)


class _OverBudget(Exception):
    pass


class _BudgetedMatcher(difflib.SequenceMatcher):
    """
    difflib's matcher, charged before each search for the longest match with
    the steps that search may take (an upper bound); over budget, it gives up.
    """

    def __init__(self, a, b, *, budget):
        self.budget, self.spent = budget, 0
        super().__init__(None, a, b, autojunk=False)

    def find_longest_match(self, alo=0, ahi=None, blo=0, bhi=None):
        ahi = len(self.a) if ahi is None else ahi
        positions = self.b2j
        self.spent += ahi - alo + sum(len(positions.get(word, ())) for word in self.a[alo:ahi])
        if self.spent > self.budget:
            raise _OverBudget
        return super().find_longest_match(alo, ahi, blo, bhi)


class _Differ:
    def __init__(self):
        self.diff = Diff()
        self.spent = 0
        self.started = time.monotonic()

    def emit(self, kind, text, note=""):
        if not text:
            return
        segments = self.diff.segments
        # What this text follows: an insertion stands in place of the deletion before it.
        before = segments[-2:-1] if kind == "ins" and segments[-1:] and segments[-1][0] == "del" else segments[-1:]
        if before and text[0].isalnum() and before[0][1][-1:].isalnum():
            # Words from two places (the start of one paragraph after the middle of another) kept apart.
            text = " " + text
        if segments and segments[-1][0] == kind and segments[-1][2] == note:
            segments[-1] = (kind, segments[-1][1] + text, note)
        else:
            segments.append((kind, text, note))

    def same(self, old_tokens, new_tokens):
        """Equal words; those whose formatting changed are marked."""
        for (_, old_marks), (token, new_marks) in zip(old_tokens, new_tokens, strict=True):
            if old_marks == new_marks:
                self.emit("same", token)
            else:
                self.emit("format", token, _describe_marks(old_marks, new_marks))

    def words(self, old, new):
        """Word by word within the budget, else the group whole."""
        start = 0
        while start < min(len(old), len(new)) and old[start][0].strip() == new[start][0].strip():
            start += 1
        end = 0
        while end < min(len(old), len(new)) - start and old[-1 - end][0].strip() == new[-1 - end][0].strip():
            end += 1
        self.same(old[:start], new[:start])
        old_middle, new_middle = old[start : len(old) - end], new[start : len(new) - end]
        opcodes = None
        if old_middle and new_middle and time.monotonic() - self.started < TIME_BUDGET:
            matcher = _BudgetedMatcher(
                [token.strip() for token, _ in old_middle],
                [token.strip() for token, _ in new_middle],
                budget=WORD_BUDGET - self.spent,
            )
            with contextlib.suppress(_OverBudget):
                opcodes = matcher.get_opcodes()
            self.spent += matcher.spent
        if opcodes is None:
            if old_middle and new_middle:
                self.diff.coarse = True
            self.emit("del", _text(old_middle))
            self.emit("ins", _text(new_middle))
        else:
            for op, i1, i2, j1, j2 in opcodes:
                if op == "equal":
                    self.same(old_middle[i1:i2], new_middle[j1:j2])
                else:
                    self.emit("del", _text(old_middle[i1:i2]))
                    self.emit("ins", _text(new_middle[j1:j2]))
        self.same(old[len(old) - end :], new[len(new) - end :])

    def paragraphs(self, old, new):
        try:
            opcodes = _BudgetedMatcher(old, new, budget=WORD_BUDGET).get_opcodes()
        except _OverBudget:
            # Paragraphs that repeat too much to align: taken in order, one against one.
            self.diff.coarse = True
            opcodes = [("replace", 0, len(old), 0, len(new))]
        for op, i1, i2, j1, j2 in opcodes:
            if op == "equal":
                for paragraph in old[i1:i2]:
                    self.emit("same", _text(paragraph).rstrip() + "\n\n")
                continue
            old_group, new_group = _joined(old[i1:i2]), _joined(new[j1:j2])
            if len(old_group) * len(new_group) <= GROUP_SIZE or min(i2 - i1, j2 - j1) <= 1:
                # Compared as one run of words, paragraph breaks included.
                self.words(old_group, new_group)
                continue
            # Too costly as one run: paragraph against paragraph, in order.
            for old_paragraph, new_paragraph in zip_longest(old[i1:i2], new[j1:j2], fillvalue=()):
                self.words(_joined([old_paragraph]), _joined([new_paragraph]))
        return self.diff


def _joined(paragraphs):
    tokens = []
    for paragraph in paragraphs:
        if not paragraph:
            continue
        tokens.extend(paragraph[:-1])
        token, marks = paragraph[-1]
        tokens.append((token.rstrip() + "\n\n", marks))
    return tokens


def diff_paragraphs(old, new):
    """The Diff of two texts given as lists of paragraphs (tuples of (token, marks))."""
    if max(sum(map(len, old)), sum(map(len, new))) > MAX_WORDS:
        return Diff(too_large=True)
    diff = _Differ().paragraphs(old, new)
    # No paragraph break after the last paragraph (on either side of a change at the end).
    stripped = set()
    for index in range(len(diff.segments) - 1, -1, -1):
        kind, text, note = diff.segments[index]
        if kind not in stripped:
            diff.segments[index] = (kind, text.rstrip("\n"), note)
            stripped.add(kind)
        if kind not in {"del", "ins"} or stripped >= {"del", "ins"}:
            break
    return diff


def diff_html(old, new):
    """Readers' text of two bodies, word by word, formatting changes marked."""
    return diff_paragraphs(html_paragraphs(old), html_paragraphs(new))


def diff_text(old, new):
    return diff_paragraphs(plain_paragraphs(old), plain_paragraphs(new))
