"""Services: publishing, unpublishing and merging tags, with their revisions and announcements."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from articles import revisions
from articles.models import Article, Image, Tag, TaggedArticle
from articles.services import NotReady, merge_tags, publish_articles, unpublish_articles
from articles.signals import content_changed

from .factories import make_article, make_author, make_image

pytestmark = pytest.mark.django_db

DRAFT = Article.Status.DRAFT
PUBLISHED = Article.Status.PUBLISHED


@pytest.fixture
def editor():
    return get_user_model().objects.create_user("editor")


@pytest.fixture
def saved_articles():
    """The ids of the articles saved (post_save, what the cache follows) while the test runs."""
    from django.db.models.signals import post_save

    saved = []

    def receiver(sender, instance, **kwargs):
        saved.append(instance.pk)

    post_save.connect(receiver, sender=Article, dispatch_uid="test_services_saved")
    yield saved
    post_save.disconnect(sender=Article, dispatch_uid="test_services_saved")


# publish_articles() and unpublish_articles()


def test_publish_makes_articles_live_now_and_leaves_live_ones_alone(editor):
    """With `at` (the list action's "Publish now"): drafts and scheduled articles go live then."""
    live = make_article(days=-3)
    scheduled = make_article(days=+1, ready=True)
    draft = make_article(days=-2, status=DRAFT, ready=True)
    future_draft = make_article(days=+2, status=DRAFT, ready=True)
    untouched = make_article(days=+1)
    live_published_at = live.published_at

    before = timezone.now()
    changed = publish_articles(articles=Article.objects.exclude(pk=untouched.pk), by=editor, at=timezone.now())
    after = timezone.now()

    assert changed == 3
    for article in (scheduled, draft, future_draft):
        article.refresh_from_db()
        assert article.status == PUBLISHED
        assert before <= article.published_at <= after
        assert before <= article.updated_at <= after
        assert article.is_live
    live.refresh_from_db()
    assert live.published_at == live_published_at
    untouched.refresh_from_db()
    assert untouched.is_scheduled
    assert publish_articles(articles=Article.objects.exclude(pk=untouched.pk), by=editor) == 0


def test_publishing_a_draft_sets_the_time_to_now_unless_an_editor_chose_one(editor):
    """The bug this rule fixes: a draft written weeks ago went live under its creation date."""
    old_draft = make_article(days=-30, status=DRAFT, ready=True)
    back_dated = make_article(days=-10, status=DRAFT, ready=True, publication_time_chosen=True)
    to_schedule = make_article(days=+2, status=DRAFT, ready=True, publication_time_chosen=True)
    scheduled = make_article(days=+3, ready=True, publication_time_chosen=True)
    chosen = {article.pk: article.published_at for article in (back_dated, to_schedule, scheduled)}

    before = timezone.now()
    assert publish_articles(articles=Article.objects.all(), by=editor) == 3

    old_draft.refresh_from_db()
    assert old_draft.is_live and old_draft.published_at >= before and old_draft.publication_time_chosen
    for article in (back_dated, to_schedule, scheduled):
        article.refresh_from_db()
        assert article.published_at == chosen[article.pk]
    assert back_dated.is_live and to_schedule.is_scheduled and scheduled.is_scheduled


def test_publishing_is_all_or_nothing_and_says_what_each_article_misses(editor):
    ready = make_article(status=DRAFT, ready=True)
    empty = make_article(status=DRAFT, headline="Empty", body="<p> </p><figure></figure>")
    no_section = make_article(status=DRAFT, ready=True, headline="Nowhere", section=None)
    credited = make_article(status=DRAFT, ready=True, credit="", authors=[make_author()])

    with pytest.raises(NotReady) as refused:
        publish_articles(articles=[ready, empty, no_section, credited], by=editor)

    assert str(refused.value) == (
        "Nothing was published: “Empty” needs a standfirst, a body with text, a section and a byline or a credit; "
        "“Nowhere” needs a section."
    )
    assert not Article.objects.filter(status=PUBLISHED).exists()
    assert not revisions.versions_for(ready.pk).exists()
    assert publish_articles(articles=[ready, credited], by=editor) == 2


def test_a_lead_image_without_alt_text_is_not_ready(editor, settings, tmp_path):
    """The library requires alt text, but a photo loaded from a fixture or imported may lack it."""
    settings.MEDIA_ROOT = tmp_path
    image = make_image(renditions=False)
    Image.objects.filter(pk=image.pk).update(alt_text=" ")
    article = make_article(status=DRAFT, ready=True, lead_image=image)

    with pytest.raises(NotReady, match=r"^Not published: it still needs alt text for the lead image"):
        publish_articles(articles=[article], by=editor)

    Image.objects.filter(pk=image.pk).update(alt_text="Voters queue at a polling station in Bamako")
    assert publish_articles(articles=[article], by=editor) == 1


def test_unpublish_returns_live_and_scheduled_articles_to_draft(editor):
    live = make_article(days=-3)
    scheduled = make_article(days=+1)
    draft = make_article(days=-1, status=DRAFT)
    other = make_article(days=-1)
    scheduled_at = scheduled.published_at

    before = timezone.now()
    assert unpublish_articles(articles=Article.objects.exclude(pk=other.pk), by=editor) == 2

    for article in (live, scheduled, draft):
        article.refresh_from_db()
        assert article.status == DRAFT
        assert not article.is_live and not article.is_scheduled
    assert live.updated_at >= before
    assert scheduled.published_at == scheduled_at
    assert list(Article.objects.published()) == [other]
    assert unpublish_articles(articles=Article.objects.exclude(pk=other.pk), by=editor) == 0


def test_publishing_saves_each_article_with_a_revision_of_its_own(editor, saved_articles):
    """Saved one by one (the cache follows post_save), each with a revision by the user, with the comment."""
    drafts = [make_article(status=DRAFT, ready=True) for _ in range(2)]
    live = make_article(days=-1)
    saved_articles.clear()

    assert publish_articles(articles=[*drafts, live], by=editor, comment="Published from the desk.") == 2

    assert sorted(saved_articles) == sorted(draft.pk for draft in drafts)
    for draft in drafts:
        (version,) = revisions.versions_for(draft.pk)
        assert version.revision.user == editor
        assert version.revision.comment == "Published from the desk."
        assert version.revision.version_set.count() == 1
        assert revisions.state_from_version(version).fields["status"] == PUBLISHED
        assert revisions.version_number(version) == Article.objects.get(pk=draft.pk).version
    assert not revisions.versions_for(live.pk).exists()


def test_unpublishing_saves_each_article_with_a_revision_of_its_own(editor, saved_articles):
    live = make_article(days=-1)
    draft = make_article(status=DRAFT)
    saved_articles.clear()

    assert unpublish_articles(articles=Article.objects.all(), by=editor) == 1

    assert saved_articles == [live.pk]
    (version,) = revisions.versions_for(live.pk)
    assert (version.revision.user, version.revision.comment) == (editor, "Unpublished.")
    assert revisions.state_from_version(version).fields["status"] == DRAFT
    assert not revisions.versions_for(draft.pk).exists()


def test_every_publishing_change_bumps_the_version(editor):
    article = make_article(status=DRAFT, ready=True)
    publish_articles(articles=[article], by=editor)
    unpublish_articles(articles=[article], by=editor)
    article.refresh_from_db()
    assert article.version == 2


# merge_tags()


def tag_names(article):
    return sorted(TaggedArticle.objects.filter(content_object=article).values_list("tag__name", flat=True))


def test_merge_tags_retags_articles_and_deletes_the_sources():
    sahel = Tag.objects.create(name="Sahel")
    region = Tag.objects.create(name="Sahel region")
    crisis = Tag.objects.create(name="Sahel crisis")
    only_region = make_article(tags=[region])
    both_sources = make_article(tags=[region, crisis, "Mali"])
    source_and_target = make_article(tags=[crisis, sahel])
    target_only = make_article(tags=[sahel])
    unrelated = make_article(tags=["Chad"])

    assert merge_tags(tags=[region, crisis], into=sahel) == 3

    assert tag_names(only_region) == ["Sahel"]
    assert tag_names(both_sources) == ["Mali", "Sahel"]
    assert tag_names(source_and_target) == ["Sahel"]
    assert tag_names(target_only) == ["Sahel"]
    assert tag_names(unrelated) == ["Chad"]
    assert not Tag.objects.filter(pk__in=[region.pk, crisis.pk]).exists()
    assert set(sahel.taggedarticle_items.values_list("content_object", flat=True)) == {
        only_region.pk,
        both_sources.pk,
        source_and_target.pk,
        target_only.pk,
    }


def test_merge_tags_keeps_the_target_when_it_is_among_the_sources():
    sahel = Tag.objects.create(name="Sahel")
    region = Tag.objects.create(name="Sahel region")
    article = make_article(tags=[sahel, region])
    assert merge_tags(tags=Tag.objects.filter(name__startswith="Sahel"), into=sahel) == 1
    assert list(Tag.objects.values_list("name", flat=True)) == ["Sahel"]
    assert tag_names(article) == ["Sahel"]


def test_merge_tags_announces_what_it_touched():
    """bulk_create sends no model signals: content_changed names the articles and tags touched."""
    sahel = Tag.objects.create(name="Sahel")
    region = Tag.objects.create(name="Sahel region")
    region_id = region.pk
    retagged = make_article(tags=[region])
    make_article(tags=["Chad"])
    sent = []

    def receiver(sender, **kwargs):
        sent.append(kwargs)

    content_changed.connect(receiver, dispatch_uid="test_services_merge")
    try:
        merge_tags(tags=[region], into=sahel)
    finally:
        content_changed.disconnect(dispatch_uid="test_services_merge")

    (announcement,) = sent
    assert set(announcement["article_ids"]) == {retagged.pk}
    assert set(announcement["tag_ids"]) == {sahel.pk, region_id}
    assert not announcement["section_ids"] and not announcement["author_ids"]
