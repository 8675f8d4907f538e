"""
The reader's query, parsed once into web-search syntax (words, "quoted
phrases", -exclusions and `or`) and written out for each database, so that
both answer the same question and no input reaches them as syntax.
"""

import re
from dataclasses import dataclass

MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class Term:
    text: str
    negated: bool = False

    def as_websearch(self):
        return f'{"-" if self.negated else ""}"{self.text}"'

    def as_fts5(self):
        return '"{}"'.format(self.text.replace('"', '""'))


@dataclass(frozen=True)
class ParsedQuery:
    """Alternatives (`or`) of groups of terms that must all match, minus the negated ones."""

    groups: tuple[tuple[Term, ...], ...] = ()

    def __bool__(self):
        return bool(self.groups)

    def as_websearch(self):
        """For PostgreSQL's websearch_to_tsquery."""
        return " or ".join(" ".join(term.as_websearch() for term in group) for group in self.groups)

    def as_fts5(self):
        """For an FTS5 MATCH."""
        alternatives = []
        for group in self.groups:
            expression = " AND ".join(term.as_fts5() for term in group if not term.negated)
            for term in group:
                if term.negated:
                    expression = f"({expression}) NOT {term.as_fts5()}"
            alternatives.append(f"({expression})")
        return " OR ".join(alternatives)

    def sought(self):
        """The terms sought (not the excluded ones), each once."""
        return list(dict.fromkeys(term for group in self.groups for term in group if not term.negated))

    def as_websearch_any(self):
        """Any of the terms sought."""
        return " or ".join(term.as_websearch() for term in self.sought())

    def as_fts5_any(self, columns):
        """Any of the terms sought, in these columns only: an FTS5 column filter."""
        return f"{{{' '.join(columns)}}} : ({' OR '.join(term.as_fts5() for term in self.sought())})"


_TOKEN = re.compile(r'(?P<minus>-*)"(?P<phrase>[^"]*)(?:"|$)|(?P<word>[^\s"]+)')


def parse_query(text):
    """
    Parse a reader's query. Terms in a row must all match; `or` separates
    alternatives and binds loosest, as in websearch_to_tsquery; a term of
    punctuation only is dropped. Whatever the input, the result is well
    formed; it is empty when nothing is left to look for (a group of
    exclusions only cannot be answered by an index, so it is dropped).
    """
    groups, group = [], []
    for token in _TOKEN.finditer(text):
        if token["word"] is not None:
            word = token["word"]
            if word.lower() == "or":
                groups.append(group)
                group = []
                continue
            negated = word.startswith("-")
            words = word.lstrip("-")
        else:
            negated = bool(token["minus"])
            words = " ".join(token["phrase"].split())
        if any(character.isalnum() for character in words):
            group.append(Term(words, negated))
    groups.append(group)
    return ParsedQuery(tuple(tuple(group) for group in groups if any(not term.negated for term in group)))


def clean_query(text):
    """The query as searched: printable, whitespace collapsed, at most MAX_QUERY_LENGTH characters."""
    text = "".join(character for character in text if character.isprintable() or character.isspace())
    text = " ".join(text.split())
    truncated = len(text) > MAX_QUERY_LENGTH
    return text[:MAX_QUERY_LENGTH].rstrip(), truncated
