"""
Integrity in the database, the same on SQLite and PostgreSQL: the article
status is one of its choices, every CharField's length holds whatever writes
(fixtures, the shell), and tag names are one tag however they are spelled in
case, width or invisible characters.
"""

import json

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, models, transaction
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from articles.models import Article, Image, Tag
from articles.models.taxonomy import normalize_tag_name, tag_key

from .factories import make_article, make_image

pytestmark = pytest.mark.django_db


def write_fixture(tmp_path, objects):
    path = tmp_path / "fixture.json"
    path.write_text(json.dumps(objects))
    return str(path)


def article_fixture(**fields):
    return {
        "model": "articles.article",
        "fields": {
            "headline": "Live blog",
            "slug": "live-blog",
            "status": "published",
            "published_at": "2021-10-01T09:00:00Z",
            **fields,
        },
    }


def test_a_fixture_with_an_unknown_status_does_not_load(tmp_path):
    path = write_fixture(tmp_path, [article_fixture(status="LIVE")])
    with pytest.raises(IntegrityError, match="article_status_valid"):
        call_command("loaddata", path, verbosity=0)
    assert not Article.objects.exists()


def test_a_fixture_with_a_too_long_headline_does_not_load(tmp_path):
    path = write_fixture(tmp_path, [article_fixture(headline="x" * 10_000)])
    with pytest.raises(DatabaseError):  # SQLite: our CHECK; PostgreSQL: VARCHAR(255) itself
        call_command("loaddata", path, verbosity=0)
    assert not Article.objects.exists()


@pytest.mark.parametrize("field", ["headline", "credit"])
def test_the_orm_cannot_store_a_value_longer_than_the_field(field):
    with pytest.raises(DatabaseError), transaction.atomic():
        make_article(**{field: "x" * 10_000})
    assert not Article.objects.exists()


def test_a_photo_with_a_too_long_alt_text_is_not_stored(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    image = make_image(renditions=False)
    with pytest.raises(DatabaseError), transaction.atomic():
        Image.objects.filter(pk=image.pk).update(alt_text="x" * 10_000)
    assert len(Image.objects.get(pk=image.pk).alt_text) < 300


def test_a_value_at_the_limit_is_stored():
    article = make_article(headline="é" * 255)
    assert Article.objects.get(pk=article.pk).headline == "é" * 255


def test_every_charfield_has_its_length_checked_in_the_database():
    """max_length_checks repeats each CharField's max_length: this keeps them in step."""
    for model in apps.get_app_config("articles").get_models():
        checks = {
            constraint.condition.lhs.source_expressions[0].name: constraint.condition.rhs
            for constraint in model._meta.constraints
            if isinstance(constraint, models.CheckConstraint)
            and isinstance(constraint.condition, LessThanOrEqual)
            and isinstance(constraint.condition.lhs, Length)
        }
        for field in model._meta.local_concrete_fields:
            if isinstance(field, models.CharField):
                assert checks.get(field.name) == field.max_length, f"{model.__name__}.{field.name}"


@pytest.mark.parametrize(
    ("spellings", "name"),
    [
        (["Mali", "Ｍali", "mali\u200b", " MALI ", "ma\u00adli", "Ma\x00li"], "Mali"),
        (["Ärzte", "ärzte", "A\u0308rzte", "ÄRZTE"], "Ärzte"),
        (["Straße", "STRASSE", "strasse"], "Straße"),
    ],
)
def test_tag_spellings_are_one_tag(spellings, name):
    article = make_article()
    article.tags.add(spellings[0])
    for spelling in spellings[1:]:
        other = make_article()
        other.tags.add(spelling)
        assert list(other.tags.names()) == [name], spelling
    assert Tag.objects.get().name == name
    assert Tag.objects.get().key == tag_key(name)


def test_the_database_refuses_a_second_spelling_of_a_tag():
    Tag.objects.create(name="Ärzte")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name="ärzte\u200b", slug="aerzte")
    assert Tag.objects.count() == 1


def test_names_are_normalized_when_saved_from_anywhere():
    tag = Tag.objects.create(name="  Ｍali\u200b  crisis\t")
    assert (tag.name, tag.key) == ("Mali crisis", "mali crisis")
    assert Tag.objects.get(pk=tag.pk).name == "Mali crisis"


def test_a_tag_fixture_is_normalized_and_checked(tmp_path):
    fixture = [{"model": "articles.tag", "fields": {"name": "Ｍali\u200b", "slug": "mali"}}]
    call_command("loaddata", write_fixture(tmp_path, fixture), verbosity=0)
    assert Tag.objects.get().key == "mali"
    clash = [{"model": "articles.tag", "fields": {"name": "MALI", "slug": "mali-2"}}]
    with pytest.raises(IntegrityError):
        call_command("loaddata", write_fixture(tmp_path, clash), verbosity=0)
    assert Tag.objects.count() == 1


def test_an_invisible_only_tag_name_is_no_tag():
    article = make_article()
    article.tags.add("\u200b", " ", "\x00")
    assert not Tag.objects.exists()
    assert normalize_tag_name("\u200b\u200d") == ""
