"""An organisation's quotas on the web: listed to whoever may see each, with the hours
already used this week and month, set and removed as `sharing.services.permissions` allows (the
coordinator any scope, a resource's owner managers their own resources). The quotas
service reads and writes them, the engine counts the hours."""

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from sharing.blueprints.lookups import organisation_quotas_or_403, signed_in_only
from sharing.core.database import utcnow
from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.engine.quotas import Period, hours_used, months_touched, weeks_touched
from sharing.engine.times import zone
from sharing.forms import FORM_ERROR, ROW_ID, ActionForm, save_form
from sharing.forms.quotas import PATH, QuotaForm
from sharing.models import Organisation, Quota, Resource
from sharing.services.catalogue import KINDS, find_active_organisations, find_resources
from sharing.services.organisations import find_organisation_by_slug
from sharing.services.permissions import (
    can_manage_resource,
    can_see_quota,
    can_see_quotas_of,
    can_set_quota,
    can_set_quotas,
    is_admin,
)
from sharing.services.quotas import find_quotas, parse_quota, replace_quotas

# Quotas are shown to signed-in people only.
bp = signed_in_only(Blueprint("quotas", __name__, url_prefix="/organisations"))


@dataclass(frozen=True)
class Usage:
    """A limit and the hours used against it in the current period, as shown."""

    limit: str
    used: str


@dataclass(frozen=True)
class QuotaRow:
    """A quota as the page shows it: what it covers, its weekly and monthly usage (None
    where it sets no limit), and whether the viewer may remove it."""

    quota: Quota
    scope: str
    week: Usage | None
    month: Usage | None
    may_set: bool


def current_period(periods_of, quota: Quota) -> Period:
    """This week or month on the clock of the quota's resource; a kind's resources may be
    on several sites, so a kind quota uses the pole's timezone."""
    name = (quota.resource.timezone if quota.resource is not None
            else current_app.config["DEFAULT_TIMEZONE"])
    now = utcnow()
    return periods_of(now, now, zone(name))[0]


def hours(value: float) -> str:
    return format_decimal(value, "0.##")


def usage(quota: Quota, limit: float | None, periods_of, saying) -> Usage | None:
    """`saying` puts the hours used in a sentence ("1.5 h used this week")."""
    if limit is None:
        return None
    (used,) = hours_used(quota, [current_period(periods_of, quota)])
    return Usage(_("%(hours)s h", hours=hours(limit)), saying(hours(used)))


def scope_label(quota: Quota) -> str:
    if quota.resource is not None:
        return f"{quota.resource.name} · {quota.resource.site.name}"
    return _("All resources: %(kind)s", kind=KINDS[quota.resource_kind].title)


def quota_rows(organisation: Organisation) -> list[QuotaRow]:
    return [QuotaRow(quota, scope_label(quota),
                     usage(quota, quota.max_hours_per_week, weeks_touched,
                           lambda used: _("%(hours)s h used this week", hours=used)),
                     usage(quota, quota.max_hours_per_month, months_touched,
                           lambda used: _("%(hours)s h used this month", hours=used)),
                     can_set_quota(current_user, quota))
            for quota in find_quotas(organisation) if can_see_quota(current_user, quota)]


def settable_resources() -> list[Resource]:
    """The resources on which the user may set quotas: those they manage."""
    return [resource for resource in find_resources(current_user, include_inactive=True)
            if can_manage_resource(current_user, resource)]


def quota_form() -> QuotaForm | None:
    """The form, offering the scopes the user may set; None when there is none."""
    if not can_set_quotas(current_user):
        return None
    form = QuotaForm()
    form.offer_choices(settable_resources(), kinds=is_admin(current_user))
    return form if form.scope.choices else None


def render_page(organisation: Organisation, form: QuotaForm | None, status: int = 200):
    return render_template("quotas/index.html", organisation=organisation,
                           rows=quota_rows(organisation), form=form,
                           action_form=ActionForm()), status


@bp.get("/quotas")
def organisations():
    """Where a resource's owners find the organisations to give a fair share to."""
    shown = [organisation for organisation in find_active_organisations()
             if can_see_quotas_of(current_user, organisation)]
    return render_template("quotas/organisations.html", organisations=shown)


@bp.get("/<slug>/quotas")
def index(slug: str):
    organisation = organisation_quotas_or_403(find_organisation_by_slug(slug))
    return render_page(organisation, quota_form())


@bp.post("/<slug>/quotas")
def set_quota(slug: str):
    """Add a quota, or change the one with the same scope."""
    organisation = organisation_quotas_or_403(find_organisation_by_slug(slug))
    form = quota_form()
    if form is None:
        abort(403)

    def change() -> Quota:
        try:
            quota = parse_quota(form.to_item(), PATH, current_user)
        except InvalidInput as error:
            raise form.beside_fields(error) from error
        if not can_set_quota(current_user, quota):
            abort(403)
        scope = (quota.resource_id, quota.resource_kind)
        replace_quotas(organisation, [quota],
                       lambda old: (old.resource_id, old.resource_kind) == scope)
        return quota

    done, _quota = save_form(form, change)
    if not done:
        return render_page(organisation, form, FORM_ERROR)
    flash(_("Quota saved."), "success")
    return redirect(url_for(".index", slug=slug))


@bp.post(f"/<slug>/quotas/<{ROW_ID}:quota_id>/remove")
def remove(slug: str, quota_id: int):
    organisation = organisation_quotas_or_403(find_organisation_by_slug(slug))
    quota = db.session.get(Quota, quota_id)
    if (quota is None or quota.organisation_id != organisation.id
            or not can_see_quota(current_user, quota)):
        abort(404)
    if not can_set_quota(current_user, quota):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    replace_quotas(organisation, [], lambda old: old.id == quota.id)
    db.session.commit()
    flash(_("Quota removed."), "success")
    return redirect(url_for(".index", slug=slug))
