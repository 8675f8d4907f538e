"""
Change lists that answer malformed input with the admin's own messages, not a 500.

The admin turns query-string filters into database lookups and posted
checkbox values into primary keys; both reach the database as given. What the
database would reject is refused here first.
"""

import datetime

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError

# Written in each database's own regular-expression dialect, so a pattern valid
# in Python can still fail in PostgreSQL: the admin never offers them, so refuse them.
REFUSED_LOOKUPS = ("__regex", "__iregex")


class StrictChangeListMixin:
    def lookup_allowed(self, lookup, value, request):
        """Refuse regex filters and date-hierarchy years whose next day does not exist ("?e=1", not a 500)."""
        if lookup.endswith(REFUSED_LOOKUPS):
            raise IncorrectLookupParameters(f"Filtering by {lookup} is not offered.")
        if self.date_hierarchy and lookup == f"{self.date_hierarchy}__year":
            try:
                year = int(value)
            except ValueError:
                year = None  # the admin's own check reports it
            if year is not None and not datetime.MINYEAR <= year < datetime.MAXYEAR:
                raise IncorrectLookupParameters(f"There is no year {value} to show.")
        return super().lookup_allowed(lookup, value, request)

    def response_action(self, request, queryset, *args, **kwargs):
        """An action on values that are no primary keys (a forged form) changes nothing and says so."""
        pk_field = self.opts.pk
        try:
            for value in request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME):
                pk_field.run_validators(pk_field.to_python(value))  # a number, in the database's range
        except ValidationError:
            self.message_user(
                request, "The selection was not understood, so nothing was changed. Select again.", messages.ERROR
            )
            return None
        return super().response_action(request, queryset, *args, **kwargs)
