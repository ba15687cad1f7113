"""The API's own description, public like any documentation."""

from flask import jsonify

from sharing.blueprints.api import bp
from sharing.blueprints.api.spec import SPEC


@bp.get("/openapi.json")
def openapi():
    return jsonify(SPEC)
