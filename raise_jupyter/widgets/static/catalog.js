// Catalog browser: a lazily loaded org/domain/project/group/feature tree and a feature search.
// Opening a node edits the `expanded` trait (Python loads the children into `tree`); typing sets
// `query` (Python fills `results`); clicking a name sets `selected` (Python fills `details`).
const DEBOUNCE_MS = 250;
const ICONS = { organization: "🏢", domain: "🗂", project: "📁", group: "▦", feature: "•" };

function element(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function render({ model, el }) {
  const root = element("div", { class: "raise-catalog" });
  const search = element("input", {
    type: "search",
    class: "raise-catalog-search",
    placeholder: "Search features by name, description or tag",
    spellcheck: "false",
  });
  const results = element("ul", { class: "raise-catalog-results" });
  const body = element("div", { class: "raise-catalog-body" });
  const tree = element("ul", { class: "raise-catalog-tree", role: "tree" });
  const details = element("div", { class: "raise-catalog-details" });
  const error = element("div", { class: "raise-catalog-error", "aria-live": "polite" });
  body.append(tree, details);
  root.append(search, results, error, body);
  el.append(root);

  const save = (trait, value) => {
    model.set(trait, value);
    model.save_changes();
  };
  let timer = null;
  search.value = model.get("query");
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => save("query", search.value), DEBOUNCE_MS);
  });

  function toggle(path) {
    const expanded = model.get("expanded");
    const open = expanded.includes(path);
    save("expanded", open ? expanded.filter((p) => p !== path && !p.startsWith(path + "/")) : [...expanded, path]);
  }

  function drawNodes(nodes, list) {
    for (const node of nodes) {
      const item = element("li", { role: "treeitem" });
      const line = element("div", { class: "raise-catalog-line" });
      if (node.path === model.get("selected")) line.classList.add("is-selected");
      const leaf = node.kind === "feature";
      const caret = element("span", { class: "raise-catalog-caret" }, leaf ? "" : node.children ? "▾" : "▸");
      if (!leaf) caret.addEventListener("click", () => toggle(node.path));
      const label = element("span", { class: `raise-catalog-name kind-${node.kind}`, tabindex: 0 });
      label.textContent = `${ICONS[node.kind] || ""} ${node.name}`;
      label.addEventListener("click", () => save("selected", node.path));
      label.addEventListener("dblclick", () => !leaf && toggle(node.path));
      label.addEventListener("keydown", (event) => {
        if (event.key === "Enter") save("selected", node.path);
        if (event.key === "ArrowRight" && !leaf && !node.children) toggle(node.path);
        if (event.key === "ArrowLeft" && node.children) toggle(node.path);
      });
      line.append(caret, label);
      if (node.info) line.append(element("span", { class: "raise-catalog-info" }, node.info));
      item.append(line);
      if (node.children && node.children.length) {
        const children = element("ul", { role: "group" });
        drawNodes(node.children, children);
        item.append(children);
      }
      list.append(item);
    }
  }

  function drawTree() {
    tree.replaceChildren();
    drawNodes(model.get("tree"), tree);
  }

  function drawResults() {
    results.replaceChildren();
    const query = model.get("query").trim();
    if (!query) return;
    const found = model.get("results");
    if (found.length === 0) {
      results.append(element("li", { class: "raise-catalog-none" }, `No feature matches “${query}”.`));
      return;
    }
    for (const hit of found) {
      const item = element("li", { class: "raise-catalog-hit", tabindex: 0 });
      item.append(
        element("span", { class: "raise-catalog-name" }, `${hit.group}/${hit.name}`),
        element("span", { class: "raise-catalog-info" }, hit.dtype),
      );
      if (hit.description) item.append(element("span", { class: "raise-catalog-description" }, hit.description));
      item.addEventListener("click", () => save("selected", hit.path));
      results.append(item);
    }
  }

  function drawDetails() {
    const info = model.get("details") || {};
    details.replaceChildren();
    if (!info.path) {
      details.append(element("div", { class: "raise-catalog-hint" }, "Select an item to see its details."));
      return;
    }
    details.append(element("div", { class: "raise-catalog-heading" }, `${info.kind}: ${info.path}`));
    const skip = new Set(["kind", "path", "name"]);
    for (const [key, value] of Object.entries(info)) {
      if (skip.has(key) || value === null || value === "" || (Array.isArray(value) && value.length === 0)) continue;
      const row = element("div", { class: "raise-catalog-row" });
      const text = Array.isArray(value) ? value.join(", ") : String(value);
      row.append(
        element("span", { class: "raise-catalog-key" }, key.replaceAll("_", " ")),
        element(key === "derived_from" ? "code" : "span", {}, text),
      );
      details.append(row);
    }
  }

  function drawError() {
    const info = model.get("error") || {};
    error.textContent = info.text || "";
  }

  const handlers = {
    "change:tree": drawTree,
    "change:selected": () => {
      drawTree();
      drawDetails();
    },
    "change:results": drawResults,
    "change:query": () => {
      // Set from Python (or another view of this model): show it, unless someone is typing here.
      if (search.value !== model.get("query") && search.ownerDocument?.activeElement !== search) {
        search.value = model.get("query");
      }
      drawResults();
    },
    "change:details": drawDetails,
    "change:error": drawError,
  };
  for (const [event, handler] of Object.entries(handlers)) model.on(event, handler);
  drawTree();
  drawResults();
  drawDetails();
  drawError();
  return () => {
    for (const [event, handler] of Object.entries(handlers)) model.off(event, handler);
  };
}

export default { render };
