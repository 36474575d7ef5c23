// One timer (#/timers/ID): its fields and state, next firings (when jittered, when they run; a
// heartbeat's deadline) and runs, with html_monitor's diffs; a backfill of a past interval.

import { api, ApiError, enc, failure } from "../api.js";
import { sideBySide } from "../diff.js";
import { badge, h, showBanner, view } from "../dom.js";
import { relative, stateOf, when } from "../format.js";
import { documented } from "../schema.js";
import { alertsDetails, pausedNotice } from "./alerts.js";
import { labelChips } from "./labels.js";
import { filterHash } from "./timer-filters.js";
import { rowActions } from "./timers.js";

const RUNS_PAGE = 20; // runs a page, at most the API's largest

export async function timerView(id) {
  const [timer, { largestPage }] = await Promise.all([api("GET", `/periodic/${enc(id)}`), documented()]);
  const beat = timer.heartbeat ?? null;
  const runsBody = h("tbody");
  const moreButton = h("button", { type: "button", hidden: true }, "Older runs");
  const runsTable = h("table", { id: "runs" },
    h("thead", {}, h("tr", {}, ["Scheduled", "Outcome", "Lateness", "Attempt", "Summary"].map((t) => h("th", {}, t)))),
    runsBody);
  const noRuns = h("div", { class: "empty", hidden: true },
    `No runs recorded. This timer keeps ${timer.history === "all" ? "every run" : timer.history === "none" ? "no runs" : `only ${timer.history}`} (its "history" field).`);
  const pageSize = Math.min(RUNS_PAGE, largestPage.runs);
  let token = null;
  async function loadRuns() {
    const page = await api("GET", `/periodic/${enc(id)}/runs?limit=${pageSize}${token ? `&nextToken=${enc(token)}` : ""}`);
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
    ["State", h("span", { id: "timer-state" }, badge(stateOf(timer)),
      timer.completedAt ? h("span", { class: "muted" }, ` at ${when(timer.completedAt, timer.timezone)}`) : null)],
    ["Job type", timer.jobType],
    ...(timer.labels === undefined ? [] // an API older than labels
      : [["Labels", h("span", { id: "labels" }, labelChips(timer.labels, (pair) => filterHash({ labels: [pair] })))]]),
    ["Job", h("code", {}, JSON.stringify(timer.job))],
    ["Callback data", h("code", {}, JSON.stringify(timer.timerCallbackData))],
    ["Delivery", timer.delivery],
    ...(beat ? [
      ["Heartbeat", `a ping every ${beat.periodSeconds} s, ${beat.graceSeconds} s of grace`],
      ["Status", h("span", { id: "heartbeat-status", class: `badge ${beat.status}` }, beat.status)],
      ["Last ping", beat.lastPingAt ? `${when(beat.lastPingAt, timer.timezone)} · ${relative(beat.lastPingAt)}` : "—"],
    ] : [
      ["Misfire policy", timer.misfirePolicy],
      ["Catch-up window", h("span", { id: "catch-up-window" }, timer.catchUpWindow === null || timer.catchUpWindow === undefined ? "the stack's" : `${timer.catchUpWindow} s`)],
      ["Starts / ends", `${timer.startAt ? when(timer.startAt, timer.timezone) : "—"} / ${timer.endAt ? when(timer.endAt, timer.timezone) : "—"}`],
      ["Jitter", h("span", { id: "jitter-seconds" }, timer.jitterSeconds ? `up to ${timer.jitterSeconds} s after each scheduled time` : "none: on the second")],
      ["Max firings", h("span", { id: "max-firings" }, timer.maxFirings ?? "no limit")],
      ["Firings left", h("span", { id: "firings-left" }, timer.firingsLeft ?? "no end")],
      ["On complete", h("span", { id: "on-complete" }, timer.onComplete === "delete" ? "delete: removed once its last firing ran" : "keep")],
    ]),
    ["History", timer.history],
    ["Feed of changes", feedControl(timer)],
    ...alertsDetails(timer),
    ["Version", `${timer.version} (updated ${when(timer.updatedAt)})`],
    ["Shard", `${timer.shardId}`],
  ];
  view.replaceChildren(
    h("p", { class: "small" }, h("a", { href: "#/" }, "← Timers")),
    h("h1", {}, "Timer ", h("span", { class: "mono" }, timer.id)),
    ...pausedNotice(timer),
    h("div", { class: "toolbar" }, rowActions(timer, () => timerView(id))),
    h("div", { class: "card" },
      h("dl", { class: "kv" }, details.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]))),
    h("h2", {}, beat ? "Deadline" : "Next firings"),
    beat ? deadline(timer, beat) : nextFirings(timer),
    beat ? "" : backfillForm(timer), // (replaceChildren would show a null as text)
    h("h2", {}, "Runs ", h("button", { type: "button", class: "small", onclick: () => timerView(id) }, "Refresh")),
    runsTable, noRuns, moreButton);
  await loadRuns();
}

// The next scheduled times; with jitter, each one's run time after its offset.
function nextFirings(timer) {
  if (!timer.nextFireTimes.length) {
    const why = stateOf(timer) === "completed" ? "Completed: it fires no more. Edit and save it to arm it again."
      : timer.enabled ? "No firing left." : "Paused: no firing until resumed.";
    return h("p", { class: "muted", id: "next-firings" }, why);
  }
  const runs = timer.jitterSeconds ? timer.nextRunTimes ?? [] : [];
  return h("ol", { class: "preview", id: "next-firings" }, timer.nextFireTimes.map((t, n) => {
    const offset = runs[n] ? (Date.parse(runs[n]) - Date.parse(t)) / 1000 : 0;
    return h("li", {}, `${when(t, timer.timezone)} (${timer.timezone}) · ${t} · ${relative(t)}`,
      !offset ? null : h("span", { class: "run-time" }, ` · runs at ${when(runs[n], timer.timezone)} (+${offset} s)`));
  }));
}

// What a heartbeat waits for: its first ping, the deadline a ping may still move, or the next
// ping after the deadline it missed.
function deadline(timer, beat) {
  const at = beat.deadline ? `${when(beat.deadline, timer.timezone)} · ${relative(beat.deadline)}` : "";
  const text = beat.status === "new" ? "Not watched until its first ping."
    : beat.status === "down" ? `Missed its deadline, ${at}: its job ran; the next ping watches it again.`
      : `Runs its job at ${at} unless pinged before.`;
  return h("p", { class: beat.status === "down" ? "" : "muted", id: "next-firings" }, text);
}

// Fire what the schedule would have fired over a past interval, (from, to], now.
function backfillForm(timer) {
  const from = h("input", { id: "backfill-from", name: "from", placeholder: "from (exclusive), e.g. 2026-11-01T00:00:00Z", autocomplete: "off" });
  const to = h("input", { id: "backfill-to", name: "to", placeholder: "to (inclusive), at most now", autocomplete: "off" });
  const error = h("p", { class: "field-error", id: "backfill-error" });
  const button = h("button", { type: "submit", id: "backfill" }, "Backfill");
  async function submit(event) {
    event.preventDefault();
    error.textContent = "";
    button.disabled = true;
    try {
      const done = await api("POST", `/periodic/${enc(timer.id)}/backfill`, { from: from.value.trim(), to: to.value.trim() });
      const more = done.more ? ` More remain after ${done.nextFrom}: backfill again from there.` : "";
      showBanner(`Backfilled ${done.backfilled} firings.${more}`, "info");
    } catch (failed) {
      error.textContent = failed instanceof ApiError ? failed.message : failure(failed);
    } finally {
      button.disabled = false;
    }
  }
  return h("form", { class: "card toolbar", id: "backfill-form", onsubmit: submit },
    h("span", {}, "Backfill the past:"), from, to, button,
    h("span", { class: "hint" }, `each scheduled time once, now; times without an offset are in ${timer.timezone}`), error);
}

function runRows(run, zone) {
  const lateness = run.latenessMs === null || run.latenessMs === undefined ? "—" : `${Math.round(run.latenessMs)} ms`;
  const how = run.manual ? "triggered by hand" : run.backfill ? "backfill"
    : run.heartbeat === "missed" ? "missed deadline" : run.heartbeat === "recovered" ? "pinged again" : null;
  const offset = run.offsetSeconds ? h("div", { class: "muted small offset" }, `${run.offsetSeconds} s of it jitter`) : null;
  const row = h("tr", { class: "run", dataset: { outcome: run.outcome } },
    h("td", {}, when(run.scheduledAt, zone), how ? h("div", { class: "muted small" }, how) : null),
    h("td", {}, badge(run.outcome)),
    h("td", { class: "lateness" }, lateness, offset),
    h("td", {}, String(run.attempt)),
    h("td", {}, run.summary, watched(run.details)));
  if (!run.diff) return [row];
  const diffRow = h("tr", { class: "diff-row" }, h("td", { colspan: 5 },
    h("details", { open: true }, h("summary", {}, "What changed"), sideBySide(run.diff))));
  return [row, diffRow];
}

// What an html_monitor price watch read (its values and conditions), and a change that
// triggerText kept from notifying.
function watched(details) {
  if (!details) return null;
  const parts = [];
  const values = details.values;
  if (values) {
    const price = values.price === null ? "no price" : `price ${values.price}${values.currency ? ` ${values.currency}` : ""}`;
    parts.push(h("span", { class: "values" }, `${price} · ${values.availability ?? "availability unknown"} (${values.source})`));
  }
  for (const { condition, met } of details.conditions ?? []) {
    parts.push(h("span", { class: `condition ${met ? "met" : "unmet"}` }, `${met ? "✓" : "✗"} ${condition}`));
  }
  if (details.triggered === false) parts.push(h("span", { class: "muted" }, "not notified: no triggerText line was added"));
  return parts.length ? h("div", { class: "small watched" }, parts) : null;
}

// The timer's Atom feed of changes: whether it has one (GET /feeds never shows a URL), a new URL
// (shown once: the API keeps its token's hash alone; a new one ends the last) and revoking it.
function feedControl(timer) {
  const status = h("span", { id: "feed-status", class: "muted" }, "…");
  const url = h("input", { id: "feed-url", readonly: true, hidden: true, class: "mono", size: 60 });
  const open = h("button", { type: "button", class: "small", id: "feed-open" }, "Get a feed URL");
  const revoke = h("button", { type: "button", class: "small", id: "feed-revoke", hidden: true }, "Revoke");
  function show(feed) {
    status.textContent = feed ? `a feed since ${when(feed.createdAt, timer.timezone)}` : "none";
    open.textContent = feed ? "New feed URL (ends the last)" : "Get a feed URL";
    revoke.hidden = !feed;
  }
  api("GET", "/feeds").then(
    (page) => show((page.items ?? []).find((feed) => feed.timerId === timer.id)),
    () => { status.textContent = "unknown (this API has no feeds)"; open.hidden = true; });
  open.addEventListener("click", async () => {
    try {
      const feed = await api("POST", `/periodic/${enc(timer.id)}/feed`);
      url.value = feed.feedUrl;
      url.hidden = false;
      url.select();
      show(feed);
      showBanner("The feed URL is shown this once: copy it into your feed reader.", "info");
    } catch (failed) {
      showBanner(failure(failed));
    }
  });
  revoke.addEventListener("click", async () => {
    try {
      await api("DELETE", `/periodic/${enc(timer.id)}/feed`);
      url.hidden = true;
      show(null);
    } catch (failed) {
      showBanner(failure(failed));
    }
  });
  return h("span", { class: "feed" }, status, " ", open, " ", revoke, h("div", {}, url));
}
