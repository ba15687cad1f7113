"""What the trial found: error pages in the reader's language, the 413 message, the API
token placeholder, `maxlength` on every bounded field, durations worded as people say them,
the favicon, and no English words left on French pages."""

import importlib
import inspect
import pkgutil

import pytest
from flask_wtf import FlaskForm
from wtforms import widgets

import sharing.forms
from sharing.core.extensions import db
from sharing.services.messages import format_duration

# Texts with no upper bound of their own: pass phrases, lists whose items are each bounded
# (tags, a day's opening ranges), numbers bounded by value, a free-text search.
UNBOUNDED = {"password", "new_password", "current_password", "confirm", "tags", "amount",
             "floor", "q", *(f"hours_{day}" for day in ("mon", "tue", "wed", "thu", "fri",
                                                          "sat", "sun"))}
TEXT_WIDGETS = (widgets.TextInput, widgets.TextArea, widgets.PasswordInput,
                widgets.EmailInput, widgets.SearchInput, widgets.URLInput, widgets.TelInput)


def every_form_class() -> list[type[FlaskForm]]:
    classes = []
    for module_info in pkgutil.iter_modules(sharing.forms.__path__):
        module = importlib.import_module(f"sharing.forms.{module_info.name}")
        classes += [cls for _name, cls in inspect.getmembers(module, inspect.isclass)
                    if issubclass(cls, FlaskForm) and cls.__module__ == module.__name__]
    return classes


def test_every_text_field_of_every_form_renders_its_maxlength(app):
    missing = []
    with app.test_request_context():
        for form_class in every_form_class():
            form = form_class(formdata=None)
            for field in form:
                if (isinstance(field.widget, TEXT_WIDGETS) and field.name not in UNBOUNDED
                        and "maxlength=" not in field()):
                    missing.append(f"{form_class.__name__}.{field.name}")
    assert missing == [], "\n".join(missing)


# --- error pages -------------------------------------------------------------------------

@pytest.fixture
def failing_page(app):
    """A page that fails as a bug would, answered as in production (no exception raised
    into the test)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def explode():
        raise RuntimeError("a bug")

    app.add_url_rule("/explode-for-tests", "explode_for_tests", explode)


WERKZEUG_ENGLISH = ("Not Found", "The requested URL was not found", "Forbidden",
                    "You don't have the permission", "Internal Server Error",
                    "Request Entity Too Large", "The data value transmitted exceeds")


@pytest.mark.own_app
@pytest.mark.parametrize("language", ["fr", "en"])
def test_error_pages_speak_the_interface_language(client, login, create_user, failing_page,
                                                  language):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    member = create_user(locale=language)
    pages = {404: client.get("/no-such-page"), 500: client.get("/explode-for-tests"),
             413: client.post("/login", data={"email": "x" * (2 * 1024 * 1024)})}
    login(member)
    pages[403] = client.get("/admin/")
    for status, page in pages.items():
        assert page.status_code == status
        assert f'<html lang="{language}">' in page.text, status
        assert ("Retour à l'accueil" if language == "fr" else "Back to the home page") \
            in page.text, status
        for words in WERKZEUG_ENGLISH:
            assert words not in page.text, (status, words)


@pytest.mark.own_app
def test_error_pages_in_english_say_what_happened(client, failing_page):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "Page not found" in client.get("/no-such-page").text
    failed = client.get("/explode-for-tests").text
    assert "Something went wrong" in failed and "nothing was saved" in failed


def test_a_message_given_with_abort_is_kept(client, login, create_user):
    """A view's own explanation (already in the reader's language) wins over the default."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    member = create_user(locale="en")
    login(member)
    page = client.get("/admin/people/")
    assert page.status_code == 403
    assert "Access refused" in page.text and "Your account may not see or change this." \
        in page.text


def test_a_form_too_large_says_what_to_shorten(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.post("/login", data={"email": "x" * (2 * 1024 * 1024)})
    assert page.status_code == 413
    assert "What you sent is larger than 1 MB and was not saved." in page.text
    assert "Shorten the longest texts you typed (a description, a note, a reason)" in page.text


def test_405_keeps_its_allow_header(client):
    answer = client.get("/logout")
    assert answer.status_code == 405
    assert "POST" in answer.headers["Allow"]


# --- account page, favicon ---------------------------------------------------------------

@pytest.mark.parametrize("language, placeholder", [("en", "token"), ("fr", None)])
def test_the_token_example_shows_its_placeholder(client, login, create_user, language,
                                                 placeholder):
    login(create_user(locale=language))
    page = client.get("/account/").text
    example = page[page.index("Authorization: Bearer"):]
    example = example[:example.index("</code>")]
    assert example.startswith("Authorization: Bearer &lt;") and example.endswith("&gt;")
    assert len(example) > len("Authorization: Bearer &lt;&gt;")
    if placeholder:
        assert example == f"Authorization: Bearer &lt;{placeholder}&gt;"


def test_every_page_links_the_favicon(client):
    page = client.get("/login").text
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg?v=' in page
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.data


# --- wording -----------------------------------------------------------------------------

@pytest.mark.parametrize("minutes, written", [
    (0, "0 min"), (15, "15 min"), (60, "1 h"), (90, "1 h 30"), (125, "2 h 05"), (480, "8 h"),
    (24 * 60, "24 h")])
def test_durations_are_written_as_people_say_them(app, minutes, written):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert format_duration(minutes) == written


def test_the_rules_give_durations_in_hours(client, login, scene):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    scene.room.max_duration_minutes, scene.room.min_notice_minutes = 480, 90
    scene.member.locale = "en"
    db.session.commit()
    page = login(scene.member).get(f"/rooms/{scene.room.slug}").text
    assert "A booking lasts at most 8 h." in page and "Book at least 1 h 30 ahead." in page
    assert "480" not in page and "minutes" not in page
    assert "Units bookable at once" not in page  # one unit: nothing to say
