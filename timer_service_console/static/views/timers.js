// The timers list (#/): search and filters, each timer's state, next firing (when it runs, with
// jitter) and last run, and the row actions the timer's own page shares.

import { api, enc, failure, jobTypes, pool } from "../api.js";
import { badge, confirmDialog, h, showBanner, view } from "../dom.js";
import { humanize, relative, stateOf, when } from "../format.js";
import { navigate, route } from "../router.js";
import { documented } from "../schema.js";

const LIST_LIMIT = 1000; // timers the list loads, a page at a time
const FILTERS = "timer-service.filters";

async function loadTimers(pageSize) {
  const timers = [];
  let token = null;
  do {
    const page = await api("GET", `/periodic?limit=${pageSize}${token ? `&nextToken=${enc(token)}` : ""}`);
    timers.push(...page.items);
    token = page.nextToken;
  } while (token && timers.length < LIST_LIMIT);
  return { timers, more: Boolean(token) };
}

export async function timersView() {
  const { largestPage } = await documented();
  const [{ timers, more }, types] = await Promise.all([loadTimers(largestPage.timers), jobTypes()]);
  const params = new URLSearchParams(sessionStorage.getItem(FILTERS) || "");
  const search = h("input", {
    type: "search", id: "search", placeholder: "Search by id or schedule", value: params.get("q") || "",
    "aria-label": "Search",
  });
  const typeFilter = h("select", { id: "filter-type", "aria-label": "Job type" },
    h("option", { value: "" }, "All job types"),
    types.map((t) => h("option", { value: t.name, selected: params.get("type") === t.name }, t.name)));
  const stateFilter = h("select", { id: "filter-state", "aria-label": "State" },
    h("option", { value: "" }, "All states"),
    ["active", "paused", "completed"].map((state) =>
      h("option", { value: state, selected: params.get("state") === state }, humanize(state))));
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
    sessionStorage.setItem(FILTERS, saved.toString());
    const shown = timers.filter((t) =>
      (!q || t.id.toLowerCase().includes(q) || t.schedule.toLowerCase().includes(q)) &&
      (!typeFilter.value || t.jobType === typeFilter.value) &&
      (!stateFilter.value || stateFilter.value === stateOf(t)));
    count.textContent = `${shown.length} of ${timers.length}${more ? "+" : ""} timers`;
    body.replaceChildren(...shown.map((timer) => {
      const last = h("td", { class: "last-run" }, h("span", { class: "muted" }, "…"));
      lastRun(timer, last);
      const next = timer.nextFireTimes[0];
      const run = timer.jitterSeconds ? timer.nextRunTimes?.[0] : null; // its first run, after its offset
      const left = timer.firingsLeft ?? null;
      return h("tr", { dataset: { id: timer.id } },
        h("td", {}, h("a", { href: `#/timers/${enc(timer.id)}`, class: "mono" }, timer.id)),
        h("td", {}, h("span", { class: "mono" }, timer.schedule), h("div", { class: "muted small" }, timer.timezone)),
        h("td", {}, timer.jobType),
        h("td", { class: "state" }, badge(stateOf(timer)),
          left !== null && stateOf(timer) !== "completed" ? h("div", { class: "muted small firings-left" }, `${left} firing${left === 1 ? "" : "s"} left`) : null),
        h("td", { class: "next" }, next ? [when(next, timer.timezone), h("div", { class: "muted small" }, relative(next)),
          run && run !== next ? h("div", { class: "muted small run-time" }, `runs at ${when(run, timer.timezone)} (jitter)`) : null]
          : h("span", { class: "muted" }, "none")),
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

// Pause or resume, trigger, edit, delete: then `after()` shows the change.
export function rowActions(timer, after) {
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
    stateOf(timer) === "completed" ? null // it fires no more: saving its edit arms it again
      : timer.enabled
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
