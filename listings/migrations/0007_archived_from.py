"""Listing.archived_from: the status an archived listing had, so renew puts
only a listing that was for sale (active or expired) back live.

Listings archived before this do not say where they came from. They are
settled from what the row still tells: one with a moderator's reason was
rejected or hidden, and goes back to `rejected` (the owner can resubmit it for
review); one never published was a draft or in its first review, and goes back
to `draft`; the others were live once and count as expired, so they renew as
they did before (a sold one cannot be told apart from those).
"""

from django.db import migrations, models


def settle_archived_listings(apps, schema_editor):
    Listing = apps.get_model("listings", "Listing")
    archived = Listing.objects.filter(status="archived")
    archived.exclude(rejection_reason="").update(status="rejected")
    archived.filter(rejection_reason="", published_at__isnull=True).update(
        status="draft"
    )
    archived.update(archived_from="expired")


def unsettle_archived_listings(apps, schema_editor):
    # Going back, the column goes; the settled statuses stay as they are.
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0006_search_rum_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="listing",
            name="archived_from",
            field=models.CharField(
                blank=True,
                choices=[
                    ("draft", "Draft"),
                    ("pending", "Pending review"),
                    ("active", "Active"),
                    ("sold", "Sold"),
                    ("archived", "Archived"),
                    ("expired", "Expired"),
                    ("rejected", "Rejected"),
                ],
                db_default="",
                default="",
                max_length=16,
            ),
        ),
        migrations.RunPython(settle_archived_listings, unsettle_archived_listings),
        migrations.AddConstraint(
            model_name="listing",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("archived_from__in", ("active", "expired", "sold")),
                        ("status", "archived"),
                    ),
                    models.Q(
                        models.Q(("status", "archived"), _negated=True),
                        ("archived_from", ""),
                    ),
                    _connector="OR",
                ),
                name="listing_archived_from_matches_status",
            ),
        ),
    ]
