// Text contrast as a reader sees it, measured in the page: every visible text's colour
// against the background actually behind it (the nearest opaque ancestor, with the
// translucent ones between composited on top), by the WCAG 2 formula. Colours are read
// through a canvas, so any CSS colour (Tailwind 4's oklch) is measured as sRGB.
import type { Page } from 'playwright-core';

export interface ContrastProblem {
  text: string;
  /** A short path to the element: tag#id.class of it and two ancestors. */
  where: string;
  ratio: number;
  needed: number;
  color: string;
  background: string;
}

/** Every text on the page below WCAG AA (4.5:1, 3:1 for large text). Dimmed or disabled text (opacity < 1) is left out. */
export async function contrastProblems(page: Page): Promise<ContrastProblem[]> {
  return page.evaluate(CONTRAST_SCRIPT);
}

// Plain JavaScript in a string: a function passed to page.evaluate would carry the test
// transpiler's helpers (esbuild's __name) into the page, where they do not exist.
const CONTRAST_SCRIPT = `(() => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const rgba = (css) => {
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = '#000';
      ctx.fillStyle = css;
      ctx.fillRect(0, 0, 1, 1);
      const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
      return [r, g, b, a / 255];
    };
    const over = (top, below) => [0, 1, 2].map((i) => top[i] * top[3] + below[i] * (1 - top[3]));
    const luminance = (c) => {
      const [r, g, b] = c.map((v) => {
        const s = v / 255;
        return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    // Behind everything: the browser's canvas, dark when the page allows a dark scheme.
    const darkCanvas = getComputedStyle(document.documentElement).colorScheme.includes('dark') && matchMedia('(prefers-color-scheme: dark)').matches;
    const canvasColour = darkCanvas ? [18, 18, 18] : [255, 255, 255];
    const backgroundOf = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const c = rgba(getComputedStyle(e).backgroundColor);
        if (c[3] > 0) layers.push(c);
        if (c[3] >= 1) break;
      }
      let colour = canvasColour;
      for (const layer of layers.reverse()) colour = over(layer, colour);
      return colour;
    };
    const describe = (el) => {
      const parts = [];
      for (let e = el, i = 0; e && i < 3; e = e.parentElement, i++) {
        parts.unshift(\`\${e.tagName.toLowerCase()}\${e.id ? \`#\${e.id}\` : ''}\${typeof e.className === 'string' && e.className ? \`.\${e.className.trim().split(/\\s+/).slice(0, 4).join('.')}\` : ''}\`);
      }
      return parts.join(' > ');
    };
    const problems = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!el || seen.has(el) || !(node.textContent || '').trim()) continue;
      seen.add(el);
      if (el.closest('script, style, template, noscript, [hidden]') || el.getClientRects().length === 0) continue;
      const style = getComputedStyle(el);
      if (style.visibility !== 'visible') continue;
      let opacity = 1;
      for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
      if (opacity < 1) continue;
      const fg = rgba(style.color);
      const bg = backgroundOf(el);
      const text = over(fg, bg);
      const [hi, lo] = [luminance(text), luminance(bg)].sort((a, b) => b - a);
      const ratio = (hi + 0.05) / (lo + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      const needed = large ? 3 : 4.5;
      if (ratio < needed) {
        problems.push({ text: node.textContent.trim().slice(0, 60), where: describe(el), ratio: Math.round(ratio * 100) / 100, needed, color: \`rgb(\${text.map(Math.round).join(',')})\`, background: \`rgb(\${bg.map(Math.round).join(',')})\` });
      }
    }
    return problems;
})()`;
