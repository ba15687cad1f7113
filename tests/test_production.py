"""A production-configured application (neither debug nor testing): BASE_URL required,
forged Host headers refused, Secure cookies, security headers on every kind of response."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PASSWORD, make_app
from mail_helpers import free_port

from sharing import create_app
from sharing.core.extensions import db
from sharing.models import User

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "https://pole.example.org"
HOST = "pole.example.org"


@pytest.fixture
def app_config(smtp_port):
    """The application as gunicorn would create it (neither debug nor testing). SERVER_NAME
    and the scheme only tell the test client which Host to send."""
    return {"TESTING": False, "BASE_URL": BASE_URL, "SERVER_NAME": HOST,
            "PREFERRED_URL_SCHEME": "https", "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_port}


@pytest.fixture
def browser(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def flask_command(tmp_path, *args, **env) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("SHARING_", "FLASK_"))}
    environment.update(PYTHONPATH=str(ROOT), SHARING_INSTANCE_PATH=str(tmp_path / "inst"),
                       SHARING_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}", **env)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "sharing", *args],
                          env=environment, capture_output=True, text=True, timeout=60)


def test_serving_without_base_url_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("SHARING_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.delenv("SHARING_BASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="BASE_URL"):
        create_app()  # as gunicorn does: 'sharing:create_app()'
    monkeypatch.setenv("SHARING_BASE_URL", BASE_URL)
    assert create_app().config["TRUSTED_HOSTS"] == [HOST]
    assert create_app({"DEBUG": True}).config.get("TRUSTED_HOSTS") is None


def test_commands_that_serve_nothing_start_without_base_url(tmp_path):
    upgrade = flask_command(tmp_path, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    created = flask_command(tmp_path, "org", "create", "pole", "--name", "Pôle")
    assert created.returncode == 0, created.stderr


def test_flask_run_without_base_url_is_refused_outside_debug(tmp_path):
    refused = flask_command(tmp_path, "run", "--port", str(free_port()))
    assert refused.returncode != 0
    assert "BASE_URL" in refused.stderr


def test_a_forged_host_gets_no_reset_mail(browser, create_user, inbox):
    create_user(email="camille@example.org")
    forged = browser.post("/password/forgot", data={"email": "camille@example.org"},
                          headers={"Host": "evil.example"})
    assert forged.status_code == 400
    assert inbox.messages == []
    honest = browser.post("/password/forgot", data={"email": "camille@example.org"})
    assert honest.status_code == 302
    (message,) = inbox.messages
    assert f"{BASE_URL}/password/reset/" in message.get_content()
    assert "evil.example" not in message.get_content()


def test_production_cookies_are_secure(browser, create_user):
    create_user(email="camille@example.org")
    response = browser.post("/login", data={"email": "camille@example.org",
                                            "password": PASSWORD})
    assert response.status_code == 302
    (cookie,) = response.headers.getlist("Set-Cookie")
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith("session=")
    assert {"secure", "httponly", "samesite"} <= flags
    assert "SameSite=Lax" in cookie


def test_postgresql_connections_are_checked_before_use(tmp_path):
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path / "inst")
    with app.app_context():
        pool = db.engine.pool
        assert pool._pre_ping and pool._recycle == 1800
        db.engine.dispose()


def test_cookies_stay_configurable(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "inst",
                   TESTING=False, SESSION_COOKIE_SECURE=False)
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_passwords_are_hashed_with_scrypt_unless_configured(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "BASE_URL": BASE_URL},
                     instance_path=tmp_path / "inst")
    with app.app_context():
        user = User(email="a@example.org", display_name="A")
        user.set_password(PASSWORD)
        assert user.password_hash.startswith("scrypt:32768:8:1$")
        assert user.check_password(PASSWORD) and not user.check_password(PASSWORD + "!")
    cheaper = make_app("sqlite://", tmp_path / "inst", PASSWORD_HASH_METHOD="pbkdf2:sha512:1000")
    with cheaper.app_context():
        user.set_password("another one")
        assert user.password_hash.startswith("pbkdf2:sha512:1000$")
        assert user.check_password("another one") and not user.check_password(PASSWORD)


@pytest.mark.parametrize("method", ["md5", "pbkdf2:nodigest", "scrypt:1", "pbkdf2:sha256:x",
                                    "pbkdf2:sha256:0", "scrypt:3:8:1", "", 123])
def test_an_unknown_password_hash_method_refuses_to_start(tmp_path, method):
    with pytest.raises(RuntimeError, match="PASSWORD_HASH_METHOD"):
        make_app("sqlite://", tmp_path / "inst", PASSWORD_HASH_METHOD=method)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


def assert_secured(response):
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name


def test_every_kind_of_response_carries_the_security_headers(app, browser):
    @app.get("/boom")
    def boom():
        raise RuntimeError("an unexpected failure")

    kinds = {
        "page": browser.get("/"),
        "form error": browser.post("/login", data={"email": "x"}),
        "api": browser.get("/api/v1/me"),
        "api document": browser.get("/api/v1/openapi.json"),
        "static": browser.get("/static/sharing.css"),
        "error page": browser.get("/no/such/page"),
        "redirect": browser.get("/account/"),
        "health": browser.get("/healthz"),
        "server error": browser.get("/boom"),
    }
    expected = {"page": 200, "form error": 422, "api": 401, "api document": 200,
                "static": 200, "error page": 404, "redirect": 302, "health": 200,
                "server error": 500}
    assert {kind: response.status_code for kind, response in kinds.items()} == expected
    for response in kinds.values():
        assert_secured(response)
        response.close()


def test_a_response_keeps_its_own_referrer_policy(app, browser):
    @app.get("/feed-like")
    def feed_like():
        return "BEGIN:VCALENDAR", {"Referrer-Policy": "no-referrer"}

    assert browser.get("/feed-like").headers["Referrer-Policy"] == "no-referrer"


def test_no_hsts_on_plain_http(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "inst",
                   BASE_URL="http://localhost:5000")
    response = app.test_client().get("/healthz")
    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_templates_have_no_inline_script_or_style():
    """The CSP forbids them: a page using one would break in browsers."""
    inline = ("<script>", "<style", " style=", " onclick=", " onload=", " onsubmit=",
              " onchange=", "javascript:")
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text().lower()
        assert not [marker for marker in inline if marker in text], template
        assert "<script" not in text or " src=" in text, template
