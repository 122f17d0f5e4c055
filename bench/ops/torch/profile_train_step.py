# PyTorch's side of bench/probes/train_step_kernels.ts: where one
# Sim-DeepLab-18 training step (sim_deeplab.py) spends its time, by op, on
# one thread: OPENBLAS_NUM_THREADS=1 python3 profile_train_step.py [width] [steps]
import sys, time
import torch
from torch.profiler import profile, ProfilerActivity
from sim_deeplab import train_step_setup

torch.set_num_threads(1)
width = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 2
_, step = train_step_setup(width)
step()
start = time.perf_counter()
with profile(activities=[ProfilerActivity.CPU]) as prof:
    for _ in range(steps):
        step()
print(f'width {width}: {(time.perf_counter() - start) * 1000 / steps:.0f} ms/step (profiled)')
print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=15))
