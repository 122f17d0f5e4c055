# PyTorch CPU references for `npm run bench:ops`, timed in the same run as
# segrefine (the bench alternates: one segrefine call, one reference call).
# Reads a case name per line on stdin, runs it once, prints its wall ms.
# What a user would write in PyTorch for the same math, on one thread.
import sys, time
import torch
import torch.nn.functional as F

torch.set_num_threads(1)

B, C, H, W = 1, 32, 128, 128
gen = torch.Generator().manual_seed(0)
x = torch.randn(B, C, H, W, generator=gen)
gates = [torch.rand(B, C, H, W, generator=gen) * 0.3 for _ in range(3)]


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
    spn_four_directions(xg, gg).sum().backward()


CASES = {'spn-forward': spn_forward, 'spn-forward-backward': spn_forward_backward}

print('ready ' + torch.__version__, flush=True)
for line in sys.stdin:
    name = line.strip()
    if not name:
        continue
    start = time.perf_counter()
    CASES[name]()
    print(f'{(time.perf_counter() - start) * 1000:.3f}', flush=True)
