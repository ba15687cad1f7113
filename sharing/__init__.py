"""sharing: book and share premises, equipment, staff time and expertise within a pole."""

import os
from pathlib import Path

from flask import Flask

from sharing.core.config import load_config, require_base_url
from sharing.core.extensions import babel, csrf, db, login_manager, migrate

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent


def is_installed() -> bool:
    """Installed from a wheel (the assets inside the package) rather than run from a checkout."""
    return (PACKAGE / "templates").is_dir()


def default_instance_path() -> str | None:
    """`SHARING_INSTANCE_PATH`, else `instance/` in a checkout, else Flask's own choice
    for an installed package (`<venv>/var/sharing-instance`)."""
    default = None if is_installed() else str(ROOT / "instance")
    return os.environ.get("SHARING_INSTANCE_PATH", default)


def asset_dir(name: str) -> str:
    """templates/, static/ or migrations/: at the top of a checkout, inside the package
    once installed from a wheel (see pyproject.toml)."""
    return str((PACKAGE if is_installed() else ROOT) / name)


def create_app(config: dict | None = None, instance_path: str | os.PathLike | None = None) -> Flask:
    """`instance_path` defaults to `default_instance_path()`; tests pass it here so that
    parallel test processes never share one through the environment."""
    app = Flask(
        __name__,
        instance_path=str(instance_path) if instance_path else default_instance_path(),
        instance_relative_config=True,
        template_folder=asset_dir("templates"),
        static_folder=asset_dir("static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    load_config(app, config)
    require_base_url(app)
    init_extensions(app)
    register_blueprints(app)
    register_commands(app)
    return app


def init_extensions(app: Flask) -> None:
    from sharing.core import (
        assets,
        database,
        errors,
        i18n,
        limits,
        observability,
        outage,
        security,
    )
    from sharing.services import (
        accounts,  # noqa: F401  (registers the user loader)
        notifications,  # noqa: F401  (booking changes queue mail)
    )

    observability.init_app(app)
    security.init_app(app)
    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=asset_dir("migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limits.init_app(app)
    i18n.init_app(app, babel)
    errors.init_app(app)
    outage.init_app(app)
    assets.init_app(app)


def register_blueprints(app: Flask) -> None:
    from sharing.blueprints import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    from sharing.cli import COMMANDS

    for command in COMMANDS:
        app.cli.add_command(command)
