"""
Pagination that never counts.

Django's Paginator runs COUNT(*) over the whole list on every page; on a busy
tag that is a scan of thousands of rows per request, growing with the archive.
A reader only needs "Newer" and "Older", so a page fetches one row more than it
shows: if that row exists, there is an older page. Deep pages cost an OFFSET,
which only readers who page far back pay.
"""

from django.core.paginator import EmptyPage, PageNotAnInteger

# Far beyond any archive, and small enough that its OFFSET fits every database's
# integers (a 20-digit page number overflowed SQLite's and PostgreSQL's bigint).
MAX_PAGE = 1_000_000


class NewerOlderPaginator:
    """Pages of `object_list` (a sliceable queryset) without a total; same page API as Django's."""

    def __init__(self, object_list, per_page):
        self.object_list = object_list
        self.per_page = per_page

    def validate_number(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer.") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1.")
        if number > MAX_PAGE:
            raise EmptyPage("That page contains no results.")
        return number

    def page(self, number):
        number = self.validate_number(number)
        offset = (number - 1) * self.per_page
        rows = list(self.object_list[offset : offset + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results.")
        return NewerOlderPage(rows[: self.per_page], number, self, has_next=len(rows) > self.per_page)


class NewerOlderPage:
    def __init__(self, object_list, number, paginator, *, has_next):
        self.object_list = object_list
        self.number = number
        self.paginator = paginator
        self._has_next = has_next

    def __repr__(self):
        return f"<Page {self.number}>"

    def __len__(self):
        return len(self.object_list)

    def __iter__(self):
        return iter(self.object_list)

    def has_next(self):
        return self._has_next

    def has_previous(self):
        return self.number > 1

    def has_other_pages(self):
        return self.has_next() or self.has_previous()

    def next_page_number(self):
        if not self._has_next:
            raise EmptyPage("That page contains no results.")
        return self.number + 1

    def previous_page_number(self):
        if self.number == 1:
            raise EmptyPage("That page number is less than 1.")
        return self.number - 1
