"""Page weight on a slow phone: requests and bytes of the inspector's pages, first and repeat.

Serves the app (werkzeug in a thread, on 127.0.0.1) on a temporary SQLite database seeded with
``flask seed --stalls 60``, then loads the login, stall search, stall, checklist and result
pages in Chromium (Playwright, Debian's /usr/bin/chromium) as an inspector would, at phone size.

For each page it prints the requests that went to the network and the bytes they carried on a
first visit (a browser with an empty cache, logged in) and on a repeat visit (the same
browser, the page opened again). Requests to any other host are counted as third-party.
Bytes are counted by the server as it sends them (compressed body and headers), so a page
the service worker fetches is counted too; the requests are attributed to the page when the
page asked for them (DevTools protocol). What the service worker downloads by itself after
the page has loaded (installing the offline app: its script, the shell page, offline.js, the
region's stalls) is shown apart, as background.

    .venv/bin/python bench/pageweight.py

Then the first paint of the checklist page on slow 3G (400 kbit/s both ways, 400 ms round
trip, emulated through the DevTools protocol's ``Network.emulateNetworkConditions``, cache
off): first contentful paint, the median of five loads. And whether the first 14 KB the server
sends (the first round trip of a new TCP connection: ten segments) hold everything above the
fold: the page is rendered from its whole HTML and again from only what fits in those 14 KB
(headers included, the compressed body cut there and decompressed as far as it goes), both
with every other request refused, and the two screens at 390×844 must be the same pixels.

Last line: ``pageweight checklist_first_kb=<n> checklist_requests=<n> checklist_repeat_kb=<n>
third_party_requests=<n> checklist_fcp_ms=<n> fold_in_14kb=<yes|no>``. Targets: checklist
page ≤ 30 KB in ≤ 6 requests on a first visit, ≤ 8 KB on a repeat visit, no third-party
request, first contentful paint ≤ 600 ms on slow 3G, the fold in the first 14 KB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
INSPECTOR = "inspecteur.rabat"
PASSWORD = "soukcheck-demo"


def prepare(folder: Path) -> dict[str, str]:
    """A seeded database and an upload folder; the environment the app reads its settings from."""
    env = dict(os.environ)
    env.update(
        FLASK_APP="compliance:create_app",
        DATABASE_URL=f"sqlite:///{folder / 'bench.db'}",
        UPLOAD_DIR=str(folder / "uploads"),
        SOUKCHECK_ENV="development",
    )
    flask = str(Path(sys.executable).parent / "flask")
    for command in (["db", "upgrade"], ["seed", "--stalls", "60"]):
        subprocess.run(
            [flask, *command], env=env, cwd=ROOT, check=True, capture_output=True, text=True
        )
    return env


class Tally:
    """Bytes the server sent, by phase: what the page loaded vs. what came after (background)."""

    def __init__(self, app):
        self.app = app
        self.phase = "setup"
        self.lock = threading.Lock()
        self.seen: dict[str, list[tuple[str, int]]] = {}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") + (
            "?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""
        )
        size = [0]

        def counting_start(status, headers, exc_info=None):
            size[0] += len(status) + sum(len(k) + len(v) + 4 for k, v in headers) + 15
            return start_response(status, headers, exc_info)

        for chunk in self.app(environ, counting_start):
            size[0] += len(chunk)
            yield chunk
        with self.lock:
            self.seen.setdefault(self.phase, []).append((path, size[0]))


def serve(env: dict[str, str]):
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from werkzeug.serving import make_server

    from compliance import create_app

    app = create_app()
    tally = Tally(app.wsgi_app)
    app.wsgi_app = tally
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, tally, server, f"http://127.0.0.1:{server.server_port}"


def targets(app) -> dict[str, str]:
    """The pages to load: a stall of the inspector's region, a draft and a submitted visit."""
    from sqlalchemy import select

    from compliance import campaigns, inspections
    from compliance.access import scope_stalls
    from compliance.extensions import db
    from compliance.models import SUBMITTED, Inspection, Stall, User

    with app.app_context():
        inspector = db.session.scalar(select(User).where(User.username == INSPECTOR))
        stall = db.session.scalars(
            scope_stalls(select(Stall), inspector).order_by(Stall.code)
        ).first()
        draft = inspections.start(str(uuid.uuid4()), stall, inspector, campaigns.for_stall(stall))
        done = db.session.scalar(
            select(Inspection)
            .where(Inspection.inspector_id == inspector.id, Inspection.status == SUBMITTED)
            .limit(1)
        )
        return {
            "search": f"/inspect/?q={stall.code}",
            "stall": f"/inspect/stalls/{stall.id}",
            "checklist": f"/inspect/inspections/{draft.id}",
            "result": f"/inspect/inspections/{done.id}/result",
        }


class Meter:
    """What one page load asked for, from the DevTools protocol (the server says what it sent)."""

    def __init__(self, context, page, origin: str):
        self.origin = origin
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.urls: list[str] = []
        self.cdp.on("Network.requestWillBeSent", lambda e: self.urls.append(e["request"]["url"]))

    def reset(self):
        self.urls = []

    def summary(self, sent: list[tuple[str, int]]) -> dict:
        """Split what the server sent during the visit: the page's own requests, the rest."""
        asked = {url.removeprefix(self.origin) for url in self.urls}
        page = [(path, size) for path, size in sent if path in asked]
        background = [(path, size) for path, size in sent if path not in asked]
        return {
            "requests": len(page),
            "kb": sum(size for _, size in page) / 1024,
            "urls": page,
            "background": background,
            "third_party": sum(1 for url in self.urls if not url.startswith(self.origin)),
        }


def measure(browser, base: str, pages: dict[str, str], state, tally) -> dict[str, dict]:
    results = {}
    for name, path in pages.items():
        context = browser.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            storage_state=state if name != "login" else None,
        )
        page = context.new_page()
        meter = Meter(context, page, base)
        runs = {}
        for visit in ("first", "repeat"):
            meter.reset()
            tally.phase = phase = f"{name}-{visit}"
            page.goto(base + path, wait_until="networkidle")
            page.wait_for_timeout(1500)  # let idle-time work (the service worker) finish
            tally.phase = "between"
            runs[visit] = meter.summary(tally.seen.get(phase, []))
        results[name] = runs
        context.close()
    return results


SLOW_3G = {
    "offline": False,
    "latency": 400,  # ms, added to every round trip
    "downloadThroughput": 400_000 / 8,  # bytes per second
    "uploadThroughput": 400_000 / 8,
}
FIRST_FLIGHT = 14 * 1024


def first_paint(browser, base: str, path: str, state, runs: int = 5) -> float:
    """Median first contentful paint (ms from navigation start) of ``path`` on slow 3G."""
    import statistics

    times = []
    for _ in range(runs):
        context = browser.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            storage_state=state,
            service_workers="block",
        )
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        page.goto(base + path, wait_until="load")
        page.wait_for_function(
            "performance.getEntriesByName('first-contentful-paint').length > 0", polling=100
        )
        times.append(
            page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")
        )
        context.close()
    return statistics.median(times)


def first_flight(base: str, path: str, state) -> tuple[bytes, bytes, int]:
    """The page's HTML whole, and as far as the first 14 KB on the wire carry it."""
    import http.client
    from urllib.parse import urlsplit

    import brotli

    cookies = "; ".join(f"{c['name']}={c['value']}" for c in state["cookies"])
    where = urlsplit(base)
    conn = http.client.HTTPConnection(where.hostname, where.port)
    conn.request("GET", path, headers={"Cookie": cookies, "Accept-Encoding": "br, gzip"})
    response = conn.getresponse()
    body = response.read()
    head = (
        len(f"HTTP/1.1 {response.status} {response.reason}\r\n")
        + sum(len(k) + len(v) + 4 for k, v in response.getheaders())
        + 2
    )
    encoding = response.getheader("Content-Encoding")
    conn.close()
    cut = body[: max(0, FIRST_FLIGHT - head)]
    if encoding == "br":
        whole, part = brotli.decompress(body), brotli.Decompressor().process(cut)
    elif encoding == "gzip":
        import zlib

        whole = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        part = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(cut)
    else:
        whole, part = body, cut
    return whole, part, head + len(body)


def _only_the_page(url: str, html: bytes):
    # (A handler of one argument: Playwright passes the request too to one that takes two.)
    def answer(route) -> None:
        if route.request.url == url:
            route.fulfill(status=200, body=html, content_type="text/html; charset=utf-8")
        else:
            route.abort()  # the HTML alone: no stylesheet, script or image file

    return answer


def fold_in_first_flight(browser, base: str, path: str, state) -> tuple[bool, int]:
    """Whether the first 14 KB render the same first screen as the whole HTML."""
    whole, part, size = first_flight(base, path, state)
    shots = []
    for html in (whole, part):
        context = browser.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            storage_state=state,
            service_workers="block",
        )
        page = context.new_page()
        page.route("**/*", _only_the_page(base + path, html))
        page.goto(base + path, wait_until="load")
        shots.append(page.screenshot())
        context.close()
    return shots[0] == shots[1], size


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="soukcheck-pageweight-") as folder:
        env = prepare(Path(folder))
        app, tally, server, base = serve(env)
        pages = {"login": "/login", **targets(app)}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            login = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
            page = login.new_page()
            page.goto(base + "/login")
            page.fill("input[name=username]", INSPECTOR)
            page.fill("input[name=password]", PASSWORD)
            page.locator("form:has(input[name=password]) button[type=submit]").click()
            page.wait_for_url("**/inspect/round")
            state = login.storage_state()
            login.close()
            results = measure(browser, base, pages, state, tally)
            fcp = first_paint(browser, base, pages["checklist"], state)
            fold, html_bytes = fold_in_first_flight(browser, base, pages["checklist"], state)
            browser.close()
        server.shutdown()

    print(f"{'page':<10} {'visit':<7} {'requests':>8} {'KB':>6}  {'background':>12}  what")
    for name, runs in results.items():
        for visit, run in runs.items():
            extra = run["background"]
            background = f"{len(extra)} / {sum(s for _, s in extra) / 1024:.1f} KB"
            what = ", ".join(f"{url.split('?')[0]} {size / 1024:.1f}" for url, size in run["urls"])
            print(
                f"{name:<10} {visit:<7} {run['requests']:>8} {run['kb']:>6.1f}  "
                f"{background:>12}  {what}"
            )
    third = sum(run["third_party"] for runs in results.values() for run in runs.values())
    checklist = results["checklist"]
    print(f"checklist HTML on the wire: {html_bytes / 1024:.1f} KB (first flight: 14 KB)")
    print(
        f"pageweight checklist_first_kb={checklist['first']['kb']:.1f} "
        f"checklist_requests={checklist['first']['requests']} "
        f"checklist_repeat_kb={checklist['repeat']['kb']:.1f} third_party_requests={third} "
        f"checklist_fcp_ms={fcp:.0f} fold_in_14kb={'yes' if fold else 'no'}"
    )


if __name__ == "__main__":
    main()
