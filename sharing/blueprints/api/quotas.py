"""Each organisation's quotas: set by the coordinator, or by a resource's owner managers
for their own resources; seen by the organisation's members and by whoever may set them."""

from flask import abort
from flask_login import current_user

from sharing.blueprints.api import bp
from sharing.blueprints.api.contracts import QuotaList, Quotas
from sharing.blueprints.api.operations import operation
from sharing.blueprints.api.serialize import quota_json
from sharing.blueprints.lookups import find_row, organisation_quotas_or_403, row_or_404
from sharing.core.extensions import db
from sharing.models import Organisation
from sharing.services.permissions import can_see_quota, can_set_quota, can_set_quotas
from sharing.services.quotas import find_quotas, parse_quotas, replace_quotas


def quotas_answer(organisation: Organisation) -> dict:
    return {"quotas": [quota_json(quota) for quota in find_quotas(organisation)
                       if can_see_quota(current_user, quota)]}


@bp.get("/organisations/<int:organisation_id>/quotas")
@operation("The organisation's quotas the user may see", tag="quotas",
           answers={200: Quotas}, errors=(403,))
def list_quotas(organisation_id: int):
    organisation = organisation_quotas_or_403(find_row(Organisation, organisation_id))
    return quotas_answer(organisation)


@bp.put("/organisations/<int:organisation_id>/quotas")
@operation("Replace the organisation's quotas the user may set; the others stay",
           tag="quotas", body=QuotaList, answers={200: Quotas}, errors=(403,))
def put_quotas(organisation_id: int, body: QuotaList):
    organisation = row_or_404(Organisation, organisation_id)
    if not can_set_quotas(current_user):
        abort(403)
    quotas = parse_quotas(body)
    if not all(can_set_quota(current_user, quota) for quota in quotas):
        abort(403)
    replace_quotas(organisation, quotas, lambda quota: can_set_quota(current_user, quota))
    db.session.commit()
    return quotas_answer(organisation)
