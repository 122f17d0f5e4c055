/**
 * The vocabulary of SPN propagation: directions, modes, normalisations.
 * @module
 */

/** A propagation direction. Gate chunks of {@link spn} follow {@link SPN_DIRECTIONS}' order. */
export type SpnDirection = 'left-to-right' | 'right-to-left' | 'top-to-bottom' | 'bottom-to-top';

/** The four directions in gate-chunk order: L→R, R→L, T→B, B→T (DESIGN §5). */
export const SPN_DIRECTIONS: readonly SpnDirection[] = ['left-to-right', 'right-to-left', 'top-to-bottom', 'bottom-to-top'];

/** `three-way`: each pixel hears 3 neighbours of the previous column (g1, g2, g3); `one-way`: only the one in its row (g2). */
export type SpnMode = 'three-way' | 'one-way';

/** The modes, for validation. */
export const SPN_MODES: readonly SpnMode[] = ['three-way', 'one-way'];

/**
 * Gate normalisation, per direction, pixel and channel, with S = Σ_k |g_k|:
 * `when-needed` divides the gates by S where S ≥ 1 (the stability condition
 * of the paper, as pytorch_spn does), `always` divides wherever S > 0, `none`
 * leaves them as given.
 */
export type SpnNormalize = 'when-needed' | 'always' | 'none';

/** The normalisations, for validation. */
export const SPN_NORMALIZATIONS: readonly SpnNormalize[] = ['when-needed', 'always', 'none'];

/** Whether a direction steps along columns (left/right) rather than rows. */
export function isHorizontal(direction: SpnDirection): boolean {
  return direction === 'left-to-right' || direction === 'right-to-left';
}

/** Whether a direction runs towards lower indices (right-to-left, bottom-to-top). */
export function isReversed(direction: SpnDirection): boolean {
  return direction === 'right-to-left' || direction === 'bottom-to-top';
}
