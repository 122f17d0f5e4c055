#!/usr/bin/env python3
"""Parity fixtures for loading torchvision ResNet weights (test/backbones/torchvision_weights.test.ts).

Builds seeded torchvision-layout ResNets (random init, batch-norm affine parameters and
running statistics perturbed to non-trivial values, eval mode), narrowed so the files stay
small, and writes into test/fixtures/torchvision/:

- resnet18_w0.125.safetensors   state_dict of a ResNet-18 (basic blocks [2, 2, 2, 2]) with
                                 every channel count ×1/8 (8…64), F32, `fc.*` and the I64
                                 `num_batches_tracked` buffers included as torch saves them
- resnet18_w0.125_outputs.safetensors
                                 `image` [1, 3, 64, 48] in [0, 1] and the stage outputs
                                 (NCHW) `stem` (after relu), `layer1` … `layer4` at output
                                 stride 32
- resnet50_w0.0625.safetensors  a ResNet-50 layout (bottlenecks [3, 4, 6, 3]) ×1/16, stored
                                 as F16 (the reference runs on the F16-rounded weights, so
                                 parity is still exact up to float32 arithmetic)
- resnet50_w0.0625_outputs.safetensors
                                 the same image, stages at output stride 32 and, under
                                 `os8.*`, at output stride 8 (torchvision's
                                 replace_stride_with_dilation=[False, True, True])

The reference applies ImageNet mean/std normalisation to the image itself; segrefine's
backbone gets the raw [0, 1] image and normalises inside.

Run with Debian's torch (`apt-get install python3-torchvision`):
    /usr/bin/python3 scripts/make-resnet-fixture.py
No `safetensors` Python package is needed: the files are written by hand (8-byte
little-endian header length, JSON header, raw little-endian data).
"""
import json
import os
import struct

import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'torchvision')
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class NarrowResNet(ResNet):
    """torchvision's ResNet (same module names, same forward) with every channel count × width."""

    def __init__(self, block, layers, width, **kwargs):
        self._width = width
        self._first_layer = True
        super().__init__(block, layers, **kwargs)
        stem = self.c(64)
        self.conv1 = nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.fc = nn.Linear(self.c(512) * block.expansion, 10)

    def c(self, channels):
        return max(1, int(round(channels * self._width)))

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        if self._first_layer:
            self.inplanes = self.c(64)
            self._first_layer = False
        return super()._make_layer(block, self.c(planes), blocks, stride, dilate)

    def stages(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        out = {'stem': x}
        x = self.maxpool(x)
        for name in ['layer1', 'layer2', 'layer3', 'layer4']:
            x = getattr(self, name)(x)
            out[name] = x
        return out


def perturb(model, generator):
    """He-normal convs (torchvision's init), then non-trivial batch-norm parameters and statistics."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1]
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * (2.0 / fan_out) ** 0.5)
            elif isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(0.5 + torch.rand(n, generator=generator))
                m.bias.copy_(0.1 * torch.randn(n, generator=generator))
                m.running_mean.copy_(0.2 * torch.randn(n, generator=generator))
                m.running_var.copy_(0.5 + torch.rand(n, generator=generator))
                m.num_batches_tracked.fill_(123)
            elif isinstance(m, nn.Linear):
                m.weight.copy_(0.01 * torch.randn(m.weight.shape, generator=generator))
                m.bias.zero_()
    model.eval()


DTYPES = {torch.float32: ('F32', '<f4'), torch.float16: ('F16', '<f2'), torch.int64: ('I64', '<i8')}


def save_safetensors(tensors, path, metadata=None):
    """safetensors by hand: u64 LE header length, JSON header (padded to 8 bytes), raw LE data."""
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        dtype, np_dtype = DTYPES[t.dtype]
        data = t.numpy().astype(np_dtype).tobytes()
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header['__metadata__'] = metadata
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    print(f'{path}: {os.path.getsize(path)} bytes')


def make(name, block, layers, width, seed, dtype, dilated):
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = NarrowResNet(block, layers, width)
    perturb(model, generator)
    state = model.state_dict()
    if dtype == torch.float16:
        # Store F16 and compute the reference with exactly the stored (rounded) values.
        state = {k: (v.half() if v.is_floating_point() else v) for k, v in state.items()}
        model.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in state.items()})
    meta = {'layout': name, 'width': str(width), 'seed': str(seed), 'torch': torch.__version__, 'script': 'scripts/make-resnet-fixture.py'}
    save_safetensors(state, os.path.join(OUT, f'{name}_w{width}.safetensors'), meta)

    image = torch.rand((1, 3, 64, 48), generator=torch.Generator().manual_seed(1))
    normalised = (image - MEAN) / STD
    outputs = {'image': image}
    with torch.no_grad():
        outputs.update(model.stages(normalised))
        if dilated:
            os8 = NarrowResNet(block, layers, width, replace_stride_with_dilation=[False, True, True])
            os8.load_state_dict(model.state_dict())
            os8.eval()
            outputs.update({f'os8.{k}': v for k, v in os8.stages(normalised).items()})
    for k, v in outputs.items():
        print(f'  {k}: {list(v.shape)} max |x| {v.abs().max().item():.3g}')
    save_safetensors(outputs, os.path.join(OUT, f'{name}_w{width}_outputs.safetensors'), meta)


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    make('resnet18', BasicBlock, [2, 2, 2, 2], 0.125, 18, torch.float32, dilated=False)
    make('resnet50', Bottleneck, [3, 4, 6, 3], 0.0625, 50, torch.float16, dilated=True)
