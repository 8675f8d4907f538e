from django.db import models
from django.db.models.functions import Lower
from taggit.models import TagBase

from ..urlmemo import reverse_memo
from .base import NaturalKeyManager


class Section(models.Model):
    natural_key_lookups = ["slug"]

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(
        blank=True, help_text="One or two sentences shown on the section page and in search results."
    )

    objects = NaturalKeyManager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse_memo("articles:section", slug=self.slug)

    def natural_key(self):
        return (self.slug,)


class Author(models.Model):
    natural_key_lookups = ["slug"]

    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True)
    bio = models.TextField(blank=True, help_text="Plain text, shown on the author's page.")

    objects = NaturalKeyManager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse_memo("articles:author", slug=self.slug)

    def natural_key(self):
        return (self.slug,)


class Tag(TagBase):
    natural_key_fields = ["slug"]  # taggit's name for it
    natural_key_lookups = ["slug"]

    objects = NaturalKeyManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="tag_name_unique_ignoring_case",
                violation_error_message="A tag with this name already exists (tag names ignore upper and lower case).",
            ),
        ]

    def natural_key(self):
        return (self.slug,)

    def get_absolute_url(self):
        return reverse_memo("articles:tag", slug=self.slug)
