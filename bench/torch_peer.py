"""PyTorch CPU peer of ConvNet Studio's bench suite (bench/README.md).

Builds the same network as ConvNet Studio from its topology as data (the LayerSpec list of
src/model, passed as JSON by the bench), so the two can never drift apart: same layer sizes,
'same'/explicit padding, LRN with the paper's constants, grouped convolutions, dropout, and the
same parameter count (checked by the bench). Then answers a JSON-lines protocol on stdin/stdout:

  {"op": "setup", "task": {...}}  -> {"ok": true, "params": N, "threads": T, "torch": "x.y"}
  {"op": "time", "steps": n}      -> {"ok": true, "seconds": s}
  {"op": "rss"}                   -> {"ok": true, "maxRssBytes": b}
  {"op": "quit"}

task: {"kind": "train" | "infer", "specs": [...], "inputSize": 32, "batch": 64,
       "numClasses": 10, "threads": 1, "warmup": 2, "lr": 0.01, "momentum": 0.9, "weightDecay": 5e-4,
       "device": "cpu" | "cuda"}
"""

import json
import resource
import sys
import time

import torch
from torch import nn


def build(specs, input_size, channels=3):
    """Turns ConvNet Studio's LayerSpec list into an nn.Sequential (NCHW)."""
    layers = []
    c, h = channels, input_size
    for s in specs:
        kind = s["kind"]
        if kind == "conv":
            k, stride = s["kernel"], s["stride"]
            pad = s["padding"]
            if pad == "same":
                # TF 'same' at stride 1 with an odd kernel is a symmetric (k-1)/2 border.
                if stride != 1 or k % 2 == 0:
                    raise ValueError(f"{s['name']}: 'same' padding only mapped for stride 1, odd kernels")
                pad = (k - 1) // 2
            elif pad == "valid":
                pad = 0
            layers.append(nn.Conv2d(c, s["filters"], k, stride=stride, padding=pad, groups=s["groups"]))
            layers.append(nn.ReLU(inplace=True))
            c = s["filters"]
            h = (h + 2 * pad - k) // stride + 1
        elif kind == "lrn":
            n = 2 * s["depthRadius"] + 1
            # TF/the paper: k + alpha * sum; PyTorch: k + alpha / n * sum.
            layers.append(nn.LocalResponseNorm(size=n, alpha=s["alpha"] * n, beta=s["beta"], k=s["bias"]))
        elif kind == "maxpool":
            layers.append(nn.MaxPool2d(s["pool"], stride=s["stride"]))
            h = (h - s["pool"]) // s["stride"] + 1
        elif kind == "flatten":
            layers.append(nn.Flatten())
            c, h = c * h * h, None
        elif kind == "dropout":
            layers.append(nn.Dropout(s["rate"]))
        elif kind == "dense":
            layers.append(nn.Linear(c, s["units"]))
            c = s["units"]
            # softmax is folded into the loss (cross_entropy) as ConvNet Studio's trainer does (logitsOf).
            if s["activation"] == "relu":
                layers.append(nn.ReLU(inplace=True))
        else:
            raise ValueError(f"unknown layer kind {kind}")
    return nn.Sequential(*layers)


class Peer:
    def __init__(self, task):
        torch.manual_seed(1)
        # 0: PyTorch's own default (every physical core), the way a user runs it.
        if int(task.get("threads", 1)) > 0:
            torch.set_num_threads(int(task.get("threads", 1)))
        self.task = task
        self.kind = task["kind"]
        self.device = torch.device(task.get("device", "cpu"))
        self.model = build(task["specs"], task["inputSize"]).to(self.device)
        n, s = task["batch"], task["inputSize"]
        self.x = torch.randn(n, 3, s, s, device=self.device)
        self.y = torch.randint(0, task["numClasses"], (n,), device=self.device)
        if self.kind == "train":
            self.model.train()
            decay = [p for p in self.model.parameters() if p.dim() > 1]
            no_decay = [p for p in self.model.parameters() if p.dim() <= 1]
            # The paper's rule decays weights, not biases (as ConvNet Studio's PaperSgd).
            self.opt = torch.optim.SGD(
                [{"params": decay, "weight_decay": task.get("weightDecay", 5e-4)}, {"params": no_decay, "weight_decay": 0.0}],
                lr=task.get("lr", 0.01),
                momentum=task.get("momentum", 0.9),
            )
        else:
            self.model.eval()
        for _ in range(int(task.get("warmup", 2))):
            self.step()

    def step(self):
        if self.kind == "train":
            self.opt.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(self.model(self.x), self.y)
            loss.backward()
            self.opt.step()
            loss.item()
        else:
            with torch.inference_mode():
                torch.softmax(self.model(self.x), dim=1).cpu().numpy()

    def time(self, steps):
        start = time.perf_counter()
        for _ in range(steps):
            self.step()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start


def main():
    peer = None
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        msg = json.loads(line)
        op = msg.get("op")
        try:
            if op == "setup":
                peer = Peer(msg["task"])
                params = sum(p.numel() for p in peer.model.parameters())
                reply = {"ok": True, "params": params, "threads": torch.get_num_threads(), "torch": torch.__version__, "device": str(peer.device)}
            elif op == "time":
                reply = {"ok": True, "seconds": peer.time(int(msg["steps"]))}
            elif op == "rss":
                # Linux reports ru_maxrss in KiB, macOS in bytes.
                scale = 1 if sys.platform == "darwin" else 1024
                reply = {"ok": True, "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale}
            elif op == "quit":
                break
            else:
                reply = {"ok": False, "error": f"unknown op {op}"}
        except Exception as err:  # reported to the bench, which prints it
            reply = {"ok": False, "error": f"{type(err).__name__}: {err}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
