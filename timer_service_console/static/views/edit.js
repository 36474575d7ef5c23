// Create (#/new) and edit (#/edit/ID) a timer: the schedule previewed as it is typed, the job's
// fields from its type's schema, the choices and bounds from the API's document, errors by their
// field.

import { api, ApiError, enc, failure, jobTypes } from "../api.js";
import { h, view } from "../dom.js";
import { when } from "../format.js";
import { choice, fieldErrors, schemaForm, wholeNumber } from "../forms.js";
import { navigate } from "../router.js";
import { documented } from "../schema.js";
import { alertsFields } from "./alerts.js";
import { labelsFields } from "./labels.js";

const FIRST_JOB_TYPE = "webhook"; // a new timer starts with it: a URL is all it needs
const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];

export async function editView(id) {
  const [types, timer, doc] = await Promise.all([
    jobTypes(), id ? api("GET", `/periodic/${enc(id)}`) : null, documented()]);
  const formError = h("p", { class: "field-error full", id: "form-error" });
  const fields = fieldErrors(formError);
  const { field, forget } = fields;
  const labels = doc.labels ? labelsFields(timer) : null; // its errors at the label they name
  const setError = (path, message) => labels?.setError(path, message) || fields.setError(path, message);
  const clear = () => {
    fields.clear();
    labels?.clear();
  };
  let jobForm = null;

  const idInput = h("input", { id: "f-id", name: "id", required: true, value: timer?.id ?? "", readonly: Boolean(timer), autocomplete: "off" });
  const checkId = () => idInput.setCustomValidity(
    !idInput.value || doc.timerId.test(idInput.value) ? "" : "not a timer id (the API's pattern)");
  idInput.addEventListener("input", checkId);
  checkId();
  const schedule = h("input", { id: "f-schedule", name: "schedule", value: timer?.schedule ?? "rate(5 minutes)", class: "mono", autocomplete: "off", spellcheck: "false" });
  const zone = h("input", { id: "f-timezone", name: "timezone", list: "zones", value: timer?.timezone ?? (Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"), autocomplete: "off" });
  const zoneList = h("datalist", { id: "zones" }, zones.map((z) => h("option", { value: z })));
  const startAt = h("input", { id: "f-startAt", name: "startAt", placeholder: "optional, e.g. 2027-01-01T09:00:00", value: timer?.startAt ?? "" });
  const endAt = h("input", { id: "f-endAt", name: "endAt", placeholder: "optional", value: timer?.endAt ?? "" });
  const bounded = (id, name, range, value, placeholder) =>
    h("input", { id, name, type: "number", min: range.min, max: range.max, step: "1", value, placeholder });
  const jitter = bounded("f-jitterSeconds", "jitterSeconds", doc.jitterSeconds, timer?.jitterSeconds || "", "0: on its second");
  const maxFirings = bounded("f-maxFirings", "maxFirings", doc.maxFirings, timer?.maxFirings ?? "", "no limit");
  const onComplete = choice("f-onComplete", "onComplete", doc.onComplete, timer?.onComplete);
  const preview = h("ol", { class: "preview", id: "schedule-preview" });
  const previewNote = h("span", { class: "hint", id: "preview-note" });
  const jobType = h("select", { id: "f-jobType", name: "jobType" },
    types.map((t) => h("option", { value: t.name, selected: (timer?.jobType ?? FIRST_JOB_TYPE) === t.name }, t.name)));
  const jobTypeHint = h("span", { class: "hint" });
  const jobBox = h("div", { class: "full", id: "job-fields" });
  const callbackData = h("textarea", { id: "f-timerCallbackData", name: "timerCallbackData", placeholder: '{"any": "JSON"}' },
    timer && timer.timerCallbackData !== null ? JSON.stringify(timer.timerCallbackData, null, 2) : "");
  const beat = timer?.heartbeat ?? null;
  const kind = h("select", { id: "f-kind", name: "kind" },
    h("option", { value: "schedule", selected: !beat }, "on its schedule"),
    h("option", { value: "heartbeat", selected: Boolean(beat) }, "heartbeat: when not pinged in time"));
  const period = h("input", { id: "f-heartbeat-periodSeconds", name: "heartbeat.periodSeconds", type: "number", min: "60", step: "1", value: beat?.periodSeconds ?? 86400 });
  const grace = h("input", { id: "f-heartbeat-graceSeconds", name: "heartbeat.graceSeconds", type: "number", min: "0", step: "1", value: beat?.graceSeconds ?? 3600 });
  const catchUp = h("input", { id: "f-catchUpWindow", name: "catchUpWindow", type: "number", min: "0", step: "1", value: timer?.catchUpWindow ?? "", placeholder: "the stack's (3600)" });
  const misfire = choice("f-misfirePolicy", "misfirePolicy", doc.misfirePolicy, timer?.misfirePolicy);
  const delivery = choice("f-delivery", "delivery", doc.delivery, timer?.delivery);
  const history = choice("f-history", "history", doc.history, timer?.history ?? "",
    h("option", { value: "" }, "the job type's default"));
  const enabled = h("input", { id: "f-enabled", name: "enabled", type: "checkbox", checked: timer ? timer.enabled : true });
  const alertsAndFlow = alertsFields(timer, doc, field, setError);
  const save = h("button", { type: "submit", class: "primary", id: "save" }, timer ? "Save changes" : "Create timer");

  function renderJob(initial) {
    const type = types.find((t) => t.name === jobType.value);
    jobTypeHint.textContent = type ? `${type.summary}; keeps ${type.defaultHistory} by default` : "";
    forget("job");
    jobForm = schemaForm(type?.schema ?? {}, "job", initial ?? {}, field);
    jobBox.replaceChildren(h("fieldset", {}, h("legend", {}, `${jobType.value} job`), jobForm.nodes));
  }
  jobType.addEventListener("change", () => renderJob({}));

  // The whole-number fields the preview takes, each checked against the document's bounds as
  // typed (and on save): [path, input, bounds, unit].
  const wholeFields = [["jitterSeconds", jitter, doc.jitterSeconds, " of seconds"], ["maxFirings", maxFirings, doc.maxFirings, ""]];

  let previewSeq = 0;
  let previewTimer = null;
  async function refreshPreview() {
    const seq = ++previewSeq;
    if (kind.value === "heartbeat") return; // no schedule to preview
    const request = { schedule: schedule.value.trim(), timezone: zone.value.trim() || "UTC" };
    if (startAt.value.trim()) request.startAt = startAt.value.trim();
    if (endAt.value.trim()) request.endAt = endAt.value.trim();
    for (const path of ["schedule", "timezone", "startAt", "endAt"]) setError(path, "");
    for (const [path, input, range, unit] of wholeFields) {
      const [value, mistake] = wholeNumber(input, path, range, unit);
      setError(path, mistake);
      if (value) request[path] = value;
    }
    const jitterS = request.jitterSeconds;
    // a firing's offset derives from the timer's id: without a valid one there are no run times
    if (jitterS && idInput.value && doc.timerId.test(idInput.value)) request.id = idInput.value;
    try {
      const result = await api("POST", "/schedules/preview", request);
      if (seq !== previewSeq) return;
      const runs = result.nextRunTimes ?? [];
      preview.replaceChildren(...result.nextFireTimesLocal.map((local, n) => {
        const offset = runs[n] ? (Date.parse(runs[n]) - Date.parse(result.nextFireTimes[n])) / 1000 : 0;
        return h("li", {}, `${when(result.nextFireTimes[n], result.timezone)} · ${local}`,
          offset ? h("span", { class: "muted" }, ` · runs ${offset} s later, ${when(runs[n], result.timezone)}`) : null);
      }));
      previewNote.textContent = !result.nextFireTimes.length ? "No firing after now."
        : `Next ${result.nextFireTimes.length} firings in ${result.timezone}${
          jitterS && !result.nextRunTimes ? `; each runs up to ${jitterS} s later (set the id to see when)` : ""}`;
    } catch (error) {
      if (seq !== previewSeq) return;
      preview.replaceChildren();
      previewNote.textContent = "";
      if (error instanceof ApiError && error.field) setError(error.field, error.message);
      else previewNote.textContent = failure(error);
    }
  }
  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(refreshPreview, 250);
  }
  for (const control of [schedule, zone, startAt, endAt, jitter, maxFirings, idInput]) control.addEventListener("input", schedulePreview);

  async function submit(event) {
    event.preventDefault();
    clear();
    let problems = 0;
    const whole = (input, path, range = null, unit = " of seconds") => {
      const [number, mistake] = wholeNumber(input, path, range, unit);
      const error = mistake || (number === undefined ? `${path}: a whole number${unit}` : "");
      if (error) {
        setError(path, error);
        problems++;
      }
      return number;
    };
    const spec = { jobType: jobType.value, delivery: delivery.value, enabled: enabled.checked };
    if (kind.value === "heartbeat") {
      spec.heartbeat = {
        periodSeconds: whole(period, "heartbeat.periodSeconds"),
        graceSeconds: whole(grace, "heartbeat.graceSeconds"),
      };
    } else {
      Object.assign(spec, { schedule: schedule.value.trim(), timezone: zone.value.trim() || "UTC", misfirePolicy: misfire.value });
      if (startAt.value.trim()) spec.startAt = startAt.value.trim();
      if (endAt.value.trim()) spec.endAt = endAt.value.trim();
      if (catchUp.value.trim()) spec.catchUpWindow = whole(catchUp, "catchUpWindow");
      for (const [path, input, range, unit] of wholeFields) if (input.value.trim()) spec[path] = whole(input, path, range, unit);
      spec.onComplete = onComplete.value;
    }
    if (history.value) spec.history = history.value;
    if (callbackData.value.trim()) {
      try {
        spec.timerCallbackData = JSON.parse(callbackData.value);
      } catch {
        setError("timerCallbackData", "timerCallbackData: not valid JSON");
        problems++;
      }
    }
    if (!alertsAndFlow.read(spec, whole)) problems++;
    if (labels && !labels.read(spec)) problems++;
    const job = jobForm.read(setError);
    if (job === undefined) problems++;
    else spec.job = job;
    const timerId = idInput.value.trim();
    if (!timerId) {
      setError("id", "id: required");
      problems++;
    }
    if (problems) return;
    save.disabled = true;
    try {
      // an edit replaces the version it was made from, or is refused (412) if it changed since
      const saved = await api("PUT", `/periodic/${enc(timerId)}`, spec, timer ? { "If-Match": `"${timer.version}"` } : {});
      const done = timer ? `Saved ${timerId}.` : `Created ${timerId}.`;
      // a heartbeat's ping URL is in this answer only: the API keeps its token's hash alone
      navigate(`#/timers/${enc(timerId)}`, saved.pingUrl ? `${done} Its ping URL, shown this once: ${saved.pingUrl}` : done);
    } catch (error) {
      if (error instanceof ApiError && error.field) setError(error.field, error.message);
      else formError.textContent = failure(error);
    } finally {
      save.disabled = false;
    }
  }

  // Either a schedule's fields or a heartbeat's are shown, by the kind chosen.
  const scheduled = [
    field("Schedule", "schedule", schedule, "rate(N seconds|minutes|hours|days), cron(0 9 ? * MON-FRI *) or at(2027-01-01T09:00:00)"),
    field("Time zone", "timezone", zone, "IANA name; cron and at() times are local to it"),
    h("div", { class: "full field" }, previewNote, preview),
    field("Start at", "startAt", startAt),
    field("End at", "endAt", endAt),
    field("Jitter (s)", "jitterSeconds", jitter, `each firing runs up to this many seconds after its time (${doc.jitterSeconds.min}-${doc.jitterSeconds.max}), never early; the same offset on every retry`),
    field("Max firings", "maxFirings", maxFirings, "it completes after this many scheduled firings, counted from when it is saved (manual triggers and backfills do not count)"),
    field("On complete", "onComplete", onComplete, "keep: it stays, as completed; delete: it is removed once its last firing ran"),
  ].flat();
  const beating = [
    field("Period (s)", "heartbeat.periodSeconds", period, "the expected time between pings, 60 or more"),
    field("Grace (s)", "heartbeat.graceSeconds", grace, "how much later a ping may come before the job runs"),
  ].flat();
  const afterOutage = [
    field("Misfire policy", "misfirePolicy", misfire, "after an outage: one late firing, all missed, or none"),
    field("Catch-up window (s)", "catchUpWindow", catchUp, "fireAll: missed firings this recent are still sent, one a second"),
  ].flat();
  function showKind() {
    const heartbeat = kind.value === "heartbeat";
    for (const node of [...scheduled, ...afterOutage]) node.hidden = heartbeat;
    for (const node of beating) node.hidden = !heartbeat;
    if (!heartbeat) schedulePreview();
  }
  kind.addEventListener("change", showKind);

  const form = h("form", { class: "timer card", id: "timer-form", novalidate: true, onsubmit: submit },
    field("Id", "id", idInput, timer ? "the id cannot change; create a new timer for another" : "your name for the timer: A-Z a-z 0-9 . _ : -"),
    field("Fires", "kind", kind, "a heartbeat has a ping URL; it runs its job when a ping is late"),
    scheduled,
    beating,
    field("Job type", "jobType", jobType, jobTypeHint),
    jobBox,
    field("Callback data", "timerCallbackData", callbackData, "any JSON, handed to every firing"),
    labels ? labels.nodes : [],
    afterOutage,
    field("Delivery", "delivery", delivery, "deduplicated: never runs twice for a firing (a write per firing)"),
    field("History", "history", history, "which runs the run history keeps"),
    alertsAndFlow.nodes,
    field("Enabled", "enabled", enabled),
    formError,
    h("div", { class: "actions full" }, h("a", { href: timer ? `#/timers/${enc(timer.id)}` : "#/" }, h("button", { type: "button" }, "Cancel")), save));
  const rearm = timer?.state === "completed"
    ? [h("p", { class: "muted", id: "rearm-note" }, "This timer completed: saving it arms it again, its maxFirings counted from then.")] : [];
  view.replaceChildren(h("h1", {}, timer ? `Edit ${timer.id}` : "New timer"), ...rearm, zoneList, form);
  renderJob(timer?.job ?? {});
  showKind();
  refreshPreview();
  (timer ? schedule : idInput).focus();
}
