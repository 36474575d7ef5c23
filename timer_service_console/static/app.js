// Timer Service console: one page, no build step. Every figure it shows comes from the API on
// this origin (the local stack, or `timer-service console`, which signs calls to a deployed API).

const view = document.getElementById("view");
const banner = document.getElementById("banner");
const KEY_STORE = "timer-service.api-key";
const LIST_LIMIT = 1000; // timers the list loads, 100 a page
let jobTypesCache = null;

// --- the API ---------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "http_error";
    this.field = error.field || null;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function api(method, path, body, extraHeaders = {}, retries = 3) {
  // X-Requested-By: `timer-service console` signs only requests that carry it (see proxy.py)
  const headers = { Accept: "application/json", "X-Requested-By": "timer-service-console", ...extraHeaders };
  const key = localStorage.getItem(KEY_STORE);
  if (key) headers["X-Api-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: { message: text.slice(0, 300) || `HTTP ${response.status}` } };
  }
  if (response.status === 401 && (!data?.error?.field || data.error.field === "X-Api-Key")) {
    await askForKey(key ? "That key was refused." : "");
    return api(method, path, body, extraHeaders);
  }
  if (response.status === 429 && retries > 0) { // over the usage plan's rate: wait as told
    const wait = Math.min(Number(response.headers.get("Retry-After")) || 1, 5);
    await sleep(wait * 1000);
    return api(method, path, body, extraHeaders, retries - 1);
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// At most `size` calls in flight (the list's last-run lookups: one call per timer shown).
function pool(size) {
  let running = 0;
  const waiting = [];
  const next = () => {
    if (running >= size || !waiting.length) return;
    running++;
    const [task, resolve, reject] = waiting.shift();
    task().then(resolve, reject).finally(() => {
      running--;
      next();
    });
  };
  return (task) => new Promise((resolve, reject) => {
    waiting.push([task, resolve, reject]);
    next();
  });
}

function askForKey(message) {
  const dialog = document.getElementById("api-key-dialog");
  const input = document.getElementById("api-key-input");
  document.getElementById("api-key-error").textContent = message;
  input.value = "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (input.value.trim()) localStorage.setItem(KEY_STORE, input.value.trim());
        document.getElementById("api-key-button").hidden = false;
        resolve();
      },
      { once: true },
    );
    dialog.showModal();
    input.focus();
  });
}

document.getElementById("api-key-button").addEventListener("click", () => {
  localStorage.removeItem(KEY_STORE);
  askForKey("").then(route);
});
if (localStorage.getItem(KEY_STORE)) document.getElementById("api-key-button").hidden = false;

async function jobTypes() {
  if (!jobTypesCache) jobTypesCache = await api("GET", "/job-types");
  return jobTypesCache;
}

const enc = encodeURIComponent;

// --- small helpers ---------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let flash = null; // a message for the next view, e.g. "Deleted x." after leaving the timer's page

function navigate(hash, message) {
  flash = message;
  location.hash = hash;
}

function showBanner(text, kind = "error") {
  banner.textContent = text;
  banner.className = kind === "info" ? "info" : "";
  banner.hidden = !text;
}

function when(iso, zone) {
  if (!iso) return "";
  const date = new Date(iso);
  const options = { dateStyle: "medium", timeStyle: "medium" };
  if (zone) options.timeZone = zone;
  return new Intl.DateTimeFormat(undefined, options).format(date);
}

function relative(iso) {
  const seconds = Math.round((new Date(iso) - Date.now()) / 1000);
  const size = Math.abs(seconds);
  const [amount, unit] =
    size < 90 ? [seconds, "second"] : size < 5400 ? [seconds / 60, "minute"]
      : size < 129600 ? [seconds / 3600, "hour"] : [seconds / 86400, "day"];
  return new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }).format(Math.round(amount), unit);
}

function badge(text) {
  return h("span", { class: `badge ${text}` }, text);
}

function humanize(name) {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/^./, (c) => c.toUpperCase());
}

function failure(error) {
  if (error instanceof ApiError) return `${error.message} (${error.status} ${error.code})`;
  return String(error.message || error);
}

function confirmDialog(text, label = "Delete") {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = label;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "cancel";
    dialog.showModal();
  });
}

// --- routing ---------------------------------------------------------------------------------

const routes = [
  [/^#?\/?$/, timersView, "timers"],
  [/^#\/new$/, () => editView(null), "new"],
  [/^#\/edit\/(.+)$/, (id) => editView(decodeURIComponent(id)), "timers"],
  [/^#\/timers\/(.+)$/, (id) => timerView(decodeURIComponent(id)), "timers"],
  [/^#\/dlq$/, dlqView, "dlq"],
];

async function route() {
  showBanner("");
  const hash = location.hash || "#/";
  for (const [pattern, render, nav] of routes) {
    const match = hash.match(pattern);
    if (!match) continue;
    for (const link of document.querySelectorAll("[data-nav]")) {
      link.classList.toggle("current", link.dataset.nav === nav);
    }
    view.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    try {
      await render(...match.slice(1));
    } catch (error) {
      view.replaceChildren(h("div", { class: "empty" }, failure(error)));
    }
    if (flash) showBanner(flash, "info");
    flash = null;
    return;
  }
  view.replaceChildren(h("div", { class: "empty" }, "No such page. ", h("a", { href: "#/" }, "Timers")));
}

window.addEventListener("hashchange", route);

// --- timers list -----------------------------------------------------------------------------

async function loadTimers() {
  const timers = [];
  let token = null;
  do {
    const page = await api("GET", `/periodic?limit=100${token ? `&nextToken=${enc(token)}` : ""}`);
    timers.push(...page.items);
    token = page.nextToken;
  } while (token && timers.length < LIST_LIMIT);
  return { timers, more: Boolean(token) };
}

async function timersView() {
  const [{ timers, more }, types] = await Promise.all([loadTimers(), jobTypes()]);
  const params = new URLSearchParams(sessionStorage.getItem("timer-service.filters") || "");
  const search = h("input", {
    type: "search", id: "search", placeholder: "Search by id or schedule", value: params.get("q") || "",
    "aria-label": "Search",
  });
  const typeFilter = h("select", { id: "filter-type", "aria-label": "Job type" },
    h("option", { value: "" }, "All job types"),
    types.map((t) => h("option", { value: t.name, selected: params.get("type") === t.name }, t.name)));
  const stateFilter = h("select", { id: "filter-state", "aria-label": "State" },
    h("option", { value: "" }, "Active and paused"),
    h("option", { value: "active", selected: params.get("state") === "active" }, "Active"),
    h("option", { value: "paused", selected: params.get("state") === "paused" }, "Paused"));
  const body = h("tbody");
  const count = h("span", { class: "muted small" });
  const table = h("table", { id: "timers" },
    h("thead", {}, h("tr", {}, ["Id", "Schedule", "Job type", "State", "Next firing", "Last run", ""].map((t) => h("th", {}, t)))),
    body);

  const lastRuns = new Map();
  const limit = pool(4);
  async function lastRun(timer, cell) {
    if (!lastRuns.has(timer.id)) {
      lastRuns.set(timer.id, limit(() => api("GET", `/periodic/${enc(timer.id)}/runs?limit=1`)).then(
        (page) => page.items[0] || null, () => undefined));
    }
    const run = await lastRuns.get(timer.id);
    cell.replaceChildren(run === undefined ? "?" : run === null ? h("span", { class: "muted" }, "none recorded")
      : h("span", { title: `${run.summary}\n${when(run.startedAt)}` }, badge(run.outcome), " ", h("span", { class: "muted small" }, relative(run.startedAt))));
  }

  function render() {
    const q = search.value.trim().toLowerCase();
    const saved = new URLSearchParams({ q: search.value, type: typeFilter.value, state: stateFilter.value });
    sessionStorage.setItem("timer-service.filters", saved.toString());
    const shown = timers.filter((t) =>
      (!q || t.id.toLowerCase().includes(q) || t.schedule.toLowerCase().includes(q)) &&
      (!typeFilter.value || t.jobType === typeFilter.value) &&
      (!stateFilter.value || (stateFilter.value === "active") === t.enabled));
    count.textContent = `${shown.length} of ${timers.length}${more ? "+" : ""} timers`;
    body.replaceChildren(...shown.map((timer) => {
      const last = h("td", { class: "last-run" }, h("span", { class: "muted" }, "…"));
      lastRun(timer, last);
      const next = timer.nextFireTimes[0];
      return h("tr", { dataset: { id: timer.id } },
        h("td", {}, h("a", { href: `#/timers/${enc(timer.id)}`, class: "mono" }, timer.id)),
        h("td", {}, h("span", { class: "mono" }, timer.schedule), h("div", { class: "muted small" }, timer.timezone)),
        h("td", {}, timer.jobType),
        h("td", {}, badge(timer.enabled ? "active" : "paused")),
        h("td", { class: "next" }, next ? [when(next, timer.timezone), h("div", { class: "muted small" }, relative(next))] : h("span", { class: "muted" }, "none")),
        last,
        h("td", {}, rowActions(timer, route)));
    }));
    table.hidden = shown.length === 0;
    empty.hidden = shown.length !== 0;
  }
  const empty = h("div", { class: "empty" }, timers.length ? "No timer matches." : "No timers yet. ",
    timers.length ? null : h("a", { href: "#/new" }, "Create one"));
  for (const control of [search, typeFilter, stateFilter]) control.addEventListener("input", render);
  view.replaceChildren(
    h("h1", {}, "Timers"),
    h("div", { class: "toolbar" }, search, typeFilter, stateFilter, count, h("span", { class: "spacer" }),
      h("button", { type: "button", onclick: route }, "Refresh"),
      h("a", { href: "#/new" }, h("button", { type: "button", class: "primary" }, "New timer"))),
    table, empty);
  render();
}

function rowActions(timer, after) {
  async function act(label, method, path, okText) {
    try {
      const result = await api(method, path);
      showBanner(okText(result), "info");
      await after();
      showBanner(okText(result), "info");
    } catch (error) {
      showBanner(`${label} ${timer.id}: ${failure(error)}`);
    }
  }
  const path = `/periodic/${enc(timer.id)}`;
  return h("div", { class: "row-actions" },
    timer.enabled
      ? h("button", { type: "button", onclick: () => act("Pause", "POST", `${path}/pause`, () => `Paused ${timer.id}.`) }, "Pause")
      : h("button", { type: "button", onclick: () => act("Resume", "POST", `${path}/resume`, () => `Resumed ${timer.id}.`) }, "Resume"),
    h("button", { type: "button", onclick: () => act("Trigger", "POST", `${path}/trigger`, (r) => `Triggered ${timer.id}: firing ${r.firingId}.`) }, "Trigger now"),
    h("a", { href: `#/edit/${enc(timer.id)}` }, h("button", { type: "button" }, "Edit")),
    h("button", {
      type: "button", class: "danger",
      onclick: async () => {
        if (!(await confirmDialog(`Delete timer ${timer.id}? Its firings stop and its run history goes.`))) return;
        try {
          await api("DELETE", path);
          if (location.hash.startsWith("#/timers/")) navigate("#/", `Deleted ${timer.id}.`);
          else {
            await after();
            showBanner(`Deleted ${timer.id}.`, "info");
          }
        } catch (error) {
          showBanner(`Delete ${timer.id}: ${failure(error)}`);
        }
      },
    }, "Delete"));
}

// --- one timer and its runs ------------------------------------------------------------------

async function timerView(id) {
  const timer = await api("GET", `/periodic/${enc(id)}`);
  const runsBody = h("tbody");
  const moreButton = h("button", { type: "button", hidden: true }, "Older runs");
  const runsTable = h("table", { id: "runs" },
    h("thead", {}, h("tr", {}, ["Scheduled", "Outcome", "Lateness", "Attempt", "Summary"].map((t) => h("th", {}, t)))),
    runsBody);
  const noRuns = h("div", { class: "empty", hidden: true },
    `No runs recorded. This timer keeps ${timer.history === "all" ? "every run" : timer.history === "none" ? "no runs" : `only ${timer.history}`} (its "history" field).`);
  let token = null;
  async function loadRuns() {
    const page = await api("GET", `/periodic/${enc(id)}/runs?limit=20${token ? `&nextToken=${enc(token)}` : ""}`);
    token = page.nextToken;
    for (const run of page.items) runsBody.append(...runRows(run, timer.timezone));
    moreButton.hidden = !token;
    noRuns.hidden = runsBody.children.length > 0;
    runsTable.hidden = runsBody.children.length === 0;
  }
  moreButton.addEventListener("click", loadRuns);
  const details = [
    ["Schedule", h("span", { class: "mono" }, timer.schedule)],
    ["Time zone", timer.timezone],
    ["State", badge(timer.enabled ? "active" : "paused")],
    ["Job type", timer.jobType],
    ["Job", h("code", {}, JSON.stringify(timer.job))],
    ["Callback data", h("code", {}, JSON.stringify(timer.timerCallbackData))],
    ["Delivery", timer.delivery],
    ["Misfire policy", timer.misfirePolicy],
    ["History", timer.history],
    ["Starts / ends", `${timer.startAt ? when(timer.startAt, timer.timezone) : "—"} / ${timer.endAt ? when(timer.endAt, timer.timezone) : "—"}`],
    ["Version", `${timer.version} (updated ${when(timer.updatedAt)})`],
    ["Shard", `${timer.shardId}`],
  ];
  view.replaceChildren(
    h("p", { class: "small" }, h("a", { href: "#/" }, "← Timers")),
    h("h1", {}, "Timer ", h("span", { class: "mono" }, timer.id)),
    h("div", { class: "toolbar" }, rowActions(timer, () => timerView(id))),
    h("div", { class: "card" },
      h("dl", { class: "kv" }, details.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]))),
    h("h2", {}, "Next firings"),
    timer.nextFireTimes.length
      ? h("ol", { class: "preview", id: "next-firings" }, timer.nextFireTimes.map((t) =>
        h("li", {}, `${when(t, timer.timezone)} (${timer.timezone}) · ${t} · ${relative(t)}`)))
      : h("p", { class: "muted", id: "next-firings" }, timer.enabled ? "No firing left." : "Paused: no firing until resumed."),
    h("h2", {}, "Runs ", h("button", { type: "button", class: "small", onclick: () => timerView(id) }, "Refresh")),
    runsTable, noRuns, moreButton);
  await loadRuns();
}

function runRows(run, zone) {
  const lateness = run.latenessMs === null || run.latenessMs === undefined ? "—" : `${Math.round(run.latenessMs)} ms`;
  const row = h("tr", { class: "run", dataset: { outcome: run.outcome } },
    h("td", {}, when(run.scheduledAt, zone), run.manual ? h("div", { class: "muted small" }, "triggered by hand") : null),
    h("td", {}, badge(run.outcome)),
    h("td", { class: "lateness" }, lateness),
    h("td", {}, String(run.attempt)),
    h("td", {}, run.summary));
  if (!run.diff) return [row];
  const diffRow = h("tr", { class: "diff-row" }, h("td", { colspan: 5 },
    h("details", { open: true }, h("summary", {}, "What changed"), sideBySide(run.diff))));
  return [row, diffRow];
}

// A unified diff, side by side: removed lines on the left, added on the right, context on both.
// Each hunk is read by the line counts of its header (@@ -a,b +c,d @@), as patch(1) reads it: a
// removed line "-- x" reads "--- x", which is a file header only outside a hunk.
function sideBySide(diff) {
  const grid = h("div", { class: "diff" }, h("div", { class: "head" }, "Before"), h("div", { class: "head" }, "After"));
  let removed = [];
  let added = [];
  function flush() {
    const rows = Math.max(removed.length, added.length);
    for (let n = 0; n < rows; n++) {
      grid.append(h("div", { class: n < removed.length ? "del" : "" }, removed[n] ?? ""));
      grid.append(h("div", { class: n < added.length ? "add" : "" }, added[n] ?? ""));
    }
    removed = [];
    added = [];
  }
  const lines = diff.split("\n");
  if (lines.at(-1) === "") lines.pop();
  let oldLeft = 0; // lines the current hunk still has before and after the change
  let newLeft = 0;
  for (const line of lines) {
    if (oldLeft <= 0 && newLeft <= 0) {
      const hunk = line.match(/^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/);
      if (hunk) {
        flush();
        oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
        newLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
        grid.append(h("div", { class: "gap" }, line), h("div", { class: "gap" }, line));
      }
      continue; // the ---/+++ file header, or anything else outside a hunk
    }
    if (line.startsWith("\\")) continue; // "\ No newline at end of file"
    if (line.startsWith("-")) {
      removed.push(line.slice(1));
      oldLeft--;
    } else if (line.startsWith("+")) {
      added.push(line.slice(1));
      newLeft--;
    } else {
      flush();
      const text = line.startsWith(" ") ? line.slice(1) : line;
      grid.append(h("div", {}, text), h("div", {}, text));
      oldLeft--;
      newLeft--;
    }
  }
  flush();
  return grid;
}

// --- create and edit -------------------------------------------------------------------------

const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];

async function editView(id) {
  const [types, timer] = await Promise.all([jobTypes(), id ? api("GET", `/periodic/${enc(id)}`) : null]);
  const errors = new Map(); // field path -> error element
  const inputs = new Map(); // field path -> input
  let jobForm = null;

  function field(label, path, control, hint) {
    const errorId = `error-${path.replace(/\./g, "-")}`;
    const error = h("p", { class: "field-error", id: errorId });
    errors.set(path, error);
    inputs.set(path, control);
    control.setAttribute("aria-describedby", errorId);
    return [h("label", { for: control.id }, label),
      h("div", { class: "field" }, control, hint ? h("span", { class: "hint" }, hint) : null, error)];
  }

  const idInput = h("input", { id: "f-id", name: "id", required: true, value: timer?.id ?? "", readonly: Boolean(timer), pattern: "(?!\\.\\.?$)[A-Za-z0-9._:\\-]{1,128}", autocomplete: "off" });
  const schedule = h("input", { id: "f-schedule", name: "schedule", value: timer?.schedule ?? "rate(5 minutes)", class: "mono", autocomplete: "off", spellcheck: "false" });
  const zone = h("input", { id: "f-timezone", name: "timezone", list: "zones", value: timer?.timezone ?? (Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"), autocomplete: "off" });
  const zoneList = h("datalist", { id: "zones" }, zones.map((z) => h("option", { value: z })));
  const startAt = h("input", { id: "f-startAt", name: "startAt", placeholder: "optional, e.g. 2027-01-01T09:00:00", value: timer?.startAt ?? "" });
  const endAt = h("input", { id: "f-endAt", name: "endAt", placeholder: "optional", value: timer?.endAt ?? "" });
  const preview = h("ol", { class: "preview", id: "schedule-preview" });
  const previewNote = h("span", { class: "hint", id: "preview-note" });
  const jobType = h("select", { id: "f-jobType", name: "jobType" },
    types.map((t) => h("option", { value: t.name, selected: (timer?.jobType ?? "webhook") === t.name }, t.name)));
  const jobTypeHint = h("span", { class: "hint" });
  const jobBox = h("div", { class: "full", id: "job-fields" });
  const callbackData = h("textarea", { id: "f-timerCallbackData", name: "timerCallbackData", placeholder: '{"any": "JSON"}' },
    timer && timer.timerCallbackData !== null ? JSON.stringify(timer.timerCallbackData, null, 2) : "");
  const misfire = h("select", { id: "f-misfirePolicy", name: "misfirePolicy" },
    ["fireOnce", "fireAll", "skip"].map((v) => h("option", { value: v, selected: (timer?.misfirePolicy ?? "fireOnce") === v }, v)));
  const delivery = h("select", { id: "f-delivery", name: "delivery" },
    ["atLeastOnce", "deduplicated"].map((v) => h("option", { value: v, selected: (timer?.delivery ?? "atLeastOnce") === v }, v)));
  const history = h("select", { id: "f-history", name: "history" },
    h("option", { value: "" }, "the job type's default"),
    ["all", "changes-and-errors", "errors", "none"].map((v) => h("option", { value: v, selected: timer?.history === v }, v)));
  const enabled = h("input", { id: "f-enabled", name: "enabled", type: "checkbox", checked: timer ? timer.enabled : true });
  const save = h("button", { type: "submit", class: "primary", id: "save" }, timer ? "Save changes" : "Create timer");
  const formError = h("p", { class: "field-error full", id: "form-error" });

  function renderJob(initial) {
    const type = types.find((t) => t.name === jobType.value);
    jobTypeHint.textContent = type ? `${type.summary}; keeps ${type.defaultHistory} by default` : "";
    for (const path of [...errors.keys()]) if (path.startsWith("job.") || path === "job") { errors.delete(path); inputs.delete(path); }
    jobForm = schemaForm(type?.schema ?? {}, "job", initial ?? {}, field);
    jobBox.replaceChildren(h("fieldset", {}, h("legend", {}, `${jobType.value} job`), jobForm.nodes));
  }
  jobType.addEventListener("change", () => renderJob({}));

  let previewSeq = 0;
  let previewTimer = null;
  async function refreshPreview() {
    const seq = ++previewSeq;
    const request = { schedule: schedule.value.trim(), timezone: zone.value.trim() || "UTC" };
    if (startAt.value.trim()) request.startAt = startAt.value.trim();
    if (endAt.value.trim()) request.endAt = endAt.value.trim();
    for (const path of ["schedule", "timezone", "startAt", "endAt"]) setError(path, "");
    try {
      const result = await api("POST", "/schedules/preview", request);
      if (seq !== previewSeq) return;
      preview.replaceChildren(...result.nextFireTimesLocal.map((local, n) =>
        h("li", {}, `${when(result.nextFireTimes[n], result.timezone)} · ${local}`)));
      previewNote.textContent = result.nextFireTimes.length
        ? `Next ${result.nextFireTimes.length} firings in ${result.timezone}`
        : "No firing after now.";
    } catch (error) {
      if (seq !== previewSeq) return;
      preview.replaceChildren();
      previewNote.textContent = "";
      if (error instanceof ApiError && error.field) setError(error.field, error.message);
      else previewNote.textContent = failure(error);
    }
  }
  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(refreshPreview, 250);
  }
  for (const control of [schedule, zone, startAt, endAt]) control.addEventListener("input", schedulePreview);

  function setError(path, message) {
    let target = path;
    while (target && !errors.has(target)) target = target.includes(".") ? target.slice(0, target.lastIndexOf(".")) : "";
    const error = errors.get(target);
    const input = inputs.get(target);
    if (!error) {
      formError.textContent = message;
      return;
    }
    error.textContent = message;
    if (input) input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function clearErrors() {
    for (const path of errors.keys()) setError(path, "");
    formError.textContent = "";
  }

  async function submit(event) {
    event.preventDefault();
    clearErrors();
    const spec = {
      schedule: schedule.value.trim(),
      timezone: zone.value.trim() || "UTC",
      jobType: jobType.value,
      misfirePolicy: misfire.value,
      delivery: delivery.value,
      enabled: enabled.checked,
    };
    if (startAt.value.trim()) spec.startAt = startAt.value.trim();
    if (endAt.value.trim()) spec.endAt = endAt.value.trim();
    if (history.value) spec.history = history.value;
    let problems = 0;
    if (callbackData.value.trim()) {
      try {
        spec.timerCallbackData = JSON.parse(callbackData.value);
      } catch {
        setError("timerCallbackData", "timerCallbackData: not valid JSON");
        problems++;
      }
    }
    const job = jobForm.read(setError);
    if (job === undefined) problems++;
    else spec.job = job;
    const timerId = idInput.value.trim();
    if (!timerId) {
      setError("id", "id: required");
      problems++;
    }
    if (problems) return;
    save.disabled = true;
    try {
      // an edit replaces the version it was made from, or is refused (412) if it changed since
      await api("PUT", `/periodic/${enc(timerId)}`, spec, timer ? { "If-Match": `"${timer.version}"` } : {});
      navigate(`#/timers/${enc(timerId)}`, timer ? `Saved ${timerId}.` : `Created ${timerId}.`);
    } catch (error) {
      if (error instanceof ApiError && error.field) setError(error.field, error.message);
      else formError.textContent = failure(error);
    } finally {
      save.disabled = false;
    }
  }

  const form = h("form", { class: "timer card", id: "timer-form", novalidate: true, onsubmit: submit },
    field("Id", "id", idInput, timer ? "the id cannot change; create a new timer for another" : "your name for the timer: A-Z a-z 0-9 . _ : -"),
    field("Schedule", "schedule", schedule, "rate(5 minutes), cron(0 9 ? * MON-FRI *) or at(2027-01-01T09:00:00)"),
    field("Time zone", "timezone", zone, "IANA name; cron and at() times are local to it"),
    h("div", { class: "full field" }, previewNote, preview),
    field("Start at", "startAt", startAt),
    field("End at", "endAt", endAt),
    field("Job type", "jobType", jobType, jobTypeHint),
    jobBox,
    field("Callback data", "timerCallbackData", callbackData, "any JSON, handed to every firing"),
    field("Misfire policy", "misfirePolicy", misfire, "after an outage: one late firing, all missed, or none"),
    field("Delivery", "delivery", delivery, "deduplicated: never runs twice for a firing (a write per firing)"),
    field("History", "history", history, "which runs the run history keeps"),
    field("Enabled", "enabled", enabled),
    formError,
    h("div", { class: "actions full" }, h("a", { href: timer ? `#/timers/${enc(timer.id)}` : "#/" }, h("button", { type: "button" }, "Cancel")), save));
  errors.set("body", formError);
  view.replaceChildren(h("h1", {}, timer ? `Edit ${timer.id}` : "New timer"), zoneList, form);
  renderJob(timer?.job ?? {});
  refreshPreview();
  (timer ? schedule : idInput).focus();
}

// A form for a job type's config, generated from its JSON schema (pydantic's).
function schemaForm(schema, prefix, initial, field) {
  const defs = schema.$defs || {};
  const resolve = (s) => (s && s.$ref ? defs[s.$ref.split("/").pop()] || {} : s || {});
  const readers = [];

  function build(objectSchema, path, value, required) {
    const nodes = [];
    for (const [name, raw] of Object.entries(objectSchema.properties || {})) {
      const key = `${path}.${name}`;
      let prop = resolve(raw);
      let optional = !required.includes(name);
      if (prop.anyOf) {
        const real = prop.anyOf.filter((option) => option.type !== "null");
        if (real.length === 1) {
          prop = { ...resolve(real[0]), description: prop.description, default: prop.default };
          optional = true;
        }
      }
      const current = value?.[name];
      const id = `f-${key.replace(/\./g, "-")}`;
      const label = humanize(name) + (optional ? "" : " *");
      const hintParts = [prop.description, prop.default !== undefined && prop.default !== null && typeof prop.default !== "object" ? `default ${prop.default}` : null];
      const hint = hintParts.filter(Boolean).join("; ");
      if (prop.type === "object" && prop.properties) {
        const inner = build(prop, key, current ?? {}, prop.required || []);
        nodes.push(h("fieldset", { class: "full", style: undefined }, h("legend", {}, humanize(name)), inner));
        continue;
      }
      let control;
      let read;
      if (prop.enum) {
        control = h("select", { id, name: key },
          optional ? h("option", { value: "" }, "—") : null,
          prop.enum.map((v) => h("option", { value: v, selected: current === v }, String(v))));
        read = () => control.value || undefined;
      } else if (prop.type === "boolean") {
        control = h("input", { id, name: key, type: "checkbox", checked: current ?? prop.default ?? false });
        read = () => control.checked;
      } else if (prop.type === "integer" || prop.type === "number") {
        control = h("input", { id, name: key, type: "number", step: prop.type === "integer" ? "1" : "any", value: current ?? "", placeholder: prop.default ?? "" });
        read = () => {
          if (control.value === "") return undefined;
          const number = Number(control.value);
          if (Number.isNaN(number)) throw new Error(`${key}: not a number`);
          return number;
        };
      } else if (prop.type === "array" && resolve(prop.items).type === "string") {
        control = h("textarea", { id, name: key, rows: 3, placeholder: "one a line" }, (current || []).join("\n"));
        read = () => {
          const lines = control.value.split("\n").map((l) => l.trim()).filter(Boolean);
          return lines.length ? lines : undefined;
        };
      } else if (prop.type === "string") {
        control = h("input", { id, name: key, value: current ?? "", placeholder: prop.default ?? "", autocomplete: "off", spellcheck: "false", type: prop.format === "uri" ? "url" : "text" });
        read = () => control.value.trim() || undefined;
      } else { // objects without fixed fields, arrays of objects: JSON
        const example = prop.type === "array" ? "[ ... ] as JSON" : "{ ... } as JSON";
        control = h("textarea", { id, name: key, rows: 3, placeholder: example }, current === undefined ? "" : JSON.stringify(current, null, 2));
        read = () => {
          if (!control.value.trim()) return undefined;
          try {
            return JSON.parse(control.value);
          } catch {
            throw new Error(`${key}: not valid JSON`);
          }
        };
      }
      nodes.push(...field(label, key, control, hint));
      readers.push([key, read]);
    }
    return nodes;
  }

  const nodes = build(resolve(schema), prefix, initial, resolve(schema).required || []);
  return {
    nodes,
    read(setError) {
      const job = {};
      let ok = true;
      for (const [key, read] of readers) {
        let value;
        try {
          value = read();
        } catch (error) {
          setError(key, error.message);
          ok = false;
          continue;
        }
        if (value === undefined) continue;
        const parts = key.split(".").slice(1);
        let target = job;
        for (const part of parts.slice(0, -1)) target = target[part] ??= {};
        target[parts.at(-1)] = value;
      }
      return ok ? job : undefined;
    },
  };
}

// --- dead letters ----------------------------------------------------------------------------

async function dlqView() {
  const page = await api("GET", "/dlq?limit=100");
  const boxes = [];
  const body = h("tbody", {}, page.items.map((item) => {
    const box = h("input", { type: "checkbox", value: item.firingId, "aria-label": `select ${item.firingId}` });
    boxes.push(box);
    return h("tr", { dataset: { firing: item.firingId } },
      h("td", {}, box),
      h("td", {}, h("a", { href: `#/timers/${enc(item.timerId)}`, class: "mono" }, item.timerId)),
      h("td", {}, when(item.scheduledAt), item.manual ? h("div", { class: "muted small" }, "triggered by hand") : null),
      h("td", {}, item.error),
      h("td", {}, String(item.receiveCount)),
      h("td", { class: "mono small" }, item.firingId));
  }));
  async function redrive(ids) {
    try {
      // Up to 1,000 a call: go on while the API says more remain (each call sends a letter once).
      let sent = 0;
      for (;;) {
        const result = await api("POST", "/dlq/redrive", ids ? { firingIds: ids } : {});
        sent += result.redriven;
        if (!result.more || result.redriven === 0) break;
      }
      await dlqView();
      showBanner(`Sent ${sent} firing${sent === 1 ? "" : "s"} back for delivery.`, "info");
    } catch (error) {
      showBanner(`Redrive: ${failure(error)}`);
    }
  }
  view.replaceChildren(
    h("h1", {}, "Dead letters"),
    h("p", { class: "muted" }, "Firings whose job kept failing after every retry. Fix the cause, then send them back: each runs again as it would have."),
    ...(page.items.length
      ? [h("div", { class: "toolbar" },
        h("button", { type: "button", id: "redrive-selected", onclick: () => redrive(boxes.filter((b) => b.checked).map((b) => b.value)) }, "Redrive selected"),
        h("button", { type: "button", class: "primary", id: "redrive-all", onclick: () => redrive(null) }, "Redrive all"),
        h("button", { type: "button", onclick: dlqView }, "Refresh")),
      h("table", { id: "dead-letters" },
        h("thead", {}, h("tr", {}, ["", "Timer", "Scheduled", "Error", "Deliveries", "Firing id"].map((t) => h("th", {}, t)))),
        body),
      ...(page.nextToken ? [h("p", { class: "muted" }, "The newest 100 are shown; Redrive all sends every one of yours.")] : [])]
      : [h("div", { class: "empty" }, "No dead letters: every firing was delivered or is still being retried.")]));
}

route();
