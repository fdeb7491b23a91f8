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

/** Every client is told to wait this long before reconnecting, and when a stream ends. */
// 1 s: a restarted dashboard (or the next replica) is picked up within ~1-2 s; while it is
// down a refused connection costs nothing. Chromium retries network errors at this delay.
export const RETRY_MS = 1_000;

/** The reconnect delay on its own: the first bytes of every stream, and the last of a script's. */
export const RETRY_HINT = `retry: ${RETRY_MS}\n\n`;

/**
 * The last event of a stream the server ends on purpose (shutting down, the person's
 * permissions changed): the reconnect delay and why, so the page's script can say so and
 * the browser comes back (to the next replica, or to what the person may see now).
 */
export function closingEvent(event: string, why: string): string {
  return `retry: ${RETRY_MS}\n${formatEvent('', event, why)}`;
}
