// Lineage graph: draws the layout computed in Python (raise_/lineage/layout.py) as SVG.
// Clicking a node sets the `selected` trait; Python answers with `details`, shown under the graph.
const SVG_NS = "http://www.w3.org/2000/svg";
const CHAR_WIDTH = 7;
let instances = 0;

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

function fit(text, width) {
  const room = Math.max(4, Math.floor((width - 16) / CHAR_WIDTH));
  return text.length <= room ? text : text.slice(0, room - 1) + "…";
}

// Straight runs where y does not change (through a column), S-curves between columns.
function edgePath(points) {
  let d = `M ${points[0][0]} ${points[0][1]}`;
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    if (y0 === y1) {
      d += ` L ${x1} ${y1}`;
    } else {
      const mid = (x0 + x1) / 2;
      d += ` C ${mid} ${y0}, ${mid} ${y1}, ${x1} ${y1}`;
    }
  }
  return d;
}

function nodeClasses(node, selected) {
  const classes = ["raise-lineage-node"];
  if (node.focus) classes.push("is-focus");
  if (node.restricted) classes.push("is-restricted");
  else if (node.status !== "active") classes.push(`is-${node.status}`);
  if (node.derived) classes.push("is-derived");
  if (node.id === selected) classes.push("is-selected");
  return classes.join(" ");
}

function drawGraph(model, canvas, markerId) {
  const graph = model.get("graph") || {};
  const selected = model.get("selected");
  canvas.replaceChildren();
  if (!graph.nodes || graph.nodes.length === 0) return;
  const root = svg("svg", {
    width: graph.width,
    height: graph.height,
    viewBox: `0 0 ${graph.width} ${graph.height}`,
    role: "img",
    "aria-label": "feature lineage graph",
  });
  const defs = svg("defs");
  const marker = svg("marker", {
    id: markerId,
    viewBox: "0 0 10 10",
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: "auto-start-reverse",
  });
  marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "raise-lineage-arrow" }));
  defs.append(marker);
  root.append(defs);

  for (const edge of graph.edges) {
    const touching = selected && (edge.source === selected || edge.target === selected);
    const path = svg("path", {
      d: edgePath(edge.points),
      class: "raise-lineage-edge" + (touching ? " is-highlighted" : ""),
      "marker-end": `url(#${markerId})`,
    });
    if (edge.context) {
      const title = svg("title");
      title.textContent = edge.context;
      path.append(title);
    }
    root.append(path);
  }

  for (const node of graph.nodes) {
    const group = svg("g", {
      class: nodeClasses(node, selected),
      transform: `translate(${node.x}, ${node.y})`,
      tabindex: 0,
      role: "button",
    });
    group.append(svg("rect", { width: node.width, height: node.height, rx: 6, ry: 6 }));
    const title = svg("text", { x: 8, y: 18, class: "raise-lineage-title" });
    title.textContent = fit(node.title, node.width);
    const subtitle = svg("text", { x: 8, y: 34, class: "raise-lineage-subtitle" });
    subtitle.textContent = fit(node.subtitle, node.width);
    const tooltip = svg("title");
    tooltip.textContent = node.restricted ? node.title : `${node.group_path}/${node.name}@${node.version}`;
    group.append(title, subtitle, tooltip);
    const choose = () => {
      model.set("selected", model.get("selected") === node.id ? "" : node.id);
      model.save_changes();
    };
    group.addEventListener("click", choose);
    group.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        choose();
      }
    });
    root.append(group);
  }
  canvas.append(root);
}

function row(label, value, code = false) {
  const item = document.createElement("div");
  item.className = "raise-lineage-row";
  const key = document.createElement("span");
  key.className = "raise-lineage-key";
  key.textContent = label;
  const val = document.createElement(code ? "code" : "span");
  val.textContent = value;
  item.append(key, val);
  return item;
}

function drawDetails(model, panel) {
  const details = model.get("details") || {};
  panel.replaceChildren();
  if (!details.id) {
    panel.textContent = "Click a feature to see its details.";
    panel.classList.add("is-empty");
    return;
  }
  panel.classList.remove("is-empty");
  if (details.restricted) {
    panel.append(row("restricted", details.message));
    return;
  }
  const heading = document.createElement("div");
  heading.className = "raise-lineage-heading";
  heading.textContent = details.qualified_name;
  panel.append(heading);
  panel.append(row("dtype", details.dtype), row("version", details.version), row("status", details.status));
  if (details.derived_from) panel.append(row("derived from", details.derived_from, true));
  panel.append(row("upstream", details.upstream.join(", ") || "—"));
  panel.append(row("downstream", details.downstream.join(", ") || "—"));
}

function render({ model, el }) {
  const markerId = `raise-lineage-arrow-${++instances}`;
  const root = document.createElement("div");
  root.className = "raise-lineage";
  const canvas = document.createElement("div");
  canvas.className = "raise-lineage-canvas";
  const panel = document.createElement("div");
  panel.className = "raise-lineage-details";
  root.append(canvas, panel);
  el.append(root);

  const redraw = () => drawGraph(model, canvas, markerId);
  const reshow = () => drawDetails(model, panel);
  model.on("change:graph", redraw);
  model.on("change:selected", redraw);
  model.on("change:details", reshow);
  redraw();
  reshow();
  return () => {
    model.off("change:graph", redraw);
    model.off("change:selected", redraw);
    model.off("change:details", reshow);
  };
}

export default { render };
