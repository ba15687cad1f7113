"""sharing: book and share premises, equipment, staff time and expertise within a pole."""

import os
from pathlib import Path

from flask import Flask

from sharing.core.config import load_config
from sharing.core.extensions import babel, csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None, instance_path: str | os.PathLike | None = None) -> Flask:
    """`instance_path` defaults to `SHARING_INSTANCE_PATH`, then `instance/` in the checkout;
    tests pass it here so that parallel test processes never share one through the environment.
    """
    app = Flask(
        __name__,
        instance_path=str(instance_path or default_instance_path()),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    load_config(app, config)
    init_extensions(app)
    register_blueprints(app)
    register_commands(app)
    return app


def default_instance_path() -> str:
    return os.environ.get("SHARING_INSTANCE_PATH", str(ROOT / "instance"))


def init_extensions(app: Flask) -> None:
    from sharing.core import database, errors, i18n
    from sharing.services import accounts  # noqa: F401  (registers the user loader)

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app, babel)
    errors.init_app(app)


def register_blueprints(app: Flask) -> None:
    from sharing.blueprints import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    from sharing.cli import COMMANDS

    for command in COMMANDS:
        app.cli.add_command(command)
