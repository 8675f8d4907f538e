from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from .. import revisions
from ..images import prepare_upload
from ..models import Article, Image, Tag

NOT_ALLOWED_TO_PUBLISH = (
    "Only editors can publish, schedule or unpublish articles. "
    "Save it as a draft and ask an editor to publish it; nothing was saved."
)


class ArticleAdminForm(forms.ModelForm):
    """
    The admin's article form. ArticleAdmin.get_form() sets `may_publish` for the
    user. Two checks run on the server whatever the browser sends:

    - publishing rights: without `articles.publish_article` nobody makes an
      article published or scheduled, takes one back to draft, or moves the
      publication time of one that is published or scheduled;
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
        if "version" in self.fields:
            # Absent (a script posting by hand): no conflict check, like before this field existed.
            self.fields["version"].required = False
        status = self.fields.get("status")
        if status is not None and not self.may_publish and self.instance.status == Article.Status.DRAFT:
            # Offer only what the user may choose; clean() still refuses the rest.
            status.widget.choices = [(Article.Status.DRAFT, Article.Status.DRAFT.label)]
            status.help_text = "Only editors can publish or schedule an article."

    def clean(self):
        cleaned_data = super().clean()
        if not self.may_publish:
            self.check_publishing_rights(cleaned_data)
        if self.instance.pk is not None and cleaned_data.get("version") is not None:
            self.check_version(cleaned_data["version"])
        return cleaned_data

    def check_publishing_rights(self, cleaned_data):
        was_published = self.instance.pk is not None and self.instance.status == Article.Status.PUBLISHED
        status = cleaned_data.get("status", self.instance.status)
        if (status == Article.Status.PUBLISHED) != was_published:
            # Publishing or scheduling a draft, or taking a published article back.
            self.add_error("status" if "status" in self.fields else None, NOT_ALLOWED_TO_PUBLISH)
        elif (
            was_published
            and "published_at" in cleaned_data
            and cleaned_data["published_at"] != self.instance.published_at
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
            name = " ".join(str(name).split())
            if name and name.casefold() not in seen:
                seen.add(name.casefold())
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
        initial_names = {str(getattr(tag, "name", tag)).casefold() for tag in initial or []}
        return initial_names != {name.casefold() for name in self.to_python(data)}


class MergeTagsForm(forms.Form):
    into = forms.ModelChoiceField(
        queryset=Tag.objects.all(),
        label="Merge into",
        help_text="Articles tagged with the other selected tags get this tag; the others are deleted.",
    )


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
