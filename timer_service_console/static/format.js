// Times, names and states as people read them.

export function when(iso, zone) {
  if (!iso) return "";
  const date = new Date(iso);
  const options = { dateStyle: "medium", timeStyle: "medium" };
  if (zone) options.timeZone = zone;
  return new Intl.DateTimeFormat(undefined, options).format(date);
}

export function relative(iso) {
  const seconds = Math.round((new Date(iso) - Date.now()) / 1000);
  const size = Math.abs(seconds);
  const [amount, unit] =
    size < 90 ? [seconds, "second"] : size < 5400 ? [seconds / 60, "minute"]
      : size < 129600 ? [seconds / 3600, "hour"] : [seconds / 86400, "day"];
  return new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }).format(Math.round(amount), unit);
}

export function humanize(name) {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/^./, (c) => c.toUpperCase());
}

// A timer's state (active, paused, completed): the API's, or from `enabled` for an API older
// than the field (`timer-service console` may face a deployed stack of another version).
export function stateOf(timer) {
  return timer.state ?? (timer.enabled ? "active" : "paused");
}
