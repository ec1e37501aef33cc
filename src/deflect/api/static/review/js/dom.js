/** Building the DOM without HTML strings: customer text is untrusted, so data goes in as text nodes and attributes. */
const SVG_NS = "http://www.w3.org/2000/svg";

/** An element. props: `on*` listeners; `dataset`; names with a dash (aria-*), role, for and list as attributes
 * (left out when null or false); anything else as a property (className, value, checked, …). */
export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  setProps(node, props);
  append(node, children);
  return node;
}

export function s(tag, attributes, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value !== null && value !== undefined) node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function setProps(node, props) {
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.includes("-") || ["role", "for", "list"].includes(name)) {
      if (value !== false) node.setAttribute(name, value);
    } else node[name] = value;
  }
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

export const $ = (id) => document.getElementById(id);
