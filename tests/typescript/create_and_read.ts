// Creates a timer and reads it back through a client generated from the API's /openapi.json
// (README: "A TypeScript client"). Usage: node create_and_read.js BASE_URL [API_KEY]
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Timer = components["schemas"]["TimerView"];
type ApiError = components["schemas"]["ErrorBody"]["error"];

declare const process: { argv: string[]; exitCode?: number };

const [baseUrl, apiKey] = process.argv.slice(2);
const client = createClient<paths>({
  baseUrl,
  headers: apiKey ? { "X-Api-Key": apiKey } : {},
});

function fail(status: number, error: ApiError): never {
  throw new Error(`${status} ${error.code} (${error.field ?? "-"}): ${error.message}`);
}

async function createAndRead(id: string): Promise<Timer> {
  const created = await client.PUT("/periodic/{id}", {
    params: { path: { id }, header: { "If-None-Match": "*" } },
    body: { schedule: "rate(5 minutes)", timerCallbackData: { order: 42 } },
  });
  if (created.error) fail(created.response.status, created.error.error);
  const read = await client.GET("/periodic/{id}", { params: { path: { id } } });
  if (read.error) fail(read.response.status, read.error.error);
  const timer: Timer = read.data;
  const version: number = timer.version;
  const next: string | undefined = timer.nextFireTimes[0];
  const etag = read.response.headers.get("ETag");
  console.log(JSON.stringify({ created: created.response.status, etag, timer, version, next }));
  return timer;
}

await createAndRead("ts-client");
