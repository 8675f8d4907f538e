"""
The newsroom's roles: the Reporter and Editor groups and their permissions.

`ensure_roles` is run by data migrations (0004_workflow creates the groups; a
later migration that adds a model the roles should cover runs it again). It is
additive and idempotent: it creates the groups when missing and grants every
listed permission that exists at that point of the migration history, so it
works with the historical models a migration hands it.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

REPORTER = "Reporter"
EDITOR = "Editor"

PUBLISH_PERMISSION = "articles.publish_article"

ALL = ("add", "change", "delete", "view")

# Reporters write and edit their own drafts (ArticleAdmin narrows "change" and
# "delete" to those), fill in the byline and related articles, upload images,
# and pick sections, authors and tags (new tags are created from the article form).
REPORTER_PERMISSIONS = {
    "article": ALL,
    "authorship": ALL,
    "related": ALL,
    "image": ("add", "view"),
    "tag": ("view",),
    "section": ("view",),
    "author": ("view",),
}

# Editors: everything on the newsroom's content, and publishing.
EDITOR_PERMISSIONS = dict.fromkeys(
    [
        "article",
        "authorship",
        "related",
        "tag",
        "section",
        "author",
        "image",
        "rendition",
        "correction",
        "previewlink",
        "articleredirect",
        # Live updates are public the moment they are saved: posting one is publishing.
        "liveupdate",
    ],
    ALL,
)
EDITOR_EXTRA = ["publish_article"]


def codenames(permissions, extra=()):
    return [f"{action}_{model}" for model, actions in permissions.items() for action in actions] + list(extra)


ROLES = {
    REPORTER: codenames(REPORTER_PERMISSIONS),
    EDITOR: codenames(EDITOR_PERMISSIONS, EDITOR_EXTRA),
}


def ensure_roles(apps, schema_editor=None):
    """Create the groups and grant them every listed permission that exists by now."""
    # Permissions are normally created by post_migrate, after all migrations:
    # create those of the models that exist at this point of the history now.
    for app_config in apps.get_app_configs():
        # Historical app configs have no models module; the project's own (tests
        # pass django.apps.apps) keep theirs, or dumpdata and post_migrate skip the app.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label="articles", codename__in=wanted)
        group.permissions.add(*permissions)


def remove_roles(apps, schema_editor=None):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


def restore_roles(sender, apps=global_apps, **kwargs):
    """
    The groups are data: after a migrate or a flush (which the test runner
    does between transactional tests) they are put back, as Django does for
    permissions and content types.
    """
    ensure_roles(apps)
