"""Error pages for people and JSON errors for the API, never a bare 500 for bad input."""

from flask import Flask, Response, jsonify, render_template, request
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException


def wants_json() -> bool:
    return request.path.startswith("/api/")


def handle_http_error(error: HTTPException) -> tuple[Response | str, int]:
    if wants_json():
        response = jsonify(error=error.name.lower().replace(" ", "_"), message=error.description)
        # Keep what the error says about itself: WWW-Authenticate on 401, Allow on 405.
        response.headers.extend(
            (name, value) for name, value in error.get_headers() if name != "Content-Type")
        return response, error.code
    if request_ctx.url_adapter is None:
        # A Host outside TRUSTED_HOSTS: no URL can be built, so no page; say it plainly.
        return Response(f"{error.code} {error.name}\n", mimetype="text/plain"), error.code
    return render_template("error.html", error=error), error.code


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
