// One timer (#/timers/ID): its fields, next firings and runs, with html_monitor's diffs.

import { api, enc } from "../api.js";
import { sideBySide } from "../diff.js";
import { badge, h, view } from "../dom.js";
import { relative, when } from "../format.js";
import { documented } from "../schema.js";
import { rowActions } from "./timers.js";

const RUNS_PAGE = 20; // runs a page, at most the API's largest

export async function timerView(id) {
  const [timer, { largestPage }] = await Promise.all([api("GET", `/periodic/${enc(id)}`), documented()]);
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
