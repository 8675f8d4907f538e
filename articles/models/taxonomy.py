from django.db import models
from django.db.models.functions import Lower
from taggit.models import TagBase

from ..urlmemo import reverse_memo
from .base import NaturalKeyManager


class NamedPage(models.Model):
    """
    What a section and an author share: a name, a unique slug that is both its
    page's URL (the route `url_name`) and its natural key in fixtures, and a
    short text for that page (the field `text_field`).

    Each model declares its own name, slug and text fields: their lengths,
    uniqueness and help texts differ, and the migrations pin them.
    """

    natural_key_lookups = ["slug"]
    url_name = None
    text_field = None

    objects = NaturalKeyManager()

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse_memo(self.url_name, slug=self.slug)

    def natural_key(self):
        return (self.slug,)

    @property
    def text(self):
        """The section's description or the author's bio."""
        return getattr(self, self.text_field)


class Section(NamedPage):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(
        blank=True, help_text="One or two sentences shown on the section page and in search results."
    )

    url_name = "articles:section"
    text_field = "description"


class Author(NamedPage):
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True)
    bio = models.TextField(blank=True, help_text="Plain text, shown on the author's page.")

    url_name = "articles:author"
    text_field = "bio"


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
