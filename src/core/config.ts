/**
 * Argument validation: one Ajv instance for the whole library, schemas with
 * `additionalProperties: false`, errors turned into {@link ConfigError}s that
 * read like `DiffusionHeadArgs/walks must be >= 1, got 0`.
 * @module
 */
import { Ajv, type ErrorObject, type JSONSchemaType, type ValidateFunction } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import { ConfigError } from './errors.js';

export type { JSONSchemaType };

/**
 * The library's single Ajv instance. `useDefaults` fills `default` values from
 * the schema, so parsed args are complete.
 */
export const ajv = new Ajv({ allErrors: false, useDefaults: true, strict: true, allowUnionTypes: true, discriminator: true });

/** A compiled schema together with the name used in its error messages. */
export interface ArgsSchema<T> {
  /** Name that prefixes error messages, e.g. `DiffusionHeadArgs`. */
  readonly name: string;
  /** The JSON schema (for docs and the experiment-file validator). */
  readonly schema: TSchema | JSONSchemaType<T>;
  /** The compiled validator. */
  readonly validate: ValidateFunction<T>;
  /** Arguments renamed in a past version: old name → new name (a ConfigError points to the new one). */
  readonly renamed: Readonly<Record<string, string>>;
}

/** Options of {@link compileArgs}. */
export interface CompileArgsOptions {
  /**
   * Arguments renamed in a past version, old name → new name: given under its
   * old name, an argument is a {@link ConfigError} that names the new one.
   */
  renamed?: Readonly<Record<string, string>>;
}

/**
 * Compiles a schema once (call at module scope). Declare arguments with
 * TypeBox (`ArgsObject({ … })` from the core) and derive the type with
 * `Static<typeof schema>`; a plain JSON schema typed `JSONSchemaType<T>` works too.
 * @param name - the name errors are prefixed with, e.g. `SpnRefinerArgs`
 * @param schema - an object schema with `additionalProperties: false`
 * @param options - renamed arguments
 */
export function compileArgs<S extends TSchema>(name: string, schema: S, options?: CompileArgsOptions): ArgsSchema<Static<S>>;
export function compileArgs<T>(name: string, schema: JSONSchemaType<T>, options?: CompileArgsOptions): ArgsSchema<T>;
export function compileArgs<T>(name: string, schema: TSchema | JSONSchemaType<T>, options: CompileArgsOptions = {}): ArgsSchema<T> {
  return { name, schema, validate: ajv.compile<T>(schema), renamed: options.renamed ?? {} };
}

function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let node: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * Turns the first Ajv error into a {@link ConfigError} naming the field, the
 * rule and the value received.
 * @param name - prefix for the argument path
 * @param error - the Ajv error
 * @param data - the validated object
 * @param schema - the schema (to list valid property names)
 */
export function configErrorFrom(name: string, error: ErrorObject, data: unknown, schema?: object): ConfigError {
  const path = `${name}${error.instancePath}`;
  if (error.keyword === 'additionalProperty' || error.keyword === 'additionalProperties') {
    const prop = (error.params as { additionalProperty: string }).additionalProperty;
    const props = schemaProperties(schema, error.schemaPath);
    const valid = props.length > 0 ? ` (valid: ${props.join(', ')})` : '';
    return new ConfigError(`${path}/${prop}`, `is not a known argument${valid}`, valueAt(data, `${error.instancePath}/${prop}`));
  }
  if (error.keyword === 'required') {
    const prop = (error.params as { missingProperty: string }).missingProperty;
    return new ConfigError(`${path}/${prop}`, 'is required', undefined);
  }
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
    return new ConfigError(path, `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`, valueAt(data, error.instancePath));
  }
  return new ConfigError(path, error.message ?? 'is invalid', valueAt(data, error.instancePath));
}

function schemaProperties(schema: object | undefined, schemaPath: string): string[] {
  if (schema === undefined) return [];
  // schemaPath looks like "#/properties/a/additionalProperties"; walk to its parent object.
  const parts = schemaPath.replace(/^#\/?/, '').split('/').filter((p) => p.length > 0);
  parts.pop();
  let node: unknown = schema;
  for (const part of parts) {
    if (node === null || typeof node !== 'object') return [];
    node = (node as Record<string, unknown>)[part];
  }
  const props = (node as { properties?: object } | undefined)?.properties;
  return props ? Object.keys(props) : [];
}

/**
 * Validates `args` against a compiled schema and returns a copy with schema
 * defaults filled in. Throws {@link ConfigError} on the first violation.
 * @param spec - from {@link compileArgs}
 * @param args - user arguments (not mutated)
 */
export function parseArgs<T>(spec: ArgsSchema<T>, args: unknown): T {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new ConfigError(spec.name, 'must be an object', args);
  }
  for (const [oldName, newName] of Object.entries(spec.renamed)) {
    if (oldName in args) throw new ConfigError(`${spec.name}/${oldName}`, `was renamed: use '${newName}'`, (args as Record<string, unknown>)[oldName]);
  }
  const copy = structuredCloneArgs(args as Record<string, unknown>);
  if (!spec.validate(copy)) {
    const first = spec.validate.errors?.[0];
    if (first === undefined) throw new ConfigError(spec.name, 'is invalid', args);
    throw configErrorFrom(spec.name, first, copy, spec.schema);
  }
  return copy as T;
}

/**
 * A saved layer's config with renamed arguments moved to their new names, so
 * models saved before a rename keep loading (`fromConfig`), while code that
 * passes an old name gets a {@link ConfigError} naming the new one.
 * @param spec - the layer's compiled schema, with its `renamed` table
 * @param config - the config read from a saved model
 */
export function upgradeRenamedArgs<C extends Record<string, unknown>>(spec: Pick<ArgsSchema<unknown>, 'renamed'>, config: C): C {
  const upgraded: Record<string, unknown> = { ...config };
  for (const [oldName, newName] of Object.entries(spec.renamed)) {
    if (!(oldName in upgraded)) continue;
    if (!(newName in upgraded)) upgraded[newName] = upgraded[oldName];
    delete upgraded[oldName];
  }
  return upgraded as C;
}

/** Copies plain-data args; leaves non-plain values (functions, tensors) by reference. */
function structuredCloneArgs(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined) continue;
    out[key] = Array.isArray(value) ? [...value] : value !== null && typeof value === 'object' && value.constructor === Object ? structuredCloneArgs(value as Record<string, unknown>) : value;
  }
  return out;
}
