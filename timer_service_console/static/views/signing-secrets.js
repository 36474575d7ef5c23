// Webhook signing secrets (#/signing-secrets): the caller's, never their values; a new one's value
// shown once, in the answer that made it; rotation with a grace period; retirement.

import { api, enc, failure } from "../api.js";
import { badge, confirmDialog, h, showBanner, view } from "../dom.js";
import { relative, when } from "../format.js";
import { wholeNumber } from "../forms.js";
import { documented } from "../schema.js";

// The page; `made` is a secret just created or rotated to, whose value is shown this once
// (it is in no other answer, and kept nowhere but this page's DOM).
export async function signingSecretsView(made = null) {
  const [page, doc] = await Promise.all([api("GET", "/signing-secrets"), documented()]);
  const error = h("p", { class: "field-error", id: "secrets-error", role: "alert" });
  const active = page.items.find((s) => s.state === "active");

  // Call the API, then show the page again (with the secret the call made, if it made one).
  async function change(button, call, done) {
    error.textContent = "";
    button.disabled = true;
    try {
      const result = await call();
      await signingSecretsView(result?.secret ? result : null);
      showBanner(done(result), "info");
    } catch (failed) {
      error.textContent = failure(failed);
      button.disabled = false;
    }
  }

  const createButton = h("button", { type: "button", class: "primary", id: "create-secret" }, "Create a signing secret");
  createButton.addEventListener("click", () => change(createButton,
    () => api("POST", "/signing-secrets"), (s) => `Created signing secret ${s.id}.`));

  const rows = page.items.map((secret) => h("tr", { class: "secret", dataset: { id: secret.id, state: secret.state } },
    h("td", { class: "mono" }, secret.id),
    h("td", { class: "state" }, badge(secret.state)),
    h("td", {}, when(secret.createdAt)),
    h("td", { class: "retires" }, secret.retiresAt
      ? [when(secret.retiresAt), h("div", { class: "muted small" }, relative(secret.retiresAt))]
      : h("span", { class: "muted" }, "—")),
    h("td", {}, h("div", { class: "row-actions" },
      secret.state === "active" ? rotateControls(secret, doc, error, change) : null,
      retireButton(secret, change)))));

  view.replaceChildren(
    h("h1", {}, "Webhook signing secrets"),
    h("p", { class: "muted" },
      "Webhooks carry a Standard Webhooks signature (webhook-signature) by each secret listed here; any Standard ",
      "Webhooks library verifies them with the secret. A rotation signs with both for its grace period, then the old ",
      "one retires. Changes reach deliveries within a minute."),
    ...(made ? [shownOnce(made)] : []),
    h("div", { class: "toolbar" }, active ? null : createButton, h("span", { class: "spacer" }),
      h("button", { type: "button", onclick: () => signingSecretsView() }, "Refresh")),
    error,
    rows.length
      ? h("table", { id: "signing-secrets" },
        h("thead", {}, h("tr", {}, ["Id", "State", "Created", "Retires", ""].map((t) => h("th", {}, t)))),
        h("tbody", {}, rows))
      : h("div", { class: "empty", id: "no-secrets" }, "No signing secret: deliveries carry no webhook-signature. Create one to sign them."));
}

// A rotation: its grace period (the API's bounds and default), then the new secret, shown once.
function rotateControls(secret, doc, error, change) {
  const range = doc.graceSeconds;
  const grace = h("input", {
    type: "number", class: "grace", id: `grace-${secret.id}`, name: "graceSeconds", step: "1",
    min: range?.min, max: range?.max, placeholder: range?.default ?? "", "aria-label": "Grace seconds",
    title: "seconds the old secret still signs deliveries (0: it stops now)",
  });
  const button = h("button", { type: "button", class: "rotate" }, "Rotate");
  button.addEventListener("click", () => {
    const [seconds, mistake] = wholeNumber(grace, "graceSeconds", range, " of seconds");
    if (mistake) {
      error.textContent = mistake;
      return;
    }
    const body = seconds === undefined ? undefined : { graceSeconds: seconds };
    change(button, () => api("POST", `/signing-secrets/${enc(secret.id)}/rotate`, body),
      (s) => `Rotated ${secret.id} to ${s.id}.`);
  });
  return [h("label", { class: "small muted", for: grace.id }, "grace (s)"), grace, button];
}

function retireButton(secret, change) {
  const button = h("button", { type: "button", class: "danger retire" }, "Retire");
  button.addEventListener("click", async () => {
    const what = secret.state === "active" ? "Deliveries stop carrying its signature within a minute."
      : "Deliveries stop carrying its signature now, before its grace period ends.";
    if (!(await confirmDialog(`Retire signing secret ${secret.id}? ${what}`, "Retire"))) return;
    change(button, () => api("DELETE", `/signing-secrets/${enc(secret.id)}`), () => `Retired ${secret.id}.`);
  });
  return button;
}

// A new secret's value with a copy button: the API answers it in this answer only.
function shownOnce(made) {
  const value = h("code", { id: "new-secret-value" }, made.secret);
  const note = h("span", { class: "muted small", id: "copy-note" });
  const copy = h("button", { type: "button", id: "copy-secret" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(made.secret);
      copy.textContent = "Copied";
      note.textContent = "";
    } catch {
      // no clipboard here (a page not served from a secure origin, a refused permission)
      getSelection().selectAllChildren(value);
      note.textContent = "Selected: copy it with Ctrl+C (⌘C).";
    }
  });
  const panel = h("div", { class: "card secret-once", id: "new-secret", role: "status" },
    h("strong", {}, `New signing secret ${made.id}`),
    h("p", {}, "Copy it now and give it to your receiver: ", h("strong", {}, "you will not see it again"),
      " (the service shows it in no other answer)."),
    value,
    h("div", { class: "toolbar" }, copy,
      h("button", { type: "button", id: "dismiss-secret", onclick: () => panel.remove() }, "I have copied it"), note));
  return panel;
}
