/**
 * The registry (DESIGN §3): the *specs* of refiners, backbones and necks —
 * name, schema, factory; never layer instances (tfjs constructs layers
 * itself on reload). {@link createRegistry} makes one with the built-ins plus
 * your own; the default one (used when no registry is passed) is never
 * written to, so registrations stay scoped to the registry you pass around.
 * @module
 */
import type { Backbone } from './backbone.js';
import type { Neck } from './neck.js';
import { parseArgs, type ArgsSchema } from './config.js';
import { ConfigError } from './errors.js';
import type { Refiner } from './refiner.js';

/** What the registry knows about one refiner: its name, schema and factory. */
export interface RefinerSpec<A = unknown> {
  /** Registry name, the `type` of a refiner config. */
  readonly id: string;
  /** One line for listings and reports. */
  readonly summary: string;
  /** Whether it trains end to end. */
  readonly differentiable: boolean;
  /** Schema of its args. */
  readonly schema: ArgsSchema<A>;
  /** Builds a new instance from validated args. */
  create(args: A): Refiner;
}

/** What the registry knows about one backbone. */
export interface BackboneSpec<A = unknown> {
  /** Registry name, the `type` of a backbone config. */
  readonly id: string;
  /** One line for listings and reports. */
  readonly summary: string;
  /** Schema of its args. */
  readonly schema: ArgsSchema<A>;
  /** Builds a new backbone from validated args. */
  create(args: A): Backbone;
}

/** What the registry knows about one neck (a pyramid → pyramid module such as SDN). */
export interface NeckSpec<A = unknown> {
  /** Registry name, the `type` of a neck config. */
  readonly id: string;
  /** One line for listings and reports. */
  readonly summary: string;
  /** Schema of its args. */
  readonly schema: ArgsSchema<A>;
  /** Builds a new neck from validated args. */
  create(args: A): Neck;
}

/** A config naming a registered component by `type`, plus its args. */
export interface TypedConfig {
  /** The registered id, e.g. `'difnet'`. */
  type: string;
  /** The component's args. */
  [arg: string]: unknown;
}

function pick<S extends { id: string }>(specs: readonly S[], config: unknown, what: string): { spec: S; args: Record<string, unknown> } {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ConfigError(what, 'must be an object with a "type"', config);
  }
  const { type, ...args } = config as Record<string, unknown>;
  const valid = specs.map((s) => s.id);
  const spec = specs.find((s) => s.id === type);
  if (spec === undefined) throw new ConfigError(`${what}.type`, `must be one of ${valid.map((v) => `'${v}'`).join(', ')}`, type);
  return { spec, args };
}

/** Validates `config` against the named spec's schema without building anything; returns the spec. */
function checked<S extends { id: string; schema: ArgsSchema<unknown> }>(specs: readonly S[], config: TypedConfig, what: string): S {
  const { spec, args } = pick(specs, config, what);
  parseArgs(spec.schema, args);
  return spec;
}

/** Looks up specs by name and builds validated instances. Make one with {@link createRegistry}. */
export class Registry {
  private constructor(
    private readonly refinerSpecs: readonly RefinerSpec[],
    private readonly backboneSpecs: readonly BackboneSpec[],
    private readonly neckSpecs: readonly NeckSpec[],
  ) {}

  /**
   * A registry of the given specs (ids unique per kind).
   * @internal
   */
  static of(refiners: readonly RefinerSpec[], backbones: readonly BackboneSpec[], necks: readonly NeckSpec[]): Registry {
    for (const [what, specs] of [['refiners', refiners], ['backbones', backbones], ['necks', necks]] as const) {
      const ids = specs.map((s) => s.id);
      const twice = ids.find((id, i) => ids.indexOf(id) !== i);
      if (twice !== undefined) throw new ConfigError(what, `must have unique ids ('${twice}' registered twice)`, twice);
    }
    return new Registry(refiners, backbones, necks);
  }

  /** Ids of the registered refiners, in registration order. */
  refinerIds(): string[] {
    return this.refinerSpecs.map((s) => s.id);
  }

  /** Ids of the registered backbones, in registration order. */
  backboneIds(): string[] {
    return this.backboneSpecs.map((s) => s.id);
  }

  /** All refiner specs. */
  refiners(): readonly RefinerSpec[] {
    return this.refinerSpecs;
  }

  /** All backbone specs. */
  backbones(): readonly BackboneSpec[] {
    return this.backboneSpecs;
  }

  /**
   * The spec of refiner `id`; a {@link ConfigError} lists the valid ids on a miss.
   * @param id - a registered refiner id
   */
  refinerSpec(id: string): RefinerSpec {
    this.rejectNeck(id);
    return pick(this.refinerSpecs, { type: id }, 'refiner').spec;
  }

  /** A neck's id given where a refiner belongs gets an error that says where it goes. */
  private rejectNeck(id: unknown): void {
    if (this.neckSpecs.some((s) => s.id === id) && !this.refinerSpecs.some((s) => s.id === id)) {
      throw new ConfigError('refiner.type', `must name a refiner, not a neck (pass '${String(id)}' as the neck option)`, id);
    }
  }

  /**
   * Validates a refiner config against its spec's schema without building
   * anything (experiment files are checked whole before anything trains).
   * @param config - `{ type: 'difnet', walks: 5, … }`
   * @returns the spec
   */
  checkRefiner(config: TypedConfig): RefinerSpec {
    this.rejectNeck((config as Partial<TypedConfig> | null)?.type);
    return checked(this.refinerSpecs, config, 'refiner');
  }

  /**
   * Validates a backbone config without building it.
   * @param config - `{ type: 'resnet', depth: 18, … }`
   */
  checkBackbone(config: TypedConfig): BackboneSpec {
    return checked(this.backboneSpecs, config, 'backbone');
  }

  /**
   * Validates a neck config without building it.
   * @param config - `{ type: 'sdn', … }`
   */
  checkNeck(config: TypedConfig): NeckSpec {
    return checked(this.neckSpecs, config, 'neck');
  }

  /**
   * Validates `config` against the named spec's schema and builds the refiner.
   * @param config - `{ type: 'difnet', walks: 5, … }`
   */
  createRefiner(config: TypedConfig): Refiner {
    this.rejectNeck((config as Partial<TypedConfig> | null)?.type);
    const { spec, args } = pick(this.refinerSpecs, config, 'refiner');
    return spec.create(parseArgs(spec.schema, args));
  }

  /**
   * Validates `config` against the named spec's schema and builds the backbone.
   * @param config - `{ type: 'resnet', depth: 18, … }`
   */
  createBackbone(config: TypedConfig): Backbone {
    const { spec, args } = pick(this.backboneSpecs, config, 'backbone');
    return spec.create(parseArgs(spec.schema, args));
  }

  /** Ids of the registered necks, in registration order. */
  neckIds(): string[] {
    return this.neckSpecs.map((s) => s.id);
  }

  /** All neck specs. */
  necks(): readonly NeckSpec[] {
    return this.neckSpecs;
  }

  /**
   * Validates `config` against the named spec's schema and builds the neck.
   * @param config - `{ type: 'sdn', mode: 'multi', … }`
   */
  createNeck(config: TypedConfig): Neck {
    const { spec, args } = pick(this.neckSpecs, config, 'neck');
    return spec.create(parseArgs(spec.schema, args));
  }
}

/** Specs to register beside (or instead of) the built-in ones: your own refiners. */
export interface RegistryOptions {
  /** Refiner specs added after the built-ins. */
  refiners?: readonly RefinerSpec<never>[];
  /** Backbone specs added after the built-ins. */
  backbones?: readonly BackboneSpec<never>[];
  /** Neck specs added after the built-ins. */
  necks?: readonly NeckSpec<never>[];
  /**
   * Include the built-in specs (false: only your own).
   * @defaultValue true
   */
  builtins?: boolean;
}

/** Built-in specs are supplied by the package entry (see `src/specs.ts`). */
let builtinRefiners: readonly RefinerSpec<never>[] = [];
let builtinBackbones: readonly BackboneSpec<never>[] = [];
let builtinNecks: readonly NeckSpec<never>[] = [];
let defaultOne: Registry | undefined;

/**
 * Sets the built-in spec lists (called once by the package entry module).
 * @internal
 */
export function setBuiltinSpecs(refiners: readonly RefinerSpec<never>[], backbones: readonly BackboneSpec<never>[], necks: readonly NeckSpec<never>[] = []): void {
  builtinRefiners = refiners;
  builtinBackbones = backbones;
  builtinNecks = necks;
  defaultOne = undefined;
}

/**
 * A registry holding the built-in specs plus `options`' own. Pass it where
 * configs are built — `createRefiner(config, registry)`,
 * `createSegmenter({ …, registry })`, `runBench(experiment, { registry })`;
 * the default registry does not change.
 *
 * ```ts illustrative
 * const registry = createRegistry({ refiners: [mySpec] });
 * const refiner = createRefiner({ type: 'my-refiner' }, registry);
 * ```
 * @param options - extra specs, or `builtins: false` for only your own
 */
export function createRegistry(options: RegistryOptions = {}): Registry {
  const useBuiltins = options.builtins ?? true;
  return Registry.of(
    [...(useBuiltins ? builtinRefiners : []), ...(options.refiners ?? [])] as RefinerSpec[],
    [...(useBuiltins ? builtinBackbones : []), ...(options.backbones ?? [])] as BackboneSpec[],
    [...(useBuiltins ? builtinNecks : []), ...(options.necks ?? [])] as NeckSpec[],
  );
}

/** The registry of the built-in specs (what every function uses when given no registry). */
export function defaultRegistry(): Registry {
  defaultOne ??= createRegistry();
  return defaultOne;
}

/**
 * Builds a registered refiner from a config, validating its args.
 * `createRefiner({ type: 'difnet', walks: 5 })`.
 * @param config - `type` plus the refiner's args
 * @param registry - from {@link createRegistry} (default: the built-ins)
 */
export function createRefiner(config: TypedConfig, registry: Registry = defaultRegistry()): Refiner {
  return registry.createRefiner(config);
}

/**
 * Builds a registered neck from a config, validating its args.
 * `createNeck({ type: 'sdn', mode: 'multi' })`.
 * @param config - `type` plus the neck's args
 * @param registry - from {@link createRegistry} (default: the built-ins)
 */
export function createNeck(config: TypedConfig, registry: Registry = defaultRegistry()): Neck {
  return registry.createNeck(config);
}

/**
 * Builds a registered backbone from a config, validating its args.
 * `createBackbone({ type: 'resnet', depth: 18, classes: 21 })`.
 * @param config - `type` plus the backbone's args
 * @param registry - from {@link createRegistry} (default: the built-ins)
 */
export function createBackbone(config: TypedConfig, registry: Registry = defaultRegistry()): Backbone {
  return registry.createBackbone(config);
}
