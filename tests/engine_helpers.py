"""A booking scene shared by the engine tests: one site in Paris, an owner, a booker."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sharing.engine import BookingRequest
from sharing.models import Organisation, Resource, User

PARIS = ZoneInfo("Europe/Paris")
# Engine tests pass this as "now": every scene happens in 2027, after it.
NOW = datetime(2027, 1, 4, 7, 0, tzinfo=ZoneInfo("UTC"))


def booking_row(uid: str, resource_id: int, organisation_id: int, user_id: int,
                start: datetime, end: datetime) -> dict:
    """A confirmed booking's columns, to write it straight into the table past the ORM's
    events (as a bulk import, or the schema of an older revision, would)."""
    return {"uid": uid, "resource_id": resource_id, "organisation_id": organisation_id,
            "user_id": user_id, "starts_at": start, "ends_at": end, "blocks_until": end,
            "quantity": 1, "title": "", "note": "", "status": "confirmed", "sequence": 0,
            "created_at": start, "updated_at": start, "decision_reason": ""}


def at(wall: str) -> datetime:
    """A wall-clock time in Paris, e.g. at("2027-03-02 10:00")."""
    return datetime.fromisoformat(wall).replace(tzinfo=PARIS)


@dataclass
class Scene:
    owner: Organisation
    booker: Organisation
    manager: User  # manages the owner organisation
    member: User  # member of the booking organisation
    room: Resource

    def request(self, start: str, end: str, resource: Resource | None = None, **fields
                ) -> BookingRequest:
        return BookingRequest(resource_id=(resource or self.room).id,
                              organisation_id=fields.pop("organisation_id", self.booker.id),
                              start=at(start), end=at(end), **fields)
