"""
Path converters that match only values the views can use, so anything else is
a 404 from the resolver rather than an error deep in a view or the database.
"""

import datetime


class TwoDigitConverter:
    """Months and days in URLs are always two digits: /2021/10/01/."""

    regex = "[0-9]{2}"
    # Anything outside is no date at all (a ValueError here makes the pattern not match).
    lowest, highest = 1, 31

    def to_python(self, value):
        number = int(value)
        if not self.lowest <= number <= self.highest:
            raise ValueError(f"{value} is out of range.")
        return number

    def to_url(self, value):
        return f"{int(value):02d}"


class MonthConverter(TwoDigitConverter):
    highest = 12


class YearConverter(TwoDigitConverter):
    """
    Four digits, without the first and last years Python's dates know: an
    archive links to the previous and next year and day, which must exist.
    """

    regex = "[0-9]{4}"
    lowest, highest = datetime.MINYEAR + 1, datetime.MAXYEAR - 1

    def to_url(self, value):
        return f"{int(value):04d}"


class TagSlugConverter:
    """
    Tag slugs keep their letters (`økonomi`, `日本`): word characters and hyphens,
    never a control character such as NUL, which PostgreSQL refuses in text.
    """

    regex = r"[-\w]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value
