"""Rate limits on signing in, account links and token guessing; the per-account lockout;
and limits that hold across servers sharing Redis."""

import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta

import pytest
from conftest import PASSWORD, make_app, racing_context
from mail_helpers import free_port
from sqlalchemy import update
from test_concurrency_http import wait_until_up

from sharing.core.database import utcnow
from sharing.core.extensions import db
from sharing.models import User
from sharing.services.api_tokens import create_api_token

REDIS_URL = "redis://127.0.0.1:6379"


@pytest.fixture
def app_config(smtp_port):
    return {"RATELIMIT_SIGN_IN": "3 per minute", "RATELIMIT_ACCOUNT_LINKS": "3 per minute",
            "RATELIMIT_TOKEN_FAILURES": "3 per minute", "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_port}


def sign_in(client, email, password="wrong password"):
    return client.post("/login", data={"email": email, "password": password}).status_code


def test_sign_in_is_limited_per_address(client, create_user):
    user = create_user(email="camille@example.org")
    assert [sign_in(client, f"nobody{n}@example.org") for n in range(3)] == [422] * 3
    assert sign_in(client, user.email, PASSWORD) == 429
    assert client.get("/login").status_code == 200  # showing the form is free


def test_behind_a_proxy_each_client_has_its_own_count(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'proxy.sqlite3'}", tmp_path / "instance",
                   PROXY_COUNT=1, RATELIMIT_SIGN_IN="2 per minute")
    with app.app_context():
        db.create_all()
        client = app.test_client()

        def from_client(address):
            return client.post("/login", data={"email": "x@example.org", "password": "y"},
                               headers={"X-Forwarded-For": address}).status_code

        assert [from_client("203.0.113.1") for _ in range(3)] == [422, 422, 429]
        assert from_client("203.0.113.2") == 422
        db.engine.dispose()


def test_password_reset_requests_are_limited(client):
    answers = [client.post("/password/forgot", data={"email": f"x{n}@example.org"})
               .status_code for n in range(4)]
    assert answers == [302, 302, 302, 429]


def test_guessing_account_links_is_limited(client):
    answers = [client.get(f"/invitations/{uuid.uuid4().hex}").status_code for _ in range(4)]
    assert answers == [404, 404, 404, 429]
    assert client.get(f"/password/reset/{uuid.uuid4().hex}").status_code == 404  # own count


def test_sending_invitations_is_limited(client, login, scene, inbox):
    login(scene.manager)
    answers = [client.post(f"/organisations/{scene.owner.slug}/invite",
                           data={"email": f"new{n}@example.org", "role": "member"}).status_code
               for n in range(4)]
    assert answers == [302, 302, 302, 429]
    assert len(inbox.messages) == 3


def test_api_token_failures_are_limited_and_successes_are_not(client, create_user):
    _token, raw = create_api_token(create_user(), "script")
    db.session.commit()
    good = {"Authorization": f"Bearer {raw}"}
    assert [client.get("/api/v1/me", headers=good).status_code for _ in range(5)] == [200] * 5
    bad = {"Authorization": "Bearer guessed"}
    assert [client.get("/api/v1/me", headers=bad).status_code for _ in range(3)] == [401] * 3
    refused = client.get("/api/v1/me", headers=good)
    assert refused.status_code == 429
    assert refused.json["error"] == "too_many_requests"


# --- lockout ------------------------------------------------------------------------------

@pytest.fixture
def lockout_config(app):
    app.config.update(RATELIMIT_SIGN_IN="100 per minute", LOCKOUT_THRESHOLD=3,
                      LOCKOUT_FIRST_MINUTES=1)


def lock_ends_in(user) -> timedelta:
    db.session.refresh(user)
    return user.locked_until - utcnow()


def end_lock(user) -> None:
    db.session.execute(update(User).where(User.id == user.id)
                       .values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_an_account_locks_for_longer_each_time_and_tells_its_owner(
        client, create_user, inbox, lockout_config):
    user = create_user(email="camille@example.org", locale="en")
    assert [sign_in(client, user.email) for _ in range(3)] == [422] * 3
    assert timedelta(seconds=50) < lock_ends_in(user) <= timedelta(minutes=1)
    assert sign_in(client, user.email, PASSWORD) == 422  # locked: the right one too
    (message,) = inbox.messages
    assert message["To"] == user.email and "locked" in message["Subject"]
    assert "http://sharing.test/password/forgot" in message.get_content()

    end_lock(user)
    assert sign_in(client, user.email) == 422
    assert timedelta(minutes=1) < lock_ends_in(user) <= timedelta(minutes=2)
    end_lock(user)
    assert sign_in(client, user.email) == 422
    assert timedelta(minutes=3) < lock_ends_in(user) <= timedelta(minutes=4)
    assert len(inbox.messages) == 1  # told once, when the lock began

    end_lock(user)
    assert sign_in(client, user.email, PASSWORD) == 302
    db.session.refresh(user)
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_the_lock_answers_like_a_wrong_password(client, create_user, lockout_config, inbox):
    user = create_user(email="camille@example.org")
    for _ in range(3):
        sign_in(client, user.email)
    locked = client.post("/login", data={"email": user.email, "password": PASSWORD})
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "x" * 10})
    assert locked.status_code == unknown.status_code == 422
    assert locked.data.replace(user.email.encode(), b"") \
        == unknown.data.replace(b"nobody@example.org", b"")


# --- several servers ----------------------------------------------------------------------

def redis_unavailable_reason() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return f"no Redis server at {REDIS_URL}: {error}"
    return None


def serve_limited(database_url, instance_path, port, prefix):
    from werkzeug.serving import make_server

    app = make_app(database_url, instance_path, SERVER_NAME=None,
                   RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix,
                   RATELIMIT_SIGN_IN="4 per minute")
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


def post_login(port: int) -> int:
    body = urllib.parse.urlencode({"email": "nobody@example.org", "password": "x" * 12})
    request = urllib.request.Request(f"http://127.0.0.1:{port}/login", data=body.encode())
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
def test_the_sign_in_limit_holds_across_two_servers_sharing_redis(tmp_path):
    reason = redis_unavailable_reason()
    if reason:
        pytest.skip(reason)
    database_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    app = make_app(database_url, tmp_path / "instance")
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    context = racing_context()
    ports, prefix = [free_port(), free_port()], f"sharing-test-{uuid.uuid4().hex}"
    servers = [context.Process(target=serve_limited, daemon=True,
                               args=(database_url, tmp_path / "instance", port, prefix))
               for port in ports]
    for server in servers:
        server.start()
    try:
        for port in ports:
            wait_until_up(port)
        answers = [post_login(ports[n % 2]) for n in range(6)]
    finally:
        for server in servers:
            server.terminate()
            server.join(timeout=10)
    # Four attempts in all, not four per server.
    assert answers == [422, 422, 422, 422, 429, 429]
