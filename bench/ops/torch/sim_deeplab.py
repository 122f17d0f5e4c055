# Sim-DeepLab-18 as segrefine builds it (src/backbones/sim_deeplab.ts,
# atrous_resnet.ts, aspp.ts), written directly in PyTorch: ResNet-18 basic
# blocks with every width scaled by `width` (round, at least 1), output stride
# 8 (stages 3 and 4 dilated 2 and 4, a stage's first block keeping the
# previous dilation), the ASPP head (3×3 convs to the classes at rates 6, 12,
# 18, 24, with bias, summed), logits upsampled bilinearly to the input; He
# normal (fan-out) and N(0, 0.01) initialisation. One SGD step: cross-entropy
# (ignore 255), backward, momentum SGD with weight decay on the conv kernels
# only (segrefine's SegmentationOptimizer).
import torch
import torch.nn as nn
import torch.nn.functional as F


def scaled(channels, width):
    return max(1, round(channels * width))


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride, dilation):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, padding=dilation, dilation=dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class SimDeepLab18(nn.Module):
    def __init__(self, width=1.0, classes=21, rates=(6, 12, 18, 24)):
        super().__init__()
        stem = scaled(64, width)
        self.conv1 = nn.Conv2d(3, stem, 7, 2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        strides, dilations = [1, 2, 1, 1], [1, 1, 2, 4]
        inplanes, previous = stem, 1
        stages = []
        for s in range(4):
            planes = scaled(64 * 2 ** s, width)
            blocks = [BasicBlock(inplanes, planes, strides[s], previous), BasicBlock(planes, planes, 1, dilations[s])]
            stages.append(nn.Sequential(*blocks))
            inplanes, previous = planes, dilations[s]
        self.layers = nn.Sequential(*stages)
        self.aspp = nn.ModuleList(nn.Conv2d(inplanes, classes, 3, padding=r, dilation=r, bias=True) for r in rates)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
        for conv in self.aspp:
            nn.init.normal_(conv.weight, 0, 0.01)
            nn.init.zeros_(conv.bias)

    def forward(self, image):
        x = F.relu(self.bn1(self.conv1(image)))
        x = self.layers(F.max_pool2d(x, 3, 2, padding=1))
        scores = sum(conv(x) for conv in self.aspp)
        return F.interpolate(scores, image.shape[2:], mode='bilinear', align_corners=False)


def counts(model):
    """(trainable parameters, all weights: parameters + BN running mean and var) — tfjs's countParams() counts the latter."""
    trainable = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for name, b in model.named_buffers() if not name.endswith('num_batches_tracked'))
    return trainable, trainable + buffers


def train_step_setup(width=1.0, batch=4, size=128, classes=21):
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = SimDeepLab18(width, classes).train()
    kernels = [p for n, p in model.named_parameters() if p.dim() == 4]
    others = [p for n, p in model.named_parameters() if p.dim() != 4]
    optimizer = torch.optim.SGD([{'params': kernels, 'weight_decay': 5e-4}, {'params': others, 'weight_decay': 0}], lr=1e-3, momentum=0.9)
    images = torch.rand(batch, 3, size, size, generator=gen)
    labels = torch.randint(0, classes, (batch, size, size), generator=gen)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels, ignore_index=255)
        loss.backward()
        optimizer.step()
        return loss.item()

    return model, step


if __name__ == '__main__':
    import sys
    model = SimDeepLab18(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
    print(counts(model))
