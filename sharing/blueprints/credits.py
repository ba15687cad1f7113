"""Credit accounts on the web: an organisation's balance and monthly statement (HTML and
CSV) for its members and the coordinator; grants, withdrawals and floors for the
coordinator. The credits service decides and writes; the engine moves credits on booking."""

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from sharing.blueprints.lookups import signed_in_only
from sharing.core.database import utcnow
from sharing.core.validation import EARLIEST_DATE, LATEST_DATE
from sharing.engine.credits import balance_cents, pole_floor_cents
from sharing.forms import FORM_ERROR, save_form
from sharing.forms.credits import FloorForm, GrantForm, PoleFloorForm
from sharing.models import Organisation
from sharing.services import credits
from sharing.services.messages import format_credits
from sharing.services.organisations import find_organisation_by_slug, get_organisations
from sharing.services.permissions import can_manage_credits, can_see_credit_account

bp = signed_in_only(Blueprint("credits", __name__, url_prefix="/credits"))


def account_or_404(slug: str) -> Organisation:
    """An account is shown to the organisation's members and the coordinator only."""
    organisation = find_organisation_by_slug(slug)
    if organisation is None or not can_see_credit_account(current_user, organisation):
        abort(404)
    return organisation


def coordinator_only() -> None:
    if not can_manage_credits(current_user):
        abort(403)


def requested_month() -> date:
    """?month=YYYY-MM, this month when absent; a malformed or far one is a 404."""
    text = request.args.get("month", "")
    if not text:
        return utcnow().date().replace(day=1)
    try:
        month = date.fromisoformat(f"{text}-01")
    except ValueError:
        abort(404)
    if not EARLIEST_DATE.date() <= month < LATEST_DATE.date().replace(month=1):
        abort(404)
    return month


def shifted(month: date, months: int) -> str:
    index = month.year * 12 + month.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def account_page(organisation: Organisation, grant_form=None, floor_form=None,
                 status: int = 200):
    month = requested_month()
    statement = credits.statement(current_user, organisation, month)
    return render_template(
        "credits/account.html", organisation=organisation, statement=statement,
        account=credits.account(current_user, organisation), credits=format_credits,
        label=credits.entry_label, previous=shifted(month, -1), following=shifted(month, 1),
        month=shifted(month, 0), month_label=format_date(month, "MMMM y"),
        coordinator=can_manage_credits(current_user),
        grant_form=grant_form or GrantForm(formdata=None),
        floor_form=floor_form or FloorForm(formdata=None)), status


def index_page(form: PoleFloorForm | None = None, status: int = 200):
    organisations = get_organisations()
    balances = {org.id: format_credits(balance_cents(org.id)) for org in organisations}
    return render_template("credits/index.html", organisations=organisations,
                           balances=balances, form=form or PoleFloorForm(formdata=None),
                           pole_floor=format_credits(pole_floor_cents())), status


@bp.get("/")
def index():
    coordinator_only()
    return index_page()


@bp.post("/floor")
def pole_floor():
    coordinator_only()
    form = PoleFloorForm()
    saved, _result = save_form(form, lambda: credits.set_pole_floor(current_user,
                                                                    form.floor.data))
    if not saved:
        return index_page(form, FORM_ERROR)
    flash(_("The pole's floor is saved."), "info")
    return redirect(url_for(".index"))


@bp.get("/<slug>/")
def account(slug: str):
    return account_page(account_or_404(slug))


@bp.get("/<slug>/statement.csv")
def statement_csv(slug: str):
    organisation = account_or_404(slug)
    month = requested_month()
    body = credits.statement_csv(credits.statement(current_user, organisation, month))
    filename = f"credits-{organisation.slug}-{shifted(month, 0)}.csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def account_change(slug: str, form_name: str, form, change, done: str):
    """The coordinator's change to one account from one of its forms; errors beside it."""
    coordinator_only()
    organisation = account_or_404(slug)
    saved, _result = save_form(form, lambda: change(organisation))
    if not saved:
        return account_page(organisation, **{form_name: form}, status=FORM_ERROR)
    flash(done, "info")
    return redirect(url_for(".account", slug=slug))


@bp.post("/<slug>/grant")
def grant(slug: str):
    form = GrantForm()
    return account_change(slug, "grant_form", form, lambda organisation: credits.grant(
        current_user, organisation, form.amount.data, form.memo.data), _("Credits recorded."))


@bp.post("/<slug>/floor")
def floor(slug: str):
    form = FloorForm()
    return account_change(slug, "floor_form", form, lambda organisation: credits.set_floor(
        current_user, organisation, form.floor.data), _("The floor is saved."))
