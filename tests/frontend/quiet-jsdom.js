// Warnings JupyterLab's notebook model gives under jsdom (no clipboard; Yjs reads before a
// document is attached), not warnings of the code under test: leave them out of the report.
const NOISE = /^(Clipboard API not available|Invalid access: Add Yjs type|\[yjs#509\] Not same Y\.Doc)/;
const warn = console.warn;
console.warn = (...args) => {
  if (!NOISE.test(String(args[0]))) {
    warn(...args);
  }
};
