"""Forms of the coordinators' pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from ..artisan.contests import MAX_REASON


class DecisionForm(FlaskForm):
    """Accept or reject a contest; the button pressed (``decision``) says which."""

    reason = TextAreaField(
        _l("Reason, read by the artisan (required to reject)"),
        validators=[Length(max=MAX_REASON)],
        render_kw={"rows": 3, "maxlength": MAX_REASON},
    )
