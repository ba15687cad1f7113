"""The coordinator's administration: sites, member organisations, people (their accounts
and personal data), and every resource at a glance."""

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from sharing.blueprints.lookups import requested_page
from sharing.core.extensions import db
from sharing.forms import ROW_ID, ActionForm, form_status, save_form
from sharing.forms.admin import AnonymiseForm, OrganisationForm, SiteForm
from sharing.models import Organisation, Resource, Site, User
from sharing.services.accounts import set_user_active
from sharing.services.catalogue import KINDS, get_resources_overview
from sharing.services.messages import format_credits
from sharing.services.organisations import (
    create_organisation,
    create_site,
    get_organisations_page,
    get_sites,
    set_organisation_active,
    update_organisation,
    update_site,
)
from sharing.services.permissions import (
    can_manage_organisations,
    can_manage_personal_data,
    can_manage_sites,
)
from sharing.services.personal_data import (
    anonymise_person,
    export_person,
    find_people,
    is_anonymised,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_admin() -> None:
    # Sites and organisations are the two things administered here, both by the coordinator.
    if not (can_manage_sites(current_user) and can_manage_organisations(current_user)):
        abort(403)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@bp.get("/")
def index():
    counts = {"sites": count(Site), "organisations": count(Organisation),
              "users": count(User), "resources": count(Resource)}
    return render_template("admin/index.html", counts=counts)


def form_page(form, change, title: str, saved_message: str, back_to: str):
    """Show the form; on a valid post make the change and go back to the list."""
    saved, _result = save_form(form, change)
    if saved:
        flash(saved_message, "info")
        return redirect(url_for(back_to))
    return render_template("admin/form.html", form=form, title=title), form_status(form)


@bp.get("/sites/")
def sites():
    return render_template("admin/sites.html", sites=get_sites())


@bp.route("/sites/new", methods=["GET", "POST"])
def new_site():
    form = SiteForm()
    return form_page(form, lambda: create_site(form.name.data, form.timezone.data,
                                               form.address.data),
                     _("New site"), _("Site created."), "admin.sites")


@bp.route(f"/sites/<{ROW_ID}:site_id>/edit", methods=["GET", "POST"])
def edit_site(site_id: int):
    site = db.get_or_404(Site, site_id)
    form = SiteForm(obj=site)
    return form_page(form, lambda: update_site(site, form.name.data, form.timezone.data,
                                               form.address.data),
                     _("Edit the site %(name)s", name=site.name), _("Site saved."),
                     "admin.sites")


@bp.get("/organisations/")
def organisations():
    return render_template("admin/organisations.html",
                           organisations=get_organisations_page(requested_page()),
                           action_form=ActionForm())


@bp.route("/organisations/new", methods=["GET", "POST"])
def new_organisation():
    form = OrganisationForm()
    return form_page(form, lambda: create_organisation(form.slug.data, form.name.data,
                                                       form.legal_form.data),
                     _("New organisation"),
                     _("Organisation created. Invite its first manager from its page."),
                     "admin.organisations")


@bp.route(f"/organisations/<{ROW_ID}:organisation_id>/edit", methods=["GET", "POST"])
def edit_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    form = OrganisationForm(obj=organisation)
    return form_page(form, lambda: update_organisation(organisation, form.slug.data,
                                                       form.name.data, form.legal_form.data),
                     _("Edit the organisation %(name)s", name=organisation.name),
                     _("Organisation saved."), "admin.organisations")


@bp.post(f"/organisations/<{ROW_ID}:organisation_id>/deactivate")
def deactivate_organisation(organisation_id: int):
    return switch_organisation(organisation_id, active=False)


@bp.post(f"/organisations/<{ROW_ID}:organisation_id>/reactivate")
def reactivate_organisation(organisation_id: int):
    return switch_organisation(organisation_id, active=True)


def switch_organisation(organisation_id: int, active: bool):
    organisation = db.get_or_404(Organisation, organisation_id)
    set_organisation_active(organisation, active)
    db.session.commit()
    if active:
        flash(_("%(name)s is active again.", name=organisation.name), "info")
    else:
        flash(_("%(name)s is deactivated; its data is kept.", name=organisation.name), "info")
    return redirect(url_for("admin.organisations"))


def person_or_404(user_id: int) -> User:
    if not can_manage_personal_data(current_user):
        abort(403)
    return db.get_or_404(User, user_id)


@bp.get("/people/")
def people():
    if not can_manage_personal_data(current_user):
        abort(403)
    search = request.args.get("q", "")
    return render_template("admin/people.html", people=find_people(search, requested_page()),
                           search=search, is_anonymised=is_anonymised,
                           action_form=ActionForm())


@bp.post(f"/people/<{ROW_ID}:user_id>/deactivate")
def deactivate_person(user_id: int):
    return switch_person(user_id, active=False)


@bp.post(f"/people/<{ROW_ID}:user_id>/reactivate")
def reactivate_person(user_id: int):
    return switch_person(user_id, active=True)


def switch_person(user_id: int, active: bool):
    """Deactivating ends the person's sessions; their API tokens and feeds answer no more
    while they are inactive, and work again on reactivation."""
    person = person_or_404(user_id)
    if person.id == current_user.id or is_anonymised(person):
        abort(403)
    set_user_active(person, active)
    db.session.commit()
    if active:
        flash(_("%(name)s can sign in again.", name=person.display_name), "info")
    else:
        flash(_("%(name)s is deactivated: they can no longer sign in, and their tokens and "
                "calendar feeds stop working.", name=person.display_name), "info")
    return redirect(url_for("admin.people", q=request.args.get("q") or None))


@bp.get(f"/people/<{ROW_ID}:user_id>/export")
def export_person_data(user_id: int):
    person = person_or_404(user_id)
    response = jsonify(export_person(person))
    response.headers["Content-Disposition"] = f'attachment; filename="person-{person.id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route(f"/people/<{ROW_ID}:user_id>/anonymise", methods=["GET", "POST"])
def anonymise(user_id: int):
    person = person_or_404(user_id)
    name, form = person.display_name, AnonymiseForm()
    saved, _none = save_form(form, lambda: anonymise_person(person, current_user))
    if saved:
        flash(_("%(name)s is anonymised.", name=name), "info")
        return redirect(url_for("admin.people"))
    return render_template("admin/anonymise.html", form=form, person=person), form_status(form)


@bp.get("/resources/")
def resources():
    return render_template("admin/resources.html",
                           resources=get_resources_overview(requested_page()), kinds=KINDS,
                           credits=format_credits)
