/**
 * The encoded `&responseFields=…` part of a ticket call's query string, built once per projection.
 * Trusted and common documents repeat a handful of projections; ad-hoc documents could bring
 * endless new ones, so the cache keeps a bounded number and drops the oldest first.
 */
export class QuerySuffixes {
  private readonly suffixes = new Map<string, string>();

  constructor(readonly maxEntries = 1024) {}

  /** `&responseFields=…`, encoded as URLSearchParams encodes it; empty for the full ticket. */
  for(responseFields: string | undefined): string {
    if (responseFields === undefined) return '';
    let suffix = this.suffixes.get(responseFields);
    if (suffix === undefined) {
      suffix = `&${new URLSearchParams({ responseFields })}`;
      if (this.suffixes.size >= this.maxEntries) this.suffixes.delete(this.suffixes.keys().next().value!);
      this.suffixes.set(responseFields, suffix);
    }
    return suffix;
  }

  get size(): number {
    return this.suffixes.size;
  }
}
