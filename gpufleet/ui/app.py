"""The dashboard as a FastAPI application: pages rendered on the server, a JSON API beside
them, the guards around both, and the background jobs' life cycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from gpufleet import __version__
from gpufleet.ui import routes_api, routes_pages
from gpufleet.ui.runs import RunNotFoundError
from gpufleet.ui.security import BodyLimit, Guard
from gpufleet.ui.settings import UiSettings
from gpufleet.ui.state import make_state, package_folder, ui_state


def create_app(settings: UiSettings) -> FastAPI:
    """The dashboard over `settings.runs_dir` (see `UiSettings` for the guards and limits)."""
    state = make_state(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        del app  # Unused.
        await state.jobs.start()
        try:
            yield
        finally:
            await state.jobs.stop()

    app = FastAPI(title="gpufleet", version=__version__, lifespan=lifespan, docs_url="/api/docs",
                  redoc_url=None, openapi_url="/api/openapi.json")
    app.state.ui = state
    app.include_router(routes_api.router)
    app.include_router(routes_pages.router)
    app.mount("/static", StaticFiles(directory=str(package_folder("static"))), name="static")
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RunNotFoundError, _run_not_found)
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes)
    app.add_middleware(Guard, settings=settings)
    return app


async def _http_error(request: Request, error: Exception) -> Response:
    """Errors as JSON for the API and scripts, as a page for a browser."""
    assert isinstance(error, StarletteHTTPException)
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
    return ui_state(request).templates.TemplateResponse(
        request, "error.html", {"status": error.status_code, "detail": error.detail}, status_code=error.status_code)


async def _run_not_found(request: Request, error: Exception) -> Response:
    """A run that went (or is a link planted in the store) between listing and reading it."""
    return await _http_error(request, StarletteHTTPException(404, f"no run with the key {error} in the store"))
