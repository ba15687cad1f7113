"""Requests whose start passed, on the pages: the approvals page expires them before
listing, so none is offered for a decision; approving one is refused in words; the
booking's page says "Expired"."""

from datetime import timedelta

from booking_page_helpers import english  # noqa: F401  (autouse fixture)

from sharing.core.database import utcnow
from sharing.core.extensions import db
from sharing.models import Booking


def test_the_approvals_page_never_offers_a_request_whose_start_passed(scene, login,
                                                                     create_booking):
    scene.room.requires_approval = True
    db.session.commit()
    start = utcnow().replace(microsecond=0)
    past = create_booking(scene.room, scene.booker, scene.member, start - timedelta(hours=1),
                          status="pending", title="Trop tard")
    future = create_booking(scene.room, scene.booker, scene.member, start + timedelta(days=1),
                            status="pending", title="À décider")
    client = login(scene.manager)
    page = client.get("/bookings/approvals").text
    assert "À décider" in page and "Trop tard" not in page
    db.session.expire_all()
    assert (db.session.get(Booking, past.id).status,
            db.session.get(Booking, future.id).status) == ("expired", "pending")

    response = client.post(f"/bookings/{past.id}/approve", data={"back": "detail"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "This request expired" in page and "Expired" in page
    db.session.expire_all()
    assert db.session.get(Booking, past.id).status == "expired"
