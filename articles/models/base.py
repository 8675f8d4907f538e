from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual


class NaturalKeyManager(models.Manager):
    """Finds a row by the lookups its model lists in `natural_key_lookups`."""

    def get_by_natural_key(self, *key):
        return self.get(**dict(zip(self.model.natural_key_lookups, key, strict=True)))


def max_length_checks(prefix, **lengths):
    """
    CHECK constraints repeating CharFields' max_length (`name=100`): PostgreSQL
    enforces VARCHAR lengths, SQLite ignores them, and loaddata and the shell
    skip form validation. test_models checks they match the fields.
    """
    return [
        models.CheckConstraint(
            condition=LessThanOrEqual(Length(field), length),
            name=f"{prefix}_{field}_length",
            violation_error_message=f"At most {length} characters.",
        )
        for field, length in lengths.items()
    ]
