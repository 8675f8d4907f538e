import unicodedata

from django.core.exceptions import ValidationError
from django.db import models, router
from django.db.models.signals import pre_save
from django.dispatch import receiver
from taggit.managers import _TaggableManager
from taggit.models import TagBase

from ..urlmemo import reverse_memo
from .base import NaturalKeyManager, max_length_checks

# Control characters (NUL, tabs, ...) and format characters (zero-width spaces and
# joiners, soft hyphens, direction marks): invisible in a tag, so never part of one.
INVISIBLE_CATEGORIES = {"Cc", "Cf"}


def normalize_tag_name(name):
    """
    A tag name as stored: NFKC (full-width `Ｍ` is `M`), runs of white space as
    one space, invisible characters removed, no surrounding space.
    """
    name = " ".join(unicodedata.normalize("NFKC", str(name)).split())
    return "".join(char for char in name if unicodedata.category(char) not in INVISIBLE_CATEGORIES).strip()


def tag_key(name):
    """
    What makes two tag names the same tag: the normalized name, case-folded
    (`Ärzte` and `ärzte`, `Straße` and `STRASSE`). Computed in Python, so SQLite
    and PostgreSQL agree; stored in Tag.key, which is unique.
    """
    return unicodedata.normalize("NFKC", normalize_tag_name(name).casefold())


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

    class Meta(NamedPage.Meta):
        constraints = max_length_checks("section", name=100, slug=100)

    url_name = "articles:section"
    text_field = "description"


class Author(NamedPage):
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True)
    bio = models.TextField(blank=True, help_text="Plain text, shown on the author's page.")

    class Meta(NamedPage.Meta):
        constraints = max_length_checks("author", name=150, slug=150)

    url_name = "articles:author"
    text_field = "bio"


class Tag(TagBase):
    key = models.CharField(
        max_length=300,
        unique=True,
        editable=False,
        help_text="The name normalized and case-folded (tag_key): two names with the same key are one tag.",
    )

    natural_key_fields = ["slug"]  # taggit's name for it
    natural_key_lookups = ["slug"]

    objects = NaturalKeyManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            *max_length_checks("tag", name=100, slug=100, key=300),
            models.CheckConstraint(condition=~models.Q(key=""), name="tag_key_not_empty"),
        ]

    def natural_key(self):
        return (self.slug,)

    def clean(self):
        super().clean()
        normalize_tag(self)
        if not self.name:
            raise ValidationError({"name": "A tag name needs at least one visible character."})
        limit = self._meta.get_field("name").max_length
        if len(self.name) > limit:
            raise ValidationError({"name": f"Tag names can be at most {limit} characters."})
        # The key is not on the form, so its unique check would not run there.
        same = Tag.objects.filter(key=self.key).exclude(pk=self.pk).first()
        if same is not None:
            raise ValidationError(
                {"name": f"The tag “{same.name}” already exists: tag names ignore case and invisible characters."}
            )

    def get_absolute_url(self):
        return reverse_memo("articles:tag", slug=self.slug)


def normalize_tag(tag):
    tag.name = normalize_tag_name(tag.name)
    tag.key = tag_key(tag.name)


@receiver(pre_save, sender=Tag)
def _normalize_tag_before_saving(sender, instance, **kwargs):
    """Every way in (the admin, taggit's tags.add(), the shell, loaddata's raw saves) stores the normalized name."""
    normalize_tag(instance)


class TagsByKeyManager(_TaggableManager):
    """
    taggit's manager for `article.tags`, finding tags by Tag.key: `tags.add("Ｍali")`
    gets the existing "Mali" on every database (taggit's own `name__iexact` is
    ASCII-only on SQLite and sends a NUL byte to PostgreSQL, which refuses it).
    """

    def _to_tag_model_instances(self, tags, tag_kwargs):
        names = {}
        for tag in tags:
            if isinstance(tag, str) and (name := normalize_tag_name(tag)):
                names.setdefault(tag_key(name), name)
        manager = Tag._default_manager.using(router.db_for_write(self.through, instance=self.instance))
        existing = {tag.key: tag for tag in manager.filter(key__in=names, **tag_kwargs)} if names else {}
        result, seen = [], set()
        for tag in tags:
            if isinstance(tag, str):
                name = normalize_tag_name(tag)
                if not name:
                    continue
                key = tag_key(name)
                if key not in existing:
                    existing[key], _ = manager.get_or_create(key=key, defaults={"name": name, **tag_kwargs})
                tag = existing[key]
            elif not isinstance(tag, Tag):
                raise ValueError(f"Cannot add {tag!r} ({type(tag)}): expected a Tag or a name.")
            if tag.pk not in seen:
                seen.add(tag.pk)
                result.append(tag)
        return result
