"""PyTorch twin of the Swift engine's stand-alone C2FNAS network (Sources/Search/NetworkGraph+Build.swift,
Sources/Search/Build/GraphNetwork.swift), built from an export's `architecture.json`; loads `weights.safetensors`.

    from c2fnas_torch import C2FNASNet
    net = C2FNASNet.from_export("run/export")      # architecture.json + weights.safetensors
    logits = net(x)                                 # x: N, C, D, H, W (D, H, W multiples of 2^levels)

Wiring (same rules as the Swift builder; stem is step 0 at level 1, cell i is step i+1):
  stem      conv1 3^3 C->w, norm1, relu1, conv2 3^3 stride 2 w->2w, norm2
  cell i    inputs: prev output resampled by the cell's move (down: relu, conv 3^3 s2, norm;
            keep: relu, conv 1^3, norm; up: trilinear x2, relu, conv 1^3, norm), plus for a keep cell the
            output two steps back when it is at the same level, plus for an up cell the most recent earlier
            output at its level. Each input runs the cell op (relu, conv or conv1+conv2 for P3D, norm);
            the op outputs are summed, then relu, conv 1^3, norm ("fuse").
  head      if the cell before last is not at level 1, it is resampled to level 1 ("head.up");
            concat(last, before) -> relu1, conv1 3^3 4w->2w, norm1, trilinear x2, conv2 3^3 2w->w,
            norm2, relu2, classifier 1^3 w->K with bias.
Channels at level l: w * 2^l. Kernels are (d, h, w): "2D" = (1,3,3), "3D" = (3,3,3), "P3D" = (1,3,3) then (3,1,1).
Convs have no bias except the classifier; padding k//2; InstanceNorm3d(affine, eps 1e-5); upsampling is
trilinear, align_corners=False. Parameter names equal the Swift names (e.g. `cells.3.in0.op.conv.weight`).
"""

import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

OP_KERNELS = {"2D": [(1, 3, 3)], "3D": [(3, 3, 3)], "P3D": [(1, 3, 3), (3, 1, 1)]}
STEM_LEVEL = 1


class Layer:
    """One computation: ("conv", name, cin, cout, kernel, stride, bias) / ("norm", name, c) / ("relu",) / ("up",)."""

    def __init__(self, kind, name=None, cin=0, cout=0, kernel=(1, 1, 1), stride=1, bias=False):
        self.kind, self.name, self.cin, self.cout = kind, name, cin, cout
        self.kernel, self.stride, self.bias = kernel, stride, bias


def conv(name, cin, cout, kernel, stride=1, bias=False):
    return Layer("conv", name, cin, cout, kernel, stride, bias)


def norm(name, c):
    return Layer("norm", name, c, c)


RELU, UP = Layer("relu"), Layer("up")


def topology_levels(arch):
    t = arch["topology"]
    return list(t["levels"] if isinstance(t, dict) else t)


def wiring(levels):
    """Per cell: list of (kind, source step, move or None); kind in prevDown/prevKeep/prevUp/twoBack/skip."""
    def level_at(step):
        return STEM_LEVEL if step == 0 else levels[step - 1]

    out = []
    for i, level in enumerate(levels):
        move = level - level_at(i)
        if move not in (-1, 0, 1):
            raise ValueError(f"topology: cell {i} jumps from level {level_at(i)} to {level}")
        kind = {1: "prevDown", 0: "prevKeep", -1: "prevUp"}[move]
        inputs = [(kind, i, move)]
        if move == 0 and i >= 1 and level_at(i - 1) == level:
            inputs.append(("twoBack", i - 1, None))
        if move == -1:
            for j in range(i - 1, -1, -1):
                if level_at(j) == level:
                    inputs.append(("skip", j, None))
                    break
        out.append(inputs)
    return out


class Block:
    def __init__(self, name, inputs, merge, layers):
        self.name, self.inputs, self.merge, self.layers = name, inputs, merge, layers


def build_blocks(arch):
    """The network as blocks in execution order (inputs are block indices; [] = the network input)."""
    levels = topology_levels(arch)
    ops = arch["ops"]
    w, cin, classes = arch["baseWidth"], arch["inputChannels"], arch["classes"]

    def ch(level):
        return w << level

    def level_at(step):
        return STEM_LEVEL if step == 0 else levels[step - 1]

    def resample(frm, to, name):
        ci, co = ch(frm), ch(to)
        move = to - frm
        if move == 1:
            return [RELU, conv(f"{name}.conv", ci, co, (3, 3, 3), 2), norm(f"{name}.norm", co)]
        if move == 0:
            return [RELU, conv(f"{name}.conv", ci, co, (1, 1, 1)), norm(f"{name}.norm", co)]
        if move == -1:
            return [UP, RELU, conv(f"{name}.conv", ci, co, (1, 1, 1)), norm(f"{name}.norm", co)]
        raise ValueError(f"cannot resample from level {frm} to {to}")

    def op_layers(op, c, prefix):
        kernels = OP_KERNELS[op]
        layers = [RELU]
        for k, kernel in enumerate(kernels):
            suffix = "conv" if len(kernels) == 1 else f"conv{k + 1}"
            layers.append(conv(f"{prefix}.{suffix}", c, c, kernel))
        layers.append(norm(f"{prefix}.norm", c))
        return layers

    blocks = []

    def add(name, inputs, merge, layers):
        blocks.append(Block(name, inputs, merge, layers))
        return len(blocks) - 1

    stem = add("stem", [], "single", [
        conv("stem.conv1", cin, w, (3, 3, 3)), norm("stem.norm1", w), RELU,
        conv("stem.conv2", w, 2 * w, (3, 3, 3), 2), norm("stem.norm2", 2 * w)])
    outputs = [stem]
    for i, inputs in enumerate(wiring(levels)):
        level, op = levels[i], ops[i]
        op_blocks = []
        for k, (kind, source_step, move) in enumerate(inputs):
            src = outputs[source_step]
            if move is not None:
                name = f"cells.{i}.in{k}.resample"
                src = add(name, [src], "single", resample(level_at(source_step), level, name))
            op_name = f"cells.{i}.in{k}.op"
            op_blocks.append(add(op_name, [src], "single", op_layers(op, ch(level), op_name)))
        fuse = f"cells.{i}.fuse"
        outputs.append(add(fuse, op_blocks, "sum" if len(op_blocks) > 1 else "single", [
            RELU, conv(f"{fuse}.conv", ch(level), ch(level), (1, 1, 1)), norm(f"{fuse}.norm", ch(level))]))
    n = len(levels)
    before, before_level = outputs[n - 1], level_at(n - 1)
    if before_level != 1:
        before = add("head.up", [before], "single", resample(before_level, 1, "head.up"))
    c1, c0 = ch(1), ch(0)
    add("head", [outputs[n], before], "concat", [
        RELU, conv("head.conv1", 2 * c1, c1, (3, 3, 3)), norm("head.norm1", c1), UP,
        conv("head.conv2", c1, c0, (3, 3, 3)), norm("head.norm2", c0), RELU,
        conv("head.classifier", c0, classes, (1, 1, 1), bias=True)])
    return blocks


class C2FNASNet(nn.Module):
    """The stand-alone network of an architecture; parameters are stored under the Swift names."""

    def __init__(self, arch, seed=0):
        super().__init__()
        self.arch = arch
        self.blocks = build_blocks(arch)
        self._params = nn.ParameterDict()
        self._names = []
        gen = torch.Generator().manual_seed(seed)
        for block in self.blocks:
            for layer in block.layers:
                if layer.kind == "conv":
                    shape = (layer.cout, layer.cin) + tuple(layer.kernel)
                    fan_in = layer.cin * layer.kernel[0] * layer.kernel[1] * layer.kernel[2]
                    self._add(layer.name + ".weight", torch.randn(shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                    if layer.bias:
                        self._add(layer.name + ".bias", torch.zeros(layer.cout))
                elif layer.kind == "norm":
                    self._add(layer.name + ".weight", torch.ones(layer.cout))
                    self._add(layer.name + ".bias", torch.zeros(layer.cout))

    def _add(self, name, value):
        self._params[name.replace(".", "__")] = nn.Parameter(value)
        self._names.append(name)

    def p(self, name):
        return self._params[name.replace(".", "__")]

    def named_weights(self):
        """(Swift name, parameter) in execution order."""
        return [(n, self.p(n)) for n in self._names]

    def load_weights(self, tensors):
        """Copies a {name: tensor} dict in; every parameter must be present with its shape."""
        missing = [n for n in self._names if n not in tensors]
        if missing:
            raise KeyError(f"weights lack {len(missing)} parameters, e.g. {missing[:3]}")
        with torch.no_grad():
            for n in self._names:
                t = tensors[n]
                if tuple(t.shape) != tuple(self.p(n).shape):
                    raise ValueError(f"{n}: shape {tuple(t.shape)}, the architecture needs {tuple(self.p(n).shape)}")
                self.p(n).copy_(t)
        return sorted(set(tensors) - set(self._names))

    @staticmethod
    def from_export(folder):
        from safetensors.torch import load_file
        with open(os.path.join(folder, "architecture.json")) as f:
            arch = json.load(f)
        net = C2FNASNet(arch)
        net.load_weights(load_file(os.path.join(folder, "weights.safetensors")))
        return net

    def _run(self, layers, h):
        for layer in layers:
            if layer.kind == "conv":
                k = layer.kernel
                h = F.conv3d(h, self.p(layer.name + ".weight"),
                             self.p(layer.name + ".bias") if layer.bias else None,
                             stride=layer.stride, padding=(k[0] // 2, k[1] // 2, k[2] // 2))
            elif layer.kind == "norm":
                h = F.instance_norm(h, weight=self.p(layer.name + ".weight"), bias=self.p(layer.name + ".bias"),
                                    eps=1e-5)
            elif layer.kind == "relu":
                h = F.relu(h)
            else:
                h = F.interpolate(h, scale_factor=2, mode="trilinear", align_corners=False)
        return h

    def forward(self, x):
        outputs = []
        for block in self.blocks:
            ins = [x] if not block.inputs else [outputs[i] for i in block.inputs]
            if block.merge == "sum":
                h = ins[0]
                for t in ins[1:]:
                    h = h + t
            elif block.merge == "concat":
                h = torch.cat(ins, dim=1)
            else:
                h = ins[0]
            outputs.append(self._run(block.layers, h))
        return outputs[-1]


def dice_ce_loss(logits, labels, smooth=1e-5):
    """The Swift `diceCELoss` defaults: soft Dice on softmax per (sample, class), background excluded,
    1 - mean Dice; plus cross-entropy averaged over voxels."""
    classes = logits.shape[1]
    prob = torch.softmax(logits, dim=1)[:, 1:]
    onehot = F.one_hot(labels, classes).permute(0, 4, 1, 2, 3).to(logits.dtype)[:, 1:]
    dims = (2, 3, 4)
    inter = (prob * onehot).sum(dims)
    denom = prob.sum(dims) + onehot.sum(dims)
    dice = (2 * inter + smooth) / (denom + smooth)
    return (1 - dice.mean()) + F.cross_entropy(logits, labels)
