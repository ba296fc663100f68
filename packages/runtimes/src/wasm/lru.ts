// A bounded least-recently-used map. Compiled WASM modules are cached by content id so a
// module is fetched, hashed and compiled once, while a node serving many modules stays bounded:
// by entry count, and by the bytes the entries weigh (modules range from bytes to hundreds of MB).

export interface LruLimits {
  /** most entries kept */
  capacity: number;
  /** most total weight kept; default unbounded */
  maxWeight?: number;
}

interface Entry<V> {
  value: V;
  weight: number;
}

export class LruMap<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private totalWeight = 0;
  readonly capacity: number;
  readonly maxWeight: number;

  constructor(limits: number | LruLimits) {
    const { capacity, maxWeight = Number.POSITIVE_INFINITY } =
      typeof limits === "number" ? { capacity: limits } : limits;
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`LRU capacity must be a positive integer, got ${capacity}`);
    if (!(maxWeight > 0)) throw new RangeError(`LRU maxWeight must be positive, got ${maxWeight}`);
    this.capacity = capacity;
    this.maxWeight = maxWeight;
  }

  get size(): number {
    return this.entries.size;
  }

  /** the summed weight of the entries kept */
  get weight(): number {
    return this.totalWeight;
  }

  /** The value, now marked most recently used. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    // Map iterates in insertion order: re-inserting moves the key to the young end.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** The value, leaving its place in the order as it is. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  /**
   * Stores a value as the most recently used, then evicts the oldest entries until both
   * limits hold; an entry heavier than maxWeight on its own is not kept at all.
   */
  set(key: K, value: V, weight = 0): void {
    this.delete(key);
    this.entries.set(key, { value, weight });
    this.totalWeight += weight;
    this.evict(key);
  }

  /** Sets the weight of an entry already kept (known only later, say once loaded); false if absent. */
  reweigh(key: K, weight: number): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.totalWeight += weight - entry.weight;
    entry.weight = weight;
    this.evict(key);
    return true;
  }

  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.totalWeight -= entry.weight;
    return true;
  }

  /** `touched`: the entry just set or reweighed, dropped first if it alone is too heavy */
  private evict(touched: K): void {
    if ((this.entries.get(touched)?.weight ?? 0) > this.maxWeight) this.delete(touched);
    while (this.entries.size > this.capacity || this.totalWeight > this.maxWeight) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }
}
