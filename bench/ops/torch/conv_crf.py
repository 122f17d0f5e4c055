# The ConvCRF mean field of segrefine's `ConvCrf` (src/refiners/crf/conv_crf_ops.ts)
# written as Teichmann & Cipolla's convcrf.py does it: every k×k window
# gathered with F.unfold (im2col), the Gaussian kernel from the unfolded
# features, the messages as (unfolded Q × kernel) summed over the window,
# the grid pooled by `downsample` ("blur") and upsampled back bilinearly,
# then the compatibility transform (a K×K matrix) added to the unary.
# Same kernels (pos sxy 3, bilateral sxy 80 / srgb 13), self term included,
# taps outside the grid 0, symmetric/after/none normalisation, clip 1e-5.
import math
import torch
import torch.nn.functional as F


def _pool(x, s):
    return x if s == 1 else F.avg_pool2d(x, s, s, ceil_mode=True, count_include_pad=False)


def _positions(batch, height, width):
    ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32), indexing='ij')
    return torch.stack([xs, ys]).unsqueeze(0).expand(batch, 2, height, width)


def _gaussian(features, k, inside):
    # features [B, D, h, w] -> K [B, k², h·w]: exp(−½|f(p) − f(p+o)|²), 0 off the grid
    b, d, h, w = features.shape
    neighbours = F.unfold(features, k, padding=k // 2).view(b, d, k * k, h * w)
    diff = neighbours - features.reshape(b, d, 1, h * w)
    return torch.exp(-0.5 * (diff * diff).sum(1)) * inside


def window_kernel(features, weights, k, normalization):
    """A [B, k², h·w] = Σ_kernels w · K̃ (features per kernel [B, D, h, w], weights scalars)."""
    b, _, h, w = features[0].shape
    inside = F.unfold(torch.ones(1, 1, h, w), k, padding=k // 2)  # [1, k², h·w]
    total = 0
    for f, weight in zip(features, weights):
        kernel = _gaussian(f, k, inside)
        norm = kernel.sum(1, keepdim=True)  # [B, 1, h·w]
        if normalization == 'symmetric':
            inv = norm.rsqrt()
            kernel = kernel * inv * F.unfold(inv.view(b, 1, h, w), k, padding=k // 2)
        elif normalization == 'after':
            kernel = kernel / norm
        total = total + weight * kernel
    return total


def messages(q, taps, k):
    """Σ_o A_o ⊙ Q(p+o): q [B, C, h, w], taps [B, k², h·w]."""
    b, c, h, w = q.shape
    neighbours = F.unfold(q, k, padding=k // 2).view(b, c, k * k, h * w)
    return (neighbours * taps.unsqueeze(1)).sum(2).view(b, c, h, w)


def conv_crf(scores, image, weights, compatibility, kernels, k=7, iterations=5, downsample=1, normalization='symmetric', clip=1e-5):
    """Logits [B, K, H, W] after `iterations` mean-field steps.

    scores [B, K, h, w] (resized bilinearly to the image), image RGB in [0, 1]
    [B, 3, H, W], weights one scalar tensor per kernel, compatibility [K, K]
    (pairwise_l = Σ_l' C[l', l]·msg_l'), kernels [('pos', sxy) or
    ('bilateral', sxy, srgb)].
    """
    b, _, height, width = image.shape
    if scores.shape[2:] != image.shape[2:]:
        scores = F.interpolate(scores, (height, width), mode='bilinear', align_corners=False)
    neg_unary = F.log_softmax(scores, 1).clamp_min(math.log(clip))
    s = downsample
    positions = _pool(_positions(b, height, width), s)
    colours = _pool(image, s)
    features = []
    for kernel in kernels:
        xy = positions / kernel[1]
        features.append(xy if kernel[0] == 'pos' else torch.cat([xy, colours * (255 / kernel[2])], 1))
    taps = window_kernel(features, weights, k, normalization)
    logits = neg_unary
    q = F.softmax(neg_unary, 1)
    for _ in range(iterations):
        msg = messages(_pool(q, s), taps, k)
        if s > 1:
            h, w = msg.shape[2:]
            msg = F.interpolate(msg, (h * s, w * s), mode='bilinear', align_corners=False)[:, :, :height, :width]
        logits = neg_unary + torch.einsum('bchw,cl->blhw', msg, compatibility)
        q = F.softmax(logits, 1)
    return logits


DEFAULT_KERNELS = [('pos', 3.0), ('bilateral', 80.0, 13.0)]
DEFAULT_WEIGHTS = [3.0, 10.0]
