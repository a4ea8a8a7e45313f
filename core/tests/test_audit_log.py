"""The audit log: one service to append, nothing can change or remove an entry."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.errors import ValidationError
from core.models import AuditLogEntry
from core.selectors import audit_log_for
from core.services import audit_log_record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def entry(moderator, user):
    return audit_log_record(
        actor=moderator, action="user.ban", target=user, reason="Spam listings"
    )


@pytest.fixture
def admin_client(client):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    return client


def _snapshot(entry):
    return AuditLogEntry.objects.filter(pk=entry.pk).values().get()


# --- recording -------------------------------------------------------------------


def test_record_stores_who_did_what_to_which_object(moderator, user):
    entry = audit_log_record(
        actor=moderator,
        action="user.ban",
        target=user,
        reason="Spam listings",
        data={"until": datetime.date(2026, 1, 31), "fine": Decimal("12.50")},
    )
    entry = AuditLogEntry.objects.get(pk=entry.pk)
    assert entry.actor == moderator
    assert entry.actor_repr == f"{moderator} (#{moderator.pk})"
    assert entry.action == "user.ban"
    assert entry.target_type == ContentType.objects.get_for_model(user)
    assert entry.target_id == str(user.pk)
    assert entry.target_repr == str(user)
    assert entry.reason == "Spam listings"
    assert entry.data == {"until": "2026-01-31", "fine": "12.50"}


def test_record_by_the_system_without_target():
    entry = audit_log_record(actor=None, action="digest.sent")
    assert entry.actor is None
    assert entry.actor_repr == "system"
    assert entry.target_type is None
    assert entry.target_id == ""


@pytest.mark.parametrize("action", ["", "   ", "x" * 65])
def test_record_refuses_a_bad_action(moderator, action):
    with pytest.raises(ValidationError) as exc:
        audit_log_record(actor=moderator, action=action)
    assert exc.value.field == "action"
    assert AuditLogEntry.objects.count() == 0


@pytest.mark.parametrize("data", [{"obj": object()}, ["not", "a", "dict"]])
def test_record_refuses_data_that_is_not_json(moderator, data):
    with pytest.raises(ValidationError) as exc:
        audit_log_record(actor=moderator, action="x", data=data)
    assert exc.value.field == "data"
    assert AuditLogEntry.objects.count() == 0


def test_record_refuses_an_unsaved_target(moderator):
    with pytest.raises(ValidationError):
        audit_log_record(actor=moderator, action="x", target=UserFactory.build())
    assert AuditLogEntry.objects.count() == 0


def test_record_rolls_back_with_the_change_it_describes(moderator, user):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_log_record(actor=moderator, action="user.ban", target=user)
        raise RuntimeError
    assert AuditLogEntry.objects.count() == 0


def test_uuid_data_is_stored_as_text(moderator):
    key = uuid.uuid4()
    entry = audit_log_record(actor=moderator, action="x", data={"key": key})
    assert AuditLogEntry.objects.get(pk=entry.pk).data == {"key": str(key)}


def test_audit_log_for_lists_one_objects_trail_newest_first(moderator, user):
    other = UserFactory()
    first = audit_log_record(actor=moderator, action="user.warn", target=user)
    audit_log_record(actor=moderator, action="user.warn", target=other)
    second = audit_log_record(actor=moderator, action="user.ban", target=user)
    audit_log_record(actor=None, action="system.tick")
    assert list(audit_log_for(user)) == [second, first]


# --- append-only model -----------------------------------------------------------


def test_changing_an_entry_is_refused(entry):
    before = _snapshot(entry)
    entry.reason = "edited"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        AuditLogEntry.objects.filter(pk=entry.pk).update(reason="edited")
    entry.reason = "edited"
    # (each in its own savepoint: bulk_update breaks the surrounding one)
    with pytest.raises(TypeError), transaction.atomic():
        AuditLogEntry.objects.bulk_update([entry], ["reason"])
    with pytest.raises(TypeError), transaction.atomic():
        AuditLogEntry.objects.update_or_create(
            pk=entry.pk, defaults={"reason": "edited"}
        )
    assert _snapshot(entry) == before


def test_overwriting_an_entry_through_a_new_object_is_refused(entry):
    before = _snapshot(entry)
    impostor = AuditLogEntry(pk=entry.pk, action="nothing.happened")
    with pytest.raises(IntegrityError), transaction.atomic():
        impostor.save()
    with pytest.raises(TypeError):
        AuditLogEntry(action="x").save(force_update=True)
    with pytest.raises(TypeError):
        AuditLogEntry.objects.bulk_create(
            [AuditLogEntry(pk=entry.pk, action="nothing.happened")],
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=["action"],
        )
    assert _snapshot(entry) == before


def test_deleting_an_entry_is_refused(entry):
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditLogEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(TypeError):
        AuditLogEntry.objects.all().delete()
    assert AuditLogEntry.objects.filter(pk=entry.pk).exists()


def test_deleting_the_actor_keeps_the_entry_and_their_name(entry, moderator):
    name = entry.actor_repr
    moderator.delete()
    entry = AuditLogEntry.objects.get(pk=entry.pk)
    assert entry.actor is None
    assert entry.actor_repr == name


# --- admin -----------------------------------------------------------------------

CHANGELIST = "/admin/core/auditlogentry/"


def test_admin_list_is_filterable_and_searchable(admin_client, entry, moderator):
    other = audit_log_record(actor=None, action="listing.hide", reason="Counterfeit")

    page = admin_client.get(CHANGELIST)
    assert page.status_code == 200
    html = page.content.decode()
    for title in ("By action", "By target type", "By actor", "By created at"):
        assert title in html
    assert 'name="q"' in html

    def shown(**params):
        response = admin_client.get(CHANGELIST, params)
        assert response.status_code == 200
        return {e.pk for e in response.context["cl"].result_list}

    assert shown(action="user.ban") == {entry.pk}
    assert shown(q="Counterfeit") == {other.pk}
    assert shown(actor__id__exact=moderator.pk) == {entry.pk}
    user_type = ContentType.objects.get_for_model(moderator)
    assert shown(target_type__id__exact=user_type.pk) == {entry.pk}
    # The admin's date filter counts days in the site's time zone (Almaty):
    # the UTC date differs from 18:00 or 19:00 UTC on.
    today = timezone.localtime(entry.created_at).date()
    assert shown(
        created_at__year=today.year,
        created_at__month=today.month,
        created_at__day=today.day,
    ) == {entry.pk, other.pk}


def test_admin_offers_no_add_no_delete_and_no_actions(admin_client, entry):
    html = admin_client.get(CHANGELIST).content.decode()
    assert "delete_selected" not in html
    assert 'name="action"' not in html
    assert "/admin/core/auditlogentry/add/" not in html


def test_admin_detail_is_read_only(admin_client, entry, user):
    url = f"{CHANGELIST}{entry.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html
    assert f'href="/admin/accounts/user/{user.pk}/change/"' in html  # target link

    before = _snapshot(entry)
    response = admin_client.post(url, {"reason": "edited", "action": "x"})
    assert response.status_code == 403
    assert _snapshot(entry) == before


def test_admin_cannot_add_or_delete(admin_client, entry):
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert (
        admin_client.post(f"{CHANGELIST}add/", {"action": "forged"}).status_code == 403
    )
    delete = f"{CHANGELIST}{entry.pk}/delete/"
    assert admin_client.get(delete).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert AuditLogEntry.objects.count() == 1


def test_admin_bulk_delete_is_blocked(admin_client, entry):
    other = audit_log_record(actor=None, action="listing.hide")
    response = admin_client.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [entry.pk, other.pk],
            "post": "yes",
        },
    )
    assert response.status_code in (200, 302)
    assert AuditLogEntry.objects.count() == 2


def test_moderators_may_read_the_log(client, moderator, entry):
    client.force_login(moderator)
    assert client.get(CHANGELIST).status_code == 200
    assert client.get(f"{CHANGELIST}{entry.pk}/change/").status_code == 200
    assert client.get(f"{CHANGELIST}{entry.pk}/delete/").status_code == 403


def test_ordinary_users_cannot_see_the_log(client, user, entry):
    client.force_login(user)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
