// Kubernetes' name rules, in one place: every check of a namespace, object or container
// name (query parameters, forms, flags, cookies, route schemas) asks these, so they cannot
// disagree. The patterns are strings so JSON schemas (src/http/schema.ts) can carry them.

/** RFC 1123 label, as a JSON Schema pattern. */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';
/** RFC 1123 subdomain, as a JSON Schema pattern: labels joined by single dots, at most 253 in all. */
export const DNS_SUBDOMAIN_PATTERN = '^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const DNS_LABEL = new RegExp(DNS_LABEL_PATTERN);
const DNS_SUBDOMAIN = new RegExp(DNS_SUBDOMAIN_PATTERN);

/** RFC 1123 label (namespaces, container names): at most 63, lowercase letters, digits and '-'. */
export function isDnsLabel(value: string): boolean {
  return DNS_LABEL.test(value);
}

/**
 * RFC 1123 subdomain (most object names: DevicePools, TestSessions, Pods): at most 253,
 * labels of lowercase letters, digits and '-' joined by single dots.
 */
export function isDnsSubdomain(value: string): boolean {
  return DNS_SUBDOMAIN.test(value);
}
