"""The command line: each command writes what it says and prints the new id last; bad
input exits non-zero with the reason and writes nothing."""

from datetime import UTC, date, datetime, timedelta

import pytest
from engine_helpers import booking_row
from sqlalchemy import func, insert, select

from sharing.core.extensions import db
from sharing.models import (
    ApiToken,
    BookedMonth,
    Booking,
    Membership,
    Organisation,
    Resource,
    ResourceTag,
    ResourceVisibility,
    Site,
    User,
)
from sharing.services.api_tokens import find_user_by_api_token

PASSWORD = "long enough secret"


@pytest.fixture
def app_config():
    """The command line speaks the first configured language: English for these checks."""
    return {"LANGUAGES": ["en", "fr"]}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def last_line(result) -> str:
    return result.stdout.strip().splitlines()[-1]


def created_id(result) -> int:
    assert result.exit_code == 0, result.output
    return int(last_line(result))


def counts(*models) -> dict:
    return {model: count(model) for model in models}


def assert_refused(result, message: str, *models, before: dict) -> None:
    assert result.exit_code != 0
    assert message in result.stderr
    db.session.expire_all()
    assert counts(*models) == before


def test_site_create(runner):
    result = runner.invoke(args=["site", "create", "Voiron", "--timezone", "Europe/Paris",
                                 "--address", "12 rue des Tanneries, 38500 Voiron"])
    site = db.session.get(Site, created_id(result))
    assert (site.name, site.timezone, site.address) == (
        "Voiron", "Europe/Paris", "12 rue des Tanneries, 38500 Voiron")


def test_site_create_defaults_to_paris_time(runner):
    site = db.session.get(Site, created_id(runner.invoke(args=["site", "create", "Vienne"])))
    assert site.timezone == "Europe/Paris"


@pytest.mark.parametrize("args, message", [
    (["Voiron"], "already exists"),
    (["Lyon", "--timezone", "Mars/Olympus"], "Unknown timezone"),
    (["  "], "name"),
])
def test_site_create_refuses_bad_input(runner, create_site, args, message):
    create_site(name="Voiron")
    before = counts(Site)
    result = runner.invoke(args=["site", "create", *args])
    assert_refused(result, message, Site, before=before)


def test_org_create(runner):
    result = runner.invoke(args=["org", "create", "ressourcerie", "--name",
                                 "Ressourcerie du Pays Voironnais", "--legal-form", "Association"])
    organisation = db.session.get(Organisation, created_id(result))
    assert (organisation.slug, organisation.name, organisation.legal_form) == (
        "ressourcerie", "Ressourcerie du Pays Voironnais", "Association")


@pytest.mark.parametrize("args, message", [
    (["ressourcerie", "--name", "Another"], "already exists"),
    (["Bad Slug", "--name", "Bad"], "slug"),
    (["fine-slug", "--name", " "], "name"),
    (["fine-slug"], "Missing option '--name'"),
])
def test_org_create_refuses_bad_input(runner, create_organisation, args, message):
    create_organisation(slug="ressourcerie")
    before = counts(Organisation)
    result = runner.invoke(args=["org", "create", *args])
    assert_refused(result, message, Organisation, before=before)


def test_user_create_as_manager_of_an_organisation(runner, create_organisation):
    organisation = create_organisation(slug="patisserie")
    result = runner.invoke(args=["user", "create", "Julien.Faure@Example.org", "--name",
                                 "Julien Faure", "--password", PASSWORD, "--org", "patisserie",
                                 "--role", "manager"])
    user = db.session.get(User, created_id(result))
    assert (user.email, user.display_name, user.is_admin) == (
        "julien.faure@example.org", "Julien Faure", False)
    assert user.check_password(PASSWORD)
    assert [(m.organisation_id, m.role) for m in user.memberships] == [
        (organisation.id, "manager")]


def test_user_create_joins_as_member_by_default(runner, create_organisation):
    create_organisation(slug="patisserie")
    result = runner.invoke(args=["user", "create", "lea@example.org", "--name", "Léa",
                                 "--password", PASSWORD, "--org", "patisserie"])
    user = db.session.get(User, created_id(result))
    assert [m.role for m in user.memberships] == ["member"]


def test_user_create_admin_without_organisation(runner):
    result = runner.invoke(args=["user", "create", "claire@example.org", "--name", "Claire",
                                 "--password", PASSWORD, "--admin"])
    user = db.session.get(User, created_id(result))
    assert user.is_admin and user.memberships == []


def test_user_create_asks_for_the_password_when_omitted(runner):
    result = runner.invoke(args=["user", "create", "nadia@example.org", "--name", "Nadia"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    user = db.session.get(User, created_id(result))
    assert user.check_password(PASSWORD)
    assert PASSWORD not in result.stdout


@pytest.mark.parametrize("args, message", [
    (["new@example.org", "--org", "nowhere"], "No organisation"),
    (["TAKEN@example.org"], "already exists"),
    (["new@example.org", "--org", "patisserie", "--role", "boss"], "Invalid value for '--role'"),
    (["new@example.org", "--role", "manager"], "--role needs --org"),
    (["not-an-address"], "email"),
    (["new@example.org", "--name", " "], "name"),
])
def test_user_create_refuses_bad_input(runner, create_organisation, create_user, args, message):
    create_organisation(slug="patisserie")
    create_user(email="taken@example.org")
    before = counts(User, Membership)
    name = [] if "--name" in args else ["--name", "Someone"]
    result = runner.invoke(args=["user", "create", *args, *name, "--password", PASSWORD])
    assert_refused(result, message, User, Membership, before=before)


def test_user_create_refuses_a_short_password(runner):
    result = runner.invoke(args=["user", "create", "new@example.org", "--name", "New",
                                 "--password", "short"])
    assert_refused(result, "password", User, before={User: 0})


def test_token_create_prints_a_working_token(runner, create_user):
    user = create_user(email="marc@example.org")
    result = runner.invoke(args=["token", "create", "Marc@example.org", "--name", "Tableur"])
    assert result.exit_code == 0, result.output
    raw = last_line(result)
    assert find_user_by_api_token(raw) == user
    token = db.session.scalar(select(ApiToken))
    assert (token.user_id, token.name) == (user.id, "Tableur")
    assert raw not in token.token_hash


def test_token_create_names_the_token_after_the_command_line(runner, create_user):
    create_user(email="marc@example.org")
    assert runner.invoke(args=["token", "create", "marc@example.org"]).exit_code == 0
    assert db.session.scalar(select(ApiToken.name)) == "Command line"


@pytest.mark.parametrize("args, message", [
    (["nobody@example.org"], "No user"),
    (["marc@example.org", "--name", " "], "name"),
])
def test_token_create_refuses_bad_input(runner, create_user, args, message):
    create_user(email="marc@example.org")
    result = runner.invoke(args=["token", "create", *args])
    assert_refused(result, message, ApiToken, before={ApiToken: 0})


DEMO_TABLES = (Site, Organisation, User, Membership, Resource, ResourceTag, ResourceVisibility,
               Booking)


def test_demo_twice_adds_nothing_the_second_time(runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    loaded = counts(*DEMO_TABLES)
    assert all(loaded.values()), loaded

    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    db.session.expire_all()
    assert counts(*DEMO_TABLES) == loaded
    assert "added 0 sites, 0 organisations, 0 users, 0 resources, 0 bookings" in second.stdout
    assert "claire.dumas@example.org" in second.stdout


def test_reports_recount_counts_bookings_written_straight_into_the_database(
        runner, scene):
    """A bulk import skips the flush that counts each booking's months: the command counts
    them, and prints how many month rows it wrote."""
    start = datetime(2027, 3, 31, 20, 0, tzinfo=UTC)  # 22:00-02:00 in Paris: two months
    db.session.execute(insert(Booking.__table__), booking_row(
        "imported", scene.room.id, scene.booker.id, scene.member.id, start,
        start + timedelta(hours=4)))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(BookedMonth)) == 0
    result = runner.invoke(args=["reports", "recount"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "2"
    assert db.session.execute(select(BookedMonth.month, BookedMonth.seconds)
                              .order_by(BookedMonth.month)).all() == [
        (date(2027, 3, 1), 7200), (date(2027, 4, 1), 7200)]
