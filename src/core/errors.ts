/**
 * Typed errors. Every error names the argument at fault, the rule it broke and
 * the value received, so a user never has to read a tfjs stack trace.
 * @module
 */

/** Renders a received value briefly and unambiguously for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) {
    const shown = value.slice(0, 8).map(describeValue).join(', ');
    return `[${shown}${value.length > 8 ? ', …' : ''}]`;
  }
  if (value !== null && typeof value === 'object' && 'shape' in value && Array.isArray((value as { shape: unknown }).shape)) {
    return `tensor of shape [${(value as { shape: number[] }).shape.join(', ')}]`;
  }
  try {
    const json = JSON.stringify(value);
    return json.length > 120 ? `${json.slice(0, 117)}…` : json;
  } catch {
    return String(value);
  }
}

/** Base class of every segrefine error: `argument`, `rule` and `value` are machine-readable. */
export class SegrefineError extends Error {
  /** Name of the offending argument, e.g. `DiffusionHeadArgs/walks` or `inputs.scores`. */
  readonly argument: string;
  /** The rule that was broken, phrased to follow the argument: `must be >= 1`. */
  readonly rule: string;
  /** The value that was received. */
  readonly value: unknown;

  /**
   * @param argument - the argument at fault
   * @param rule - the rule it broke, e.g. `must be >= 1`
   * @param value - the value received
   */
  constructor(argument: string, rule: string, value: unknown) {
    super(`${argument} ${rule}, got ${describeValue(value)}`);
    this.argument = argument;
    this.rule = rule;
    this.value = value;
    this.name = new.target.name;
  }
}

/** A tensor has the wrong rank, size, or an input is missing or extra. */
export class ShapeError extends SegrefineError {}

/** A configuration (constructor args, experiment file, CLI option) is invalid. */
export class ConfigError extends SegrefineError {}

/** Data is invalid: NaN/Inf in tensors, unreadable or corrupt files, bad labels. */
export class DataError extends SegrefineError {}
