"""Forms for setting up: the register file, venues, stalls, accounts, passwords."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from .. import labels, passwords
from ..forms import Form
from ..venues import CODE_PATTERN, STALL_CODE_PATTERN, normalize_code

REQUIRED = _l("This value is required.")


def _upper_code(value: str | None) -> str | None:
    return normalize_code(value) if value else value


class RegisterUploadForm(FlaskForm):
    file = FileField(
        _l("Register file (CSV or XLSX)"),
        validators=[
            FileRequired(message=_l("Choose a file.")),
            FileAllowed(["csv", "xlsx", "txt"], _l("Send a CSV or XLSX file.")),
        ],
    )
    region = SelectField(_l("Region"), validators=[Optional()])


class VenueForm(FlaskForm):
    code = StringField(
        _l("Short code"),
        filters=[_upper_code],
        validators=[
            Optional(),
            Regexp(CODE_PATTERN, message=_l("Letters, digits and “-”, 2 to 20 characters.")),
        ],
    )
    kind = SelectField(_l("Kind of venue"), choices=list(labels.VENUE_KINDS.items()))
    province = SelectField(_l("Prefecture or province"), coerce=int)
    city = StringField(_l("City"), validators=[DataRequired(REQUIRED), Length(max=60)])
    name_fr = StringField(
        _l("Name in French"), validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    name_ar = StringField(
        _l("Name in Arabic"), validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=200)])


class StallForm(FlaskForm):
    code = StringField(
        _l("Stall code"),
        filters=[_upper_code],
        validators=[
            DataRequired(REQUIRED),
            Regexp(STALL_CODE_PATTERN, message=_l("Letters, digits and “-”, up to 32 characters.")),
        ],
    )
    location = StringField(_l("Location in French"), validators=[Optional(), Length(max=120)])
    location_ar = StringField(_l("Location in Arabic"), validators=[Optional(), Length(max=120)])
    card_number = StringField(
        _l("Artisan's card number (NIA)"),
        filters=[_upper_code],
        validators=[Optional(), Length(max=32)],
    )


class MoveForm(FlaskForm):
    target = StringField(
        _l("Code of the stall the artisan moves to"),
        filters=[_upper_code],
        validators=[DataRequired(REQUIRED), Length(max=32)],
    )


class AccountForm(Form):
    username = StringField(
        _l("Username"),
        filters=[lambda v: v.strip().lower() if v else v],
        validators=[
            DataRequired(REQUIRED),
            Regexp(
                r"^[a-z0-9][a-z0-9._-]{2,79}$",
                message=_l("Letters, digits, “.”, “-” or “_”, 3 to 80 characters."),
            ),
        ],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    role = SelectField(_l("Role"))
    region = SelectField(_l("Region"), validators=[Optional()])
    language = SelectField(
        _l("Language"), choices=[("ar", "العربية"), ("fr", "Français"), ("en", "English")]
    )


class EditAccountForm(Form):
    name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    role = SelectField(_l("Role"))
    region = SelectField(_l("Region"), validators=[Optional()])
    language = SelectField(
        _l("Language"), choices=[("ar", "العربية"), ("fr", "Français"), ("en", "English")]
    )


class SetPasswordForm(Form):
    """Choosing a password: on an invitation, or changing one's own."""

    username_hint = ""  # the view sets the account's username: it may not be in the password

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
        description=_l("At least 10 characters."),
    )
    confirm = PasswordField(
        _l("The new password again"),
        validators=[
            DataRequired(REQUIRED),
            EqualTo("password", message=_l("The two passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_password(self, field) -> None:
        problem = passwords.problem(field.data or "", self.username_hint)
        if problem:
            raise ValidationError(labels.PASSWORD_PROBLEMS[problem])


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


# --- campaigns (compliance/admin/campaign_routes.py) ---------------------------------------


class CampaignForm(Form):
    """A campaign's code, names, days and checklist; compliance/campaigns.py checks the rules."""

    code = StringField(
        _l("Short code"),
        filters=[lambda v: v.strip().lower() if v else v],
        validators=[DataRequired(REQUIRED), Length(max=40)],
        description=_l("Small letters, digits and dashes, e.g. afcon-2025. It is used in links."),
        render_kw={"autocapitalize": "none", "spellcheck": "false", "dir": "ltr"},
    )
    name_ar = StringField(
        _l("Name in Arabic"), validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    name_fr = StringField(
        _l("Name in French"), validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    name_en = StringField(
        _l("Name in English"), validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    first_day = DateField(
        _l("First day"), validators=[DataRequired(_l("Give a day."))], format="%Y-%m-%d"
    )
    last_day = DateField(
        _l("Last day"), validators=[DataRequired(_l("Give a day."))], format="%Y-%m-%d"
    )
    checklist = SelectField(_l("Checklist"), coerce=int)


class CloseCampaignForm(Form):
    """Closing is irreversible: the user ticks that they know it."""

    understood = BooleanField(
        _l("I understand that a closed campaign cannot run again."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
