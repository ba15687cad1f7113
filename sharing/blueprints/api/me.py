"""Who the token belongs to, and on behalf of which organisations they may act."""

from flask import jsonify

from sharing.blueprints.api import api_user, bp
from sharing.blueprints.api.serialize import me_json


@bp.get("/me")
def me():
    return jsonify(me_json(api_user()))
