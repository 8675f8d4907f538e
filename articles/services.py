from django.db import transaction

from .models import TaggedArticle


@transaction.atomic
def merge_tags(*, tags, into):
    """
    Re-tag every article carrying one of `tags` with `into`, then delete `tags`.
    An article that already has `into` (or several of `tags`) ends with it once.
    Returns the number of articles re-tagged.
    """
    sources = [tag for tag in tags if tag.pk != into.pk]
    taggings = TaggedArticle.objects.filter(tag__in=sources)
    article_ids = set(taggings.values_list("content_object_id", flat=True))
    already_tagged = set(
        TaggedArticle.objects.filter(tag=into, content_object_id__in=article_ids).values_list(
            "content_object_id", flat=True
        )
    )
    TaggedArticle.objects.bulk_create(
        TaggedArticle(content_object_id=article_id, tag=into) for article_id in sorted(article_ids - already_tagged)
    )
    taggings.delete()
    for tag in sources:
        tag.delete()
    return len(article_ids)
