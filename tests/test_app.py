from sharing import create_app


def test_home_page_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"<html lang=" in response.data


def test_config_precedence(tmp_path, monkeypatch):
    """Defaults < instance/config.py < SHARING_* environment < create_app(config)."""
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        "MAIL_PORT = 2525\nMAIL_SERVER = 'from-file'\nDATABASE_URL = 'sqlite:///from-file'\n"
        "INVITATION_DAYS = 3\n"
    )
    monkeypatch.setenv("SHARING_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("SHARING_BASE_URL", "https://pole.example.org")
    monkeypatch.setenv("SHARING_MAIL_SERVER", "from-env")
    monkeypatch.setenv("SHARING_DATABASE_URL", "sqlite:///from-env")
    monkeypatch.setenv("SHARING_INVITATION_DAYS", "5")
    app = create_app({"INVITATION_DAYS": 9})
    assert app.config["MAIL_PORT"] == 2525  # file over default
    assert app.config["MAIL_SERVER"] == "from-env"  # environment over file
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///from-env"
    assert app.config["INVITATION_DAYS"] == 9  # create_app argument over all
    assert app.config["BABEL_DEFAULT_LOCALE"] == "fr"  # default kept


def test_secret_key_generated_once_into_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("SHARING_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.setenv("SHARING_BASE_URL", "https://pole.example.org")
    monkeypatch.delenv("SHARING_SECRET_KEY", raising=False)
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert len(first) >= 32 and first == second
    assert (tmp_path / "inst" / "secret_key").read_text().strip() == first
    assert (tmp_path / "inst" / "secret_key").stat().st_mode & 0o077 == 0


def test_default_database_is_sqlite_in_instance_with_wal(tmp_path, monkeypatch):
    monkeypatch.setenv("SHARING_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.setenv("SHARING_BASE_URL", "https://pole.example.org")
    monkeypatch.delenv("SHARING_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("inst/sharing.sqlite3")
    from sharing.core.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
