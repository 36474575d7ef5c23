// The timers list's filter, held by its URL (#/?label=team:pay&label=env:prod&jobType=webhook
// &state=paused&q=nightly), so a reload or a shared link shows the same list: the labels (every
// pair must match), job type and state go to the API (GET /periodic takes them), the search
// matches ids and schedules as it is typed. The tab's session storage keeps the last one for a
// bare #/ (the nav link, the timer page's way back).

import { h } from "../dom.js";
import { humanize } from "../format.js";
import { navigate } from "../router.js";
import { splitPairs } from "./labels.js";

const SAVED = "timer-service.filters";
const STATES = ["active", "paused", "completed"];

function queryOf(filter, withSearch) {
  const params = new URLSearchParams();
  for (const pair of filter.labels ?? []) params.append("label", pair);
  if (filter.jobType) params.set("jobType", filter.jobType);
  if (filter.state) params.set("state", filter.state);
  if (withSearch && filter.q) params.set("q", filter.q);
  return params.toString();
}

// The list's URL for `filter` ({labels: ["key:value", ...], jobType, state, q}, each optional).
export function filterHash(filter) {
  const query = queryOf(filter, true);
  return query ? `#/?${query}` : "#/";
}

// What of `filter` GET /periodic takes, as its query ("" for none).
export const apiFilter = (filter) => queryOf(filter, false);

// The filter of the list's route: its query's, else the one this tab used last (then put in the
// URL, as if asked for).
export function currentFilter(query) {
  let text = query;
  if (!text) {
    text = sessionStorage.getItem(SAVED) || "";
    if (text) history.replaceState(null, "", `#/?${text}`);
  }
  const params = new URLSearchParams(text);
  return {
    labels: params.getAll("label"),
    jobType: params.get("jobType") || "",
    state: params.get("state") || "",
    q: params.get("q") || "",
  };
}

// The list's toolbar controls for `filter`: `nodes`; `search()` the search's lower-cased text;
// `showError(error)` puts an API's 400 of the filter at its field. A change of the labels, type or
// state asks for the list of the new filter (a route, so the API filters); the search calls
// `onSearch()` and is kept in the URL as typed.
export function filterControls(filter, types, onSearch) {
  const search = h("input", {
    type: "search", id: "search", placeholder: "Search by id or schedule", value: filter.q, "aria-label": "Search",
  });
  const labelsError = h("p", { class: "field-error", id: "error-filter-labels" });
  const labels = h("input", {
    type: "search", id: "filter-labels", class: "mono", placeholder: "labels, e.g. team:pay env:prod",
    value: filter.labels.join(" "), "aria-label": "Labels, every one to match", "aria-describedby": labelsError.id,
    autocomplete: "off", spellcheck: "false",
  });
  const otherError = h("p", { class: "field-error", id: "filter-error" });
  const typeFilter = h("select", { id: "filter-type", "aria-label": "Job type" },
    h("option", { value: "" }, "All job types"),
    types.map((t) => h("option", { value: t.name, selected: filter.jobType === t.name }, t.name)));
  if (filter.jobType && !types.some((t) => t.name === filter.jobType)) { // kept as the URL has it
    typeFilter.append(h("option", { value: filter.jobType, selected: true }, filter.jobType));
  }
  const stateFilter = h("select", { id: "filter-state", "aria-label": "State" },
    h("option", { value: "" }, "All states"),
    STATES.map((state) => h("option", { value: state, selected: filter.state === state }, humanize(state))));

  const entered = () => ({
    labels: splitPairs(labels.value), jobType: typeFilter.value, state: stateFilter.value, q: search.value,
  });
  function show(wanted) {
    sessionStorage.setItem(SAVED, queryOf(wanted, true)); // before the route: a bare #/ reads it
    navigate(filterHash(wanted));
  }
  labels.addEventListener("keydown", (event) => {
    if (event.key === "Enter") show(entered());
  });
  labels.addEventListener("change", () => show(entered()));
  typeFilter.addEventListener("change", () => show(entered()));
  stateFilter.addEventListener("change", () => show(entered()));
  search.addEventListener("input", () => {
    const wanted = entered();
    sessionStorage.setItem(SAVED, queryOf(wanted, true));
    history.replaceState(null, "", filterHash(wanted)); // no new route: the rows are filtered here
    onSearch();
  });
  const clear = h("button", { type: "button", id: "filter-clear", onclick: () => show({}) }, "Clear filter");
  clear.hidden = !(filter.labels.length || filter.jobType || filter.state || filter.q);

  function showError(error) {
    const atLabels = error.field === "label";
    (atLabels ? labelsError : otherError).textContent = error.message;
    if (atLabels) labels.setAttribute("aria-invalid", "true");
  }

  const nodes = [
    search,
    h("span", { class: "field filter-labels" }, labels, labelsError),
    typeFilter, stateFilter, clear, otherError,
  ];
  return { nodes, search: () => search.value.trim().toLowerCase(), showError };
}
