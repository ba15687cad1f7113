"""Credit accounts: read by the organisation's members and the coordinator; credits
granted or withdrawn by the coordinator."""

from flask import abort
from flask_login import current_user

from sharing.blueprints.api import bp
from sharing.blueprints.api.contracts import Account, AccountPage, CreditEntry, NewGrant
from sharing.blueprints.api.operations import operation
from sharing.blueprints.api.serialize import account_json, credit_entry_json
from sharing.blueprints.lookups import row_or_404
from sharing.engine import NotAllowed
from sharing.models import Organisation
from sharing.services import credits


@bp.get("/organisations/<int:organisation_id>/account")
@operation("The organisation's credit balance, floor and entries (members, coordinator)",
           tag="credits", query=AccountPage, answers={200: Account}, errors=(403,))
def get_account(organisation_id: int, query: AccountPage):
    organisation = row_or_404(Organisation, organisation_id)
    try:
        account = credits.account(current_user, organisation, query.page or 1)
    except NotAllowed:
        abort(403)
    return account_json(account)


@bp.post("/organisations/<int:organisation_id>/grants")
@operation("Grant credits to the organisation, or withdraw them (coordinator)",
           tag="credits", body=NewGrant, answers={201: CreditEntry}, errors=(403,))
def grant_credits(organisation_id: int, body: NewGrant):
    organisation = row_or_404(Organisation, organisation_id)
    try:
        entry = credits.grant(current_user, organisation, body.amount, body.memo)
    except NotAllowed:
        abort(403)
    return credit_entry_json(entry), 201
