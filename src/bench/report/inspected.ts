/**
 * The report's "what the refiners learned" table: the values each entry's
 * refiner reported through `inspect()` (DifNet: μ_t and β_t per walk, the
 * mean importance M), one row per entry and value.
 * @module
 */
import type { BenchResults } from '../results.js';

/** One row: entry label, value name, the values formatted. */
export interface InspectedRow {
  /** Entry label. */
  label: string;
  /** Value name, e.g. `mu`. */
  name: string;
  /** The values, 3 decimals, comma-separated. */
  values: string;
}

/**
 * Rows of every entry that reported values.
 * @param results - a bench run's results
 */
export function inspectedRows(results: BenchResults): InspectedRow[] {
  return results.entries.flatMap((entry) =>
    Object.entries(entry.inspected ?? {}).map(([name, values]) => ({ label: entry.label, name, values: values.map((v) => v.toFixed(3)).join(', ') })),
  );
}

/** One line under the table saying how to read DifNet's values. */
export const INSPECTED_NOTE =
  'DifNet: mu = μ_t (weight of the walk P·y against the seed), beta = β_t (weight kept from the previous walk), importanceMean = mean of the importance map M on the first panel image. An untrained head starts near the identity on its seed (small μ, M near 1).';
