/**
 * The one batch-norm setting every segrefine layer shares.
 * @module
 */

/**
 * Variance epsilon of every batch norm in segrefine (backbones, DiffusionHead,
 * SDN): PyTorch's default, 1e-5, not tfjs's 1e-3. torchvision's weights and
 * the DifNet reference code were trained with it, and the torchvision parity
 * fixtures (`test/fixtures/torchvision`, 2e-6 at every stage) only hold with
 * it; none of the other fixtures involves a batch norm.
 */
export const BATCH_NORM_EPSILON = 1e-5;
