"""Serving a photo rendition by its content hash, once a view has decided who may see it."""

from __future__ import annotations

from flask import abort, current_app, send_file

from ..storage import photo_key, storage_from_config


def send_rendition(sha256: str | None, rendition: str):
    """The ``display`` or ``thumb`` JPEG of a photo; 404 when there is none."""
    if not sha256:
        abort(404)
    try:
        stream = storage_from_config(current_app.config["UPLOAD_DIR"]).open(
            photo_key(sha256, rendition)
        )
    except (KeyError, ValueError):
        abort(404)
    response = send_file(
        stream, mimetype="image/jpeg", etag=sha256 + rendition, max_age=3600, conditional=True
    )
    # Evidence of one stall: kept by the browser, never by a shared cache.
    response.cache_control.private = True
    return response
