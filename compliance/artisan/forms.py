"""Forms of the artisan's pages (plain words: many artisans read little and type less)."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import Form
from ..photos import ACCEPT
from .contests import MAX_MESSAGE


class PinLoginForm(Form):
    card_number = StringField(
        _l("Card number"),
        validators=[
            DataRequired(message=_l("Type the number on your professional card.")),
            Length(max=40),
        ],
        render_kw={
            "autocomplete": "username",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "dir": "ltr",
        },
    )
    pin = PasswordField(
        _l("PIN (6 digits, on your slip)"),
        validators=[DataRequired(message=_l("Type the 6 digits of your PIN.")), Length(max=20)],
        render_kw={"autocomplete": "current-password", "inputmode": "numeric", "dir": "ltr"},
    )


class ContestForm(Form):
    message = TextAreaField(
        _l("Why is this result wrong?"),
        validators=[
            DataRequired(message=_l("Say in a few words why the result is wrong.")),
            Length(max=MAX_MESSAGE),
        ],
        render_kw={"rows": 4, "maxlength": MAX_MESSAGE},
    )
    photo = FileField(
        _l("A photo that shows it (optional)"),
        render_kw={"accept": ACCEPT, "capture": "environment"},
    )


class FixForm(Form):
    photo = FileField(
        _l("A photo of the item fixed"), render_kw={"accept": ACCEPT, "capture": "environment"}
    )
    message = TextAreaField(
        _l("A few words (optional)"),
        validators=[Length(max=MAX_MESSAGE)],
        render_kw={"rows": 2, "maxlength": MAX_MESSAGE},
    )
