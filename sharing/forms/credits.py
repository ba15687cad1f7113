"""The coordinator's credit forms: a grant or withdrawal with its memo, and floors."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField

from sharing.forms import Form, at_most
from sharing.services.credits import MEMO_LENGTH


class GrantForm(Form):
    amount = StringField(_l("Credits"),
                         description=_l("Up to two decimals; a negative amount withdraws."))
    memo = StringField(_l("Memo"), description=_l("E.g. annual allocation 2027, subsidy."),
                       render_kw=at_most(MEMO_LENGTH))


class FloorForm(Form):
    floor = StringField(_l("Lowest balance allowed"),
                        description=_l("Zero or below. Left empty: the pole's floor."))


class PoleFloorForm(Form):
    floor = StringField(_l("Lowest balance allowed for every organisation"),
                        description=_l("Zero or below; an organisation's own floor wins."))
