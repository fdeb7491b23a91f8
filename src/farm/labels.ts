// Kubernetes label selectors, equality- and set-based (a=b, a!=b, a in (x,y), a notin (x),
// a, !a), parsed once into a predicate. Used to filter sessions in the store, and by the
// in-memory cluster to answer list calls the way the API server does.

export type LabelPredicate = (labels: Readonly<Record<string, string>>) => boolean;

export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

export function parseSelector(selector: string | undefined): LabelPredicate {
  if (!selector || !selector.trim()) return () => true;
  if (selector.length > 1024) throw new SelectorError('the label selector is longer than 1024 characters');
  const terms = splitTerms(selector);
  const checks = terms.map(parseTerm);
  return (labels) => checks.every((check) => check(labels));
}

function splitTerms(selector: string): string[] {
  // Commas inside "in (a,b)" do not separate terms.
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else current += ch;
  }
  terms.push(current.trim());
  if (terms.some((t) => t === '')) throw new SelectorError(`"${selector}" has an empty term`);
  return terms;
}

function parseTerm(term: string): LabelPredicate {
  let m = term.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/);
  if (m) {
    const key = checkKey(m[1]!);
    const values = new Set(m[3]!.split(',').map((v) => checkValue(v.trim())));
    return m[2] === 'in' ? (l) => l[key] !== undefined && values.has(l[key]) : (l) => l[key] === undefined || !values.has(l[key]);
  }
  m = term.match(/^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/);
  if (m) {
    const key = checkKey(m[1]!);
    const value = checkValue(m[3]!);
    return m[2] === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  m = term.match(/^!\s*(\S+)$/);
  if (m) {
    const key = checkKey(m[1]!);
    return (l) => l[key] === undefined;
  }
  const key = checkKey(term);
  return (l) => l[key] !== undefined;
}

function checkKey(key: string): string {
  if (!KEY.test(key)) throw new SelectorError(`"${key}" is not a valid label key`);
  return key;
}

function checkValue(value: string): string {
  if (!VALUE.test(value)) throw new SelectorError(`"${value}" is not a valid label value`);
  return value;
}

/** Whether a label key is valid ([prefix/]name), as the apiserver checks it. */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  return KEY.test(key) && (slash < 0 || slash <= 253);
}

export function isLabelValue(value: string): boolean {
  return VALUE.test(value);
}
