"""Forms shared across areas."""

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """Gives a plain POST button (logout, language, close) its CSRF token."""
