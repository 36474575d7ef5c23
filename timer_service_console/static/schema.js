// What the console knows of the API's fields, read from its OpenAPI document (/openapi.json)
// once, rather than copied here: a value the API adds shows in the form without a console
// change. Read where the API takes them: the body and parameters of its operations.

import { api } from "./api.js";

let reading = null;

// The document's facts the console uses: choices with their default, the bounds of whole-number
// fields, the timer id pattern, each list's largest page.
export function documented() {
  reading ??= api("GET", "/openapi.json").then(read, (error) => {
    reading = null; // tried again by the next view
    throw error;
  });
  return reading;
}

function read(document) {
  const schemas = document?.components?.schemas ?? {};
  const deref = (schema) => {
    let found = schema;
    for (let hops = 0; found?.$ref && hops < 10; hops++) found = schemas[found.$ref.split("/").pop()];
    return found ?? {};
  };
  const missing = (what) => new Error(`the API's /openapi.json does not give ${what}`);
  const operation = (method, path) => {
    const found = document?.paths?.[path]?.[method];
    if (!found) throw missing(`${method.toUpperCase()} ${path}`);
    return found;
  };
  const parameter = (op, name, path) => {
    const found = (op.parameters ?? []).find((p) => p.name === name);
    if (!found) throw missing(`the ${name} parameter of ${path}`);
    return deref(found.schema);
  };
  const largest = (method, path) => {
    const limit = parameter(operation(method, path), "limit", path);
    const maximum = Number(limit.maximum ?? (limit.anyOf ?? []).map(deref).find((s) => "maximum" in s)?.maximum);
    if (!Number.isInteger(maximum) || maximum < 1) throw missing(`the largest page of ${path}`);
    return maximum;
  };

  const put = operation("put", "/periodic/{id}");
  const spec = deref(put.requestBody?.content?.["application/json"]?.schema);
  const choice = (name) => {
    const property = deref(spec.properties?.[name]);
    const options = property.enum ?? (property.anyOf ?? []).map(deref).find((s) => s.enum)?.enum;
    if (!Array.isArray(options) || !options.length) throw missing(`the values of ${name}`);
    return Object.freeze({ values: Object.freeze([...options]), default: property.default ?? null });
  };
  const typed = (property, type) => [property, ...(property.anyOf ?? []).map(deref)].find((s) => s.type === type);
  const range = (property, name) => {
    const number = typed(property, "integer");
    if (!number || !Number.isInteger(number.minimum) || !Number.isInteger(number.maximum)) throw missing(`the bounds of ${name}`);
    return Object.freeze({ min: number.minimum, max: number.maximum, default: number.default ?? property.default ?? null });
  };
  const bounds = (name) => range(deref(spec.properties?.[name]), name);
  const pattern = (name) => {
    const text = typed(deref(spec.properties?.[name]), "string")?.pattern;
    if (typeof text !== "string") throw missing(`the pattern of ${name}`);
    return new RegExp(text, "u");
  };
  // an object's schema, as forms.js's schemaForm takes it (its references resolved by $defs)
  const object = (name) => {
    const found = typed(deref(spec.properties?.[name]), "object");
    if (!found?.properties) throw missing(`the fields of ${name}`);
    return Object.freeze({ ...found, $defs: schemas });
  };
  // Fields of a stack older than them are null: the console leaves them out of its form (the
  // API refuses a field it does not know); `timer-service console` may face such a stack.
  const optional = (read, name) => (spec.properties?.[name] ? read(name) : null);
  const rotate = document?.paths?.["/signing-secrets/{id}/rotate"]?.post;
  const rotateBody = rotate ? typed(deref(rotate.requestBody?.content?.["application/json"]?.schema), "object") : null;
  const idPattern = parameter(put, "id", "/periodic/{id}").pattern;
  if (typeof idPattern !== "string") throw missing("the pattern of a timer id");
  return Object.freeze({
    misfirePolicy: choice("misfirePolicy"),
    delivery: choice("delivery"),
    history: choice("history"),
    onComplete: choice("onComplete"),
    jitterSeconds: bounds("jitterSeconds"),
    maxFirings: bounds("maxFirings"),
    // alerts, pauses, overlap and flow control (views/alerts.js)
    alerts: optional(object, "alerts"),
    pauseAfterFailures: optional(bounds, "pauseAfterFailures"),
    overlap: optional(choice, "overlap"),
    concurrencyKey: optional(pattern, "concurrencyKey"),
    maxConcurrency: optional(bounds, "maxConcurrency"),
    maxPerSecond: optional(bounds, "maxPerSecond"),
    // a timer's labels (views/labels.js): whether the API takes them
    labels: Boolean(spec.properties?.labels),
    // a rotation's grace period (views/signing-secrets.js)
    graceSeconds: rotate ? range(deref(rotateBody?.properties?.graceSeconds), "graceSeconds") : null,
    // JSON Schema patterns are ECMA-262 regular expressions, matched anywhere unless anchored
    timerId: new RegExp(idPattern, "u"),
    largestPage: Object.freeze({
      timers: largest("get", "/periodic"),
      runs: largest("get", "/periodic/{id}/runs"),
      deadLetters: largest("get", "/dlq"),
    }),
  });
}
