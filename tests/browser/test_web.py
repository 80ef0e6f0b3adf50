"""The web dashboard in a real browser (Debian's chromium, headless, driven by Playwright).

Starts tocsin on a free port with a fresh SQLite database and two local target servers (one
answering 200, one answering 500), then walks the pages as a person would. Screenshots of
every page, at desktop width and at 375 px, go to the folder given with --out.

Run through tests/browser/run, which builds tocsin and installs what this needs.
"""

import argparse
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from playwright.sync_api import sync_playwright, expect

PASSWORD = "correct horse battery"
XSS = "<img src=x onerror=alert(1)>"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def target_server(status):
    """A local HTTP server answering every GET with `status`."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"ok\n" if status == 200 else b"broken\n"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            # A webhook receiver too: read the body, answer with the status.
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def start_tocsin(binary, folder):
    port = free_port()
    env = dict(os.environ)
    env = {k: v for k, v in env.items() if not k.startswith("TOCSIN_")}
    env.update(
        TOCSIN_LISTEN=f"127.0.0.1:{port}",
        TOCSIN_DATABASE_URL=f"sqlite://{folder}/tocsin.db",
        TOCSIN_ALLOW_PRIVATE_TARGETS="true",
        TOCSIN_MIN_INTERVAL="1s",
        TOCSIN_AUTH_RATE_PER_MINUTE="0",
        TOCSIN_LOG="warn",
    )
    log = open(os.path.join(folder, "tocsin.log"), "w")
    process = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                if r.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("tocsin did not start: see " + log.name)


class Run:
    def __init__(self, base, out, axe_source):
        self.base = base
        self.out = out
        self.axe_source = axe_source
        self.failures = []
        self.checks = 0
        self.foreign = []

    def check(self, what, ok, detail=""):
        self.checks += 1
        print(("ok   " if ok else "FAIL ") + what + (f": {detail}" if detail and not ok else ""))
        if not ok:
            self.failures.append(what)

    def watch(self, context):
        """Records any request to another origin (none may happen)."""

        def on_request(request):
            url = request.url
            if not (url.startswith(self.base + "/") or url.startswith("data:")):
                self.foreign.append(url)

        context.on("request", on_request)

    def shoot(self, page, name):
        """Screenshots `page` at desktop width and at 375 px, and checks that nothing
        scrolls sideways at 375 px."""
        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=os.path.join(self.out, f"{name}-desktop.png"), full_page=True)
        page.set_viewport_size({"width": 375, "height": 812})
        page.screenshot(path=os.path.join(self.out, f"{name}-375.png"), full_page=True)
        wide = page.evaluate("document.documentElement.scrollWidth")
        self.check(f"{name}: no horizontal scrolling at 375 px", wide <= 375, f"{wide} px wide")
        page.set_viewport_size({"width": 1280, "height": 800})


def monitor_state(page, monitor_id):
    return page.locator(f'[data-state-of="{monitor_id}"]').first


def add_monitor(page, base, url, name, failure_threshold="1"):
    page.goto(base + "/app/monitors/new")
    page.get_by_label("URL").fill(url)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Check every (seconds)").fill("1")
    page.get_by_label("Failed checks in a row before down").fill(failure_threshold)
    page.get_by_role("button", name="Save monitor").click()
    page.wait_for_url(base + "/app/monitors/*")
    return page.url.rsplit("/", 1)[1].split("?")[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--axe", required=True, help="path to axe.min.js")
    parser.add_argument("--out", required=True, help="folder for screenshots")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with open(args.axe) as f:
        axe_source = f.read()

    up_server, up_url = target_server(200)
    down_server, down_url = target_server(500)
    folder = tempfile.mkdtemp(prefix="tocsin-browser-")
    process, base = start_tocsin(args.binary, folder)
    run = Run(base, args.out, axe_source)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
            )
            try:
                walk(run, browser, base, up_url, down_url)
            finally:
                browser.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        up_server.shutdown()
        down_server.shutdown()
    run.check("no request to any other origin", not run.foreign, ", ".join(run.foreign[:5]))
    print(f"{run.checks - len(run.failures)} of {run.checks} checks passed; screenshots in {args.out}")
    if run.failures:
        print("failed: " + "; ".join(run.failures))
        sys.exit(1)


def walk(run, browser, base, up_url, down_url):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    run.watch(context)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    console_errors = []
    page.on("pageerror", lambda e: console_errors.append(str(e)))

    # A visitor lands on the login page.
    page.goto(base + "/")
    run.check("/ sends a visitor to /app/login", page.url == base + "/app/login", page.url)
    run.shoot(page, "login")

    # Register through the form.
    page.get_by_role("link", name="Create one").click()
    run.shoot(page, "register")
    email = f"browser{int(time.time())}@example.com"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(base + "/app")
    run.check("registering opens the dashboard", page.url == base + "/app", page.url)
    run.shoot(page, "dashboard-empty")

    # Validation errors beside the field, with the API's message.
    page.goto(base + "/app/monitors/new")
    page.get_by_label("URL").fill("ftp://example.com")
    page.get_by_label("Check every (seconds)").fill("often")
    page.get_by_role("button", name="Save monitor").click()
    error = page.locator("#f-interval_seconds-error")
    run.check(
        "a bad number is refused beside its field",
        error.is_visible() and "interval_seconds: must be a whole number" in error.inner_text(),
    )
    run.check(
        "the error belongs to its input",
        page.locator("#f-interval_seconds").get_attribute("aria-describedby", timeout=1000)
        is not None,
    )
    page.get_by_label("Check every (seconds)").fill("60")
    page.get_by_role("button", name="Save monitor").click()
    url_error = page.locator("#f-url-error")
    run.check(
        "a bad URL is refused beside the URL field with the API's message",
        url_error.is_visible() and "url: scheme `ftp` is not supported" in url_error.inner_text(),
    )
    run.shoot(page, "new-monitor-error")

    # The dashboard stays open in one tab while monitors are added in another: they turn up,
    # then turn up/down, without a reload.
    dashboard = context.new_page()
    dashboard.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    dashboard.goto(base + "/app")
    dashboard.evaluate("window.__notReloaded = true")
    up_id = add_monitor(page, base, up_url, "Local up")
    down_id = add_monitor(page, base, down_url, "Local down")
    try:
        expect(monitor_state(dashboard, up_id)).to_have_text("up", timeout=20000)
        run.check("a new monitor turns up on the open dashboard, then up", True)
    except AssertionError as e:
        run.check("a new monitor turns up on the open dashboard, then up", False, str(e)[:200])
    try:
        expect(monitor_state(dashboard, down_id)).to_have_text("down", timeout=20000)
        run.check("a failing monitor turns down on the open dashboard", True)
    except AssertionError as e:
        run.check("a failing monitor turns down on the open dashboard", False, str(e)[:200])
    run.check(
        "without a reload",
        dashboard.evaluate("window.__notReloaded === true"),
    )
    # The monitor page follows too.
    page.goto(base + f"/app/monitors/{down_id}")
    expect(monitor_state(page, down_id)).to_have_text("down", timeout=10000)

    # XSS: the name shows as text.
    xss_id = add_monitor(page, base, up_url, XSS)
    heading = page.locator("h1").inner_text()
    run.check("a monitor named like markup shows as text", XSS in heading, heading)
    page.goto(base + "/app")
    run.check(
        "no element came from the name",
        page.locator('img[src="x"]').count() == 0 and not dialogs,
        str(dialogs),
    )
    run.check(
        "the dashboard lists it by its literal name",
        page.get_by_role("link", name=XSS).count() == 1,
    )
    time.sleep(3)  # a few checks for the charts
    page.goto(base + "/app")
    run.shoot(page, "dashboard")
    page.goto(base + f"/app/monitors/{up_id}")
    run.shoot(page, "monitor")
    page.goto(base + f"/app/monitors/{up_id}/edit")
    run.shoot(page, "edit-monitor")
    page.goto(base + "/app/account")
    # An API key made on the account page: shown once, works as Bearer, revoked there.
    page.get_by_label("Name").fill("browser key")
    page.get_by_label("Scope").select_option("read")
    page.get_by_role("button", name="Make key").click()
    key = page.locator("[data-api-key]").inner_text().strip()
    run.check("the new API key is shown once", len(key) > 20 and "not shown again" in page.content())
    run.check("the API key works as Bearer", api_status(base, key) == 200)
    page.goto(base + "/app/account")
    run.check("the key is listed, never shown again", key not in page.content()
              and page.locator("td", has_text="browser key").count() == 1)
    page.get_by_role("button", name="Revoke browser key").click()
    page.wait_for_url(base + "/app/account#api-keys")
    run.check("a revoked API key is refused", api_status(base, key) == 401)
    run.shoot(page, "account")
    page.goto(base + "/app/incidents")
    run.check(
        "the failing monitor's incident is listed, open",
        page.locator("tbody tr", has_text="Local down").filter(has_text="open").count() >= 1,
    )
    run.shoot(page, "incidents")
    page.goto(base + "/app/maintenance")
    page.get_by_label("Name").fill("Database upgrade")
    page.get_by_label("Starts at (UTC)").fill("2030-01-01T22:00")
    page.get_by_label("Ends at (UTC)").fill("2030-01-01T23:00")
    page.get_by_label("Local down").check()
    page.get_by_role("button", name="Add window").click()
    run.check(
        "a maintenance window through the form",
        settles(page.locator("tbody tr td").first, "Database upgrade"),
    )
    run.shoot(page, "maintenance")
    page.goto(base + "/app/status-pages")
    page.get_by_label("Address (slug)").fill("local")
    page.get_by_label("Title").fill("Local services")
    page.locator("fieldset").get_by_label("Local up").check()
    page.get_by_role("button", name="Make status page").click()
    run.check(
        "a status page through the form, with its badge to embed",
        settles(page.locator("section.card h2").first, "Local services")
        and f"/status/local/badges/{up_id}/status.svg" in page.locator("section.card").inner_text(),
    )
    run.shoot(page, "status-pages")
    page.get_by_role("link", name="/status/local").click()
    page.wait_for_url(base + "/status/local")
    run.check("its public page opens", "Local services" in page.locator("body").inner_text())
    page.goto(base + "/app/channels")
    page.get_by_label("Name").fill("Local hook")
    page.get_by_label("Kind").select_option("webhook")
    page.get_by_label("URL (webhook, slack, discord, teams)").fill(up_url)
    page.get_by_role("button", name="Add channel").click()
    page.get_by_role("button", name="Send a test to Local hook").click()
    run.check(
        "a channel through the form, and its test send",
        settles(page.locator("p.notice"), "The test was delivered."),
    )
    run.shoot(page, "channels")

    # Search and filter, on the server.
    page.goto(base + "/app?state=down")
    names = page.locator("ul.monitors li .who a").all_inner_texts()
    run.check("filtering by state", names == ["Local down"], str(names))
    page.goto(base + "/app?q=LOCAL%20UP")
    names = page.locator("ul.monitors li .who a").all_inner_texts()
    run.check("searching by name", names == ["Local up"], str(names))

    # CSRF: the form without its token is refused, and nothing changes.
    before = page.goto(base + "/app").ok and page.locator("ul.monitors > li").count()
    page.goto(base + "/app/monitors/new")
    page.evaluate("document.querySelector('main form input[name=csrf]').remove()")
    page.get_by_label("URL").fill(up_url)
    page.get_by_label("Name").fill("should not exist")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Save monitor").click()
    run.check("a post without the CSRF token is refused (403)", posted.value.status == 403)
    page.goto(base + "/app")
    after = page.locator("ul.monitors > li").count()
    run.check("and nothing changed", before == after, f"{before} -> {after}")

    # Accessibility: axe-core on every page, in a context that lets the scan's script in
    # (the pages' own policy allows no injected script).
    scan = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    run.watch(scan)
    scan.add_cookies(context.cookies())
    scan_page = scan.new_page()
    for path in ["/app", f"/app/monitors/{up_id}", f"/app/monitors/{up_id}/edit",
                 f"/app/monitors/{down_id}", "/app/monitors/new", "/app/account",
                 "/app/incidents", "/app/maintenance", "/app/status-pages", "/app/channels"]:
        axe_scan(run, scan_page, base + path)
    scan.clear_cookies()
    for path in ["/app/login", "/app/register"]:
        axe_scan(run, scan_page, base + path)
    scan.close()
    # The dark theme follows the system, and keeps its contrast.
    dark = browser.new_context(
        viewport={"width": 1280, "height": 800}, bypass_csp=True, color_scheme="dark"
    )
    run.watch(dark)
    dark.add_cookies(context.cookies())
    dark_page = dark.new_page()
    for path in ["/app", f"/app/monitors/{up_id}"]:
        axe_scan(run, dark_page, base + path, "dark")
    dark_page.goto(base + "/app")
    background = dark_page.evaluate("getComputedStyle(document.body).backgroundColor")
    run.check("the dark theme follows the system", background == "rgb(17, 20, 23)", background)
    dark_page.screenshot(path=os.path.join(run.out, "dashboard-dark-desktop.png"), full_page=True)
    dark.close()

    # Edit, pause and resume through the monitor's page.
    page.goto(base + f"/app/monitors/{up_id}/edit")
    page.get_by_label("Name").fill("Local up (edited)")
    page.get_by_role("button", name="Save monitor").click()
    page.wait_for_url(base + f"/app/monitors/{up_id}")
    run.check("edit", "Local up (edited)" in page.locator("h1").inner_text())
    page.get_by_role("button", name="Pause").click()
    run.check("pause", settles(monitor_state(page, up_id), "paused")
              and settles(page.locator("div.actions button").nth(0), "Resume"))
    page.get_by_role("button", name="Resume").click()
    run.check("resume", settles(page.locator("div.actions button").nth(0), "Pause"))

    # Keyboard: the skip link is the first stop and leads to the content.
    page.goto(base + "/app")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    run.check("the first Tab reaches the skip link", focused == "Skip to content", focused)

    # Delete through the page.
    page.goto(base + f"/app/monitors/{xss_id}")
    page.get_by_role("link", name="Delete").click()
    page.wait_for_url(base + f"/app/monitors/{xss_id}/delete")
    run.check("delete asks first", XSS in page.locator("h1").inner_text())
    run.shoot(page, "delete-monitor")
    page.get_by_role("button", name="Delete for good").click()
    page.wait_for_url(base + "/app")
    run.check("delete", page.get_by_role("link", name=XSS).count() == 0)

    # Logout ends the session: the dashboard asks for a login again.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(base + "/app/login")
    page.goto(base + "/app")
    run.check("after logout the dashboard needs a login", page.url == base + "/app/login", page.url)

    # Log in again through the form.
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/app")
    run.check("login through the form", page.url == base + "/app")

    # A password change through the account page; the old password stops working.
    page.goto(base + "/app/account")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill("a brand new password")
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url(base + "/app/account?changed=1")
    run.check("password change", "password is changed" in page.locator("main").inner_text())
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(base + "/app/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    run.check(
        "the old password no longer logs in",
        "wrong email or password" in page.locator("main").inner_text(),
    )
    run.check("no script errors", not console_errors, "; ".join(console_errors[:3]))
    context.close()


def api_status(base, key):
    """The status of `GET /api/v1/monitors` with `key` as Bearer (no cookie)."""
    request = urllib.request.Request(base + "/api/v1/monitors",
                                     headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def settles(locator, text, timeout=5000):
    """Whether `locator` shows `text` within `timeout` ms."""
    try:
        expect(locator).to_have_text(text, timeout=timeout)
        return True
    except AssertionError:
        return False


def axe_scan(run, page, url, theme="light"):
    page.goto(url)
    page.add_script_tag(content=run.axe_source)
    result = page.evaluate("async () => (await axe.run(document)).violations")
    bad = [v for v in result if v.get("impact") in ("serious", "critical")]
    path = url.split("127.0.0.1", 1)[1]
    run.check(
        f"axe: no serious or critical violation on {path} ({theme})",
        not bad,
        json.dumps([(v["id"], v["impact"], len(v["nodes"])) for v in bad]),
    )


if __name__ == "__main__":
    main()
