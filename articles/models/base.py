from django.db import models


class NaturalKeyManager(models.Manager):
    """Finds a row by the lookups its model lists in `natural_key_lookups`."""

    def get_by_natural_key(self, *key):
        return self.get(**dict(zip(self.model.natural_key_lookups, key, strict=True)))
