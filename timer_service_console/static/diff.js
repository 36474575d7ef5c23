// A unified diff, side by side: removed lines on the left, added on the right, context on both.
// Each hunk is read by the line counts of its header (@@ -a,b +c,d @@), as patch(1) reads it: a
// removed line "-- x" reads "--- x", which is a file header only outside a hunk.

import { h } from "./dom.js";

export function sideBySide(diff) {
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
