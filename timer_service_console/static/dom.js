// The page's few elements and the helpers every view builds with.

export const view = document.getElementById("view");
const banner = document.getElementById("banner");

// An element: attributes (on* are listeners, dataset an object, true an empty attribute) and
// children (nodes, or anything else as text; null, undefined and false are left out).
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function showBanner(text, kind = "error") {
  banner.textContent = text;
  banner.className = kind === "info" ? "info" : "";
  banner.hidden = !text;
}

export function badge(text) {
  return h("span", { class: `badge ${text}` }, text);
}

export function confirmDialog(text, label = "Delete") {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = label;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "cancel";
    dialog.showModal();
  });
}
