"""Credit pages: the organisation's balance and monthly statement (HTML and CSV) for its
members and the coordinator; grants, withdrawals and floors by the coordinator only; the
price said on the booking form; an approval the booker cannot pay."""

import csv
import io
from datetime import UTC, datetime

import pytest
from booking_page_helpers import english  # noqa: F401  (autouse fixture)
from engine_helpers import NOW
from sqlalchemy import func, select

from sharing.core.extensions import db
from sharing.engine import book
from sharing.models import Booking, CreditEntry, CreditSettings


@pytest.fixture
def people(scene, create_user, create_organisation):
    admin = create_user(email="admin@example.org", is_admin=True)
    outsider = create_user(email="outsider@example.org", organisation=create_organisation())
    return scene, admin, outsider


def entry(organisation, cents, at, memo, author):
    db.session.add(CreditEntry(organisation_id=organisation.id, amount_cents=cents, at=at,
                               reason="grant", memo=memo, author_id=author.id))
    db.session.commit()


def account_url(scene, **query):
    return f"/credits/{scene.booker.slug}/" + ("?" + "&".join(
        f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def march(people):
    """Entries in February, March (one on the last evening, in Paris) and April 2027."""
    scene, admin, _ = people
    for cents, at, memo in [(1000, datetime(2027, 2, 10, tzinfo=UTC), "Dotation"),
                            (-250, datetime(2027, 3, 5, tzinfo=UTC), "Correction"),
                            (500, datetime(2027, 3, 31, 21, 30, tzinfo=UTC), "Subvention"),
                            (700, datetime(2027, 3, 31, 22, 30, tzinfo=UTC), "Avril")]:
        entry(scene.booker, cents, at, memo, admin)
    return people


def test_members_see_the_balance_and_the_monthly_statement(client, login, march):
    scene, _, _ = march
    login(scene.member)
    assert "balance 19.5" in client.get(f"/organisations/{scene.booker.slug}/").text
    page = client.get(account_url(scene, month="2027-03")).text
    assert "March 2027" in page and "Correction" in page and "Subvention" in page
    assert "Avril" not in page  # 00:30 on 1 April in Paris
    assert "Opening balance" in page and "Closing balance" in page
    assert ">10<" in page and ">12.5<" in page and "19.5" in page


def test_the_statement_as_csv(client, login, march):
    scene, _, _ = march
    login(scene.member)
    response = client.get(f"/credits/{scene.booker.slug}/statement.csv?month=2027-03")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["date", "entry", "booking_id", "memo", "amount", "balance"]
    assert rows[1] == ["2027-03-01", "opening", "", "", "", "10.00"]
    assert [(r[1], r[3], r[4], r[5]) for r in rows[2:4]] == [
        ("grant", "Correction", "-2.50", "7.50"), ("grant", "Subvention", "5.00", "12.50")]
    assert rows[4] == ["", "closing", "", "", "", "12.50"]
    assert rows[3][0] == "2027-03-31T23:30+02:00"


@pytest.mark.parametrize("query", ["month=2027-13", "month=abc", "month=1999-12",
                                   "month=2100-01", "month=%00"])
def test_a_bad_month_is_404(client, login, people, query):
    scene, _, _ = people
    login(scene.member)
    assert client.get(f"/credits/{scene.booker.slug}/?{query}").status_code == 404


def test_outsiders_and_other_organisations_see_no_account(client, login, people):
    scene, _, outsider = people
    for user in (outsider, scene.manager):
        login(user)
        assert client.get(account_url(scene)).status_code == 404
        assert client.get(f"/credits/{scene.booker.slug}/statement.csv").status_code == 404
        assert client.get("/credits/").status_code == 403


def test_the_coordinator_grants_with_a_french_decimal_comma(client, login, people):
    scene, admin, _ = people
    login(admin)
    response = client.post(f"/credits/{scene.booker.slug}/grant",
                           data={"amount": "12,5", "memo": "Dotation annuelle"})
    assert response.status_code == 302
    (grant,) = db.session.scalars(select(CreditEntry))
    assert (grant.amount_cents, grant.memo, grant.author_id) == (1250, "Dotation annuelle",
                                                                  admin.id)


@pytest.mark.parametrize(("data", "field"), [
    ({"amount": "", "memo": "x"}, "amount"), ({"amount": "1.005", "memo": "x"}, "amount"),
    ({"amount": "5", "memo": ""}, "memo"), ({"amount": "5\x00", "memo": "x"}, "amount"),
])
def test_a_bad_grant_is_shown_beside_its_field(client, login, people, data, field):
    scene, admin, _ = people
    login(admin)
    response = client.post(f"/credits/{scene.booker.slug}/grant", data=data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert db.session.scalar(select(func.count()).select_from(CreditEntry)) == 0


def test_only_the_coordinator_grants_and_sets_floors(client, login, people):
    scene, _, _ = people
    login(scene.member)
    slug = scene.booker.slug
    assert client.post(f"/credits/{slug}/grant", data={"amount": "5", "memo": "x"}
                       ).status_code == 403
    assert client.post(f"/credits/{slug}/floor", data={"floor": "-5"}).status_code == 403
    assert client.post("/credits/floor", data={"floor": "-5"}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(CreditEntry)) == 0


def test_the_coordinator_sets_the_floors(client, login, people):
    scene, admin, _ = people
    login(admin)
    assert client.post(f"/credits/{scene.booker.slug}/floor", data={"floor": "-20"}
                       ).status_code == 302
    assert client.post("/credits/floor", data={"floor": "-5,5"}).status_code == 302
    assert client.post("/credits/floor", data={"floor": "3"}).status_code == 422
    db.session.expire_all()
    assert scene.booker.credit_floor_cents == -2000
    assert db.session.get(CreditSettings, 1).default_floor_cents == -550
    assert "-5.5" in client.get("/credits/").text


def test_the_booking_form_says_the_price(client, login, people):
    scene, _, _ = people
    scene.room.price_cents, scene.room.free_cancellation_minutes = 350, 1440
    db.session.commit()
    login(scene.member)
    page = client.get(f"/bookings/new?resource={scene.room.slug}").text
    assert "3.5 credits per hour booked" in page and "1440 minutes" in page


def test_an_approval_the_booker_cannot_pay_is_refused_with_the_reason(client, login, people):
    scene, _, _ = people
    scene.room.price_cents, scene.room.requires_approval = 100, True
    scene.booker.credit_floor_cents = -100
    db.session.commit()
    (pending,) = book(scene.member, scene.request("2027-03-02 10:00", "2027-03-02 11:00"),
                      now=NOW).bookings
    scene.booker.credit_floor_cents = 0
    db.session.commit()
    login(scene.manager)
    response = client.post(f"/bookings/{pending.id}/approve", follow_redirects=True)
    assert "may not go below 0" in response.text
    assert db.session.get(Booking, pending.id).status == "pending"
