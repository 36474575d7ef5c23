// The timers list's bulk actions: pause, resume, trigger, delete or relabel the timers of its
// label filter (a selector) or the ticked rows (ids), through POST /periodic/bulk. The API acts
// on a slice a call and answers a nextToken; this drives the calls to the end, as the client's
// and the CLI's `bulk` do, moving a progress bar by each answer's count. Cancel stops after the
// slice in flight (each timer of a slice is done or not, never half-done: timer_service/bulk.py).

import { api, ApiError, failure } from "../api.js";
import { confirmDialog, h } from "../dom.js";
import { pairsToMap, splitPairs } from "./labels.js";

const ACTIONS = ["pause", "resume", "trigger", "delete", "relabel"];
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

// The calls of one action, from the first to the one without a nextToken, or to the first after
// `stopped()` turned true; `answered(result)` after each. [the answers, the token left].
export async function driveBulk(body, answered, stopped) {
  const results = [];
  let token = null;
  do {
    const result = await api("POST", "/periodic/bulk", token ? { ...body, nextToken: token } : body);
    if (result.nextToken && result.nextToken === token) throw new Error("the API answered the same nextToken twice");
    results.push(result);
    answered(result);
    token = result.nextToken;
  } while (token && !stopped());
  return [results, token];
}

// What the calls did together, as one answer.
export function totalOf(results) {
  const total = { matched: 0, changed: 0, skipped: 0, failed: 0, reasons: {}, failures: [] };
  for (const result of results) {
    for (const name of ["matched", "changed", "skipped", "failed"]) total[name] += result[name];
    for (const [reason, count] of Object.entries(result.reasons)) total.reasons[reason] = (total.reasons[reason] ?? 0) + count;
    total.failures.push(...result.failures);
  }
  return total;
}

// The panel: `scope` says what it may act on ({selector: a label map, or null with `why` not;
// total(): the selector's timers when the list knows them, else null; picked: the Set of ticked
// ids}); `node` to show, `update(true)` after the ticks changed, `onDone()` called after an
// action (the list reads its timers again).
export function bulkPanel(scope, onDone) {
  const bySelector = h("input", { type: "radio", name: "bulk-scope", id: "bulk-scope-selector", disabled: !scope.selector });
  const byIds = h("input", { type: "radio", name: "bulk-scope", id: "bulk-scope-ids" });
  const selectorText = scope.selector
    ? Object.entries(scope.selector).map(([k, v]) => `${k}:${v}`).join(", ") : "";
  const selectorLabel = h("label", { for: bySelector.id, class: "inline" });
  const picked = h("span", { id: "bulk-picked", class: "muted" });
  const action = h("select", { id: "bulk-action", "aria-label": "Bulk action" }, ACTIONS.map((a) => h("option", { value: a }, a)));
  const setLabels = h("input", { id: "bulk-set", class: "mono", placeholder: "set: tier:gold env:prod", "aria-label": "Labels to set", autocomplete: "off" });
  const removeLabels = h("input", { id: "bulk-remove", class: "mono", placeholder: "remove: trial old", "aria-label": "Label keys to remove", autocomplete: "off" });
  const relabel = h("span", { class: "bulk-relabel", hidden: true }, setLabels, removeLabels);
  const run = h("button", { type: "button", id: "bulk-run", class: "primary" }, "Run");
  const error = h("p", { class: "field-error", id: "bulk-error" });
  const bar = h("progress", { id: "bulk-progress", max: 1, "aria-label": "Bulk action progress" });
  const barText = h("span", { id: "bulk-progress-text", class: "small" });
  const cancel = h("button", { type: "button", id: "bulk-cancel" }, "Cancel");
  const progress = h("div", { id: "bulk-progress-box", class: "bulk-progress", hidden: true }, bar, barText, cancel);
  const result = h("div", { id: "bulk-result", role: "status" });
  let cancelled = false;
  let running = false;

  action.addEventListener("change", () => {
    relabel.hidden = action.value !== "relabel";
  });
  cancel.addEventListener("click", () => {
    cancelled = true;
    cancel.disabled = true;
    cancel.textContent = "Stopping after this slice…";
  });

  // The scope is chosen by hand, but for ticks: the first ticked picks them, none left unpicks.
  function update(ticksChanged = false) {
    const total = scope.total();
    selectorLabel.textContent = scope.selector
      ? `every timer with ${selectorText}${total === null ? "" : ` (${total})`}` : `the label filter's timers (${scope.why})`;
    picked.textContent = `${scope.picked.size} ticked`;
    if (!running) {
      if (ticksChanged && scope.picked.size) byIds.checked = true;
      if (!scope.picked.size) byIds.checked = false;
      byIds.disabled = scope.picked.size === 0;
    }
    run.disabled = running || !(bySelector.checked || byIds.checked);
  }
  bySelector.addEventListener("change", () => update());
  byIds.addEventListener("change", () => update());

  // The request's body, or undefined after showing why there is none.
  function body() {
    const request = { action: action.value };
    if (byIds.checked) request.ids = [...scope.picked].sort();
    else request.selector = scope.selector;
    if (action.value === "relabel") {
      const [set, mistake] = pairsToMap(splitPairs(setLabels.value), "setLabels");
      const remove = splitPairs(removeLabels.value);
      if (mistake || (!Object.keys(set ?? {}).length && !remove.length)) {
        error.textContent = mistake || "relabel: give labels to set (key:value) or keys to remove";
        return undefined;
      }
      if (Object.keys(set).length) request.setLabels = set;
      if (remove.length) request.removeLabels = remove;
    }
    return request;
  }

  async function confirmed(request, total) {
    const which = request.ids ? plural(request.ids.length, "timer")
      : `every timer with ${selectorText}${total === null ? "" : ` (${plural(total, "timer")})`}`;
    if (request.action === "delete") {
      return confirmDialog(`Delete ${which}? Their firings stop and their run history goes.`, "Delete");
    }
    if (request.action === "trigger") return confirmDialog(`Trigger ${which} now, each once?`, "Trigger");
    return true;
  }

  function showProgress(done, total) {
    bar.max = Math.max(total ?? done, done, 1);
    if (total === null && done === 0) bar.removeAttribute("value"); // not known yet: it moves
    else bar.value = done;
    barText.textContent = total === null ? `${done} done` : `${done} of ${Math.max(total, done)}`;
  }

  function showResult(name, results, total, left, problem) {
    const sum = totalOf(results);
    const done = sum.matched;
    const head = left && !problem ? `Cancelled after a slice: ${done} of ${total ?? "?"} done. ` : "";
    const counts = `${name}: ${sum.matched} matched, ${sum.changed} changed, ${sum.skipped} skipped, ${sum.failed} failed.`;
    const reasons = Object.entries(sum.reasons).map(([reason, count]) => `${reason}: ${count}`).join(", ");
    const failures = sum.failures.map((f) => h("li", {}, h("span", { class: "mono" }, f.id), `: ${f.reason}`));
    result.replaceChildren(h("p", {}, head, counts, reasons ? h("span", { class: "muted" }, ` (${reasons})`) : null),
      ...(failures.length ? [h("ul", { id: "bulk-failures", class: "plain" }, failures)] : []));
  }

  run.addEventListener("click", async () => {
    error.textContent = "";
    const request = body();
    if (!request) return;
    const total = request.ids ? request.ids.length : scope.total();
    if (!(await confirmed(request, total))) return;
    running = true;
    cancelled = false;
    for (const control of [bySelector, byIds, action, setLabels, removeLabels]) control.disabled = true;
    update();
    result.replaceChildren();
    cancel.disabled = cancel.hidden = false;
    cancel.textContent = "Cancel";
    progress.hidden = false;
    let done = 0;
    showProgress(done, total);
    const results = [];
    let left = null;
    let problem = null;
    try {
      [, left] = await driveBulk(request, (answer) => {
        results.push(answer);
        done += answer.matched;
        showProgress(done, total);
      }, () => cancelled);
    } catch (failed) {
      problem = failed;
      error.textContent = failed instanceof ApiError && failed.field ? failed.message : failure(failed);
    }
    if (!left && !problem) showProgress(done, done); // to its end: every timer it took up
    cancel.hidden = true;
    showResult(request.action, results, total, left, problem);
    running = false;
    action.disabled = setLabels.disabled = removeLabels.disabled = false;
    bySelector.disabled = !scope.selector;
    await onDone();
    update();
  });

  const node = h("section", { class: "card bulk", id: "bulk" },
    h("div", { class: "toolbar" }, h("strong", {}, "Bulk action on"),
      bySelector, selectorLabel, byIds, h("label", { for: byIds.id, class: "inline" }, "the ticked timers: "), picked),
    h("div", { class: "toolbar" }, action, relabel, run, progress),
    error, result);
  update();
  return { node, update };
}
