/**
 * The registry (DESIGN §3): a tsyringe container of *specs* (never layer
 * instances — tfjs constructs layers itself on reload). {@link createContainer}
 * is the only place that registers; nothing writes to the global container.
 * @module
 */
import 'reflect-metadata';
import { container as rootContainer, inject, injectable, type DependencyContainer, type InjectionToken } from 'tsyringe';
import type { Backbone } from './backbone.js';
import type { Neck } from './neck.js';
import { parseArgs, type ArgsSchema } from './config.js';
import { ConfigError } from './errors.js';
import type { Refiner } from './refiner.js';

/** What the registry knows about one refiner: its name, schema and factory. */
export interface RefinerSpec<A = unknown> {
  /** Registry name, the `type` of a refiner config. */
  readonly id: string;
  /** `refiner` refines scores; `neck` refines a feature pyramid (SDN). */
  readonly kind: 'refiner' | 'neck';
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
  /** Always `'neck'`: tells necks from refiners in mixed listings. */
  readonly kind: 'neck';
  /** One line for listings and reports. */
  readonly summary: string;
  /** Schema of its args. */
  readonly schema: ArgsSchema<A>;
  /** Builds a new neck from validated args. */
  create(args: A): Neck;
}

/** Token of the list of registered refiner specs. */
export const REFINER_SPECS: InjectionToken<readonly RefinerSpec[]> = Symbol('segrefine.RefinerSpecs');
/** Token of the list of registered backbone specs. */
export const BACKBONE_SPECS: InjectionToken<readonly BackboneSpec[]> = Symbol('segrefine.BackboneSpecs');
/** Token of the list of registered neck specs. */
export const NECK_SPECS: InjectionToken<readonly NeckSpec[]> = Symbol('segrefine.NeckSpecs');
/** Token of the {@link Registry} service. */
export const REGISTRY: InjectionToken<Registry> = Symbol('segrefine.Registry');

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

/** Looks up specs by name and builds validated instances. */
@injectable()
export class Registry {
  /**
   * @param refinerSpecs - every registered refiner spec
   * @param backboneSpecs - every registered backbone spec
   * @param neckSpecs - every registered neck spec
   */
  constructor(
    @inject(REFINER_SPECS) private readonly refinerSpecs: readonly RefinerSpec[],
    @inject(BACKBONE_SPECS) private readonly backboneSpecs: readonly BackboneSpec[],
    @inject(NECK_SPECS) private readonly neckSpecs: readonly NeckSpec[],
  ) {}

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
    return pick(this.refinerSpecs, { type: id }, 'refiner').spec;
  }

  /**
   * Validates a refiner config against its spec's schema without building
   * anything (experiment files are checked whole before anything trains).
   * @param config - `{ type: 'difnet', walks: 5, … }`
   * @returns the spec
   */
  checkRefiner(config: TypedConfig): RefinerSpec {
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

/** Extra specs to register beside the built-in ones (your own refiners). */
export interface ContainerOptions {
  /** Refiner specs added after the built-ins. */
  refiners?: readonly RefinerSpec<never>[];
  /** Backbone specs added after the built-ins. */
  backbones?: readonly BackboneSpec<never>[];
  /** Neck specs added after the built-ins. */
  necks?: readonly NeckSpec<never>[];
  /** Replace the built-in specs instead of adding to them. */
  builtins?: boolean;
}

/** Built-in specs are supplied by the package entry (see `src/specs.ts`). */
let builtinRefiners: readonly RefinerSpec<never>[] = [];
let builtinBackbones: readonly BackboneSpec<never>[] = [];
let builtinNecks: readonly NeckSpec<never>[] = [];

/**
 * Sets the built-in spec lists (called once by the package entry module).
 * @internal
 */
export function setBuiltinSpecs(refiners: readonly RefinerSpec<never>[], backbones: readonly BackboneSpec<never>[], necks: readonly NeckSpec<never>[] = []): void {
  builtinRefiners = refiners;
  builtinBackbones = backbones;
  builtinNecks = necks;
}

/**
 * Creates a child container holding the built-in specs (plus `options`), and
 * the {@link Registry} that reads them. The global tsyringe container is never
 * written to.
 * @param options - extra specs, or `builtins: false` for only your own
 */
export function createContainer(options: ContainerOptions = {}): DependencyContainer {
  const child = rootContainer.createChildContainer();
  const useBuiltins = options.builtins ?? true;
  const refiners = [...(useBuiltins ? builtinRefiners : []), ...(options.refiners ?? [])] as RefinerSpec[];
  const backbones = [...(useBuiltins ? builtinBackbones : []), ...(options.backbones ?? [])] as BackboneSpec[];
  const necks = [...(useBuiltins ? builtinNecks : []), ...(options.necks ?? [])] as NeckSpec[];
  for (const [what, specs] of [['refiners', refiners], ['backbones', backbones], ['necks', necks]] as const) {
    const ids = specs.map((s) => s.id);
    const twice = ids.find((id, i) => ids.indexOf(id) !== i);
    if (twice !== undefined) throw new ConfigError(what, `must have unique ids ('${twice}' registered twice)`, twice);
  }
  child.register(REFINER_SPECS, { useValue: refiners });
  child.register(BACKBONE_SPECS, { useValue: backbones });
  child.register(NECK_SPECS, { useValue: necks });
  child.registerSingleton(REGISTRY, Registry);
  return child;
}

let defaultContainer: DependencyContainer | undefined;

/** The {@link Registry} of a container (default: one with the built-ins). */
export function registryOf(container?: DependencyContainer): Registry {
  if (container === undefined) defaultContainer ??= createContainer();
  return (container ?? defaultContainer!).resolve(REGISTRY);
}

/**
 * Builds a registered refiner from a config, validating its args.
 * `createRefiner({ type: 'difnet', walks: 5 })`.
 * @param config - `type` plus the refiner's args
 * @param container - a container from {@link createContainer} (default: built-ins)
 */
export function createRefiner(config: TypedConfig, container?: DependencyContainer): Refiner {
  return registryOf(container).createRefiner(config);
}

/**
 * Builds a registered neck from a config, validating its args.
 * `createNeck({ type: 'sdn', mode: 'multi' })`.
 * @param config - `type` plus the neck's args
 * @param container - a container from {@link createContainer} (default: built-ins)
 */
export function createNeck(config: TypedConfig, container?: DependencyContainer): Neck {
  return registryOf(container).createNeck(config);
}
