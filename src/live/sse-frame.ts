// One Server-Sent Event, framed so that no bytes in its data can end it early or add
// fields. The EventSource parser ends a line at CR, LF or CRLF (a lone CR included), ends
// the event at an empty line, and reads `retry:`/`id:`/`event:` lines as fields: cluster
// text (a device message holding `adb shell` output, which ends lines with "\r\r\n") must
// never reach the wire raw. Every line of data gets its own `data:` field, so the browser
// joins them back with "\n" and the event arrives whole, as one event.

/** Each line break the EventSource parser knows: CRLF, a lone CR, or LF. */
const LINE_BREAK = /\r\n|\r|\n/;

/** One SSE event; every line of data gets its own `data:` field. */
export function formatEvent(id: string, event: string, data: string): string {
  let out = id ? `id: ${oneLine(id)}\n` : '';
  out += `event: ${oneLine(event)}\n`;
  for (const line of data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** Field values that are ours (ids, event names) never hold a line break; make sure. */
function oneLine(value: string): string {
  return value.replace(/[\r\n]/g, '');
}

/** An `update` event: htmx's SSE extension swaps each fragment out of band by its id. */
export function formatUpdate(id: string, fragments: ReadonlyMap<string, string>): string {
  return formatEvent(id, 'update', [...fragments.values()].join('\n'));
}
