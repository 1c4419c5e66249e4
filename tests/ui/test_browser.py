"""The dashboard in a real browser: Playwright driving Debian's Chromium, headless.

Open the runs list and filter it, open a run (its charts drawn by plotly.js), sort and
filter its jobs table, compare two runs, edit a scenario with an error and see the CLI's
file:line:field message, launch a small run, watch its progress and find it in the list.

A failed test leaves a screenshot in runs/test-artifacts/ui/. With GPUFLEET_UI_SCREENSHOTS=DIR
the tests also save the pictures docs/ui.md shows (`make screenshots`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from playwright import sync_api as playwright_api

from gpufleet.store import RunStore
from tests.plan.helpers import lab
from tests.ui.conftest import ARTIFACTS, LiveServer, failed

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SCREENSHOTS = os.environ.get("GPUFLEET_UI_SCREENSHOTS")


def find_browser() -> str | None:
    """$GPUFLEET_CHROMIUM, or the system's Chromium (Debian: /usr/bin/chromium)."""
    given = os.environ.get("GPUFLEET_CHROMIUM")
    if given:
        return given
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = find_browser()
    if executable is None:
        pytest.skip("no Chromium found (apt-get install chromium, as .ci/run does; or set GPUFLEET_CHROMIUM)")
    with playwright_api.sync_playwright() as playwright:
        # No sandbox: Chromium's refuses root, and CI containers often lack the namespaces it needs; the
        # browser only ever loads this test's own dashboard on loopback.
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[object]:  # noqa: ANN001
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    if failed(request.node):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def shot(page, name: str, height: int | None = None) -> None:  # noqa: ANN001
    """A picture for docs/ui.md (only with GPUFLEET_UI_SCREENSHOTS set): the window, or its top `height` pixels."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height} if height else None
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), clip=clip)


def test_runs_list_and_its_filters(page, live_server: LiveServer, keys: list[str], failed_key: str) -> None:  # noqa: ANN001
    page.goto("/")
    rows = page.locator("#runs-table tbody tr.run-row")
    store = RunStore(live_server.runs_dir / "store")
    assert rows.count() == len(store.keys())
    shot(page, "runs")
    page.select_option("select[name=status]", "failed")
    page.click("#runs-filter button[type=submit]")
    page.wait_for_url("**/?*status=failed*")
    assert [rows.nth(i).get_attribute("data-key") for i in range(rows.count())] == [failed_key]
    page.fill("input[name=q]", "no such run anywhere")
    page.select_option("select[name=status]", "")
    page.click("#runs-filter button[type=submit]")
    assert "No runs match" in page.inner_text("#runs-table")


def test_a_run_its_charts_and_its_jobs_table(page, live_server: LiveServer, keys: list[str]) -> None:  # noqa: ANN001
    key = keys[0]
    jobs = pq.read_table(RunStore(live_server.runs_dir / "store").table_path(key, "jobs"))
    page.goto(f"/runs/{key}")
    page.wait_for_selector("#main-0 .main-svg")  # plotly.js drew the report's capacity chart
    assert page.locator(".js-plotly-plot").count() >= 5
    shot(page, "run")
    # Sort by wait (longest first, as for every duration): the table is swapped in place, the address follows.
    page.click("#jobs-table a.sort[data-column=wait_s]")
    page.wait_for_url("**jsort=wait_s&jdesc=true**")
    page.wait_for_selector("#jobs-table th a.sort[data-column=wait_s]:has-text('▼')")
    first = page.locator("#jobs-table tbody tr").first.locator("td").first.inner_text()
    waits = jobs.filter(pc.invert(pc.is_nan(jobs["wait_s"])))
    longest = waits.sort_by([("wait_s", "descending")])["job_id"][0].as_py()
    assert int(first) == longest
    # Filter: jobs of 8 GPUs that waited at least an hour.
    page.select_option("#jobs-filter select[name=jsize]", "1-8")
    page.fill("#jobs-filter input[name=jmin]", "1")
    page.click("#jobs-filter button[type=submit]")
    page.wait_for_url("**jmin=1**")
    expected = pc.sum(pc.and_(pc.equal(jobs["size_class"], "1-8"),
                              pc.greater_equal(pc.fill_null(jobs["wait_s"], -1.0), 3600.0))).as_py()
    page.wait_for_selector(f"#jobs-pager:has-text('{expected:,} jobs')")
    shot(page, "jobs-table")
    # One job: why it waited, and its timeline.
    page.locator("#jobs-table tbody tr").first.locator("td a").first.click()
    page.wait_for_selector("#job-timeline .main-svg")
    shot(page, "job")


def test_compare_two_runs_from_the_list(page, keys: list[str]) -> None:  # noqa: ANN001
    page.goto("/")
    assert page.is_disabled("#compare-button")
    page.check(f"input[name=run][value='{keys[0]}']")
    page.check(f"input[name=run][value='{keys[1]}']")
    assert page.inner_text("#compare-button") == "Compare 2 runs"
    page.click("#compare-button")
    page.wait_for_url("**/compare?run=*")
    page.wait_for_selector("#compare-0 .main-svg")
    headers = page.locator("#compare-table thead th a")
    assert sorted(headers.nth(i).get_attribute("href") for i in range(headers.count())) == sorted(
        [f"/runs/{keys[0]}", f"/runs/{keys[1]}"])
    assert page.locator("#compare-table tbody tr", has_text="utilisation").count() >= 1
    shot(page, "compare")


def test_sweep_and_plan_pages(page) -> None:  # noqa: ANN001
    page.goto("/sweeps")
    page.click("a[href='/sweeps/grid']")
    page.wait_for_selector("#sweep-0 .main-svg")
    shot(page, "sweep")
    page.goto("/plans/deadline")
    page.wait_for_selector("#plan-0 .main-svg")
    shot(page, "plan")


def test_the_editor_shows_the_clis_message_as_you_type(page) -> None:  # noqa: ANN001
    page.goto("/new")
    page.wait_for_selector("#check-state.good")
    text = page.input_value("#scenario")
    page.fill("#scenario", text.replace("name: research-lab", "name: research-lab\ncolour: blue", 1))
    problem = page.wait_for_selector("#problems li.problem")
    assert problem.inner_text() == ("scenario.yaml:2: colour: unknown key (check the spelling; `gpufleet schema` "
                                    "lists the keys)")
    assert page.inner_text("#check-state") == "1 problem" and page.is_disabled("#start")
    assert page.locator("#scenario-gutter .bad").inner_text() == "2"
    shot(page, "editor-error")
    page.fill("#scenario", text)
    page.wait_for_selector("#check-state.good")
    assert page.locator("#problems li").count() == 0 and page.is_enabled("#start")


def test_start_a_run_watch_it_and_find_it_in_the_list(page, live_server: LiveServer) -> None:  # noqa: ANN001
    scenario = lab(end="2026-08-01").model_dump(mode="json", exclude_defaults=True)
    scenario["name"] = "from-the-browser"
    page.goto("/new")
    page.fill("#scenario", yaml.safe_dump(scenario, sort_keys=False))
    page.wait_for_selector("#check-state.good")
    page.fill("#seed", "42")
    page.click("#start")
    page.wait_for_url("**/jobs/*")
    # Every value the progress bar shows, as it shows it.
    page.evaluate("""() => { window.seen = []; new MutationObserver(() => window.seen.push(
        document.querySelector('#job-percent').textContent)).observe(document.querySelector('#job-percent'),
        {childList: true, characterData: true, subtree: true}); }""")
    page.wait_for_selector("#job-status:has-text('running')")
    page.wait_for_function("""() => { const shown = parseInt(document.querySelector('#job-percent').textContent);
        return (shown > 0 && shown < 100) || document.querySelector('#job-status').textContent !== 'running'; }""",
                           timeout=120_000)
    shot(page, "job-progress", height=320)
    page.wait_for_selector("#job-status:has-text('done')", timeout=120_000)
    seen = page.evaluate("window.seen")
    assert any(0 < int(value.rstrip("%")) < 100 for value in seen), seen
    assert seen[-1] == "100%" and page.inner_text("#job-counts").startswith("1 done, 0 failed of 1 runs")
    key = page.locator("#job-runs a").first.inner_text()
    page.goto("/")
    row = page.locator(f"#runs-table tr.run-row[data-key='{key}']")
    assert row.count() == 1 and "from-the-browser" in row.inner_text() and "ok" in row.inner_text()
    assert RunStore(live_server.runs_dir / "store").record(key).seed == 42
