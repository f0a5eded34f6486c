// Alert builder: each field writes its trait; "Create alert" sends {type: "create"} and Python calls
// fs.create_alert, answering in `created` or `error`. Nothing is decided here.
let instances = 0;

function element(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function field(label, control) {
  const wrapper = element("label", { class: "raise-alert-field" });
  wrapper.append(element("span", { class: "raise-alert-label" }, label), control);
  return wrapper;
}

// A control that writes its trait, and shows the trait when Python sets it (unless it is being typed in).
function bind(model, trait, control, handlers, kind = "text") {
  const read = () => (kind === "checkbox" ? control.checked : control.value);
  const show = () => {
    if (document.activeElement === control) return;
    if (kind === "checkbox") control.checked = model.get(trait);
    else if (control.value !== model.get(trait)) control.value = model.get(trait);
  };
  show();
  const event = kind === "checkbox" || control.tagName.toUpperCase() === "SELECT" ? "change" : "input";
  control.addEventListener(event, () => {
    model.set(trait, read());
    model.save_changes();
  });
  handlers.push([`change:${trait}`, show]);
  return control;
}

function select(choices) {
  const node = element("select");
  for (const choice of choices) node.append(element("option", { value: choice }, choice));
  return node;
}

function render({ model, el }) {
  const id = `raise-alert-${++instances}`;
  const handlers = [];
  const root = element("div", { class: "raise-alert" });
  root.append(element("div", { class: "raise-alert-heading" }, `New alert in ${model.get("project")}`));
  const text = (trait, placeholder) =>
    bind(model, trait, element("input", { type: "text", placeholder, spellcheck: "false" }), handlers);

  const mode = bind(model, "analysis_mode", select(["simple", "spec"]), handlers);
  const metric = element("input", { type: "text", list: `${id}-metrics` });
  const metrics = element("datalist", { id: `${id}-metrics` });
  for (const m of model.get("metric_choices")) metrics.append(element("option", { value: m }));
  const simple = element("div", { class: "raise-alert-row" });
  simple.append(field("Feature", text("feature", "click_count")), field("Metric", bind(model, "metric", metric, handlers)), metrics);
  const spec = bind(
    model,
    "analysis_text",
    element("textarea", { rows: 4, class: "raise-alert-code", placeholder: "type: aggregation\nfeature: click_count\nmetrics: [avg]" }),
    handlers,
  );
  const specField = field("Analysis spec (YAML/JSON)", spec);

  const kind = bind(model, "condition_type", select(model.get("condition_types")), handlers);
  const single = field("Value", text("value", "0.05"));
  const ranged = element("div", { class: "raise-alert-row" });
  ranged.append(field("Low", text("low", "0")), field("High", text("high", "1")));

  const channels = element("div", { class: "raise-alert-row" });
  const boxes = [];
  for (const channel of model.get("channel_choices")) {
    const box = element("input", { type: "checkbox" });
    boxes.push([channel, box]);
    box.addEventListener("change", () => {
      const now = new Set(model.get("channels"));
      if (box.checked) now.add(channel);
      else now.delete(channel);
      model.set("channels", model.get("channel_choices").filter((c) => now.has(c)));
      model.save_changes();
    });
    const label = element("label", { class: "raise-alert-check" });
    label.append(box, document.createTextNode(channel));
    channels.append(label);
  }
  const showChannels = () => {
    const now = model.get("channels");
    for (const [channel, box] of boxes) box.checked = now.includes(channel);
  };
  showChannels();
  handlers.push(["change:channels", showChannels]);

  const button = element("button", { type: "button", class: "raise-alert-create" }, "Create alert");
  button.addEventListener("click", () => model.send({ type: "create" }));
  const outcome = element("div", { class: "raise-alert-outcome", "aria-live": "polite" });

  root.append(
    field("Name", text("name", "high-null-rate")),
    field("Group (optional)", text("group", "user-signals")),
    field("Analysis", mode),
    simple,
    specField,
    field("Condition", kind),
    single,
    ranged,
    field("Condition metric (optional)", text("condition_metric", "null_rate")),
    field("Notify (comma separated)", text("notify", "data-quality@acme.com")),
    field("Channels", channels),
    field("Check interval", text("check_interval", "1h")),
    field(
      "Check on change",
      bind(model, "check_on_change", element("input", { type: "checkbox" }), handlers, "checkbox"),
    ),
    button,
    outcome,
  );
  el.append(root);

  const showMode = () => {
    const isSpec = model.get("analysis_mode") === "spec";
    simple.style.display = isSpec ? "none" : "";
    specField.style.display = isSpec ? "" : "none";
  };
  const showCondition = () => {
    const isRanged = ["between", "outside"].includes(model.get("condition_type"));
    single.style.display = isRanged ? "none" : "";
    ranged.style.display = isRanged ? "" : "none";
  };
  const showOutcome = () => {
    const error = model.get("error");
    const created = model.get("created");
    outcome.className = "raise-alert-outcome";
    if (error && error.code) {
      outcome.classList.add("raise-alert-error");
      outcome.textContent = `${error.code}: ${error.message}`;
    } else if (created && created.name) {
      outcome.classList.add("raise-alert-ok");
      const where = created.group ? ` on ${created.group}` : "";
      outcome.textContent =
        `Created ${created.name}${where}: ${created.condition} → ` +
        `${created.channels.join(", ")} (${created.notify.join(", ")}), every ${created.check_interval}`;
    } else {
      outcome.textContent = "";
    }
  };
  showMode();
  showCondition();
  showOutcome();
  handlers.push(
    ["change:analysis_mode", showMode],
    ["change:condition_type", showCondition],
    ["change:error", showOutcome],
    ["change:created", showOutcome],
  );
  for (const [event, handler] of handlers) model.on(event, handler);
  return () => {
    for (const [event, handler] of handlers) model.off(event, handler);
  };
}

export default { render };
