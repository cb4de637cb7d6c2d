"""Logging in and out, the home redirect and the language switch."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import routes  # noqa: E402, F401
