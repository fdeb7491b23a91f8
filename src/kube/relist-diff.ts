// What a full list means for the informer's cache: which objects appeared, changed or
// vanished while it was not watching (after a 410 Gone or a restart). Pure, so every
// combination can be tested; the informer applies the changes in the order given.

export interface RelistChange<V> {
  type: 'added' | 'modified' | 'deleted';
  key: string;
  /** The new view (added, modified) or the last known one (deleted). */
  view: V;
  /** The cached view, for modified and deleted. */
  old?: V;
}

/**
 * `listed` maps each listed object's key to its view, or to undefined when the object could
 * not be read: it still exists, so a cached view of it is kept (neither changed nor deleted).
 * Changes come in list order (added or modified, unchanged versions skipped), then the
 * deletes in cache order.
 */
export function diffRelist<V>(
  cached: ReadonlyMap<string, V>,
  listed: ReadonlyMap<string, V | undefined>,
  versionOf: (view: V) => string,
): RelistChange<V>[] {
  const changes: RelistChange<V>[] = [];
  for (const [key, view] of listed) {
    if (view === undefined) continue;
    const old = cached.get(key);
    if (old === undefined) changes.push({ type: 'added', key, view });
    else if (versionOf(old) !== versionOf(view)) changes.push({ type: 'modified', key, view, old });
  }
  for (const [key, old] of cached) {
    if (!listed.has(key)) changes.push({ type: 'deleted', key, view: old, old });
  }
  return changes;
}
