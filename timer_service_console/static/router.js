// Views by the URL's hash (#/ and #/?its filter, #/new, #/timers/ID, ...): each renders into the page's <main>.

import { failure } from "./api.js";
import { h, showBanner, view } from "./dom.js";

const routes = []; // [pattern, render(...groups), the nav link it highlights]
let flash = null; // a message for the next view, e.g. "Deleted x." after leaving the timer's page

export function navigate(hash, message) {
  flash = message;
  location.hash = hash;
}

export async function route() {
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

export function startRouter(table) {
  routes.push(...table);
  window.addEventListener("hashchange", route);
  return route();
}
