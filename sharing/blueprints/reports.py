"""Impact reports on the web: the page with its charts and tables, the CSV export and a
printable one-page summary for funders. The reports service computes; these show."""

import csv
import io
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user

from sharing.blueprints.lookups import signed_in_only
from sharing.core.database import utcnow
from sharing.core.validation import InvalidInput
from sharing.engine import NotAllowed
from sharing.forms import FORM_ERROR
from sharing.services.catalogue import KINDS
from sharing.services.organisations import get_sites
from sharing.services.permissions import bookable_organisations, is_admin
from sharing.services.reports import impact_report, read_query

bp = signed_in_only(Blueprint("reports", __name__, url_prefix="/reports"))

SECTIONS = ("totals", "by_resource", "by_organisation", "by_month")


def requested() -> dict[str, str]:
    """The query string's filters; this year when no period is asked for."""
    year = utcnow().year
    return {"start": f"{year}-01-01", "end": f"{year}-12-31", **request.args.to_dict()}


def report_or_errors() -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    try:
        return impact_report(current_user, read_query(requested())), {}
    except NotAllowed:
        abort(403)
    except InvalidInput as error:
        return None, error.fields


def page(template: str, **extra):
    report, errors = report_or_errors()
    organisations = None if is_admin(current_user) else bookable_organisations(current_user)
    return render_template(
        template, report=report, errors=errors, args=requested(), sites=get_sites(),
        kinds=KINDS, organisations=organisations, pole=current_app.config["POLE_NAME"],
        **extra), FORM_ERROR if errors else 200


@bp.get("/")
def index():
    return page("reports/index.html")


@bp.get("/summary")
def summary():
    return page("reports/summary.html")


@bp.get("/impact.csv")
def export():
    report, errors = report_or_errors()
    if errors:
        return Response(" ".join(m for ms in errors.values() for m in ms), FORM_ERROR,
                        mimetype="text/plain")
    return Response(report_csv(report), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="impact-{start}-{end}.csv"'.format(
            **report["period"])})


def report_csv(report: dict[str, Any]) -> str:
    """One file, one block per part: a `section` column, then that part's columns."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "start", "end"])
    writer.writerow(["period", report["period"]["start"], report["period"]["end"]])
    blocks = [("totals", [report["totals"]])] + [(name, report[name]) for name in SECTIONS[1:]]
    for name, rows in blocks:
        if rows:
            writer.writerow(["section", *rows[0]])
            writer.writerows([name, *("" if v is None else v for v in row.values())]
                             for row in rows)
    return out.getvalue()


def month_label(text: str) -> str:
    return date.fromisoformat(f"{text}-01").strftime("%m/%Y")


bp.add_app_template_filter(month_label)
