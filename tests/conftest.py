"""Fixtures: one app per test session on a migrated database, emptied after each test.

The database is SQLite (a temporary file) unless TEST_DATABASE_URL names another one, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``. The schema is always made by the Alembic
migrations, as in production.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from compliance import checklist_store, create_app, reference
from compliance.artisan import ratelimit
from compliance.checklist import load_file
from compliance.config import TestingConfig
from compliance.extensions import db

from . import factories

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """The test database. Under pytest-xdist (``make test`` runs one process per core) each
    worker has its own: a SQLite file in its own temporary folder, or on PostgreSQL a database
    named after the one given and the worker (``test_gw0``), made if it is missing."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    given = make_url(url)
    if given.get_backend_name() != "postgresql":
        raise pytest.UsageError("TEST_DATABASE_URL: only PostgreSQL can be shared by workers")
    own = given.set(database=f"{given.database}_{worker}")
    server = create_engine(given, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}
            )
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    finally:
        server.dispose()
    return own.render_as_string(hide_password=False)


class RequestClient(FlaskClient):
    """Each request runs in its own app context, as on a real server.

    Without this the test's app context would be shared by every request, and with it
    ``g`` (Flask-Login's user, Flask-Babel's locale) and the database session. The test's own
    session is expired after each request so that it reads what the request committed.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    class Config(TestingConfig):
        # Flask-SQLAlchemy makes its engine in create_app: the URL must be set before.
        SQLALCHEMY_DATABASE_URI = database_url
        UPLOAD_DIR = str(tmp_path_factory.mktemp("uploads"))
        EXPORT_DIR = str(tmp_path_factory.mktemp("exports"))

    application = create_app(Config)
    application.test_client_class = RequestClient
    with application.app_context():
        _reset_schema()
        upgrade(directory=str(ROOT / "migrations"))
        # The migrations load the reference data (tests/test_reference.py checks it); every
        # test starts from empty tables all the same and loads what it needs.
        _empty_tables()
    return application


def _reset_schema() -> None:
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    else:
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def _app_context(app, request):
    """Each test runs in an app context, with no failed attempts counted, and leaves an empty
    database behind."""
    ratelimit.limiter_of(app).reset()
    with app.app_context():
        yield
        try:
            _quiesce_browser(request)
        finally:
            db.session.remove()
            _empty_tables()
            checklist_store.forget()


def _quiesce_browser(request) -> None:
    """Before the tables are emptied: no page left open, no request still being served.

    A page the test left open (it failed midway) keeps its timers and its service worker, which
    go on calling the live server during later tests; a request still in flight when the tables
    are emptied waits on their locks or deadlocks with the TRUNCATE (PostgreSQL), or is refused
    as "database is locked" (SQLite).
    """
    if "browser" in request.fixturenames:
        for context in request.getfixturevalue("browser").contexts:
            context.close()
    if "live_server" in request.fixturenames:
        request.getfixturevalue("live_server").wait_idle()


def _empty_tables() -> None:
    """Every table emptied, children first, and on PostgreSQL every id sequence back to 1.

    DELETE rather than TRUNCATE: a test leaves a few rows, and TRUNCATE gives each table and
    index a new file (250 ms for the 22 tables on a busy machine, against 15 ms).
    """
    deletes = [f'DELETE FROM "{t.name}"' for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            restart = (
                "SELECT setval(c.oid, 1, false) FROM pg_class c "
                "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"
            )
            conn.exec_driver_sql("; ".join([*deletes, restart]))
        else:
            for statement in deletes:
                conn.exec_driver_sql(statement)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def reference_data():
    """The regions, chambers, prefectures and provinces, as ``flask db upgrade`` loads them."""
    loaded = reference.load(db.session.connection())
    db.session.commit()
    return loaded


@pytest.fixture
def checklist_version():
    """The real AFCON checklist, loaded as version 1, and a running campaign that uses it.

    Every venue takes part in that campaign, those made before and after (factories.venue).
    """
    version, _ = checklist_store.store(load_file(ROOT / "checklists" / "afcon-2025.toml"))
    factories.campaign(version)
    return version


@pytest.fixture
def region():
    return factories.region("MA-04")


@pytest.fixture
def other_region():
    return factories.region("MA-07")


@pytest.fixture
def stall(region):
    return factories.stall(region=region)


@pytest.fixture
def inspector(region):
    return factories.user("inspector", region=region)


@pytest.fixture
def coordinator(region):
    return factories.user("coordinator", region=region)


@pytest.fixture
def admin():
    return factories.user("admin")


def login(client, user, password: str = factories.PASSWORD):
    response = client.post("/login", data={"username": user.username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def as_inspector(client, inspector):
    return login(client, inspector)


@pytest.fixture
def as_coordinator(client, coordinator):
    return login(client, coordinator)


@pytest.fixture
def as_admin(client, admin):
    return login(client, admin)


# --- Browser tests: a real Chromium (Debian's package) driven by Playwright. -----------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
# Bounds, not waits: every browser wait is for an event (a URL, an element, a response, a
# condition) and this only says when to give up. Generous, because a busy machine (two cores
# shared with other jobs) can take many seconds for what takes milliseconds on a quiet one.
BROWSER_TIMEOUT_MS = 120_000


class LiveServer(str):
    """The live server's base URL, which can also wait until no request is being served."""

    def __new__(cls, url: str, tracker: _InFlight):
        server = super().__new__(cls, url)
        server.tracker = tracker
        return server

    def wait_idle(self) -> None:
        self.tracker.wait_idle(BROWSER_TIMEOUT_MS / 1000)


class _InFlight:
    """WSGI middleware counting the requests the app is still working on.

    A request is done once its response was produced (its body iterated to the end, or closed):
    the app has let go of the database by then. The server may still be draining the socket.
    """

    def __init__(self, app):
        self.app, self.serving = app, {}
        self.changed = threading.Condition()
        self._numbers = itertools.count()

    def __call__(self, environ, start_response):
        number = next(self._numbers)
        with self.changed:
            self.serving[number] = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO')}"
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self._done(number)
            raise
        return _Body(body, lambda: self._done(number))

    def _done(self, number: int) -> None:
        with self.changed:
            self.serving.pop(number, None)
            self.changed.notify_all()

    def wait_idle(self, timeout: float) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: not self.serving, timeout), (
                f"still being served after {timeout} s: {list(self.serving.values())}"
            )


class _Body:
    """A response body that reports when it is over: iterated to its end, or closed."""

    def __init__(self, body, done):
        self.body, self.done = body, done

    def __iter__(self):
        try:
            yield from self.body
        finally:
            self.done()

    def close(self):
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            self.done()


@pytest.fixture(scope="session")
def live_server(app):
    """The app served on a free local port, sharing the test database."""
    from werkzeug.serving import make_server

    tracker = _InFlight(app)
    server = make_server("127.0.0.1", 0, tracker, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", tracker)
    server.shutdown()
    thread.join(timeout=60)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = (
            f"Chromium not found at {CHROMIUM}: install Debian's 'chromium' package "
            "(apt-get install chromium) or set CHROMIUM_PATH."
        )
        # In CI a missing browser is a failure, never a silent skip.
        if os.environ.get("CI") or os.environ.get("SOUKCHECK_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=BROWSER_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=BROWSER_TIMEOUT_MS
        )
        yield chromium
        chromium.close()


def phone_context(browser, *, scale: int = 2, **options):
    """A phone-sized browser context (390×844, touch) that waits as long as the machine needs."""
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=scale, **options
    )
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    context.set_default_navigation_timeout(BROWSER_TIMEOUT_MS)
    return context


@pytest.fixture
def phone(browser):
    """A fresh phone-sized browser context (390×844, touch), closed after the test."""
    context = phone_context(browser)
    page = context.new_page()
    yield page
    context.close()


def wait_until(page, expression: str, timeout: float = BROWSER_TIMEOUT_MS / 1000) -> None:
    """Wait for a JavaScript condition to hold, checking it again and again until it does.

    For what no element shows (a service worker in control, a cache filled); what the page
    shows is waited for with a locator. (``page.wait_for_function`` would compile the
    expression in the page, which our CSP forbids.) ``timeout`` is a bound, not a wait.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"async () => Boolean(await ({expression}))"):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(50)  # lets the page run between two checks
