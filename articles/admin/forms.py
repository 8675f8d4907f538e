from django import forms
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from .. import revisions
from ..bodies import link_library_figures
from ..html import outside_images
from ..images import prepare_upload
from ..models import Article, Image, Tag
from ..models.taxonomy import normalize_tag_name, tag_key

# About 150,000 words of HTML: ten times the longest long read. Longer bodies are refused with a form
# error that keeps the text (the request limit, DATA_UPLOAD_MAX_MEMORY_SIZE, is 10 MB).
MAX_BODY_CHARACTERS = 1_000_000

NOT_ALLOWED_TO_PUBLISH = (
    "Only editors can publish, schedule or unpublish articles. "
    "Save it as a draft and ask an editor to publish it; nothing was saved."
)
PUBLICATION_TIME_HELP = (
    "Leave empty to publish at the moment you press Publish. A future time schedules the article "
    "(hidden from readers until then); a past time back-dates it. "
    "Once live, updating or publishing again never moves it."
)


class ArticleAdminForm(forms.ModelForm):
    """
    The admin's article form. ArticleAdmin.get_form() sets `may_publish` for the
    user. Two checks run on the server whatever the browser sends:

    - publishing rights: without `articles.publish_article` nobody moves the
      publication time of an article that is published or scheduled (the
      Publish and Unpublish buttons are the admin's, ArticleAdmin checks them);
    - edit conflicts: the form carries the article's `version` as it was when
      opened; the row is locked and its version compared before saving, so a
      second person's save never overwrites the first's.
    """

    may_publish = True

    class Meta:
        model = Article
        fields = ["version"]  # ArticleAdmin passes the fields of its fieldsets
        widgets = {"version": forms.HiddenInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.conflict = None
        published_at = self.fields.get("published_at")
        if published_at is not None and self.instance.status == Article.Status.DRAFT:
            # Empty means "the moment it is published" (Article.time_to_publish).
            published_at.required = False
            if not self.instance.publication_time_chosen:
                self.initial["published_at"] = None
        if "version" in self.fields:
            # Absent (a script posting by hand): no conflict check, like before this field existed.
            self.fields["version"].required = False

    def clean_published_at(self):
        chosen = self.cleaned_data["published_at"]
        stored = self.instance.published_at
        self.instance.publication_time_chosen = self.instance.status == Article.Status.PUBLISHED or chosen is not None
        if chosen is None or (stored is not None and chosen == stored.replace(microsecond=0)):
            # The widget shows whole seconds: sent back unchanged, the time must not move by a fraction.
            return stored
        return chosen

    def clean_body(self):
        body = self.cleaned_data.get("body", "")
        if len(body) > MAX_BODY_CHARACTERS:
            raise ValidationError(
                "The text is %(length)s characters long; the limit is %(limit)s (about 150,000 words). Nothing was "
                "saved and your text is still here: split the story into parts, or remove pasted material such "
                "as embedded images or tables.",
                params={"length": f"{len(body):,}", "limit": f"{MAX_BODY_CHARACTERS:,}"},
                code="body_too_long",
            )
        outside = outside_images(body)
        if outside:
            raise ValidationError(
                "Photos in the body must come from the photo library (“Insert photo from the library”): "
                "the site's security policy stops readers' browsers from loading pictures from other sites. "
                "Upload these to the library, then insert them from there: %(addresses)s. Nothing was saved.",
                params={"addresses": ", ".join(outside)},
            )
        return link_library_figures(body)

    def clean(self):
        cleaned_data = super().clean()
        if not self.may_publish:
            self.check_publishing_rights(cleaned_data)
        if self.instance.pk is not None and cleaned_data.get("version") is not None:
            self.check_version(cleaned_data["version"])
        return cleaned_data

    def check_publishing_rights(self, cleaned_data):
        was_published = self.instance.pk is not None and self.instance.status == Article.Status.PUBLISHED
        if (
            was_published
            and cleaned_data.get("published_at", self.instance.published_at) != self.instance.published_at
        ):
            self.add_error(
                "published_at",
                "Only editors can change the publication time of a published or scheduled article.",
            )

    def check_version(self, loaded):
        articles = Article.objects.only("version")
        if transaction.get_connection().in_atomic_block:
            # Held until the admin's transaction ends, after the save: a
            # concurrent save of the same article waits here, then sees ours.
            articles = articles.select_for_update()
        try:
            current = articles.get(pk=self.instance.pk).version
        except Article.DoesNotExist:
            raise ValidationError("This article was deleted while you were editing it; nothing was saved.") from None
        if current == loaded:
            return
        self.conflict = conflict_details(self.instance.pk, loaded, current)
        # Saving again after merging is deliberate: carry the version they have now seen.
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = current
        raise ValidationError(mark_safe(render_to_string("admin/articles/article/conflict.html", self.conflict)))


def conflict_details(article_id, loaded, current):
    """What changed between the version someone opened and the one saved since, and by whom."""
    opened = revisions.find_version(article_id, loaded)
    since = revisions.versions_for(article_id).order_by("pk")
    if opened is not None:
        since = since.filter(pk__gt=opened.pk)
        changes = revisions.compare(revisions.state_from_version(opened), revisions.state_from_db(article_id))
    else:
        changes = None
    return {
        "loaded": loaded,
        "current": current,
        "changes": changes,
        "saves": [version.revision for version in since],
    }


class TagListField(forms.Field):
    """A list of tag names; new names become new tags when the article is saved."""

    max_length = 100

    def to_python(self, value):
        names, seen = [], set()
        for name in value or []:
            name = normalize_tag_name(name)
            if name and tag_key(name) not in seen:
                seen.add(tag_key(name))
                names.append(name)
        return names

    def validate(self, value):
        super().validate(value)
        too_long = [name for name in value if len(name) > self.max_length]
        if too_long:
            raise ValidationError(
                "Tag names can be at most %(max)d characters: %(names)s.",
                params={"max": self.max_length, "names": ", ".join(too_long)},
            )

    def has_changed(self, initial, data):
        initial_keys = {tag_key(getattr(tag, "name", tag)) for tag in initial or []}
        return initial_keys != {tag_key(name) for name in self.to_python(data)}


class MergeTagsForm(forms.Form):
    """Which of the selected tags to keep: each shown with how many articles carry it; the most used is the default."""

    into = forms.ModelChoiceField(
        queryset=Tag.objects.none(),
        widget=forms.RadioSelect,
        label="Merge into",
        help_text="Articles tagged with the other selected tags get this tag; the others are deleted.",
    )

    def __init__(self, *args, tags, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["into"]
        field.queryset = Tag.objects.filter(pk__in=[tag.pk for tag in tags])
        counts = {tag.pk: getattr(tag, "article_count", 0) for tag in tags}
        field.label_from_instance = lambda tag: (
            f"{tag.name} ({counts.get(tag.pk, 0)} article{'' if counts.get(tag.pk, 0) == 1 else 's'})"
        )
        if tags:
            field.initial = max(tags, key=lambda tag: (counts.get(tag.pk, 0), -tag.pk)).pk


class ImageForm(forms.ModelForm):
    """Upload checks (articles/images.py): judged by content, cleaned of metadata, named by its hash."""

    class Meta:
        model = Image
        fields = ["file", "alt_text", "caption", "credit", "focal_x", "focal_y"]
        widgets = {"caption": forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"})}

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is None or not hasattr(upload, "content_type"):
            return upload  # unchanged (the file is read-only once uploaded)
        prepared = prepare_upload(upload)
        duplicate = Image.objects.filter(sha256=prepared.sha256).first()
        if duplicate is not None:
            raise ValidationError(
                "This photo is already in the library as “%(image)s”. Use that one.", params={"image": duplicate}
            )
        self.instance.sha256 = prepared.sha256
        self.instance.width = prepared.width
        self.instance.height = prepared.height
        self.instance.file_size = len(prepared.content)
        return prepared.as_file()


class AddTagForm(forms.Form):
    """The "Add a tag" list action: an existing tag, or a new one named deliberately."""

    tag = forms.ModelChoiceField(
        queryset=Tag.objects.all(),
        required=False,
        label="Existing tag",
        help_text="Type to search the tags in use.",
    )
    new_tag = forms.CharField(
        required=False,
        max_length=100,
        label="Or a new tag",
        help_text="Creates this tag. Leave empty to use an existing one.",
    )

    def clean_new_tag(self):
        return " ".join(self.cleaned_data["new_tag"].split())

    def clean(self):
        cleaned_data = super().clean()
        tag, new_name = cleaned_data.get("tag"), cleaned_data.get("new_tag")
        if tag and new_name:
            raise ValidationError("Choose an existing tag or name a new one, not both.")
        if not tag and not new_name:
            if not self.errors:
                raise ValidationError("Choose the tag to add, or name a new one.")
            return cleaned_data
        if new_name:
            existing = Tag.objects.filter(name__iexact=new_name).first()
            if existing is not None:
                # Not a second tag spelt differently: the one that exists.
                self.add_error(
                    "new_tag", f"A tag “{existing.name}” already exists: choose it from the existing tags instead."
                )
        return cleaned_data

    def tag_to_add(self):
        """The chosen tag, or the new one, created now."""
        if self.cleaned_data["tag"]:
            return self.cleaned_data["tag"], False
        return Tag.objects.create(name=self.cleaned_data["new_tag"]), True


class RemoveTagForm(forms.Form):
    """The "Remove a tag" list action: one of the tags the selected articles carry, with how many carry it."""

    tag = forms.ModelChoiceField(queryset=Tag.objects.none(), widget=forms.RadioSelect, label="Tag to remove")

    def __init__(self, *args, articles, **kwargs):
        super().__init__(*args, **kwargs)
        tags = (
            Tag.objects.filter(taggedarticle_items__content_object__in=articles)
            .annotate(selected_count=models.Count("taggedarticle_items", distinct=True))
            .order_by("-selected_count", "name")
        )
        field = self.fields["tag"]
        field.queryset = tags
        field.label_from_instance = lambda tag: f"{tag.name} (on {tag.selected_count} of them)"
        first = tags.first()
        if first is not None:
            field.initial = first.pk  # the most used: the usual reason for removing one in bulk
