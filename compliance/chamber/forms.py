"""Chamber forms: the dashboard filters (GET, no CSRF) and the corrective-action decisions."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from .. import labels
from ..forms import Form
from .figures import NOT_INSPECTED, Filters

MAX_REASON = 1000


class FilterForm(Form):
    """The filters of every chamber page, read from the query string so a view can be shared.

    A value that does not validate is left out (and said so next to the field); the page still
    shows, with the other filters.
    """

    class Meta:
        csrf = False  # a GET form: nothing changes

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    kind = SelectField(_l("Kind of venue"), validators=[Optional()])
    city = SelectField(_l("City"), validators=[Optional()])
    craft = SelectField(_l("Craft"), validators=[Optional()])
    verdict = SelectField(_l("Current result"), validators=[Optional()])

    def __init__(self, formdata, cities: list[str], **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        anything = ("", _l("All"))
        self.kind.choices = [anything, *labels.VENUE_KINDS.items()]
        self.city.choices = [anything, *((city, city) for city in cities)]
        self.craft.choices = [anything, *labels.CRAFTS.items()]
        self.verdict.choices = [
            anything,
            *labels.VERDICTS.items(),
            (NOT_INSPECTED, _l("Not inspected")),
        ]

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def filters(self) -> Filters:
        """The filters that validated (call :meth:`validate` first)."""

        def valid(field):
            return None if field.errors or not field.data else field.data

        return Filters(
            date_from=valid(self.date_from) if not self.date_to.errors else None,
            date_to=valid(self.date_to),
            kind=valid(self.kind),
            city=valid(self.city),
            craft=valid(self.craft),
            verdict=valid(self.verdict),
        )


# The two decision forms share the action's page: their fields need ids of their own, or a
# label would point at the other form's field.
class CloseActionForm(Form):
    reason = TextAreaField(
        _l("Reason for closing"),
        id="close-reason",
        validators=[
            DataRequired(message=_l("Say why this corrective action is closed.")),
            Length(max=MAX_REASON),
        ],
        render_kw={"rows": 2, "maxlength": MAX_REASON},
    )


class MoveDueForm(Form):
    due_date = DateField(
        _l("New due date"),
        validators=[DataRequired(message=_l("Choose a date."))],
    )
    reason = TextAreaField(
        _l("Reason (optional)"),
        id="due-reason",
        validators=[Optional(), Length(max=MAX_REASON)],
        render_kw={"rows": 2, "maxlength": MAX_REASON},
    )

    def __init__(self, *args, opened_on: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.opened_on = opened_on

    def validate_due_date(self, field) -> None:
        if field.data and self.opened_on and field.data < self.opened_on:
            raise ValidationError(_l("The due date cannot be before the failed inspection."))
