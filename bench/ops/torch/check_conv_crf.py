# Reads one ConvCrf problem as JSON on stdin (NHWC arrays from segrefine),
# runs conv_crf.py's reference and prints its logits and weight gradients as
# JSON (NHWC). Used by check_conv_crf.ts.
import json, sys
import torch
from conv_crf import conv_crf, DEFAULT_KERNELS

p = json.load(sys.stdin)
nchw = lambda a: torch.tensor(a, dtype=torch.float32).permute(0, 3, 1, 2).contiguous()
scores, image, projection = nchw(p['scores']), nchw(p['image']), nchw(p['projection'])
weights = [torch.tensor(float(w), requires_grad=True) for w in p['weights']]
compat = torch.tensor(p['compatibility'], requires_grad=True)
out = conv_crf(scores, image, weights, compat, DEFAULT_KERNELS, k=p['k'], iterations=p['iterations'], downsample=p['downsample'], normalization=p['normalization'])
(out * projection).sum().backward()
json.dump({
    'logits': out.detach().permute(0, 2, 3, 1).reshape(-1).tolist(),
    'weightGrads': [w.grad.item() for w in weights],
    'compatibilityGrad': compat.grad.reshape(-1).tolist(),
}, sys.stdout)
