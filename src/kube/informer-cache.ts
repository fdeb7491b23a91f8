// An informer's cache of slim views, one per object: what a list or a watch event does to
// it, and the change it passes on. Objects that cannot be read are logged and counted,
// never cached nor passed on; those `keep` refuses are never cached (one that stops being
// kept is passed on as deleted); a throwing change handler stops nothing. The watch loop
// that feeds it is informer.ts.
import { diffRelist } from './relist-diff.js';
import type { ResourceName } from './resources.js';
import type { KubeObject, WatchEvent } from './types.js';
import type { ChangeType } from '../farm/store.js';
import type { InternalErrors } from '../metrics/internal-errors.js';

export interface InformerChange<V> {
  type: ChangeType;
  key: string;
  view: V;
  /** The previous view, for modified and deleted. */
  old?: V;
}

export interface CacheOptions<V> {
  resource: ResourceName;
  /** Which of the objects the server sends are kept (see InformerOptions.keep). */
  keep?: ((view: V) => boolean) | undefined;
  /** Makes the slim view kept in memory; must not throw on odd input. */
  toView: (object: KubeObject) => V;
  /** Identity of a view's source object, to skip unchanged objects on relist. */
  versionOf: (view: V) => string;
  onChange: (change: InformerChange<V>) => void;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Where a throwing change handler is logged and counted; else only logged. */
  errors?: InternalErrors | undefined;
}

export function objectKey(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

export class InformerCache<V> {
  private readonly cache = new Map<string, V>();
  /** Objects (from lists or watch events) that could not be read and were skipped. */
  conversionFailures = 0;

  constructor(private readonly options: CacheOptions<V>) {}

  values(): IterableIterator<V> {
    return this.cache.values();
  }

  /** A full list: the cache becomes it, and only what differs is passed on. */
  replace(items: readonly KubeObject[]): void {
    const listed = new Map<string, V | undefined>();
    for (const object of items) {
      const view = this.safeView(object);
      if (view === undefined || this.kept(view)) listed.set(objectKey(object), view);
    }
    for (const change of diffRelist(this.cache, listed, this.options.versionOf)) {
      if (change.type === 'deleted') this.cache.delete(change.key);
      else this.cache.set(change.key, change.view);
      this.emit(change);
    }
  }

  /** One watch event for an object; false when it had no name (nothing was done). */
  apply(event: Extract<WatchEvent, { object: KubeObject }>): boolean {
    if (typeof event.object?.metadata?.name !== 'string') {
      // Without a name there is no key: nothing can be added, changed or deleted.
      this.unreadable(event.object, new Error('the object has no metadata.name'));
      return false;
    }
    if (event.type !== 'DELETED') {
      this.upsert(objectKey(event.object), event.object);
      return true;
    }
    const key = objectKey(event.object);
    const old = this.cache.get(key);
    if (old !== undefined) {
      this.cache.delete(key);
      this.emit({ type: 'deleted', key, view: old, old });
    } else {
      // Never cached (its earlier versions could not be read, or it came and went
      // between a list and a watch): nothing downstream knows it, nothing to delete.
      // safeView only to log and count an object that cannot be read at all.
      this.safeView(event.object);
    }
    return true;
  }

  private upsert(key: string, object: KubeObject): void {
    const view = this.safeView(object);
    if (view === undefined) return;
    const old = this.cache.get(key);
    if (!this.kept(view)) {
      if (old !== undefined) {
        this.cache.delete(key);
        this.emit({ type: 'deleted', key, view: old, old });
      }
      return;
    }
    this.cache.set(key, view);
    this.emit(old === undefined ? { type: 'added', key, view } : { type: 'modified', key, view, old });
  }

  private kept(view: V): boolean {
    return this.options.keep ? this.options.keep(view) : true;
  }

  /**
   * Objects read apart from the watch (a targeted list) that `keep` now accepts but
   * refused when the watch brought them. Only those not cached are added: a cached one
   * came from the watch, which keeps it current.
   */
  admit(objects: readonly KubeObject[]): void {
    for (const object of objects) {
      if (typeof object?.metadata?.name !== 'string') continue;
      const key = objectKey(object);
      if (this.cache.has(key)) continue;
      this.upsert(key, object);
    }
  }

  private safeView(object: KubeObject): V | undefined {
    try {
      const view = this.options.toView(object);
      if (view === undefined || view === null) throw new Error('no view');
      return view;
    } catch (err) {
      this.unreadable(object, err);
      return undefined;
    }
  }

  /** Logged and counted (status.conversionFailures), never passed on. */
  private unreadable(object: KubeObject | undefined, err: unknown): void {
    this.conversionFailures++;
    this.options.log.warn(
      { err, resource: this.options.resource, key: safeKey(object), conversionFailures: this.conversionFailures },
      'skipped an object that could not be read',
    );
  }

  private emit(change: InformerChange<V>): void {
    // A throwing handler must not stop the watch nor skip later changes.
    try {
      this.options.onChange(change);
    } catch (err) {
      const context = { resource: this.options.resource, key: change.key };
      if (this.options.errors) this.options.errors.record('informer_handler', err, 'change handler failed', context);
      else this.options.log.error({ err, ...context }, 'change handler failed');
    }
  }
}

function safeKey(object: KubeObject | undefined): string {
  const name = object?.metadata?.name;
  return typeof name === 'string' ? objectKey(object!) : '(no name)';
}
