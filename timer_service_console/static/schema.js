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
  const bounds = (name) => {
    const property = deref(spec.properties?.[name]);
    const number = [property, ...(property.anyOf ?? []).map(deref)].find((s) => s.type === "integer");
    if (!number || !Number.isInteger(number.minimum) || !Number.isInteger(number.maximum)) throw missing(`the bounds of ${name}`);
    return Object.freeze({ min: number.minimum, max: number.maximum });
  };
  const idPattern = parameter(put, "id", "/periodic/{id}").pattern;
  if (typeof idPattern !== "string") throw missing("the pattern of a timer id");
  return Object.freeze({
    misfirePolicy: choice("misfirePolicy"),
    delivery: choice("delivery"),
    history: choice("history"),
    onComplete: choice("onComplete"),
    jitterSeconds: bounds("jitterSeconds"),
    maxFirings: bounds("maxFirings"),
    // JSON Schema patterns are ECMA-262 regular expressions, matched anywhere unless anchored
    timerId: new RegExp(idPattern, "u"),
    largestPage: Object.freeze({
      timers: largest("get", "/periodic"),
      runs: largest("get", "/periodic/{id}/runs"),
      deadLetters: largest("get", "/dlq"),
    }),
  });
}
