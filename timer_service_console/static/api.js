// The API on this origin: JSON in and out, the API key when the service asks for one, the
// console's X-Requested-By header (`timer-service console` signs only requests that carry it),
// waits when over the usage plan's rate, and errors in the API's one shape.

const KEY_STORE = "timer-service.api-key";
const keyButton = document.getElementById("api-key-button");

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "http_error";
    this.field = error.field || null;
  }
}

export const enc = encodeURIComponent;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function api(method, path, body, extraHeaders = {}, retries = 3) {
  const headers = { Accept: "application/json", "X-Requested-By": "timer-service-console", ...extraHeaders };
  const key = localStorage.getItem(KEY_STORE);
  if (key) headers["X-Api-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: { message: text.slice(0, 300) || `HTTP ${response.status}` } };
  }
  if (response.status === 401 && (!data?.error?.field || data.error.field === "X-Api-Key")) {
    await askForKey(key ? "That key was refused." : "");
    return api(method, path, body, extraHeaders);
  }
  if (response.status === 429 && retries > 0) { // over the usage plan's rate: wait as told
    const wait = Math.min(Number(response.headers.get("Retry-After")) || 1, 5);
    await sleep(wait * 1000);
    return api(method, path, body, extraHeaders, retries - 1);
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// An error as one line: the API's message with its status and code.
export function failure(error) {
  if (error instanceof ApiError) return `${error.message} (${error.status} ${error.code})`;
  return String(error.message || error);
}

// At most `size` calls in flight (the list's last-run lookups: one call per timer shown).
export function pool(size) {
  let running = 0;
  const waiting = [];
  const next = () => {
    if (running >= size || !waiting.length) return;
    running++;
    const [task, resolve, reject] = waiting.shift();
    task().then(resolve, reject).finally(() => {
      running--;
      next();
    });
  };
  return (task) => new Promise((resolve, reject) => {
    waiting.push([task, resolve, reject]);
    next();
  });
}

let jobTypesCache = null;

// The job types this service runs, each with its config's JSON schema (GET /job-types).
export async function jobTypes() {
  if (!jobTypesCache) jobTypesCache = await api("GET", "/job-types");
  return jobTypesCache;
}

function askForKey(message) {
  const dialog = document.getElementById("api-key-dialog");
  const input = document.getElementById("api-key-input");
  document.getElementById("api-key-error").textContent = message;
  input.value = "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (input.value.trim()) localStorage.setItem(KEY_STORE, input.value.trim());
        keyButton.hidden = false;
        resolve();
      },
      { once: true },
    );
    dialog.showModal();
    input.focus();
  });
}

// The header's "API key" button: forget the key, ask for another, then `after()`.
export function offerKeyChange(after) {
  keyButton.addEventListener("click", () => {
    localStorage.removeItem(KEY_STORE);
    askForKey("").then(after);
  });
  if (localStorage.getItem(KEY_STORE)) keyButton.hidden = false;
}
