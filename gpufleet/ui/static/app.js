// gpufleet dashboard: small enhancements over server-rendered pages (every page works without them).
"use strict";

function $(selector, root) { return (root || document).querySelector(selector); }
function $all(selector, root) { return Array.from((root || document).querySelectorAll(selector)); }

async function postJSON(url, body) {
  const response = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                     body: JSON.stringify(body || {})});
  let data = null;
  try { data = await response.json(); } catch (error) { data = null; }
  return {status: response.status, data: data};
}

// --- The run page: the jobs table is sorted, filtered and paged in place.
function jobsTable() {
  const holder = $("#jobs");
  if (!holder) return;
  const fragment = holder.dataset.fragment;
  async function load(query) {
    holder.classList.add("loading");
    const response = await fetch(fragment + "?" + query, {headers: {"Accept": "text/html"}});
    if (response.ok) {
      holder.innerHTML = await response.text();
      history.replaceState(null, "", location.pathname + "?" + query + "#jobs-heading");
    }
    holder.classList.remove("loading");
  }
  holder.addEventListener("click", (event) => {
    const link = event.target.closest("a.sort, a.page");
    if (!link || !holder.contains(link)) return;
    event.preventDefault();
    load(new URL(link.href).searchParams.toString());
  });
  holder.addEventListener("submit", (event) => {
    if (event.target.id !== "jobs-filter") return;
    event.preventDefault();
    const params = new URLSearchParams(new FormData(event.target));
    for (const [key, value] of Array.from(params.entries())) { if (value === "") params.delete(key); }
    load(params.toString());
  });
}

// --- The runs list: compare what is ticked.
function compareRuns() {
  const form = $("#compare-form");
  if (!form) return;
  const button = $("#compare-button");
  function update() {
    const ticked = $all("input[name=run]:checked", form).length;
    button.disabled = ticked < 2;
    button.textContent = ticked < 2 ? "Compare selected (tick two or more)" : `Compare ${ticked} runs`;
  }
  form.addEventListener("change", update);
  update();
}

// --- The scenario editor: line numbers, checks as you type, start.
function gutter(textarea, pre, badLines) {
  const count = textarea.value.split("\n").length;
  const lines = [];
  for (let i = 1; i <= count; i++) {
    lines.push(badLines.has(i) ? `<span class="bad">${i}</span>` : String(i));
  }
  pre.innerHTML = lines.join("\n") + "\n";
  pre.scrollTop = textarea.scrollTop;
}

function showProblems(list, problems, textarea) {
  list.innerHTML = "";
  for (const problem of problems) {
    const item = document.createElement("li");
    item.className = "problem";
    item.textContent = problem.text;
    if (problem.line) {
      item.dataset.line = problem.line;
      item.title = "go to line " + problem.line;
      item.addEventListener("click", () => goToLine(textarea, problem.line));
    }
    list.appendChild(item);
  }
}

function goToLine(textarea, line) {
  const lines = textarea.value.split("\n");
  let start = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
  textarea.focus();
  textarea.setSelectionRange(start, start + (lines[line - 1] || "").length);
  const height = textarea.scrollHeight / Math.max(lines.length, 1);
  textarea.scrollTop = Math.max(0, (line - 5) * height);
}

function editor() {
  const scenario = $("#scenario");
  if (!scenario) return;
  const sweep = $("#sweep");
  const sweepSection = $("#sweep-section");
  const state = $("#check-state");
  const start = $("#start");
  const scenarioGutter = $("#scenario-gutter");
  const sweepGutter = $("#sweep-gutter");
  let timer = null;
  let sequence = 0;
  let ok = false;

  function sweeping() { return sweepSection.open; }

  async function check() {
    const mine = ++sequence;
    state.textContent = "checking…";
    state.className = "check-state";
    const body = {scenario: scenario.value};
    if (sweeping()) body.sweep = sweep.value;
    const answer = await postJSON("/api/validate", body);
    if (mine !== sequence) return;  // a newer check is on its way
    if (answer.status !== 200 || !answer.data) {
      state.textContent = answer.data && answer.data.detail ? String(answer.data.detail) : "could not check";
      state.className = "check-state bad";
      ok = false;
      start.disabled = true;
      return;
    }
    const data = answer.data;
    const problems = data.problems || [];
    const sweepProblems = data.sweep ? data.sweep.problems : [];
    showProblems($("#problems"), problems, scenario);
    showProblems($("#sweep-problems"), sweepProblems, sweep);
    gutter(scenario, scenarioGutter, new Set(problems.map((p) => p.line).filter(Boolean)));
    gutter(sweep, sweepGutter, new Set(sweepProblems.map((p) => p.line).filter(Boolean)));
    ok = data.ok && (!data.sweep || data.sweep.ok);
    const count = problems.length + sweepProblems.length;
    state.textContent = ok ? (data.sweep ? `ok: a sweep of ${data.sweep.points} points, ${data.sweep.runs} runs` : "ok")
                           : `${count} problem${count === 1 ? "" : "s"}`;
    state.className = "check-state " + (ok ? "good" : "bad");
    start.disabled = !ok;
    const outline = $("#outline");
    if (data.outline) {
      const o = data.outline;
      outline.textContent = `${o.name}: ${o.start.slice(0, 10)} to ${o.end.slice(0, 10)}, seed ${o.seed}; ` +
        `pools ${o.pools.map((p) => p.name + " (" + p.gpu + ")").join(", ")}; ${o.workloads} workloads, ` +
        `${o.services} services`;
    } else {
      outline.textContent = "-";
    }
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
    gutter(scenario, scenarioGutter, new Set());
    gutter(sweep, sweepGutter, new Set());
  }

  for (const [area, pre] of [[scenario, scenarioGutter], [sweep, sweepGutter]]) {
    area.addEventListener("input", soon);
    area.addEventListener("scroll", () => { pre.scrollTop = area.scrollTop; });
    area.addEventListener("keydown", (event) => {
      if (event.key === "Tab") {  // two spaces, as YAML wants
        event.preventDefault();
        area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
        soon();
      }
    });
  }
  sweepSection.addEventListener("toggle", check);

  $("#load-builtin").addEventListener("click", async () => {
    const name = $("#builtin").value;
    const response = await fetch("/api/scenarios/" + encodeURIComponent(name));
    if (response.ok) {
      scenario.value = await response.text();
      soon();
    }
  });

  $("#start-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!ok) return;
    start.disabled = true;
    const body = {scenario: scenario.value, kind: sweeping() ? "sweep" : "run",
                  replications: Number($("#replications").value || 1)};
    if ($("#seed").value !== "") body.seed = Number($("#seed").value);
    if ($("#until").value) body.until = $("#until").value;
    if (sweeping()) body.sweep = sweep.value;
    const answer = await postJSON("/api/jobs", body);
    const error = $("#start-error");
    if (answer.status === 201) {
      location.href = "/jobs/" + answer.data.id;
      return;
    }
    const detail = answer.data && answer.data.detail;
    if (detail && detail.problems) {
      showProblems($("#problems"), detail.problems, scenario);
      error.textContent = "The scenario has problems (listed under the editor).";
    } else if (Array.isArray(detail)) {
      error.textContent = detail.map((d) => (d.loc || []).slice(1).join(".") + ": " + d.msg).join("; ");
    } else {
      error.textContent = detail ? String(detail) : "could not start (" + answer.status + ")";
    }
    start.disabled = false;
  });

  gutter(scenario, scenarioGutter, new Set());
  gutter(sweep, sweepGutter, new Set());
  check();
}

// --- A background job: progress as server-sent events; cancel; resume.
function jobProgress() {
  const holder = $("#job");
  if (!holder) return;
  const id = holder.dataset.job;
  let source = null;

  function render(job) {
    const status = $("#job-status");
    status.textContent = job.status;
    status.className = "status s-" + job.status;
    $("#job-counts").textContent = `${job.done} done, ${job.failed} failed of ${job.total} runs` +
      (job.skipped ? ` (${job.skipped} found in the store)` : "");
    $("#job-progress").value = job.progress;
    $("#job-percent").textContent = Math.round(job.progress * 100) + "%";
    $("#job-current").textContent = job.active && job.current_seed !== null ? `running seed ${job.current_seed}` : "";
    $("#cancel").hidden = !job.active;
    $("#resume").hidden = !["interrupted", "failed", "cancelled"].includes(job.status);
    const error = $("#job-error");
    error.hidden = !job.error;
    error.textContent = job.error || "";
    const runs = $("#job-runs");
    runs.innerHTML = "";
    for (const [key, state] of Object.entries(job.runs)) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = "/runs/" + key;
      link.textContent = key;
      const badge = document.createElement("span");
      badge.className = "status s-" + state;
      badge.textContent = state;
      item.append(link, ` seed ${job.seeds[key] !== undefined ? job.seeds[key] : "?"} `, badge);
      runs.appendChild(item);
    }
    if (job.output) {
      const where = job.kind === "sweep" ? "/sweeps/" : "/replications/";
      $("#job-output").innerHTML = "";
      const link = document.createElement("a");
      link.href = where + encodeURIComponent(job.output);
      link.textContent = job.output;
      $("#job-output").append("Wrote ", link);
    }
    holder.dataset.status = job.status;
  }

  function follow() {
    if (source) source.close();
    source = new EventSource(`/api/jobs/${id}/events`);
    source.addEventListener("job", (event) => render(JSON.parse(event.data)));
    source.addEventListener("end", () => { source.close(); source = null; });
  }

  $("#cancel").addEventListener("click", async () => {
    const answer = await postJSON(`/api/jobs/${id}/cancel`);
    if (answer.status === 200) render(answer.data);
  });
  $("#resume").addEventListener("click", async () => {
    const answer = await postJSON(`/api/jobs/${id}/resume`);
    if (answer.status === 200) { render(answer.data); follow(); }
    else $("#job-error").textContent = answer.data && answer.data.detail ? String(answer.data.detail) : "could not resume";
  });
  if (holder.dataset.active === "true") follow();
}

document.addEventListener("DOMContentLoaded", () => {
  jobsTable();
  compareRuns();
  editor();
  jobProgress();
});
