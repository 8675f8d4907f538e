"""
Article revisions with django-reversion: what is kept, how two states are
compared, and how an old state is restored.

A revision of an article holds the article row and the rows that hang off it:
its byline (Authorship), its tags (TaggedArticle, our through model) and its
curated related articles (Related), with who saved it and when. One is
recorded on every save in the admin (articles/admin/history.py), on
publishing and unpublishing (articles/services.py) and on every restore.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import reversion
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.formats import date_format
from reversion.models import Version

from .diff import diff_html, diff_text
from .models import Article, Author, Authorship, Correction, Related, Tag, TaggedArticle

# The article's rows that live in other tables, by the field pointing back at the article.
INLINE_MODELS = {Authorship: "article", TaggedArticle: "content_object", Related: "article"}

# Kept in every revision and compared, never restored: corrections are a public record.
COMPARED_ONLY = {Correction: "article"}

# Bookkeeping, not content: left out of comparisons.
NOT_COMPARED = {
    "id",
    "version",
    "created_at",
    "updated_at",
    "created_by",
    "publication_time_chosen",
    "first_published_at",
}
# Whether and where the article is live: a restore leaves them as they are unless the editor asks.
PUBLICATION_FIELDS = ("status", "published_at", "slug", "publication_time_chosen")

reversion.register(Authorship)
reversion.register(TaggedArticle)
reversion.register(Related)
reversion.register(Correction)
reversion.register(Article, follow=["authorships", "taggedarticle_set", "related_links", "corrections"])


class RestoreError(Exception):
    pass


@dataclass
class ArticleState:
    """An article's content at one point: its own fields (by attname) and its inline rows."""

    fields: dict
    byline: list = field(default_factory=list)  # author ids, in byline order
    tags: list = field(default_factory=list)  # tag ids
    related: list = field(default_factory=list)  # related article ids, in order
    corrections: list = field(default_factory=list)  # (kind, created_at, text), oldest first


@dataclass
class FieldChange:
    label: str
    old: str
    new: str
    html: bool = False

    @cached_property
    def diff(self):
        """The words readers read, compared (articles/diff.py: bounded cost, nothing left out)."""
        return diff_html(self.old, self.new) if self.html else diff_text(self.old, self.new)


def compared_fields():
    return [f for f in Article._meta.concrete_fields if f.name not in NOT_COMPARED]


def versions_for(article_id):
    """The article's versions, newest first."""
    return Version.objects.get_for_object_reference(Article, article_id).select_related("revision", "revision__user")


def version_number(version):
    """The article's `version` counter stored in a reversion Version of it."""
    return json.loads(version.serialized_data)[0]["fields"].get("version")


def find_version(article_id, number):
    """The newest stored Version of the article whose counter is `number`, or None."""
    for version in versions_for(article_id).order_by("-pk"):
        if version_number(version) == number:
            return version
    return None


def state_from_db(article_id):
    article = Article.objects.get(pk=article_id)
    return ArticleState(
        fields={f.attname: getattr(article, f.attname) for f in compared_fields()},
        byline=list(Authorship.objects.filter(article_id=article_id).values_list("author_id", flat=True)),
        tags=list(TaggedArticle.objects.filter(content_object_id=article_id).values_list("tag_id", flat=True)),
        related=list(Related.objects.filter(article_id=article_id).values_list("related_article_id", flat=True)),
        corrections=list(Correction.objects.filter(article_id=article_id).values_list("kind", "created_at", "text")),
    )


def article_versions_in(revision, article_id, inline_models=INLINE_MODELS):
    """The Versions of one article and of its inline rows in a revision (which may hold other articles too)."""
    inline_models = {**INLINE_MODELS, **inline_models}
    content_types = ContentType.objects.get_for_models(Article, *inline_models)
    by_content_type = {ct.pk: model for model, ct in content_types.items()}
    found = []
    for version in revision.version_set.all():
        model = by_content_type.get(version.content_type_id)
        if model is Article:
            if version.object_id == str(article_id):
                found.append((model, version))
        elif model is not None:
            link = model._meta.get_field(inline_models[model]).attname
            if version.field_dict[link] == article_id:
                found.append((model, version))
    return found


def state_from_version(version):
    """The state an Article Version and the inline rows of its revision describe."""
    article_id = int(version.object_id)
    rows = {model: [] for model in [*INLINE_MODELS, *COMPARED_ONLY]}
    for model, row in article_versions_in(version.revision, article_id, COMPARED_ONLY):
        if model is not Article:
            rows[model].append(row.field_dict)

    def in_order(dicts, key):
        return [d[key] for d in sorted(dicts, key=lambda d: (d.get("position", 0), d["id"]))]

    fields = version.field_dict
    return ArticleState(
        fields={f.attname: fields.get(f.attname) for f in compared_fields()},
        byline=in_order(rows[Authorship], "author_id"),
        tags=in_order(rows[TaggedArticle], "tag_id"),
        related=in_order(rows[Related], "related_article_id"),
        corrections=[
            (row["kind"], row["created_at"], row["text"])
            for row in sorted(rows[Correction], key=lambda row: (row["created_at"], row["id"]))
        ],
    )


def describe(*states):
    """
    Each state as readable text by label ("Headline", "Tags", ...), resolving
    ids to names in one query per kind of related row for all the states.
    """
    fk_fields = [f for f in compared_fields() if isinstance(f, models.ForeignKey)]
    wanted = {f: {s.fields.get(f.attname) for s in states} - {None} for f in fk_fields}
    names = {f: {o.pk: str(o) for o in f.related_model._base_manager.filter(pk__in=ids)} for f, ids in wanted.items()}
    authors = dict(Author.objects.filter(pk__in={i for s in states for i in s.byline}).values_list("pk", "name"))
    tags = dict(Tag.objects.filter(pk__in={i for s in states for i in s.tags}).values_list("pk", "name"))
    headlines = dict(
        Article.objects.filter(pk__in={i for s in states for i in s.related}).values_list("pk", "headline")
    )
    described = []
    for state in states:
        text = {}
        for f in compared_fields():
            value = state.fields.get(f.attname)
            if f in names:
                shown = "" if value is None else names[f].get(value, f"(deleted {f.verbose_name} #{value})")
            elif f.choices:
                shown = str(dict(f.flatchoices).get(value, value))
            elif isinstance(value, datetime):
                shown = date_format(timezone.localtime(value), "j M Y, H:i")
            elif f.name == "body":
                shown = value or ""  # HTML: compared as readers read it (FieldChange.html)
            else:
                shown = "" if value is None else str(value)
            text[f.verbose_name.capitalize()] = shown.strip()
        text["Byline"] = ", ".join(authors.get(i, f"(deleted author #{i})") for i in state.byline)
        text["Tags"] = ", ".join(sorted((tags.get(i, f"(deleted tag #{i})") for i in state.tags), key=str.casefold))
        text["Related articles"] = "\n".join(headlines.get(i, f"(deleted article #{i})") for i in state.related)
        kinds = dict(Correction.Kind.choices)
        text["Corrections and updates"] = "\n".join(
            f"{kinds.get(kind, kind)}, {_when(created_at)}: {note}" for kind, created_at, note in state.corrections
        )
        described.append(text)
    return described


def compare(old_state, new_state):
    """The fields that differ between two states, as FieldChanges in form order."""
    old, new = describe(old_state, new_state)
    body = Article._meta.get_field("body").verbose_name.capitalize()
    return [
        FieldChange(label, old[label], new[label], html=label == body) for label in old if old[label] != new[label]
    ]


def publication_labels():
    """The labels describe() gives the fields a restore keeps unless asked (status, publication time, address)."""
    return {
        Article._meta.get_field(name).verbose_name.capitalize()
        for name in PUBLICATION_FIELDS
        if name not in NOT_COMPARED
    }


def _when(value):
    if isinstance(value, str):  # as a revision stores it
        value = datetime.fromisoformat(value)
    return date_format(timezone.localtime(value), "j M Y, H:i")


def ensure_baseline(article):
    """
    Record the article's current state as a revision when the newest revision
    does not hold it (it was created or changed outside the admin: a fixture,
    an import, the shell), so that what happens next can be compared with it.
    """
    latest = versions_for(article.pk).order_by("-pk").first()
    if latest is not None and version_number(latest) == article.version:
        return False
    with reversion.create_revision():
        reversion.add_to_revision(article)
        reversion.set_comment("Saved outside the admin (recorded when next opened).")
    return True


def _missing_targets(model, obj):
    """The foreign keys of a deserialized row whose target no longer exists."""
    missing = []
    for f in model._meta.concrete_fields:
        if isinstance(f, models.ForeignKey) and f.attname != INLINE_MODELS.get(model, "") + "_id":
            value = getattr(obj, f.attname)
            if value is not None and not f.related_model._base_manager.filter(pk=value).exists():
                missing.append(f)
    return missing


@transaction.atomic
def restore_version(*, version, by, with_publication=False):
    """
    Put the article's content back as it was in `version` (fields, byline,
    tags, related articles) and record that as a new revision, after one of
    the state it replaces. Whether and where it is live (status, publication
    time, slug) stays as it is now unless `with_publication`. A published
    result must be ready for readers (Article.missing_for_publication), else
    nothing changes. Rows that point at something deleted since (a tag, an
    author, an article) are left out and reported. Returns (article, notes).
    """
    article_id = int(version.object_id)
    current = Article.objects.select_for_update().get(pk=article_id)
    ensure_baseline(current)
    old_address = current.address_readers_may_know()
    notes = []
    with reversion.create_revision():
        versions = article_versions_in(version.revision, article_id)
        # Rows the article has now that the old state did not have go.
        for model, link in INLINE_MODELS.items():
            keep = [int(v.object_id) for m, v in versions if m is model]
            model.objects.filter(**{link: article_id}).exclude(pk__in=keep).delete()
        for model, stored in sorted(versions, key=lambda mv: mv[0] is not Article):
            obj = stored._object_version.object
            missing = _missing_targets(model, obj)
            if model is Article:
                if with_publication:
                    obj.publication_time_chosen = obj.publication_time_chosen or obj.status == Article.Status.PUBLISHED
                else:
                    for name in PUBLICATION_FIELDS:
                        setattr(obj, name, getattr(current, name))
                if Article.objects.filter(slug=obj.slug).exclude(pk=article_id).exists():
                    raise RestoreError(f"Cannot restore: another article now has its address “{obj.slug}”.")
                for f in missing:
                    if not f.null:
                        raise RestoreError(f"Cannot restore: its {f.verbose_name} no longer exists.")
                    setattr(obj, f.attname, None)
                    notes.append(f"its {f.verbose_name} no longer exists and was left empty")
            elif missing:
                notes.append(f"{model._meta.verbose_name} “{stored.object_repr}” points at something deleted since")
                continue
            try:
                with transaction.atomic():
                    stored.revert()
            except IntegrityError as error:
                if model is Article:
                    raise RestoreError(f"Cannot restore: {error}") from error
                notes.append(f"{model._meta.verbose_name} “{stored.object_repr}” could not be restored")
        # The counter never goes back: the restore is a new save. Who wrote it first is not content.
        Article.objects.filter(pk=article_id).update(
            version=current.version + 1, updated_at=timezone.now(), created_by=current.created_by_id
        )
        article = Article.objects.get(pk=article_id)
        if article.status == Article.Status.PUBLISHED and (missing := article.missing_for_publication()):
            state = "would be published" if with_publication else "is published"
            raise RestoreError(
                f"Cannot restore: the article {state}, and this revision lacks {', '.join(missing)}. Nothing changed."
            )
        if old_address is not None:
            # revert() saves raw, past Article.save(): the moved address is remembered here.
            article.remember_address(old_address)
        reversion.add_to_revision(article)
        reversion.set_user(by)
        when = date_format(timezone.localtime(version.revision.date_created), "j M Y, H:i")
        reversion.set_comment(f"Restored the version of {when}.")
    return article, notes
