/** File name of the bundle's network module. */
export const MODEL_PY_FILE = 'model.py';

/**
 * model.py: the run's network rebuilt in PyTorch from the layer list in config.json (the same data our
 * engine builds from), with the weights' loader and writer in plain torch (safetensors without the package).
 */
export const MODEL_PY = String.raw`"""The run's network in PyTorch, built from its layer list (config.json "layers"), as ConvNet Studio builds it.

Layer by layer: conv (TF 'same' padding as an explicit, possibly asymmetric zero border; groups = the paper's
towers) + ReLU, local response normalisation with the paper's constants, overlapping max-pooling, flatten,
dropout, dense (+ ReLU; the last one gives logits, softmax is in the loss). Names match the state dict in
weights.safetensors: conv1.weight, conv1.bias, ..., fc8.bias.

LRN: the paper and TensorFlow add alpha * sum(a^2); PyTorch's LocalResponseNorm adds alpha / n * sum(a^2),
so the paper's alpha = 1e-4 over n = 5 channels is nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2).
"""

import json
import math
import struct
from collections import OrderedDict

import torch
from torch import nn


def same_padding(size, kernel, stride):
    """TF 'same': output ceil(size / stride), the extra pixel of an odd total on the bottom/right."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def build(layers, input_size, channels=3):
    """An nn.Sequential of the layer list (NCHW input), its layers named as ConvNet Studio names them."""
    mods = OrderedDict()
    c, h = channels, input_size
    for s in layers:
        kind, name = s["kind"], s["name"]
        if kind == "conv":
            k, stride, pad = s["kernel"], s["stride"], s["padding"]
            if pad == "same":
                before, after = same_padding(h, k, stride)
            elif pad == "valid":
                before = after = 0
            else:
                before = after = pad
            if before != after:
                mods[name + "_pad"] = nn.ZeroPad2d((before, after, before, after))
            conv_pad = before if before == after else 0
            mods[name] = nn.Conv2d(c, s["filters"], k, stride=stride, padding=conv_pad, groups=s["groups"])
            mods[name + "_relu"] = nn.ReLU(inplace=True)
            h = (h + before + after - k) // stride + 1
            c = s["filters"]
        elif kind == "lrn":
            n = 2 * s["depthRadius"] + 1
            mods[name] = nn.LocalResponseNorm(size=n, alpha=s["alpha"] * n, beta=s["beta"], k=s["bias"])
        elif kind == "maxpool":
            mods[name] = nn.MaxPool2d(s["pool"], stride=s["stride"])
            h = (h - s["pool"]) // s["stride"] + 1
        elif kind == "flatten":
            mods[name] = nn.Flatten()
            c, h = c * h * h, None
        elif kind == "dropout":
            mods[name] = nn.Dropout(s["rate"])
        elif kind == "dense":
            mods[name] = nn.Linear(c, s["units"])
            c = s["units"]
            if s["activation"] == "relu":
                mods[name + "_relu"] = nn.ReLU(inplace=True)
        else:
            raise ValueError("unknown layer kind " + str(kind))
    return nn.Sequential(mods)


def initialise(model, layers, scheme, seed=1):
    """The run's init from scratch: 'paper' = N(0, 0.01) kernels and the paper's biases; 'he' = He normal, zero biases."""
    gen = torch.Generator().manual_seed(seed)
    for s in layers:
        if s["kind"] not in ("conv", "dense"):
            continue
        m = getattr(model, s["name"])
        with torch.no_grad():
            if scheme == "paper":
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * 0.01)
                m.bias.fill_(s["paperBias"])
            else:
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * math.sqrt(2.0 / fan_in))
                m.bias.zero_()


def read_safetensors(path):
    """Reads a safetensors file (F32/U8/I64) into a dict of tensors with json + torch only."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    dtypes = {"F32": torch.float32, "U8": torch.uint8, "I64": torch.int64}
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        data = bytearray(raw[8 + n + a : 8 + n + b])
        tensor = torch.frombuffer(data, dtype=dtypes[t["dtype"]]) if data else torch.empty(0, dtype=dtypes[t["dtype"]])
        out[name] = tensor.reshape(t["shape"])
    return out


def write_safetensors(path, tensors, metadata=None):
    """Writes float32 tensors as a safetensors file (readable by ConvNet Studio and the safetensors package)."""
    header = {"__metadata__": metadata} if metadata else {}
    blobs, offset = [], 0
    for name, t in tensors.items():
        b = t.detach().to("cpu", torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    head = json.dumps(header).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)
    import os

    os.replace(tmp, path)


def load_bundle_model(bundle_dir, weights="weights.safetensors"):
    """The network of a bundle with the given weights file loaded (strict: every name and shape must match)."""
    import os

    with open(os.path.join(bundle_dir, "config.json")) as f:
        cfg = json.load(f)
    model = build(cfg["layers"], cfg["inputSize"])
    params = sum(p.numel() for p in model.parameters())
    if params != cfg["params"]:
        raise RuntimeError("model.py built %d parameters, ConvNet Studio's network has %d" % (params, cfg["params"]))
    model.load_state_dict(read_safetensors(os.path.join(bundle_dir, weights)), strict=True)
    return model, cfg
`;
