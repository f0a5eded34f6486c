// Dashboard: parameter controls and charts. A control change sets `values`; Python re-runs
// dashboard.view(values) and answers in `charts` (each drawn as SVG by Python) or `error`.
function element(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function setValue(model, name, value) {
  model.set("values", { ...model.get("values"), [name]: value });
  model.save_changes();
}

function control(model, param) {
  const wrapper = element("label", { class: "raise-dash-control" });
  wrapper.append(element("span", { class: "raise-dash-label" }, param.label || param.name));
  const value = model.get("values")[param.name];
  if (param.type === "date_range") {
    const pair = Array.isArray(value) ? value : ["", ""];
    const start = element("input", { type: "date" });
    const end = element("input", { type: "date" });
    const text = element("input", { type: "text", placeholder: "all, 30d", size: 8 });
    start.value = String(pair[0] || "").slice(0, 10);
    end.value = String(pair[1] || "").slice(0, 10);
    text.value = Array.isArray(value) ? "" : value || "";
    const dates = () => start.value && end.value && setValue(model, param.name, [start.value, end.value]);
    start.addEventListener("change", dates);
    end.addEventListener("change", dates);
    text.addEventListener("change", () => setValue(model, param.name, text.value.trim() || null));
    wrapper.append(start, end, element("span", {}, "or"), text);
  } else if (param.type === "dropdown" || param.type === "multi_select") {
    const select = element("select", param.type === "multi_select" ? { multiple: "" } : {});
    const chosen = new Set((Array.isArray(value) ? value : [value]).map(String));
    for (const [i, option] of (param.options || []).entries()) {
      const node = element("option", { value: i }, String(option));
      node.selected = chosen.has(String(option));
      select.append(node);
    }
    select.addEventListener("change", () => {
      const picked = Array.from(select.selectedOptions).map((o) => param.options[Number(o.value)]);
      setValue(model, param.name, param.type === "multi_select" ? picked : picked[0]);
    });
    wrapper.append(select);
  } else if (param.type === "slider") {
    const range = element("input", { type: "range", min: param.min, max: param.max, step: param.step ?? 1 });
    const shown = element("span", { class: "raise-dash-value" });
    range.value = value ?? param.min;
    shown.textContent = range.value;
    range.addEventListener("input", () => (shown.textContent = range.value));
    range.addEventListener("change", () => setValue(model, param.name, Number(range.value)));
    wrapper.append(range, shown);
  }
  return wrapper;
}

function render({ model, el }) {
  const root = element("div", { class: "raise-dash" });
  const heading = element("div", { class: "raise-dash-heading" }, model.get("dashboard_name"));
  const description = element("div", { class: "raise-dash-description" }, model.get("description"));
  const controls = element("div", { class: "raise-dash-controls" });
  const error = element("div", { class: "raise-dash-error", "aria-live": "polite" });
  const grid = element("div", { class: "raise-dash-grid" });
  root.append(heading, description, controls, error, grid);
  el.append(root);

  const drawControls = () => {
    controls.replaceChildren(...model.get("controls").map((p) => control(model, p)));
  };
  const drawError = () => {
    const e = model.get("error");
    error.textContent = e && e.code ? `${e.code}: ${e.message}` : "";
  };
  const drawCharts = () => {
    grid.style.gridTemplateColumns = `repeat(${model.get("columns") || 1}, minmax(0, 1fr))`;
    grid.replaceChildren(
      ...model.get("charts").map((cell) => {
        const box = element("div", { class: "raise-dash-cell" });
        box.append(element("div", { class: "raise-dash-title" }, cell.title || ""));
        if (cell.svg) {
          const picture = element("div", { class: "raise-dash-chart" });
          picture.innerHTML = cell.svg; // SVG drawn by vl_convert in Python from the stored spec
          box.append(picture);
        } else {
          box.append(element("div", { class: "raise-dash-message" }, cell.message || "No picture for this chart."));
        }
        return box;
      }),
    );
  };
  drawControls();
  drawError();
  drawCharts();
  // `values` set from Python (widget.set_parameter) redraws the controls, so they show what is bound.
  const handlers = [
    ["change:controls", drawControls],
    ["change:values", drawControls],
    ["change:error", drawError],
    ["change:charts", drawCharts],
  ];
  for (const [event, handler] of handlers) model.on(event, handler);
  return () => {
    for (const [event, handler] of handlers) model.off(event, handler);
  };
}

export default { render };
