from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class ArticlesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "articles"
    verbose_name = "Newsroom"

    def ready(self):
        from . import (
            images,  # noqa: F401  (connects the receivers that delete image files with their rows)
            revisions,  # noqa: F401  (registers the article and its inline rows with django-reversion)
        )
        from .caching import keys
        from .roles import restore_roles
        from .search import register_sqlite_functions, restore_sqlite_index

        # SQLite full-text search: the function its triggers call, and triggers
        # put back after a migration rebuilt the articles table.
        connection_created.connect(register_sqlite_functions, dispatch_uid="articles_search_functions")
        post_migrate.connect(restore_sqlite_index, sender=self, dispatch_uid="articles_search_restore")
        post_migrate.connect(restore_roles, sender=self, dispatch_uid="articles_roles_restore")
        keys.connect()  # what each change makes stale (articles/caching/keys.py)
