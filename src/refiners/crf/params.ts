/**
 * Parameters shared by the dense CRF ({@link denseCrf}, {@link DenseCrf}) and
 * the convolutional CRF ({@link ConvCrf}): the two Gaussian pairwise terms of
 * Krähenbühl & Koltun, their Potts weights, and the kernel normalisation.
 * Names and defaults follow pydensecrf (`addPairwiseGaussian(sxy=3, compat=3)`,
 * `addPairwiseBilateral(sxy=80, srgb=13, compat=10)`).
 * @module
 */
import { ArgsObject, Nullable, StringEnum, Type, type Static } from '../../core/schemas.js';

/**
 * How a Gaussian kernel K is normalised with n = K·1 (pydensecrf's
 * `NormalizationType`): `symmetric` uses n^-½ K n^-½ (`NORMALIZE_SYMMETRIC`,
 * the default), `after` uses K / n (`NORMALIZE_AFTER`), `none` uses K as is
 * (`NO_NORMALIZATION`).
 */
export type CrfNormalization = 'symmetric' | 'after' | 'none';

const CRF_NORMALIZATIONS: readonly CrfNormalization[] = ['symmetric', 'after', 'none'];

/** Default smoothness kernel (pydensecrf's example and DeepLab's `pos_w = 3`). */
export const DEFAULT_POS = { sxy: 3, compat: 3 } as const;
/** Default appearance kernel (pydensecrf's example values). */
export const DEFAULT_BILATERAL = { sxy: 80, srgb: 13, compat: 10 } as const;

const gaussianKernel = ArgsObject({
  /** Spatial standard deviation θγ in pixels. */
  sxy: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: DEFAULT_POS.sxy })),
  /** Potts weight w of the term. */
  compat: Type.Optional(Type.Number({ default: DEFAULT_POS.compat })),
});

/**
 * The smoothness (position-only) kernel `compat · exp(−|p_i − p_j|² / 2 sxy²)`.
 * @interface
 */
export type GaussianKernelParams = Static<typeof gaussianKernel>;

const bilateralKernel = ArgsObject({
  /** Spatial standard deviation θα in pixels. */
  sxy: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: DEFAULT_BILATERAL.sxy })),
  /** Colour standard deviation θβ in 0..255 RGB units. */
  srgb: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: DEFAULT_BILATERAL.srgb })),
  /** Potts weight w of the term. */
  compat: Type.Optional(Type.Number({ default: DEFAULT_BILATERAL.compat })),
});

/**
 * The appearance kernel `compat · exp(−|p_i − p_j|² / 2 sxy² − |I_i − I_j|² / 2 srgb²)`.
 * @interface
 */
export type BilateralKernelParams = Static<typeof bilateralKernel>;

/** Schema of the smoothness term (null disables it). @internal */
export const gaussianKernelSchema = Type.Optional(Nullable(gaussianKernel, { default: { ...DEFAULT_POS } }));

/** Schema of the appearance term (null disables it). @internal */
export const bilateralKernelSchema = Type.Optional(Nullable(bilateralKernel, { default: { ...DEFAULT_BILATERAL } }));

/** Schema of a {@link CrfNormalization}. @internal */
export const normalizationSchema = Type.Optional(StringEnum(CRF_NORMALIZATIONS, { default: 'symmetric' }));

/** Schema of the unary clip: probabilities are clipped to [clip, 1] before −log. @internal */
export const clipSchema = Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1e-5 }));

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
