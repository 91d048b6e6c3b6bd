/**
 * A Prometheus counter over a closed set of label values, counted in plain numbers and handed to
 * prom-client only when /metrics is scraped. prom-client's own `inc` builds a hash of the labels,
 * checks them and returns a fresh object on every call; a request counts several things (its
 * status, its Kibo call, the cache entries it stores and evicts), so the request path only adds to
 * a number here.
 */
import { Counter, type LabelValues, type Registry } from 'prom-client';

/** One combination of label values: made once, then counted without allocating. */
export interface CounterCell {
  count: number;
}

interface LabelledCell<Label extends string> extends CounterCell {
  readonly labels: LabelValues<Label>;
}

export class ScrapedCounter<Label extends string> {
  private readonly cells: Array<LabelledCell<Label>> = [];

  constructor(registry: Registry, name: string, help: string, labelNames: readonly Label[]) {
    const cells = this.cells;
    new Counter<Label>({
      name,
      help,
      labelNames,
      registers: [registry],
      // The totals are kept here: prom-client's values are rebuilt from them at every scrape.
      collect() {
        this.reset();
        for (const cell of cells) if (cell.count > 0) this.inc(cell.labels, cell.count);
      },
    });
  }

  /** The cell of these label values; call once per combination (at start, or once per value of a closed set). */
  cell(labels: LabelValues<Label>): CounterCell {
    const cell = { labels, count: 0 };
    this.cells.push(cell);
    return cell;
  }
}

/**
 * The cells of a one-label counter, made the first time each value is counted. For label values
 * from a closed set (codes, reasons), so the map stays as small as the set.
 */
export class CellsByValue<Label extends string> {
  private readonly cells = new Map<string, CounterCell>();

  constructor(
    private readonly counter: ScrapedCounter<Label>,
    private readonly label: Label,
  ) {}

  inc(value: string, by = 1): void {
    let cell = this.cells.get(value);
    if (!cell) this.cells.set(value, (cell = this.counter.cell({ [this.label]: value } as LabelValues<Label>)));
    cell.count += by;
  }
}
