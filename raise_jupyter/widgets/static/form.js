// Feature creation form. Every keystroke in name/dtype/expression is sent (debounced) to Python, which
// validates it with group.validate_feature and answers in the `validation` trait; "Create" sends
// {type: "create"} and Python answers in `created` or `error`.
const DEBOUNCE_MS = 250;
let instances = 0;

function element(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function field(label, control, hint) {
  const wrapper = element("label", { class: "raise-form-field" });
  wrapper.append(element("span", { class: "raise-form-label" }, label), control);
  if (hint) wrapper.append(element("span", { class: "raise-form-hint" }, hint));
  return wrapper;
}

function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

// The expression line with a caret under the column an error points at.
function pointer(expression, issue) {
  if (!issue.line) return null;
  const line = expression.split("\n")[issue.line - 1] ?? "";
  const block = element("pre", { class: "raise-form-pointer" });
  block.textContent = `${line}\n${" ".repeat(Math.max(0, issue.column - 1))}^`;
  return block;
}

function render({ model, el }) {
  const id = `raise-form-${++instances}`;
  const root = element("div", { class: "raise-form" });
  root.append(element("div", { class: "raise-form-heading" }, `New feature in ${model.get("group_path")}`));

  const name = element("input", { type: "text", placeholder: "click_through_rate", spellcheck: "false" });
  const dtype = element("input", { type: "text", list: `${id}-dtypes`, spellcheck: "false" });
  const choices = element("datalist", { id: `${id}-dtypes` });
  for (const choice of model.get("dtype_choices")) choices.append(element("option", { value: choice }));
  const description = element("textarea", { rows: 2, placeholder: "What it measures, in a sentence" });
  const tags = element("input", { type: "text", placeholder: "engagement, ratio", spellcheck: "false" });
  const expression = element("textarea", {
    rows: 3,
    class: "raise-form-code",
    spellcheck: "false",
    placeholder: "Optional: clicks / NULLIF(impressions, 0)",
  });
  const status = element("div", { class: "raise-form-status", "aria-live": "polite" });
  const button = element("button", { type: "button", class: "raise-form-create" }, "Create feature");
  const outcome = element("div", { class: "raise-form-outcome", "aria-live": "polite" });

  const row = element("div", { class: "raise-form-row" });
  row.append(field("Name", name), field("Dtype", dtype, "pick or type, e.g. float32[768]"));
  root.append(
    row,
    choices,
    field("Description", description),
    field("Tags", tags, "comma-separated"),
    field("Expression (derived_from)", expression, "SQL over this group's features; checked as you type"),
    status,
    button,
    outcome,
  );
  el.append(root);

  const inputs = { name, dtype, description, expression };
  const push = (trait, value) => {
    model.set(trait, value);
    model.save_changes();
  };
  const pushLater = debounce(push, DEBOUNCE_MS);
  for (const [trait, control] of Object.entries(inputs)) {
    control.value = model.get(trait);
    control.addEventListener("input", () => pushLater(trait, control.value));
    control.addEventListener("change", () => push(trait, control.value));
  }
  const tagList = () =>
    tags.value
      .split(",")
      .map((t) => t.trim())
      .filter((t) => t.length > 0);
  tags.value = model.get("tags").join(", ");
  tags.addEventListener("change", () => push("tags", tagList()));

  function showValidation() {
    const result = model.get("validation") || {};
    status.replaceChildren();
    status.className = `raise-form-status is-${result.state || "idle"}`;
    for (const control of [name, dtype, expression]) control.classList.remove("is-invalid");
    if (result.state === "valid" || result.state === "incomplete") {
      const text = result.inferred_type ? `✓ valid · inferred type ${result.inferred_type}` : "✓ valid";
      status.append(element("div", {}, result.state === "incomplete" ? `${text} · give it a name` : text));
    }
    for (const issue of result.errors || []) {
      const where = issue.line ? ` (line ${issue.line}, column ${issue.column})` : "";
      status.append(element("div", { class: "raise-form-error" }, `${issue.code}${where}: ${issue.message}`));
      const caret = pointer(model.get("expression"), issue);
      if (caret) status.append(caret);
      const control = { name, dtype, expression }[issue.field];
      if (control) control.classList.add("is-invalid");
    }
    for (const issue of result.warnings || []) {
      const where = issue.line ? ` (line ${issue.line}, column ${issue.column})` : "";
      status.append(element("div", { class: "raise-form-warning" }, `${issue.code}${where}: ${issue.message}`));
    }
    button.disabled = result.state !== "valid";
  }

  function showOutcome() {
    const created = model.get("created") || {};
    const error = model.get("error") || {};
    outcome.replaceChildren();
    if (error.code) {
      outcome.className = "raise-form-outcome is-error";
      outcome.textContent = error.text;
    } else if (created.qualified_name) {
      outcome.className = "raise-form-outcome is-created";
      outcome.textContent = `Created ${created.qualified_name} (${created.dtype})`;
    }
  }

  function syncInputs() {
    for (const [trait, control] of Object.entries(inputs)) {
      if (document.activeElement !== control && control.value !== model.get(trait)) control.value = model.get(trait);
    }
    if (document.activeElement !== tags) tags.value = model.get("tags").join(", ");
  }

  button.addEventListener("click", () => {
    // Send what is typed now, not what the debounce will send later.
    for (const [trait, control] of Object.entries(inputs)) model.set(trait, control.value);
    model.set("tags", tagList());
    model.save_changes();
    model.send({ type: "create" });
  });

  const events = ["change:validation", "change:created", "change:error", "change:name", "change:dtype",
    "change:description", "change:expression", "change:tags"];
  const handler = () => {
    syncInputs();
    showValidation();
    showOutcome();
  };
  for (const event of events) model.on(event, handler);
  handler();
  return () => {
    for (const event of events) model.off(event, handler);
  };
}

export default { render };
