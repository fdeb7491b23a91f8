// Marks a rendered region for htmx's out-of-band swap, in one place. Templates never know
// whether they are rendered for a page, an htmx swap or the stream: only the root element
// of what the broker sends gets `hx-swap-oob`. Nested partials therefore never carry one
// (Eta's include hands a partial its parent's data; a flag in the data would reach every
// tile and row, and htmx 2 leaves nested out-of-band elements inert in <template>s).

/** Elements the HTML parser drops outside a table: sent inside a <template>, which htmx unwraps. */
const TABLE_PARTS = new Set(['tr', 'td', 'th', 'tbody', 'thead', 'tfoot', 'caption', 'colgroup', 'col']);

/**
 * `html` (one root element) with `hx-swap-oob` set on its root. `swap` is htmx's value:
 * "true" replaces the element of the same id; "beforeend:#list" appends to another.
 */
export function outOfBand(html: string, swap = 'true'): string {
  const trimmed = html.trim();
  const tag = /^<([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(\/?)>/.exec(trimmed);
  if (!tag) throw new Error('an out-of-band fragment must start with its root element');
  // At the end of the root's start tag. Attribute values never hold a raw '>' (templates
  // escape them), so the first one closes the tag.
  const end = tag[0].length - 1 - tag[2]!.length;
  const marked = `${trimmed.slice(0, end)} hx-swap-oob="${swap}"${trimmed.slice(end)}`;
  return TABLE_PARTS.has(tag[1]!.toLowerCase()) ? `<template>${marked}</template>` : marked;
}
