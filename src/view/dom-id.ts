// Element ids built from cluster names. Kubernetes names are DNS subdomains ([a-z0-9.-]),
// but the data is untrusted, so anything else is hex-escaped; '.' becomes '_' and parts are
// joined with '__', which no valid name contains, so two objects never share an id.
export function domId(...parts: string[]): string {
  return parts.map(idPart).join('__');
}

/** Most names need no escaping: checking first keeps a 1,000-tile grid cheap. */
const PLAIN = /^[a-z0-9-]*$/;

function idPart(p: string): string {
  if (PLAIN.test(p)) return p;
  return p.replace(/[^a-z0-9-.]/g, (c) => `x${c.codePointAt(0)!.toString(16)}x`).replace(/\./g, '_');
}
