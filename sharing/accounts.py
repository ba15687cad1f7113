"""People and their organisations: look-ups, sign-in, invitations, password resets."""

from sqlalchemy import func, select

from sharing.extensions import db, login_manager
from sharing.models import User


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    return db.session.get(User, int(user_id))
