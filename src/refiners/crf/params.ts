/**
 * Parameters shared by the dense CRF ({@link denseCrf}, {@link DenseCrf}) and
 * the convolutional CRF ({@link ConvCrf}): the two Gaussian pairwise terms of
 * Krähenbühl & Koltun, their Potts weights, and the kernel normalisation.
 * Names and defaults follow pydensecrf (`addPairwiseGaussian(sxy=3, compat=3)`,
 * `addPairwiseBilateral(sxy=80, srgb=13, compat=10)`).
 * @module
 */
import type { JSONSchemaType } from '../../core/config.js';

/**
 * How a Gaussian kernel K is normalised with n = K·1 (pydensecrf's
 * `NormalizationType`): `symmetric` uses n^-½ K n^-½ (`NORMALIZE_SYMMETRIC`,
 * the default), `after` uses K / n (`NORMALIZE_AFTER`), `none` uses K as is
 * (`NO_NORMALIZATION`).
 */
export type CrfNormalization = 'symmetric' | 'after' | 'none';

/** The smoothness (position-only) kernel `compat · exp(−|p_i − p_j|² / 2 sxy²)`. */
export interface GaussianKernelParams {
  /**
   * Spatial standard deviation θγ in pixels.
   * @defaultValue 3
   */
  sxy?: number;
  /**
   * Potts weight w of the term.
   * @defaultValue 3
   */
  compat?: number;
}

/** The appearance kernel `compat · exp(−|p_i − p_j|² / 2 sxy² − |I_i − I_j|² / 2 srgb²)`. */
export interface BilateralKernelParams {
  /**
   * Spatial standard deviation θα in pixels.
   * @defaultValue 80
   */
  sxy?: number;
  /**
   * Colour standard deviation θβ in 0..255 RGB units.
   * @defaultValue 13
   */
  srgb?: number;
  /**
   * Potts weight w of the term.
   * @defaultValue 10
   */
  compat?: number;
}

/** Default smoothness kernel (pydensecrf's example and DeepLab's `pos_w = 3`). */
export const DEFAULT_POS = { sxy: 3, compat: 3 } as const;
/** Default appearance kernel (pydensecrf's example values). */
export const DEFAULT_BILATERAL = { sxy: 80, srgb: 13, compat: 10 } as const;

/** Schema of {@link GaussianKernelParams} (null disables the term). */
export const gaussianKernelSchema = {
  type: 'object',
  properties: {
    sxy: { type: 'number', exclusiveMinimum: 0, default: DEFAULT_POS.sxy },
    compat: { type: 'number', default: DEFAULT_POS.compat },
  },
  required: [],
  additionalProperties: false,
  nullable: true,
  default: { ...DEFAULT_POS },
} as unknown as JSONSchemaType<GaussianKernelParams | null>;

/** Schema of {@link BilateralKernelParams} (null disables the term). */
export const bilateralKernelSchema = {
  type: 'object',
  properties: {
    sxy: { type: 'number', exclusiveMinimum: 0, default: DEFAULT_BILATERAL.sxy },
    srgb: { type: 'number', exclusiveMinimum: 0, default: DEFAULT_BILATERAL.srgb },
    compat: { type: 'number', default: DEFAULT_BILATERAL.compat },
  },
  required: [],
  additionalProperties: false,
  nullable: true,
  default: { ...DEFAULT_BILATERAL },
} as unknown as JSONSchemaType<BilateralKernelParams | null>;

/** Schema of a {@link CrfNormalization}. */
export const normalizationSchema = {
  type: 'string',
  enum: ['symmetric', 'after', 'none'],
  default: 'symmetric',
} as unknown as JSONSchemaType<CrfNormalization>;

/** Schema of the unary clip: probabilities are clipped to [clip, 1] before −log. */
export const clipSchema = {
  type: 'number',
  exclusiveMinimum: 0,
  maximum: 1,
  default: 1e-5,
} as unknown as JSONSchemaType<number>;

/** One Gaussian pairwise term, resolved: feature scales and Potts weight. */
export interface ResolvedKernel {
  /** `'pos'` or `'bilateral'`. */
  readonly kind: 'pos' | 'bilateral';
  /** Spatial standard deviation. */
  readonly sxy: number;
  /** Colour standard deviation (bilateral only). */
  readonly srgb?: number;
  /** Potts weight. */
  readonly compat: number;
}

/**
 * The enabled pairwise terms in pydensecrf's order (position first), with
 * defaults filled in.
 * @param pos - the smoothness term, null to disable
 * @param bilateral - the appearance term, null to disable
 */
export function resolveKernels(pos: GaussianKernelParams | null | undefined, bilateral: BilateralKernelParams | null | undefined): ResolvedKernel[] {
  const kernels: ResolvedKernel[] = [];
  if (pos !== null) kernels.push({ kind: 'pos', sxy: pos?.sxy ?? DEFAULT_POS.sxy, compat: pos?.compat ?? DEFAULT_POS.compat });
  if (bilateral !== null) {
    kernels.push({
      kind: 'bilateral',
      sxy: bilateral?.sxy ?? DEFAULT_BILATERAL.sxy,
      srgb: bilateral?.srgb ?? DEFAULT_BILATERAL.srgb,
      compat: bilateral?.compat ?? DEFAULT_BILATERAL.compat,
    });
  }
  return kernels;
}
