"""Forms shared across areas, and the base every form of the app derives from."""

from flask_wtf import FlaskForm


class Form(FlaskForm):
    """FlaskForm whose hidden CSRF field carries no ``id``.

    Every form has one, so two forms on a page (the logout button and the language switch are
    on all of them) would repeat ``id="csrf_token"``: ids must be unique on a page, and nothing
    points at this field by id.
    """

    class Meta:
        def render_field(self, field, render_kw):
            if field.type == "CSRFTokenField":
                render_kw = {"id": False, **render_kw}
            return super().render_field(field, render_kw)


class EmptyForm(Form):
    """Gives a plain POST button (logout, language, close) its CSRF token."""
