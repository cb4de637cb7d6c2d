"""Settings the app gives its database connections."""

from __future__ import annotations

from sqlalchemy import text

from compliance import create_app
from compliance.extensions import db

POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def test_postgresql_connections_run_without_jit(app):
    made = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": POSTGRESQL})
    assert made.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"options": "-c jit=off"}
    assert made.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    if db.engine.dialect.name == "postgresql":  # the suite's own database: the setting holds
        assert db.session.execute(text("SHOW jit")).scalar() == "off"
    else:  # SQLite takes no such argument
        assert "connect_args" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
