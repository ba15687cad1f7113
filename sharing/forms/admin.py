"""Forms for the coordinator: sites, organisations, and anonymising a person.

Edit forms are filled from the object: InputRequired (not DataRequired) makes a post
that leaves a field out an error instead of a silent "keep the old value".
"""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from sharing.forms import Form


class SiteForm(Form):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    address = TextAreaField(_l("Address"), default="", validators=[Length(max=300)])
    timezone = StringField(_l("Timezone"), default="Europe/Paris",
                           validators=[InputRequired(), Length(max=64)],
                           description=_l("For example Europe/Paris."))


class OrganisationForm(Form):
    slug = StringField(_l("Identifier"), validators=[InputRequired(), Length(max=64)],
                       description=_l("Lower-case letters, digits and hyphens; used in links."))
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    legal_form = StringField(_l("Legal form"), default="", validators=[Length(max=60)],
                             description=_l("Association, SCOP, SCIC, company…"))


class AnonymiseForm(Form):
    confirm = BooleanField(
        _l("I understand: the name, the e-mail address, the sign-in and the booking notes "
           "of this person are erased for good."),
        validators=[DataRequired(_l("Tick the box to confirm."))])
