"""The FastAPI application: API, webhooks, health and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from shepherd import __version__
from shepherd.bootstrap import Shepherd
from shepherd.entrypoints.web import (
    alert_routes,
    api,
    gates,
    health_routes,
    openapi,
    pages,
    redact,
    rollback_routes,
    slack_routes,
    webhooks,
)
from shepherd.entrypoints.web.delivery_routes import router as delivery_router
from shepherd.entrypoints.web.errors import BodyLimit, install_error_handlers
from shepherd.entrypoints.web.incident_routes import router as incident_router
from shepherd.services.worker import Worker


def create_app(shepherd: Shepherd, *, insecure_dev: bool = False, embedded_worker: bool = True) -> FastAPI:
    worker: Worker | None = shepherd.worker() if embedded_worker else None
    redact.install()  # before any request is logged

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    docs = shepherd.settings.api_docs
    app = FastAPI(
        title="Shepherd",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    openapi.install(app)
    app.state.shepherd = shepherd
    app.state.insecure_dev = insecure_dev
    app.state.worker = worker
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    app.include_router(api.router)
    app.include_router(rollback_routes.router)
    app.include_router(incident_router)
    app.include_router(delivery_router)
    app.include_router(webhooks.router)
    app.include_router(alert_routes.router)
    app.include_router(slack_routes.router)
    app.include_router(pages.router)
    app.include_router(gates.router)
    app.include_router(health_routes.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static")

    return app
