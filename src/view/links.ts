// Every page's address, built in one place from the farm's names (each part encoded): view
// models and routes link through these, templates never assemble a URL.
export const poolHref = (ns: string, name: string): string => `/pools/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
export const deviceHref = (ns: string, pool: string, device: string): string => `${poolHref(ns, pool)}/devices/${encodeURIComponent(device)}`;
export const wallHref = (ns: string, pool: string): string => `${poolHref(ns, pool)}/wall`;
export const sessionHref = (ns: string, name: string): string => `/sessions/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
/** The stream of a page's live regions: /live with each topic it follows. */
export const liveHref = (topics: readonly string[]): string => `/live?${topics.map((t) => `topic=${encodeURIComponent(t)}`).join('&')}`;
/** The insights page for one pool over the last day. */
export const poolInsightsHref = (ns: string, pool: string): string => `/insights?${new URLSearchParams({ window: '24h', namespace: ns, pool })}`;
