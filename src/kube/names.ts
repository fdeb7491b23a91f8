// Kubernetes' name rules, in one place: every check of a namespace, object or container
// name (query parameters, forms, flags, cookies) asks these, so they cannot disagree.

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN_PART = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** RFC 1123 label (namespaces, container names): at most 63, lowercase letters, digits and '-'. */
export function isDnsLabel(value: string): boolean {
  return DNS_LABEL.test(value);
}

/**
 * RFC 1123 subdomain (most object names: DevicePools, TestSessions, Pods): at most 253,
 * labels of lowercase letters, digits and '-' joined by single dots.
 */
export function isDnsSubdomain(value: string): boolean {
  return value.length > 0 && value.length <= 253 && value.split('.').every((part) => DNS_SUBDOMAIN_PART.test(part));
}
