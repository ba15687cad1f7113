"""Each organisation's quotas: set by the coordinator, or by a resource's owner managers
for their own resources; seen by the organisation's members and by whoever may set them."""

from flask import abort, jsonify

from sharing.blueprints.api import api_user, bp, get_or_404, json_body, keep, read_fields
from sharing.blueprints.api.serialize import quota_json
from sharing.core.extensions import db
from sharing.models import Organisation
from sharing.services.permissions import (
    can_see_quota,
    can_see_quotas_of,
    can_set_quota,
    can_set_quotas,
)
from sharing.services.quotas import find_quotas, parse_quotas, replace_quotas


def quotas_answer(organisation: Organisation):
    user = api_user()
    return jsonify(quotas=[quota_json(quota) for quota in find_quotas(organisation)
                           if can_see_quota(user, quota)])


@bp.get("/organisations/<int:organisation_id>/quotas")
def list_quotas(organisation_id: int):
    organisation = get_or_404(Organisation, organisation_id)
    if not can_see_quotas_of(api_user(), organisation):
        abort(403)
    return quotas_answer(organisation)


@bp.put("/organisations/<int:organisation_id>/quotas")
def put_quotas(organisation_id: int):
    """Replace the quotas the user may set; the organisation's others stay."""
    organisation = get_or_404(Organisation, organisation_id)
    user = api_user()
    if not can_set_quotas(user):
        abort(403)
    quotas = parse_quotas(read_fields(json_body(), {"quotas": keep})["quotas"], user)
    if not all(can_set_quota(user, quota) for quota in quotas):
        abort(403)
    replace_quotas(organisation, quotas, lambda quota: can_set_quota(user, quota))
    db.session.commit()
    return quotas_answer(organisation)
