"""The inspector's walk: find a stall, run the checklist with photos, submit — also offline."""

from flask import Blueprint

bp = Blueprint("inspect", __name__)

from . import api, offline, round, routes  # noqa: E402, F401

bp.register_blueprint(api.api, url_prefix="/api")


@bp.record_once
def _root_routes(state) -> None:
    # The service worker must be served from the root to control every page of the app.
    state.app.add_url_rule("/sw.js", "service_worker", offline.service_worker)
    state.app.jinja_env.globals.update(
        outbox_forms=offline.outbox_forms, offline_app_config=offline.app_config
    )
