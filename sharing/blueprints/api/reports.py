"""The impact report as JSON: the coordinator's whole pole, or one organisation's part
for its members."""

from flask import abort
from flask_login import current_user

from sharing.blueprints.api import bp
from sharing.blueprints.api.contracts import ImpactReport
from sharing.blueprints.api.operations import operation
from sharing.engine import NotAllowed
from sharing.services.reports import ReportQuery, checked_period, impact_report


@bp.get("/reports/impact")
@operation("The impact report over a period (coordinator: the pole; members: their "
           "organisation's part)", tag="reports", query=ReportQuery,
           answers={200: ImpactReport}, errors=(403,))
def get_impact_report(query: ReportQuery):
    try:
        return impact_report(current_user, checked_period(query))
    except NotAllowed:
        abort(403)
