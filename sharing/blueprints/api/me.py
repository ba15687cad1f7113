"""Who the token belongs to, and on behalf of which organisations they may act."""

from flask_login import current_user

from sharing.blueprints.api import bp
from sharing.blueprints.api.contracts import Me
from sharing.blueprints.api.operations import operation
from sharing.blueprints.api.serialize import me_json


@bp.get("/me")
@operation("Who the token belongs to and their organisations", tag="account",
           answers={200: Me})
def me():
    return me_json(current_user)
