"""The API's own description, generated from the declared operations; public like any
documentation."""

from flask import current_app

from sharing.blueprints.api import bp
from sharing.blueprints.api.contracts import Document
from sharing.blueprints.api.document import openapi_document
from sharing.blueprints.api.operations import operation


@bp.get("/openapi.json")
@operation("This document", tag="meta", public=True, answers={200: Document})
def openapi():
    return openapi_document(current_app.url_map)
