// A timer's alerts (who hears of its failures), its pause after failures, overlap and flow
// control: their fields in the timer form (views/edit.js) and their lines in the timer view
// (views/timer.js). A field the API's document does not have (an older stack) is left out.

import { badge, h } from "../dom.js";
import { choice, schemaForm } from "../forms.js";

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

// The form's fields: `nodes` to show; `read(spec, whole)` puts what was entered into the timer's
// `spec` (`whole(input, path, range, unit)` reads a whole number, reporting its own mistakes) and
// answers false after a mistake it reported.
export function alertsFields(timer, doc, field, setError) {
  const bounded = (name, placeholder) => h("input", {
    id: `f-${name}`, name, type: "number", step: "1", min: doc[name].min, max: doc[name].max,
    value: timer?.[name] ?? "", placeholder,
  });
  const span = (range) => `${range.min}-${range.max}`;
  // the alerts' fields come from their schema, as html_monitor's notify fields do
  const alerts = doc.alerts ? schemaForm(doc.alerts, "alerts", timer?.alerts ?? {}, field) : null;
  const pause = doc.pauseAfterFailures ? bounded("pauseAfterFailures", "never") : null;
  const overlap = doc.overlap ? choice("f-overlap", "overlap", doc.overlap, timer?.overlap) : null;
  const key = doc.concurrencyKey ? h("input", {
    id: "f-concurrencyKey", name: "concurrencyKey", class: "mono", value: timer?.concurrencyKey ?? "",
    placeholder: "none, e.g. api.example.com", autocomplete: "off", spellcheck: "false",
  }) : null;
  if (key) {
    const checkKey = () => key.setCustomValidity(
      !key.value || doc.concurrencyKey.test(key.value) ? "" : "not a concurrency key (the API's pattern)");
    key.addEventListener("input", checkKey);
    checkKey();
  }
  const limits = [["maxConcurrency", "Max concurrency", "runs of the key at once"],
    ["maxPerSecond", "Max per second", "runs of the key started in one second"]]
    .filter(([name]) => doc[name]).map(([name, label, what]) => [name, label, what, bounded(name, "no limit")]);

  const failing = [
    alerts ? alerts.nodes : [],
    pause ? field("Pause after failures", "pauseAfterFailures", pause,
      `pause the timer after this many failed runs in a row (${span(doc.pauseAfterFailures)}); it shows why, and resuming clears it`) : [],
  ].flat();
  const flow = [
    overlap ? field("Overlap", "overlap", overlap,
      "skip: a firing is skipped (recorded skipped) while the previous run of this timer has not ended") : [],
    key ? field("Concurrency key", "concurrencyKey", key,
      "your timers with this key (one per destination, say) share its limits; a firing over them waits, never dropped") : [],
    limits.map(([name, label, what, input]) => field(label, name, input, `${what}, at most (${span(doc[name])})`)),
  ].flat(Infinity);
  const nodes = [
    failing.length ? h("fieldset", { class: "full", id: "alerts-fields" }, h("legend", {}, "When runs fail: alerts and pause"), failing) : null,
    flow.length ? h("fieldset", { class: "full", id: "flow-fields" }, h("legend", {}, "Overlap and flow control"), flow) : null,
  ];

  function read(spec, whole) {
    let ok = true;
    if (alerts) {
      const entered = alerts.read(setError);
      const defaults = doc.alerts.properties;
      if (entered === undefined) ok = false;
      // left at its defaults (no channel, the usual count): no alerts
      else if (Object.entries(entered).some(([name, value]) => value !== defaults[name]?.default)) spec.alerts = entered;
    }
    if (pause?.value.trim()) spec.pauseAfterFailures = whole(pause, "pauseAfterFailures", doc.pauseAfterFailures, "");
    if (overlap) spec.overlap = overlap.value;
    if (key?.value.trim()) spec.concurrencyKey = key.value.trim();
    for (const [name, , , input] of limits) if (input.value.trim()) spec[name] = whole(input, name, doc[name], "");
    return ok;
  }
  return { nodes, read };
}

// The timer view's lines: [label, value] pairs for its details, each where the API gives it.
export function alertsDetails(timer) {
  const alerts = timer.alerts ?? null;
  const counted = Boolean(alerts) || Boolean(timer.pauseAfterFailures);
  const channels = alerts ? [
    alerts.webhookUrl ? ["Webhook", alerts.webhookUrl] : null,
    alerts.snsTopicArn ? ["SNS topic", alerts.snsTopicArn] : null,
    ...(alerts.apprise ?? []).map((url) => ["Apprise", url]),
  ].filter(Boolean) : [];
  const key = timer.concurrencyKey;
  const limits = [
    timer.maxConcurrency ? `at most ${timer.maxConcurrency} at once` : null,
    timer.maxPerSecond ? `at most ${timer.maxPerSecond} started a second` : null,
  ].filter(Boolean);
  const rows = [
    ["alerts", "Alerts", h("div", { id: "alerts" }, !alerts ? "none" : [
      h("ul", { class: "plain" }, channels.map(([kind, to]) => h("li", {}, `${kind}: `, h("span", { class: "mono" }, to)))),
      h("span", { class: "muted", id: "after-failures" },
        `a notice after ${plural(alerts.afterFailures, "failed run")} in a row, one more on recovery`)])],
    ["pauseAfterFailures", "Pause after failures", h("span", { id: "pause-after-failures" },
      timer.pauseAfterFailures ? `after ${plural(timer.pauseAfterFailures, "failed run")} in a row` : "never")],
    ["failures", "Failing streak", h("span", { id: "failures" },
      !counted ? h("span", { class: "muted" }, "not counted (no alerts or pauseAfterFailures)")
        : timer.failures ? [badge("error"), ` ${plural(timer.failures, "failed run")} in a row`] : "none")],
    ["overlap", "Overlap", h("span", { id: "overlap" }, timer.overlap === "skip"
      ? "skip: a firing is skipped while the previous run has not ended" : "allow: every firing runs")],
    ["concurrencyKey", "Flow control", h("span", { id: "flow-control" }, !key ? "none"
      : [h("span", { class: "mono" }, key), `: ${limits.length ? limits.join(", ") : "no limit"}, shared by your timers with this key`])],
  ];
  return rows.filter(([name]) => timer[name] !== undefined).map(([, label, value]) => [label, value]);
}

// Why the service paused the timer (pauseAfterFailures), for the top of its page: [] or [notice].
export function pausedNotice(timer) {
  if (!timer.pausedReason) return [];
  return [h("div", { class: "notice", id: "paused-reason", role: "status" },
    h("strong", {}, "Paused by the service: "), timer.pausedReason,
    h("div", { class: "small" }, "Fix the cause, then resume it: that clears this and starts a new count."))];
}
