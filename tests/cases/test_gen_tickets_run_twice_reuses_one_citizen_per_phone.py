"""``hotline gen-tickets`` run twice with the same seed on one database draws the same
phones again: the second run finds their citizens and reuses them, as it reuses any
citizen already in the database, so every phone stays one citizen (the unique constraint
would refuse anything else) and every ticket points at the citizen of its phone."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F

from hotline.cases import generate
from hotline.cases.models import Ticket
from hotline.directory.models import Citizen
from tests.conftest import MONDAY

pytestmark = pytest.mark.django_db


def test_a_second_run_with_the_same_seed_adds_tickets_but_no_second_citizen_per_phone(dictionary: None) -> None:
    first = generate.generate(300, now=MONDAY, seed=11, days=30, batch=100)
    citizens = Citizen.objects.count()
    assert first["new_citizens"] == first["citizens"] == citizens

    out = io.StringIO()
    call_command("gen_tickets", "300", "--seed", "11", "--days", "30", "--no-progress", "--no-migrate", stdout=out)
    assert f"(0 new, {citizens} already in the database)" in out.getvalue()
    assert Ticket.objects.count() == 600
    assert Citizen.objects.count() == citizens
    assert not Citizen.objects.values("phone").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert not Ticket.objects.exclude(citizen__phone=F("contact_phone")).exists()


def test_a_citizen_already_in_the_database_is_reused_with_their_name(dictionary: None) -> None:
    class Rehearsal(Exception):
        pass

    with pytest.raises(Rehearsal), transaction.atomic():  # learn which phones seed 12 draws
        generate.generate(100, now=MONDAY, seed=12, days=30)
        phone = Ticket.objects.order_by("pk").values_list("contact_phone", flat=True)[0]
        raise Rehearsal
    known = Citizen.objects.create(phone=phone, name="手工登记")
    result = generate.generate(100, now=MONDAY, seed=12, days=30)
    assert result["new_citizens"] == result["citizens"] - 1
    assert Citizen.objects.filter(phone=phone).count() == 1
    tickets = Ticket.objects.filter(contact_phone=phone)
    assert tickets.exists() and set(tickets.values_list("citizen_id", "citizen_name")) == {(known.pk, "手工登记")}
