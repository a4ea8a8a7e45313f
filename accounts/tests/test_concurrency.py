"""Moderation under concurrency: needs PostgreSQL's row locks."""

import threading

import pytest
from django.db import connection

from accounts import services
from accounts.models import User
from accounts.tests.factories import UserFactory
from core.errors import Conflict
from core.models import AuditLogEntry


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_moderators_banning_at_once_ban_once(moderator):
    # given two moderators and one user
    second = UserFactory(is_staff=True)
    second.groups.set(moderator.groups.all())
    target = UserFactory()
    barrier = threading.Barrier(2)
    outcomes = []

    def ban(actor):
        try:
            barrier.wait(timeout=10)
            services.user_ban(actor=actor, user=target, reason=f"by {actor.pk}")
            outcomes.append("banned")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    # when both press "ban" at the same moment
    threads = [threading.Thread(target=ban, args=(a,)) for a in (moderator, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then exactly one ban happens and is audited once
    assert sorted(outcomes) == ["banned", "conflict"]
    assert User.objects.get(pk=target.pk).is_active is False
    assert AuditLogEntry.objects.filter(action="user.ban").count() == 1
