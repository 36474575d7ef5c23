// Timer Service console: one page, ES modules, no build step. Every figure it shows comes from
// the API on this origin (the local stack, or `timer-service console`, which signs calls to a
// deployed API); the module layout is noted in index.html.

import { offerKeyChange } from "./api.js";
import { route, startRouter } from "./router.js";
import { documented } from "./schema.js";
import { deadLettersView } from "./views/dead-letters.js";
import { editView } from "./views/edit.js";
import { signingSecretsView } from "./views/signing-secrets.js";
import { timerView } from "./views/timer.js";
import { timersView } from "./views/timers.js";

offerKeyChange(route);
documented().catch(() => {}); // read while the first view loads; a view that needs it reports a failure
startRouter([
  [/^#?\/?(?:\?(.*))?$/, (query) => timersView(query ?? ""), "timers"], // the list, its filter in the query
  [/^#\/new$/, () => editView(null), "new"],
  [/^#\/edit\/(.+)$/, (id) => editView(decodeURIComponent(id)), "timers"],
  [/^#\/timers\/(.+)$/, (id) => timerView(decodeURIComponent(id)), "timers"],
  [/^#\/dlq$/, deadLettersView, "dlq"],
  [/^#\/signing-secrets$/, () => signingSecretsView(), "secrets"],
]);
