"""Member organisations as their people see them: who belongs, inviting, roles."""

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from sharing.blueprints.lookups import (
    managed_members_or_403,
    organisation_members_or_404,
    signed_in_only,
)
from sharing.core.extensions import db
from sharing.core.limits import account_link_limit
from sharing.core.validation import InvalidInput
from sharing.engine.credits import balance_cents
from sharing.forms import FORM_ERROR, ROW_ID, ActionForm, save_form
from sharing.forms.accounts import InviteForm, RoleForm
from sharing.models import Membership, Organisation
from sharing.services.accounts import (
    find_pending_invitation,
    get_pending_invitations,
    invite_to_organisation,
    withdraw_invitation,
)
from sharing.services.messages import describe_message, format_credits
from sharing.services.organisations import (
    change_role,
    find_membership,
    find_organisation_by_slug,
    get_members,
    get_user_organisations,
    remove_member,
)
from sharing.services.permissions import can_manage_members

# Organisations are shown to signed-in people only.
bp = signed_in_only(Blueprint("orgs", __name__, url_prefix="/organisations"))


def get_membership_or_404(organisation: Organisation, membership_id: int) -> Membership:
    membership = find_membership(organisation, membership_id)
    if membership is None:
        abort(404)
    return membership


def render_detail(organisation: Organisation, invite_form: InviteForm | None = None,
                  status: int = 200):
    manages = can_manage_members(current_user, organisation)
    return render_template(
        "orgs/detail.html", organisation=organisation, members=get_members(organisation),
        manages=manages, invite_form=invite_form or InviteForm(formdata=None),
        invitations=get_pending_invitations(organisation) if manages else [],
        role_form_for=lambda m: RoleForm(formdata=None, prefix=f"m{m.id}", role=m.role),
        action_form=ActionForm(),
        credit_balance=format_credits(balance_cents(organisation.id))), status


@bp.get("/")
def index():
    return render_template("orgs/index.html",
                           organisations=get_user_organisations(current_user))


@bp.get("/<slug>/")
def detail(slug: str):
    return render_detail(organisation_members_or_404(find_organisation_by_slug(slug)))


def apply(change: Callable[[], None]) -> bool:
    """Commit the change, or roll back and flash why it was refused."""
    try:
        change()
        db.session.commit()
    except InvalidInput as error:
        db.session.rollback()
        for messages in error.fields.values():
            for message in messages:
                flash(describe_message(message), "error")
        return False
    return True


@bp.post("/<slug>/invite")
@account_link_limit  # each invitation sends a mail
def invite(slug: str):
    organisation = managed_members_or_403(find_organisation_by_slug(slug))
    form = InviteForm()
    saved, _token = save_form(form, lambda: invite_to_organisation(
        organisation, form.email.data, form.role.data, current_user))
    if saved:
        flash(_("Invitation sent to %(email)s.", email=form.email.data), "info")
        return redirect(url_for("orgs.detail", slug=slug))
    return render_detail(organisation, form, FORM_ERROR)


@bp.post(f"/<slug>/members/<{ROW_ID}:membership_id>/role")
def set_role(slug: str, membership_id: int):
    organisation = managed_members_or_403(find_organisation_by_slug(slug))
    membership = get_membership_or_404(organisation, membership_id)
    form = RoleForm(prefix=f"m{membership.id}")
    if not form.validate_on_submit():
        abort(400)
    if not apply(lambda: change_role(membership, form.role.data)):
        return render_detail(organisation, status=FORM_ERROR)
    flash(_("Role changed."), "info")
    return redirect(url_for("orgs.detail", slug=slug))


@bp.post(f"/<slug>/members/<{ROW_ID}:membership_id>/remove")
def remove(slug: str, membership_id: int):
    organisation = managed_members_or_403(find_organisation_by_slug(slug))
    membership = get_membership_or_404(organisation, membership_id)
    name = membership.user.display_name
    if not apply(lambda: remove_member(membership)):
        return render_detail(organisation, status=FORM_ERROR)
    flash(_("%(name)s is no longer a member.", name=name), "info")
    return redirect(url_for("orgs.detail", slug=slug))


@bp.post(f"/<slug>/invitations/<{ROW_ID}:invitation_id>/withdraw")
def withdraw(slug: str, invitation_id: int):
    organisation = managed_members_or_403(find_organisation_by_slug(slug))
    invitation = find_pending_invitation(organisation, invitation_id) or abort(404)
    if not apply(lambda: withdraw_invitation(invitation)):
        return render_detail(organisation, status=FORM_ERROR)
    flash(_("The invitation of %(email)s is withdrawn: its link no longer works.",
            email=invitation.email), "info")
    return redirect(url_for("orgs.detail", slug=slug))
