"""Pages under test: in-process (TestClient) and in a real browser (Playwright driving
Debian's /usr/bin/chromium).

- `world_template`: a small demo shop (200 customers, seed 42, scored today) built once
  per worker on SQLite; each test gets its own copy (`world`).
- `live_server`: one Uvicorn server per xdist worker, on a free port, in a thread; each
  test plugs its own app (its own database copy) into it, so tests never share data.
- `browser` / `page` / `signed_in_page`: Chromium launched by Playwright from
  /usr/bin/chromium (never `playwright install`). Without chromium the browser tests
  are skipped, by name; with KEEPWELL_REQUIRE_BROWSER=1 (CI) that is a failure.
- `shoot(page, name)`: saves docs/screenshots/NAME.png when KEEPWELL_SCREENSHOTS=1.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from keepwell import clock, db
from keepwell.accounts.models import TeamMember
from keepwell.accounts.passwords import hash_password
from keepwell.ingest.demo import build_world
from keepwell.ingest.demo_data import TEAM
from keepwell.scoring.service import score
from keepwell.web.app import create_app

CHROMIUM = Path(os.environ.get("KEEPWELL_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"  # every demo member's, in these tests
ADMIN = TEAM[0][1]  # anna@keepwell.example: an admin with a full agenda
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
BROWSER_SKIPS = "browser tests skipped"


def browser_required() -> bool:
    return os.environ.get("KEEPWELL_REQUIRE_BROWSER", "") not in ("", "0")


# --- the world ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A demo shop of 200 customers with scores, every member's password PASSWORD."""
    path = tmp_path_factory.mktemp("web") / "world.db"
    shutil.copy(sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    build_shop(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@dataclass
class World:
    engine: Engine
    path: Path

    def scalar(self, statement: Any) -> Any:
        with db.transaction(self.engine) as session:
            return session.scalar(statement)

    def member_id(self, email: str) -> int:
        found = self.scalar(sa.select(TeamMember.id).where(TeamMember.email == email))
        assert found is not None
        return int(found)


@pytest.fixture
def world(tmp_path: Path, world_template: Path) -> Iterator[World]:
    """This test's own copy of the demo shop."""
    path = tmp_path / "world.db"
    shutil.copy(world_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    yield World(engine, path)
    engine.dispose()


@functools.cache
def password_hash() -> str:
    """PASSWORD's Argon2 hash, made once (hashing is slow on purpose)."""
    return hash_password(PASSWORD)


def build_shop(engine: Engine) -> None:
    """The demo shop in an empty, migrated database: 200 customers, scored today, and
    every member's password PASSWORD."""
    build_world(engine, customers=200, seed=42, today=clock.today())
    score(engine, clock.today())
    with db.transaction(engine) as session:
        for member in session.scalars(sa.select(TeamMember)):
            member.password_hash = password_hash()


@pytest.fixture
def shop(engine: Engine) -> World:
    """The demo shop on SQLite and on PostgreSQL (the `engine` fixture's database)."""
    build_shop(engine)
    return World(engine, Path())


@pytest.fixture
def web(shop: World) -> Iterator[TestClient]:
    """A browser-like client signed in as the demo admin (cookies, CSRF token), on
    SQLite and on PostgreSQL."""
    client = TestClient(create_app(shop.engine), base_url="https://testserver")
    with client:
        answer = client.post(
            "/sign-in", data={"email": ADMIN, "password": PASSWORD}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text
        yield client


# --- a live server -----------------------------------------------------------------


class Switch:
    """An ASGI app that hands each request to whichever app the current test plugged in."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": f"{message['type']}.complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert self.app is not None, "no app plugged in"
        await self.app(scope, receive, send)


@dataclass
class LiveServer:
    url: str
    switch: Switch


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """Uvicorn on 127.0.0.1 and a free port (each xdist worker its own), in a thread."""
    import uvicorn

    switch = Switch()
    port = _free_port()
    config = uvicorn.Config(switch, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="keepwell-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the live server did not start", pytrace=False)
        time.sleep(0.02)
    yield LiveServer(f"http://127.0.0.1:{port}", switch)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def served(live_server: LiveServer, world: World) -> Iterator[LiveServer]:
    """The live server, answering from this test's world (secure cookies on, as in
    `keepwell serve`: browsers keep them on http://127.0.0.1)."""
    live_server.switch.app = create_app(world.engine)
    yield live_server
    live_server.switch.app = None


# --- the browser -------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Chromium from Debian's package, driven by Playwright (one per xdist worker)."""
    if not CHROMIUM.exists():
        reason = f"{BROWSER_SKIPS}: no Chromium at {CHROMIUM} (apt-get install chromium)"
        if browser_required():
            pytest.fail(reason + " — KEEPWELL_REQUIRE_BROWSER=1 requires it", pytrace=False)
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = f"{BROWSER_SKIPS}: the playwright package is not installed"
        if browser_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, served: LiveServer) -> Iterator[Any]:
    """A fresh browser tab (desktop size) on this test's desk (relative URLs work)."""
    context = browser.new_context(viewport=DESKTOP, base_url=served.url)
    # generous: the machine may be busy with other tests (xdist workers, other suites)
    context.set_default_timeout(30_000)
    context.set_default_navigation_timeout(60_000)
    tab = context.new_page()
    yield tab
    context.close()


def sign_in(tab: Any, email: str = ADMIN, password: str = PASSWORD, path: str = "/") -> None:
    tab.goto(path)
    tab.get_by_label("E-mail address").fill(email)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_load_state()


@pytest.fixture
def signed_in_page(page: Any) -> Any:
    """The tab, signed in as the demo admin, on Today."""
    sign_in(page)
    return page


def shoot(tab: Any, name: str, *, full_page: bool = False) -> Path | None:
    """Save a screenshot to docs/screenshots/NAME.png when KEEPWELL_SCREENSHOTS=1."""
    if os.environ.get("KEEPWELL_SCREENSHOTS", "") in ("", "0"):
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=full_page)
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = [
        r.nodeid for r in terminalreporter.stats.get("skipped", []) if BROWSER_SKIPS in str(r.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"browser tests SKIPPED ({len(skipped)}: no Chromium): " + ", ".join(skipped)
        )
