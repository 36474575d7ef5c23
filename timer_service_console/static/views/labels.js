// A timer's labels (key -> value): shown as key:value chips in the list and on the timer's page,
// and edited in the timer form (views/edit.js), a key and a value a row. The rules a label obeys
// are the API's (timer_service/labels.py): it names a refused one `labels.<key>`, and the form
// shows that at the label's row.

import { h } from "../dom.js";

// The labels in key order: the same order on every page, whatever order the API keeps.
export const sortedLabels = (labels) => Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

// "key:value" chips; each a link when `hrefOf(pair)` gives one (the list filtered by it).
export function labelChips(labels, hrefOf = null) {
  const pairs = sortedLabels(labels).map(([key, value]) => `${key}:${value}`);
  if (!pairs.length) return h("span", { class: "muted small" }, "none");
  return h("span", { class: "label-list" }, pairs.map((pair) => hrefOf
    ? h("a", { class: "label mono", href: hrefOf(pair), title: "List the timers with this label too" }, pair)
    : h("span", { class: "label mono" }, pair)));
}

// Label pairs as typed ("team:payments env:prod", or with commas): neither a key nor a value
// holds a space or a comma (the API's rules), so they separate the pairs.
export function splitPairs(text) {
  return text.split(/[\s,]+/).filter(Boolean);
}

// "team:payments" pairs as a label map (each split at its first ":", as the API's `label`
// parameter is); [map, mistake] with the first pair that is not key:value.
export function pairsToMap(pairs, field) {
  const map = {};
  for (const pair of pairs) {
    const at = pair.indexOf(":");
    if (at < 1) return [null, `${field}: ${JSON.stringify(pair)} is not key:value (e.g. team:payments)`];
    map[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return [map, ""];
}

// The timer form's labels: `nodes` to show; `read(spec)` puts the labels entered into
// `spec.labels` (all of them: a PUT replaces the timer's) and answers false after a mistake it
// showed; `setError(path, message)` shows an error of `labels` or `labels.<key>` at its place
// and answers whether the path was one of them; `clear()` empties their errors.
export function labelsFields(timer) {
  const rows = []; // {n, key, value, error, node}, in the order shown
  let next = 0; // row numbers are never reused: ids stay with their row as others are removed
  const list = h("div", { class: "label-rows", id: "label-rows" });
  const error = h("p", { class: "field-error", id: "error-labels" });

  function addRow(key = "", value = "") {
    const n = next++;
    const row = { n, error: h("p", { class: "field-error label-error", id: `error-label-${n}` }) };
    const attrs = (part, placeholder, current) => ({
      id: `f-label-${part}-${n}`, class: "mono", placeholder, value: current, autocomplete: "off",
      spellcheck: "false", "aria-label": `Label ${part}`, "aria-describedby": row.error.id,
    });
    row.key = h("input", attrs("key", "key, e.g. team", key));
    row.value = h("input", attrs("value", "value, e.g. payments", value));
    const remove = h("button", {
      type: "button", id: `remove-label-${n}`, class: "small", "aria-label": "Remove this label",
      onclick: () => {
        rows.splice(rows.indexOf(row), 1);
        row.node.remove();
      },
    }, "Remove");
    row.node = h("div", { class: "label-row", dataset: { row: n } }, row.key, h("span", { class: "muted" }, ":"), row.value, remove, row.error);
    rows.push(row);
    list.append(row.node);
    return row;
  }
  for (const [key, value] of sortedLabels(timer?.labels)) addRow(key, value);

  function mark(row, message) {
    row.error.textContent = message;
    for (const input of [row.key, row.value]) input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function setError(path, message) {
    if (path !== "labels" && !path.startsWith("labels.")) return false;
    const key = path.slice("labels.".length);
    const row = path === "labels" ? null : rows.find((r) => r.key.value.trim() === key);
    if (row) mark(row, message);
    else error.textContent = message;
    return true;
  }

  function clear() {
    for (const row of rows) mark(row, "");
    error.textContent = "";
  }

  function read(spec) {
    const labels = {};
    let ok = true;
    for (const row of rows) {
      const key = row.key.value.trim();
      const value = row.value.value.trim();
      if (!key && !value) continue; // a row left empty
      const mistake = !key ? "labels: a label needs a key"
        : Object.hasOwn(labels, key) ? `labels.${key}: this key is given twice` : "";
      if (mistake) {
        mark(row, mistake);
        ok = false;
        continue;
      }
      labels[key] = value;
    }
    spec.labels = labels;
    return ok;
  }

  const add = h("button", { type: "button", id: "add-label", class: "small", onclick: () => addRow().key.focus() }, "Add label");
  const nodes = [
    h("label", { for: "add-label" }, "Labels"),
    h("div", { class: "field", id: "labels-field" }, list, h("div", {}, add),
      h("span", { class: "hint" }, "key:value pairs to find and act on timers by (the list's filter, its bulk actions); a key is lower case"),
      error),
  ];
  return { nodes, read, setError, clear };
}
