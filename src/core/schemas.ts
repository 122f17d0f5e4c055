/**
 * Building blocks for argument schemas. Each component declares its
 * arguments once, as a TypeBox schema: the TypeScript type is derived from it
 * (`Static<typeof schema>`), Ajv validates against it and fills its defaults,
 * so the type, the validation and the defaults cannot drift apart.
 * @module
 */
import {
  Array as ArrayType,
  Boolean as BooleanType,
  Integer,
  Number as NumberType,
  Object as ObjectType,
  Optional,
  String as StringType,
  Tuple,
  Unsafe,
  type Static,
  type TInteger,
  type TObject,
  type TOptional,
  type TProperties,
  type TSchema,
  type TTuple,
  type TUnsafe,
} from '@sinclair/typebox';

export type { Static };

/**
 * The TypeBox builders segrefine's schemas use, as one object
 * (`Type.Integer({ minimum: 1 })`). Named imports, not TypeBox's own `Type`:
 * that builder holds every TypeBox type and adds about 45 KB (minified) to a
 * browser bundle, these about 3 KB. For other builders import
 * `@sinclair/typebox` directly (its schemas work with `compileArgs` too).
 */
export const Type = {
  /** An array of one item schema (`minItems`, `uniqueItems`, …). */
  Array: ArrayType,
  /** A boolean. */
  Boolean: BooleanType,
  /** An integer (`minimum`, `maximum`, `default`, …). */
  Integer,
  /** A number (`minimum`, `exclusiveMinimum`, `default`, …). */
  Number: NumberType,
  /** An object of named property schemas (see {@link ArgsObject} for arguments). */
  Object: ObjectType,
  /** Marks a property optional (its type gains `?`; a `default` fills it in). */
  Optional,
  /** A string (`pattern`, `minLength`, …). */
  String: StringType,
  /** A fixed-length array, one schema per position. */
  Tuple,
  /** A raw JSON schema with the TypeScript type stated by hand (for what TypeBox cannot express). */
  Unsafe,
} as const;

/**
 * `schema` or null. Written as Ajv's `nullable` keyword rather than a union
 * so an error names the expected type (`must be integer`), not "must match a
 * schema in anyOf".
 * @param schema - the schema of the non-null value (it must have a `type`)
 * @param options - extra keywords, e.g. `{ default: null }`
 */
export function Nullable<T extends TSchema>(schema: T, options: { default?: Static<T> | null } = {}): TUnsafe<Static<T> | null> {
  return Type.Unsafe<Static<T> | null>({ ...schema, nullable: true, ...options });
}

/**
 * One of the given strings, written as JSON schema's `enum` so an error lists
 * the allowed values (a union of literals would say "must match a schema in anyOf").
 * @param values - the allowed strings
 * @param options - extra keywords, e.g. `{ default: 'auto' }`
 */
export function StringEnum<const T extends readonly string[]>(values: T, options: { default?: T[number] } = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/**
 * One of the given integers, written as JSON schema's `enum` (errors list the allowed values).
 * @param values - the allowed integers
 * @param options - extra keywords, e.g. `{ default: 3 }`
 */
export function IntegerEnum<const T extends readonly number[]>(values: T, options: { default?: T[number] } = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'integer', enum: [...values], ...options });
}

/**
 * The arguments object of a component: unknown keys are errors
 * (`additionalProperties: false`), so a misspelt argument is never ignored.
 * @param properties - one TypeBox schema per argument, each with its TSDoc
 */
export function ArgsObject<P extends TProperties>(properties: P): TObject<P> {
  return Type.Object(properties, { additionalProperties: false });
}

/** `[height, width]`, positive integers. */
export function SizeTuple(): TTuple<[TInteger, TInteger]> {
  return Type.Tuple([Type.Integer({ minimum: 1 }), Type.Integer({ minimum: 1 })]);
}

/**
 * An optional `[height, width]` (positive integers) or null, e.g. `outputSize`
 * (null: the scores' size). The default is written at the call site, so each
 * argument states its own.
 * @param options - `{ default: null }` or a size
 */
export function OutputSize(options: { default?: [number, number] | null } = {}): TOptional<TUnsafe<[number, number] | null>> {
  return Type.Optional(Nullable(SizeTuple(), options));
}
