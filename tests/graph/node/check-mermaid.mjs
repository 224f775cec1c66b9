// Checks Mermaid diagrams with the Mermaid project's own code, under Node with jsdom.
//
//   node check-mermaid.mjs [--labels] FILE...      (FILE "-" reads standard input)
//
// For each diagram: mermaid.parse(text) (the parser and the diagram's own checks, such as the
// maxEdges limit) and the length against Mermaid's maxTextSize, which only render() enforces.
// With --labels it also renders the diagram (jsdom has no layout engine, so text is measured by
// its length) and reports every label's lines as the SVG shows them.
// Prints one JSON object per diagram; exits 1 if any diagram fails, 2 on bad usage.
// XFLOW_TRACE=1 also prints the stack of each failure on standard error.

import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const args = process.argv.slice(2);
const wantLabels = args[0] === '--labels';
const files = wantLabels ? args.slice(1) : args;
if (files.length === 0) {
  console.error('usage: node check-mermaid.mjs [--labels] FILE...');
  process.exit(2);
}

// Mermaid's DOMPurify and renderer expect a browser: give them jsdom's window before loading it.
const { window } = new JSDOM('<!doctype html><html><body></body></html>', {
  pretendToBeVisual: true,
});
for (const name of ['window', 'document', 'navigator', 'Element', 'HTMLElement', 'SVGElement',
  'DOMParser', 'MutationObserver', 'CSSStyleSheet']) {
  if (!(name in globalThis)) {
    globalThis[name] = name === 'window' ? window : window[name];
  }
}
// jsdom lays nothing out: measure text as 8 px a character and 17 px a line, which is enough
// for Mermaid's layout to place every node and edge apart.
const textBox = (element) => {
  const html = element.innerHTML ?? '';
  const lines = html.split(/<br\s*\/?>/i).map((part) => part.replace(/<[^>]*>/g, ''));
  const width = Math.max(1, ...lines.map((line) => line.length)) * 8;
  const height = lines.length * 17;
  return { x: 0, y: 0, left: 0, top: 0, right: width, bottom: height, width, height };
};
window.SVGElement.prototype.getBBox = function getBBox() { return textBox(this); };
window.SVGElement.prototype.getComputedTextLength = function length() {
  return textBox(this).width;
};
window.HTMLElement.prototype.getBoundingClientRect = function rect() { return textBox(this); };

const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });
const maxTextSize = mermaid.mermaidAPI.getConfig().maxTextSize;

function labelLines(svg) {
  const holder = window.document.createElement('div');
  holder.innerHTML = svg;
  const decode = window.document.createElement('div');
  const labels = [];
  for (const paragraph of holder.querySelectorAll('p')) {
    const lines = paragraph.innerHTML.split(/<br\s*\/?>/i).map((part) => {
      decode.innerHTML = part;
      return decode.textContent;
    });
    if (lines.some((line) => line !== '')) {
      labels.push(lines);
    }
  }
  return labels;
}

let failed = false;
let counter = 0;
for (const file of files) {
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  const result = { file, ok: true, chars: text.length };
  try {
    if (text.length > maxTextSize) {
      throw new Error(`${text.length} characters, over Mermaid's maxTextSize of ${maxTextSize}`);
    }
    const parsed = await mermaid.parse(text);
    result.type = parsed.diagramType;
    if (wantLabels) {
      counter += 1;
      const { svg } = await mermaid.render(`diagram${counter}`, text);
      result.labels = labelLines(svg);
    }
  } catch (error) {
    failed = true;
    result.ok = false;
    result.error = String(error?.message ?? error);
    if (process.env.XFLOW_TRACE) console.error(error?.stack);
  }
  console.log(JSON.stringify(result));
}
process.exit(failed ? 1 : 0);
