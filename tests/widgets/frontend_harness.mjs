// Runs a widget's ES module in Node against a minimal DOM and a fake anywidget model, then plays a
// scenario and prints what happened as JSON. Usage: node frontend_harness.mjs MODULE.mjs SCENARIO.json
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

class FakeElement {
  constructor(tag) {
    this.tagName = tag;
    this.children = [];
    this.attributes = {};
    this.listeners = {};
    this.ownText = "";
    this.value = "";
    this.disabled = false;
    this.checked = false;
    this.selected = false;
    this.style = {};
    this.html = null;
    this.classes = new Set();
    const classes = this.classes;
    this.classList = {
      add: (...names) => names.forEach((n) => classes.add(n)),
      remove: (...names) => names.forEach((n) => classes.delete(n)),
      contains: (name) => classes.has(name),
    };
  }
  get className() {
    return [...this.classes].join(" ");
  }
  set className(text) {
    this.classes.clear();
    String(text)
      .split(/\s+/)
      .filter(Boolean)
      .forEach((n) => this.classes.add(n));
  }
  get innerHTML() {
    return this.html ?? "";
  }
  set innerHTML(text) {
    this.children = [];
    this.ownText = "";
    this.html = String(text); // kept as text: the scenario reads it back with "html"
  }
  get selectedOptions() {
    return this.children.filter((c) => c.tagName === "option" && c.selected);
  }
  get textContent() {
    return this.ownText + this.children.map((c) => c.textContent).join("");
  }
  set textContent(text) {
    this.children = [];
    this.html = null;
    this.ownText = String(text);
  }
  setAttribute(key, value) {
    this.attributes[key] = String(value);
    if (key === "class") this.className = value;
    if (key === "value") this.value = String(value); // as a browser's option (and untouched input) reflects it
  }
  getAttribute(key) {
    return this.attributes[key];
  }
  append(...nodes) {
    for (const node of nodes) {
      if (typeof node === "string") {
        const text = new FakeElement("#text");
        text.ownText = node;
        this.children.push(text);
      } else {
        this.children.push(node);
      }
    }
  }
  replaceChildren(...nodes) {
    this.children = [];
    this.ownText = "";
    this.append(...nodes);
  }
  addEventListener(type, listener) {
    (this.listeners[type] ||= []).push(listener);
  }
  dispatch(type, extra = {}) {
    for (const listener of this.listeners[type] || []) listener({ preventDefault() {}, ...extra });
  }
  findAll(predicate, out = []) {
    if (predicate(this)) out.push(this);
    for (const child of this.children) child.findAll(predicate, out);
    return out;
  }
}

globalThis.document = {
  activeElement: null,
  createElement: (tag) => new FakeElement(tag),
  createTextNode: (text) => Object.assign(new FakeElement("#text"), { ownText: String(text) }),
  createElementNS: (_ns, tag) => new FakeElement(tag),
};

class FakeModel {
  constructor(state) {
    this.state = state;
    this.handlers = {};
    this.sent = [];
    this.saves = 0;
  }
  get(key) {
    return this.state[key];
  }
  set(key, value) {
    this.state[key] = value;
    for (const handler of this.handlers[`change:${key}`] || []) handler();
  }
  save_changes() {
    this.saves += 1;
  }
  on(event, handler) {
    (this.handlers[event] ||= []).push(handler);
  }
  off(event, handler) {
    this.handlers[event] = (this.handlers[event] || []).filter((h) => h !== handler);
  }
  send(message) {
    this.sent.push(message);
  }
}

const byClass = (root, name) => root.findAll((e) => e.classes.has(name));
// "input" or "input[type=checkbox]": a tag, optionally with one attribute's value.
const byTag = (root, selector) => {
  const [, tag, key, value] = selector.match(/^([^[]+)(?:\[([^=]+)=([^\]]*)\])?$/);
  return root.findAll((e) => e.tagName === tag && (key === undefined || e.getAttribute(key) === value));
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const [modulePath, scenarioPath] = process.argv.slice(2);
const scenario = JSON.parse(readFileSync(scenarioPath, "utf8"));
const widget = (await import(pathToFileURL(modulePath).href)).default;
const model = new FakeModel(scenario.state);
const el = new FakeElement("div");
const cleanup = widget.render({ model, el });
const report = { steps: [] };

for (const step of scenario.steps) {
  const [action, ...args] = step;
  let result = null;
  if (action === "count") result = args[0].startsWith(".") ? byClass(el, args[0].slice(1)).length : byTag(el, args[0]).length;
  if (action === "text") result = byClass(el, args[0]).map((e) => e.textContent);
  if (action === "click") byClass(el, args[0])[args[1]].dispatch("click");
  if (action === "key") byClass(el, args[0])[args[1]].dispatch("keydown", { key: args[2] });
  if (action === "set") model.set(args[0], args[1]);
  if (action === "type") {
    const input = byTag(el, args[0])[args[1]];
    input.value = args[2];
    input.dispatch("input");
  }
  if (action === "change") {
    const control = byTag(el, args[0])[args[1]];
    if (args.length > 2) control.value = args[2];
    control.dispatch("change");
  }
  if (action === "choose") {
    const select = byTag(el, args[0])[args[1]];
    select.children.forEach((option, i) => (option.selected = args[2].includes(i)));
    select.dispatch("change");
  }
  if (action === "toggle") {
    const box = byTag(el, args[0])[args[1]];
    box.checked = !box.checked;
    box.dispatch("change");
  }
  if (action === "html") result = byClass(el, args[0]).map((e) => e.innerHTML);
  if (action === "style") result = byClass(el, args[0]).map((e) => e.style[args[1]] ?? "");
  if (action === "checked") result = byTag(el, args[0]).map((e) => e.checked);
  if (action === "selected") result = byTag(el, args[0]).map((s) => s.selectedOptions.map((o) => o.textContent));
  if (action === "values") result = byTag(el, args[0]).map((e) => e.value);
  if (action === "wait") await sleep(args[0]);
  if (action === "state") result = model.get(args[0]);
  if (action === "value") result = byTag(el, args[0])[args[1]].value;
  if (action === "disabled") result = byTag(el, "button")[0].disabled;
  if (action === "classes") result = byClass(el, args[0]).map((e) => e.className);
  if (action === "attr") result = byClass(el, args[0]).map((e) => e.getAttribute(args[1]));
  if (action === "sent") result = model.sent;
  if (action === "saves") result = model.saves;
  report.steps.push(result);
}
if (typeof cleanup === "function") cleanup(); // without one, every listener is left: handlers_left says so
report.handlers_left = Object.values(model.handlers).reduce((n, list) => n + list.length, 0);
process.stdout.write(JSON.stringify(report));
