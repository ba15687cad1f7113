"""Health checks for load balancers and orchestrators: no login, no session, no limits."""

from flask import Blueprint, jsonify

from sharing.core.limits import limiter
from sharing.services.health import database_problem

bp = Blueprint("health", __name__)
limiter.exempt(bp)


@bp.get("/healthz")
def healthz():
    """The process answers: restart it if not."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The database answers and its schema is at the migrations' head: send traffic."""
    problem = database_problem()
    if problem:
        return jsonify(status="unavailable", reason=problem), 503
    return jsonify(status="ok")
