// Form fields with their errors, and a job type's form generated from its JSON schema.

import { h } from "./dom.js";
import { humanize } from "./format.js";

// Labelled fields, each with an error line found by the path the API names ("job.url"); an
// error for a path without a field of its own goes to the nearest enclosing one, else to
// `formError`.
export function fieldErrors(formError) {
  const errors = new Map(); // field path -> error element
  const inputs = new Map(); // field path -> input
  errors.set("body", formError);

  function field(label, path, control, hint) {
    const errorId = `error-${path.replace(/\./g, "-")}`;
    const error = h("p", { class: "field-error", id: errorId });
    errors.set(path, error);
    inputs.set(path, control);
    control.setAttribute("aria-describedby", errorId);
    return [h("label", { for: control.id }, label),
      h("div", { class: "field" }, control, hint ? h("span", { class: "hint" }, hint) : null, error)];
  }

  function setError(path, message) {
    let target = path;
    while (target && !errors.has(target)) target = target.includes(".") ? target.slice(0, target.lastIndexOf(".")) : "";
    const error = errors.get(target);
    const input = inputs.get(target);
    if (!error) {
      formError.textContent = message;
      return;
    }
    error.textContent = message;
    if (input) input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function clear() {
    for (const path of errors.keys()) setError(path, "");
    formError.textContent = "";
  }

  // Drop the fields under `prefix` (a job type's, when another is chosen).
  function forget(prefix) {
    for (const path of [...errors.keys()]) {
      if (path === prefix || path.startsWith(`${prefix}.`)) {
        errors.delete(path);
        inputs.delete(path);
      }
    }
  }

  return { field, setError, clear, forget };
}

// A select of a documented choice (schema.js), at `current` or else the API's default.
export function choice(id, name, documentedChoice, current, ...first) {
  const selected = current === undefined ? documentedChoice.default : current;
  return h("select", { id, name }, ...first,
    documentedChoice.values.map((v) => h("option", { value: v, selected: selected === v }, v)));
}

// A whole number typed into `input`, within `range` ({min, max}) when given: [the number, or
// undefined when left empty; the mistake as an error line, else ""].
export function wholeNumber(input, path, range = null, unit = " of seconds") {
  const text = input.value.trim();
  const number = Number(text);
  if (text === "") return [undefined, ""];
  if (Number.isInteger(number) && (!range || (number >= range.min && number <= range.max))) return [number, ""];
  return [undefined, `${path}: a whole number${unit}${range ? `, ${range.min} to ${range.max}` : ""}`];
}

// A form for a job type's config, generated from its JSON schema (pydantic's): `nodes` to show,
// `read(setError)` the config as entered (undefined after reporting a mistake).
export function schemaForm(schema, prefix, initial, field) {
  const defs = schema.$defs || {};
  const resolve = (s) => (s && s.$ref ? defs[s.$ref.split("/").pop()] || {} : s || {});
  const readers = [];

  function build(objectSchema, path, value, required) {
    const nodes = [];
    for (const [name, raw] of Object.entries(objectSchema.properties || {})) {
      const key = `${path}.${name}`;
      let prop = resolve(raw);
      let optional = !required.includes(name);
      if (prop.anyOf) {
        const real = prop.anyOf.filter((option) => option.type !== "null");
        if (real.length === 1) {
          prop = { ...resolve(real[0]), description: prop.description, default: prop.default };
          optional = true;
        }
      }
      const current = value?.[name];
      const id = `f-${key.replace(/\./g, "-")}`;
      const label = humanize(name) + (optional ? "" : " *");
      const hintParts = [prop.description, prop.default !== undefined && prop.default !== null && typeof prop.default !== "object" ? `default ${prop.default}` : null];
      const hint = hintParts.filter(Boolean).join("; ");
      if (prop.type === "object" && prop.properties) {
        const inner = build(prop, key, current ?? {}, prop.required || []);
        nodes.push(h("fieldset", { class: "full" }, h("legend", {}, humanize(name)), inner));
        continue;
      }
      const [control, read] = input(prop, id, key, current, optional);
      nodes.push(...field(label, key, control, hint));
      readers.push([key, read]);
    }
    return nodes;
  }

  // The control for one property and how to read it: a select for an enum, a checkbox, a
  // number, one string a line, text; JSON for objects without fixed fields and arrays of objects.
  function input(prop, id, key, current, optional) {
    if (prop.enum) {
      const control = h("select", { id, name: key },
        optional ? h("option", { value: "" }, "—") : null,
        prop.enum.map((v) => h("option", { value: v, selected: current === v }, String(v))));
      return [control, () => control.value || undefined];
    }
    if (prop.type === "boolean") {
      const control = h("input", { id, name: key, type: "checkbox", checked: current ?? prop.default ?? false });
      return [control, () => control.checked];
    }
    if (prop.type === "integer" || prop.type === "number") {
      const control = h("input", { id, name: key, type: "number", step: prop.type === "integer" ? "1" : "any", min: prop.minimum, max: prop.maximum, value: current ?? "", placeholder: prop.default ?? "" });
      return [control, () => {
        if (control.value === "") return undefined;
        const number = Number(control.value);
        if (Number.isNaN(number)) throw new Error(`${key}: not a number`);
        return number;
      }];
    }
    if (prop.type === "array" && resolve(prop.items).type === "string") {
      const control = h("textarea", { id, name: key, rows: 3, placeholder: "one a line" }, (current || []).join("\n"));
      return [control, () => {
        // as typed: a pattern's spaces are part of it (only blank lines are left out)
        const lines = control.value.split("\n").map((l) => l.replace(/\r$/, "")).filter((l) => l.trim());
        return lines.length ? lines : undefined;
      }];
    }
    if (prop.type === "string") {
      const control = h("input", { id, name: key, value: current ?? "", placeholder: prop.default ?? "", autocomplete: "off", spellcheck: "false", type: prop.format === "uri" ? "url" : "text" });
      return [control, () => control.value.trim() || undefined];
    }
    const example = prop.type === "array" ? "[ ... ] as JSON" : "{ ... } as JSON";
    const control = h("textarea", { id, name: key, rows: 3, placeholder: example }, current === undefined ? "" : JSON.stringify(current, null, 2));
    return [control, () => {
      if (!control.value.trim()) return undefined;
      try {
        return JSON.parse(control.value);
      } catch {
        throw new Error(`${key}: not valid JSON`);
      }
    }];
  }

  const nodes = build(resolve(schema), prefix, initial, resolve(schema).required || []);
  return {
    nodes,
    read(setError) {
      const job = {};
      let ok = true;
      for (const [key, read] of readers) {
        let value;
        try {
          value = read();
        } catch (error) {
          setError(key, error.message);
          ok = false;
          continue;
        }
        if (value === undefined) continue;
        const parts = key.split(".").slice(1);
        let target = job;
        for (const part of parts.slice(0, -1)) target = target[part] ??= {};
        target[parts.at(-1)] = value;
      }
      return ok ? job : undefined;
    },
  };
}
