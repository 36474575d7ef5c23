// Dead letters (#/dlq): firings whose job kept failing, sent back for delivery on request.

import { api, enc, failure } from "../api.js";
import { h, showBanner, view } from "../dom.js";
import { when } from "../format.js";
import { documented } from "../schema.js";

export async function deadLettersView() {
  const { largestPage } = await documented();
  const page = await api("GET", `/dlq?limit=${largestPage.deadLetters}`);
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
      // A call sends a bounded number: go on while the API says more remain (each goes once).
      let sent = 0;
      for (;;) {
        const result = await api("POST", "/dlq/redrive", ids ? { firingIds: ids } : {});
        sent += result.redriven;
        if (!result.more || result.redriven === 0) break;
      }
      await deadLettersView();
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
        h("button", { type: "button", onclick: deadLettersView }, "Refresh")),
      h("table", { id: "dead-letters" },
        h("thead", {}, h("tr", {}, ["", "Timer", "Scheduled", "Error", "Deliveries", "Firing id"].map((t) => h("th", {}, t)))),
        body),
      ...(page.nextToken ? [h("p", { class: "muted" }, `The newest ${page.items.length} are shown; Redrive all sends every one of yours.`)] : [])]
      : [h("div", { class: "empty" }, "No dead letters: every firing was delivered or is still being retried.")]));
}
