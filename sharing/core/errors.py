"""Error pages for people and JSON errors for the API, never a bare 500 for bad input."""

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

# What a person reads for the errors they may meet, in the interface's language; Werkzeug's
# own words are English.
PAGE_TEXTS = {
    400: (_l("The request cannot be understood"),
          _l("The page received something it cannot read. Go back and try again.")),
    403: (_l("Access refused"), _l("Your account may not see or change this.")),
    404: (_l("Page not found"),
          _l("This page does not exist, or is not shown to your account.")),
    405: (_l("Action not possible here"),
          _l("This address does not accept this action. Go back and use the page's buttons.")),
    429: (_l("Too many attempts"), _l("Wait a little, then try again.")),
    500: (_l("Something went wrong"),
          _l("The server met an error; nothing was saved. Try again in a moment, and tell "
             "the pole's coordinator if it happens again.")),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def too_large_text() -> str:
    """A 413: the body was not read, so say what usually makes a form that big."""
    megabytes = current_app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
    return _("What you sent is larger than %(size)s MB and was not saved. Shorten the longest "
             "texts you typed (a description, a note, a reason) or send fewer files, then "
             "try again.", size=format_decimal(megabytes, format="#,##0.#"))


def page_texts(error: HTTPException) -> tuple[str, str]:
    """The title and explanation of the error page. A message given with `abort` is already
    worded for the reader and kept."""
    if error.code == 413:
        return _("Too much sent at once"), too_large_text()
    title, default = PAGE_TEXTS.get(error.code, (_l("Error"), None))
    custom = error.description != type(error).description
    return str(title), str(error.description if custom or default is None else default)


def handle_http_error(error: HTTPException) -> tuple:
    if wants_json():
        response = jsonify(error=error.name.lower().replace(" ", "_"), message=error.description)
        # Keep what the error says about itself: WWW-Authenticate on 401, Allow on 405.
        response.headers.extend(
            (name, value) for name, value in error.get_headers() if name != "Content-Type")
        return response, error.code
    if request_ctx.url_adapter is None:
        # A Host outside TRUSTED_HOSTS: no URL can be built, so no page; say it plainly.
        return Response(f"{error.code} {error.name}\n", mimetype="text/plain"), error.code
    title, explanation = page_texts(error)
    response = render_template("error.html", code=error.code, title=title,
                               explanation=explanation)
    return response, error.code, [h for h in error.get_headers() if h[0] != "Content-Type"]


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
