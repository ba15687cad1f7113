"""People and their organisations: look-ups, sign-in, invitations, password resets."""

from flask_babel import gettext as _
from sqlalchemy import func, select

from sharing.extensions import db, login_manager
from sharing.models import User
from sharing.validation import InvalidInput


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    return db.session.get(User, int(user_id))


def create_user(email: str, name: str, password: str | None, *, is_admin: bool = False,
                locale: str = "fr") -> User:
    """Add a user to the session (the caller commits); refuses a taken address."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise InvalidInput(email=_("Enter a valid e-mail address."))
    if find_user_by_email(email):
        raise InvalidInput(email=_("A user with this e-mail address already exists."))
    if not name.strip():
        raise InvalidInput(name=_("A name is required."))
    user = User(email=email, display_name=name.strip(), is_admin=is_admin, locale=locale)
    if password is not None:
        user.set_password(password)
    db.session.add(user)
    return user
