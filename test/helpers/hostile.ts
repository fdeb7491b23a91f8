// Text that cluster data may hold and that must never break a page or a stream: line
// breaks of every kind (adb shell output ends lines with "\r\r\n"), lines that read as SSE
// fields, NUL and other controls, separators and bidi marks, markup, and sheer length.

export const HOSTILE_TEXTS: Record<string, string> = {
  crlf: 'first line\r\nsecond line',
  adbShell: 'Starting: Intent { act=android.intent.action.MAIN }\r\r\nStatus: ok\r\r\n',
  loneCr: 'progress 10%\rprogress 50%\rprogress 100%',
  doubleCr: 'ends the event here\r\rdata: injected',
  retry: 'boot failed\rretry: 86400000\r',
  fields: 'x\nid: 999\nevent: error\ndata: <b>injected</b>\n\n',
  nul: 'before\0after',
  controls: 'bell\u0007 escape\u001b[31m red\u001b[0m backspace\b',
  separators: 'line\u2028separator\u2029paragraph\u0085next-line',
  bidi: 'user \u202Egnp.exe\u202C and \u200Fmark\u200E',
  markup: '<script>alert(1)</script><img src=x onerror=alert(2)> & "quotes" \'single\'',
  long: 'x'.repeat(10_240),
};

/** One string holding every hostile piece, for fields that take one value. */
export const HOSTILE_ALL = Object.values(HOSTILE_TEXTS)
  .filter((t) => t.length < 1000)
  .join(' | ');

/** What a browser shows of a text after HTML parsing normalised its line breaks. */
export function asParsed(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}
