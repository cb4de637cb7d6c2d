"""Forms of the coordinators' pages."""

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import Length

from ..artisan.contests import MAX_REASON
from ..forms import Form


class DecisionForm(Form):
    """Accept or reject a contest; the button pressed (``decision``) says which."""

    reason = TextAreaField(
        _l("Reason, read by the artisan (required to reject)"),
        validators=[Length(max=MAX_REASON)],
        render_kw={"rows": 3, "maxlength": MAX_REASON},
    )
