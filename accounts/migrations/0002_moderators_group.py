from django.db import migrations


def create_moderators_group(apps, schema_editor):
    # The same logic as `manage.py sync_roles`, on the historical models; apps
    # migrated later are added by the sync that runs after every `migrate`.
    from accounts.services import moderator_group_sync

    moderator_group_sync(registry=apps, strict=False)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_moderators_group, migrations.RunPython.noop),
    ]
