# PyTorch CPU references for `npm run bench:ops`, timed in the same run as
# segrefine (the bench alternates: one segrefine call, one reference call).
# Reads one line per call on stdin — a case name and its arguments, e.g.
# `conv-crf-forward 64 8 4 1` — runs it once, prints its wall ms (the case's
# inputs are built on its first call, outside the timing). A line starting
# with `?` asks for a value instead (e.g. `?params-sim-deeplab-18 1`).
# What a user would write in PyTorch for the same math, on `argv[1]` threads
# (default 1; the bench sets OPENBLAS_NUM_THREADS to match).
import sys, time
import torch
import torch.nn.functional as F
from conv_crf import conv_crf, DEFAULT_KERNELS, DEFAULT_WEIGHTS
from sim_deeplab import SimDeepLab18, counts, train_step_setup

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)

B, C, H, W = 1, 32, 128, 128
gen = torch.Generator().manual_seed(0)
x = torch.randn(B, C, H, W, generator=gen)
gates = [torch.rand(B, C, H, W, generator=gen) * 0.3 for _ in range(3)]
# The upstream gradient of forward+backward: a vector-Jacobian product, as segrefine's case times it.
upstream = torch.randn(B, C, H, W, generator=gen)


def scan_left_to_right(x, g1, g2, g3):
    # h_t = (1 - g1 - g2 - g3) x_t + g1 h_{t-1}[i-1] + g2 h_{t-1}[i] + g3 h_{t-1}[i+1], column by column
    columns = []
    prev = torch.zeros(x.shape[0], x.shape[1], x.shape[2])
    for t in range(x.shape[3]):
        a, b, c = g1[..., t], g2[..., t], g3[..., t]
        up = F.pad(prev, (1, 0))[..., :-1]
        down = F.pad(prev, (0, 1))[..., 1:]
        prev = (1 - a - b - c) * x[..., t] + a * up + b * prev + c * down
        columns.append(prev)
    return torch.stack(columns, 3)


def spn_four_directions(x, g):
    flip = lambda t: t.flip(3)
    tr = lambda t: t.transpose(2, 3)
    outs = [
        scan_left_to_right(x, *g),
        flip(scan_left_to_right(flip(x), *[flip(t) for t in g])),
        tr(scan_left_to_right(tr(x), *[tr(t) for t in g])),
        tr(flip(scan_left_to_right(flip(tr(x)), *[flip(tr(t)) for t in g]))),
    ]
    return torch.stack(outs).amax(0)


def spn_forward():
    with torch.no_grad():
        spn_four_directions(x, gates)


def spn_forward_backward():
    xg = x.clone().requires_grad_(True)
    gg = [t.clone().requires_grad_(True) for t in gates]
    spn_four_directions(xg, gg).backward(upstream)


def conv_crf_inputs(size, batch, labels, downsample):
    # The conv-crf bench's shapes: scores at 1/8 of the image, layer defaults (k 7, 5 iterations, symmetric).
    size, batch, labels, downsample = int(size), int(batch), int(labels), int(downsample)
    g = torch.Generator().manual_seed(1)
    scores = torch.randn(batch, labels, size // 8, size // 8, generator=g) * 1.5
    image = torch.rand(batch, 3, size, size, generator=g)
    projection = torch.randn(batch, labels, size, size, generator=g)
    weights = [torch.tensor(w, requires_grad=True) for w in DEFAULT_WEIGHTS]
    compat = torch.eye(labels).requires_grad_(True)
    return scores, image, projection, weights, compat, downsample


def conv_crf_forward(*args):
    scores, image, _, weights, compat, s = conv_crf_inputs(*args)

    def run():
        with torch.no_grad():
            conv_crf(scores, image, weights, compat, DEFAULT_KERNELS, k=7, iterations=5, downsample=s)
    return run


def conv_crf_forward_backward(*args):
    scores, image, projection, weights, compat, s = conv_crf_inputs(*args)

    def run():
        for t in [*weights, compat]:
            t.grad = None
        (conv_crf(scores, image, weights, compat, DEFAULT_KERNELS, k=7, iterations=5, downsample=s) * projection).sum().backward()
    return run


def train_step_sim_deeplab_18(width='1', batch='4', size='128', classes='21'):
    return train_step_setup(float(width), int(batch), int(size), int(classes))[1]


CASES = {
    'spn-forward': lambda: spn_forward,
    'spn-forward-backward': lambda: spn_forward_backward,
    'conv-crf-forward': conv_crf_forward,
    'conv-crf-forward-backward': conv_crf_forward_backward,
    'train-step-sim-deeplab-18': train_step_sim_deeplab_18,
}
QUERIES = {
    # All weights (parameters + BN running statistics), what tfjs's countParams() counts.
    'params-sim-deeplab-18': lambda width='1', classes='21': counts(SimDeepLab18(float(width), int(classes)))[1],
}

print('ready ' + torch.__version__, flush=True)
ready = {}
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    name, *args = line.split()
    if name.startswith('?'):
        print(QUERIES[name[1:]](*args), flush=True)
        continue
    if line not in ready:
        ready[line] = CASES[name](*args)
    start = time.perf_counter()
    ready[line]()
    print(f'{(time.perf_counter() - start) * 1000:.3f}', flush=True)
