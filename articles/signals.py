from django.dispatch import Signal

# Sent by articles/services.py after a write that model signals do not describe
# (bulk_create, QuerySet.update(), a tag merge), inside the transaction, with
# the ids of what it touched: article_ids, tag_ids, section_ids, author_ids
# (each a collection, possibly empty). The cache listens (articles/caching/).
content_changed = Signal()
