// The timers list (#/?filter): its filter (views/timer-filters.js: labels, job type and state
// through the API, a search as typed, all in the URL), each timer's labels, state, next firing
// (when it runs, with jitter) and last run, ticks and the bulk actions over them or the label
// filter (views/bulk.js), and the row actions the timer's own page shares.

import { api, ApiError, enc, failure, jobTypes, pool } from "../api.js";
import { badge, confirmDialog, h, showBanner, view } from "../dom.js";
import { relative, stateOf, when } from "../format.js";
import { navigate, route } from "../router.js";
import { documented } from "../schema.js";
import { bulkPanel } from "./bulk.js";
import { labelChips, pairsToMap } from "./labels.js";
import { apiFilter, currentFilter, filterControls, filterHash } from "./timer-filters.js";

const LIST_LIMIT = 1000; // timers the list loads, a page at a time (a bulk action's most ids too)

async function loadTimers(pageSize, filter) {
  const where = apiFilter(filter);
  const timers = [];
  let token = null;
  do {
    const page = await api("GET", `/periodic?limit=${pageSize}${where ? `&${where}` : ""}${token ? `&nextToken=${enc(token)}` : ""}`);
    timers.push(...page.items);
    token = page.nextToken;
  } while (token && timers.length < LIST_LIMIT);
  return { timers, more: Boolean(token) };
}

export async function timersView(query = "") {
  const filter = currentFilter(query);
  const asked = location.hash;
  const [{ largestPage }, types] = await Promise.all([documented(), jobTypes()]);
  const read = async () => {
    try {
      return { ...(await loadTimers(largestPage.timers, filter)), refused: null };
    } catch (error) { // a filter the API refuses: shown at its field, with the list empty
      if (error instanceof ApiError && error.status === 400) return { timers: [], more: false, refused: error };
      throw error;
    }
  };
  let { timers, more, refused } = await read();
  if (location.hash !== asked) return; // another filter was asked for meanwhile: its view draws
  const controls = filterControls(filter, types, () => render());
  if (refused) controls.showError(refused);
  const picked = new Set(); // ticked ids, for the bulk actions
  const body = h("tbody");
  const count = h("span", { class: "muted small" });
  const pickAll = h("input", { type: "checkbox", id: "pick-all", "aria-label": "Tick every timer shown" });
  const table = h("table", { id: "timers" },
    h("thead", {}, h("tr", {}, h("th", {}, pickAll),
      ["Id", "Schedule", "Job type", "Labels", "State", "Next firing", "Last run", ""].map((t) => h("th", {}, t)))),
    body);
  const labelHref = (pair) => filterHash({ ...filter, labels: [...new Set([...filter.labels, pair])] });

  // a selector is the label filter alone: the job type and state filters would not narrow it
  const [labelMap] = pairsToMap(filter.labels, "label");
  const narrowed = filter.jobType || filter.state;
  const bulk = bulkPanel({
    selector: filter.labels.length && !narrowed && !refused ? labelMap : null,
    why: !filter.labels.length ? "filter by labels first" : "not with a job type or state filter, which the API's selector does not take: tick them instead",
    total: () => (more ? null : timers.length),
    picked,
  }, async () => {
    ({ timers, more } = await read());
    const listed = new Set(timers.map((t) => t.id));
    for (const id of [...picked]) if (!listed.has(id)) picked.delete(id);
    render();
  });

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

  // A row's last run is asked for as it comes near the screen: a list of hundreds (a label's, for
  // a bulk action) would otherwise make a call a timer before any is looked at.
  const rowTimer = new WeakMap(); // last-run cell -> its timer
  const nearScreen = new IntersectionObserver((entries) => {
    for (const entry of entries.filter((e) => e.isIntersecting)) {
      nearScreen.unobserve(entry.target);
      lastRun(rowTimer.get(entry.target), entry.target);
    }
  }, { rootMargin: "800px 0px" });

  let shown = [];
  function ticked(changed) {
    pickAll.checked = shown.length > 0 && shown.every((t) => picked.has(t.id));
    if (changed) bulk.update(true);
  }
  pickAll.addEventListener("change", () => {
    for (const timer of shown) pickAll.checked ? picked.add(timer.id) : picked.delete(timer.id);
    for (const box of body.querySelectorAll("input.pick")) box.checked = picked.has(box.dataset.id);
    ticked(true);
  });

  function row(timer) {
    const last = h("td", { class: "last-run" }, h("span", { class: "muted" }, "…"));
    rowTimer.set(last, timer);
    nearScreen.observe(last);
    const next = timer.nextFireTimes[0];
    const run = timer.jitterSeconds ? timer.nextRunTimes?.[0] : null; // its first run, after its offset
    const left = timer.firingsLeft ?? null;
    const pick = h("input", {
      type: "checkbox", class: "pick", dataset: { id: timer.id }, checked: picked.has(timer.id), "aria-label": `Tick ${timer.id}`,
      onchange: (event) => {
        event.target.checked ? picked.add(timer.id) : picked.delete(timer.id);
        ticked(true);
      },
    });
    return h("tr", { dataset: { id: timer.id } },
      h("td", {}, pick),
      h("td", {}, h("a", { href: `#/timers/${enc(timer.id)}`, class: "mono" }, timer.id)),
      h("td", {}, h("span", { class: "mono" }, timer.schedule), h("div", { class: "muted small" }, timer.timezone)),
      h("td", {}, timer.jobType),
      h("td", { class: "labels" }, labelChips(timer.labels, labelHref)),
      h("td", { class: "state" }, badge(stateOf(timer)),
        left !== null && stateOf(timer) !== "completed" ? h("div", { class: "muted small firings-left" }, `${left} firing${left === 1 ? "" : "s"} left`) : null),
      h("td", { class: "next" }, next ? [when(next, timer.timezone), h("div", { class: "muted small" }, relative(next)),
        run && run !== next ? h("div", { class: "muted small run-time" }, `runs at ${when(run, timer.timezone)} (jitter)`) : null]
        : h("span", { class: "muted" }, "none")),
      last,
      h("td", {}, rowActions(timer, route)));
  }

  const empty = h("div", { class: "empty" });
  function render() {
    const q = controls.search();
    shown = timers.filter((t) => !q || t.id.toLowerCase().includes(q) || t.schedule.toLowerCase().includes(q));
    count.textContent = `${shown.length} of ${timers.length}${more ? "+" : ""} timers`;
    nearScreen.disconnect(); // the rows drawn before: gone
    body.replaceChildren(...shown.map(row));
    const filtered = filter.labels.length || filter.jobType || filter.state || refused;
    empty.replaceChildren(timers.length || filtered ? "No timer matches." : "No timers yet. ",
      timers.length || filtered ? "" : h("a", { href: "#/new" }, "Create one"));
    table.hidden = shown.length === 0;
    empty.hidden = shown.length !== 0;
    bulk.node.hidden = timers.length === 0;
    ticked(false);
    bulk.update();
  }
  view.replaceChildren(
    h("h1", {}, "Timers"),
    h("div", { class: "toolbar" }, controls.nodes, count, h("span", { class: "spacer" }),
      h("button", { type: "button", onclick: route }, "Refresh"),
      h("a", { href: "#/new" }, h("button", { type: "button", class: "primary" }, "New timer"))),
    bulk.node, table, empty);
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
