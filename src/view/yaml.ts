// A small YAML writer for what the dashboard shows as "copy as kubectl YAML": plain objects,
// lists, strings, numbers and booleans. Strings are always double-quoted (JSON escaping is
// valid YAML), so no value can turn into a different type or break the document.

export function toYaml(value: unknown, indent = 0): string {
  return write(value, indent).replace(/^\n/, '') + '\n';
}

function write(value: unknown, indent: number): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return ' []';
    return value
      .map((item) => {
        const inner = write(item, indent + 2);
        // "- key: v" for objects: the first line shares the dash.
        return isPlainObject(item) && Object.keys(item).length ? `\n${pad}- ${inner.trimStart()}` : `\n${pad}-${inner}`;
      })
      .join('');
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return ' {}';
    return entries.map(([k, v]) => `\n${pad}${key(k)}:${write(v, indent + 2)}`).join('');
  }
  if (typeof value === 'string') return ` ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return ` ${String(value)}`;
  return ' null';
}

function key(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_./-]*$/.test(k) ? k : JSON.stringify(k);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
