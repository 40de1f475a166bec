/** File name of the bundle's training script. */
export const TRAIN_PY_FILE = 'train.py';

/**
 * train.py: the run's recipe in PyTorch with torch.distributed DDP (NCCL on GPUs, gloo on CPU), resumable,
 * writing result/ (weights.safetensors, metrics.jsonl, result.json) for `convnet runs import`; `--check`
 * compares its logits with ConvNet Studio's on the reference images the export stored.
 */
export const TRAIN_PY = String.raw`"""Trains the exported run with PyTorch DDP, following ConvNet Studio's recipe (config.json), and writes result/.

  python3 train.py --check                          # our weights in PyTorch vs ConvNet Studio's logits (exit 1 above 1e-4)
  torchrun --standalone --nproc_per_node 2 train.py --epochs 10 --data-root /data/flowers
  (launch.sh wraps torchrun for one node or several)

The recipe (Krizhevsky et al. 2012, as ConvNet Studio runs it): images resized once so the short side is the
pack size and centre-cropped square; random input-size crops, horizontal flips and PCA lighting noise
(alpha ~ N(0, sigma) along the eigenvectors of the training pixels' RGB covariance, scaled by sqrt(eigenvalue));
mean subtraction (and std division for He-initialised nets); SGD with the paper's rule
v <- m*v - wd*lr*w - lr*grad, w <- w + v (biases not decayed); the learning rate divided by 10 when the
validation error stops improving (or the run's step/cosine schedule); top-1 and top-5 error every epoch on
the centre crop. The global batch is the run's batch size, split over the processes.

result/ (what "convnet runs import" reads): weights.safetensors (PyTorch layout), metrics.jsonl (one line per
epoch), result.json, and checkpoint.pt (resumes a killed job: run the same command again).
"""

import argparse
import hashlib
import json
import math
import os
import sys
import tarfile
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from model import build, initialise, load_bundle_model, read_safetensors, write_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK_LIMIT = 1e-4


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train ConvNet Studio's exported run with PyTorch DDP.")
    p.add_argument("--check", action="store_true", help="compare our logits with ConvNet Studio's on the stored reference images, then exit")
    p.add_argument("--epochs", type=int, default=None, help="epochs to train in total (default: the run's)")
    p.add_argument("--data-root", default=None, help="folder the manifest's paths are relative to (default: the exporting machine's, or the bundle's images/ shards)")
    p.add_argument("--out", default=os.path.join(HERE, "result"), help="where weights, metrics and checkpoints go (default: result/)")
    p.add_argument("--batch-size", type=int, default=None, help="global batch size, split over the processes (default: the run's)")
    p.add_argument("--lr", type=float, default=None, help="initial learning rate (default: the run's)")
    p.add_argument("--workers", type=int, default=2, help="data-loading processes per training process")
    p.add_argument("--from-scratch", action="store_true", help="start from the run's init instead of the exported weights")
    p.add_argument("--no-resume", action="store_true", help="ignore result/checkpoint.pt")
    p.add_argument("--verify", action="store_true", help="check every image's SHA-256 against the manifest first")
    return p.parse_args(argv)


def load_config():
    with open(os.path.join(HERE, "config.json")) as f:
        return json.load(f)


def read_manifest():
    with open(os.path.join(HERE, "manifest.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def decode(path, pack):
    """An image as ConvNet Studio packs it: EXIF-oriented, alpha flattened on black, RGB, short side = pack, centre square."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        im.seek(0)
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            rgba = im.convert("RGBA")
            black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
            black.alpha_composite(rgba)
            im = black.convert("RGB")
        else:
            im = im.convert("RGB")
        w, h = im.size
        scale = pack / min(w, h)
        nw, nh = max(pack, round(w * scale)), max(pack, round(h * scale))
        im = im.resize((nw, nh), Image.LANCZOS)
        left, top = (nw - pack) // 2, (nh - pack) // 2
        im = im.crop((left, top, left + pack, top + pack))
        return torch.from_numpy(np.asarray(im, dtype=np.uint8).copy())


class ManifestImages(Dataset):
    """The images of one split, decoded to pack x pack uint8 HWC."""

    def __init__(self, items, root, pack):
        self.items, self.root, self.pack = items, root, pack

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        it = self.items[i]
        return decode(os.path.join(self.root, it["path"]), self.pack), it["label"]


class Preprocess:
    """Crop, flip, PCA lighting and normalisation of uint8 NHWC batches, returning float NCHW."""

    def __init__(self, cfg):
        self.size = cfg["inputSize"]
        norm = cfg["normalization"]
        self.mean = torch.tensor(norm["mean"], dtype=torch.float32)
        self.std = torch.tensor(norm["std"] if norm.get("std") else [1.0, 1.0, 1.0], dtype=torch.float32)
        aug = cfg["config"]["augment"]
        self.crop, self.flip, self.pca, self.sigma = aug["crop"], aug["flip"], aug["pca"], aug["pcaSigma"]
        stats = cfg["colorStats"]
        self.eigvals = torch.tensor(stats["eigvals"], dtype=torch.float32).clamp(min=0)
        self.eigvecs = torch.tensor(stats["eigvecs"], dtype=torch.float32)  # rows are the eigenvectors

    def __call__(self, images, train, gen=None):
        n, p = images.shape[0], images.shape[1]
        s = self.size
        x = images.float()
        if train and self.crop:
            ys = torch.randint(0, p - s + 1, (n,), generator=gen).tolist()
            xs = torch.randint(0, p - s + 1, (n,), generator=gen).tolist()
            x = torch.stack([x[i, ys[i] : ys[i] + s, xs[i] : xs[i] + s] for i in range(n)])
        else:
            o = (p - s) // 2
            x = x[:, o : o + s, o : o + s]
        if train and self.flip:
            mirror = torch.rand(n, generator=gen) < 0.5
            x[mirror] = x[mirror].flip(2)
        if train and self.pca and self.sigma > 0:
            alpha = torch.randn(n, 3, generator=gen) * self.sigma
            shift = (alpha * self.eigvals.sqrt()) @ self.eigvecs  # sum_i alpha_i sqrt(lambda_i) p_i
            x = x + shift[:, None, None, :]
        x = (x - self.mean) / self.std
        return x.permute(0, 3, 1, 2).contiguous()


class PaperSgd:
    """The paper's update: v <- m*v - wd*lr*w - lr*grad; w <- w + v. Biases are not decayed (as ConvNet Studio)."""

    def __init__(self, model, momentum, weight_decay):
        self.params = [(n, p) for n, p in model.named_parameters()]
        self.momentum, self.weight_decay = momentum, weight_decay
        self.v = {n: torch.zeros_like(p) for n, p in self.params}

    @torch.no_grad()
    def step(self, lr):
        for n, p in self.params:
            if p.grad is None:
                continue
            v = self.v[n]
            v.mul_(self.momentum).add_(p.grad, alpha=-lr)
            if self.weight_decay > 0 and not n.endswith("bias"):
                v.add_(p, alpha=-self.weight_decay * lr)
            p.add_(v)

    def zero_grad(self):
        for _, p in self.params:
            p.grad = None


def next_schedule(config, state, epochs_done, val_error):
    """The learning rate after an epoch, as ConvNet Studio's schedules compute it."""
    best = state["bestError"]
    improved = val_error is not None and (best is None or val_error < best - 1e-9)
    best = val_error if improved else best
    since = 0 if improved else state["epochsSinceBest"] + 1
    s = config["schedule"]
    lr = state["lr"]
    if s["kind"] == "plateau":
        if val_error is not None and since > s["patience"]:
            return {"lr": max(s["minLr"], lr * s["factor"]), "bestError": best, "epochsSinceBest": 0}
    elif s["kind"] == "step":
        lr = config["lr"] * s["factor"] ** (epochs_done // s["every"])
    elif s["kind"] == "cosine":
        t = min(1.0, epochs_done / config["epochs"])
        lr = s["minLr"] + 0.5 * (config["lr"] - s["minLr"]) * (1 + math.cos(math.pi * t))
    return {"lr": lr, "bestError": best, "epochsSinceBest": since}


def check():
    """Loads our weights, runs the reference images through the same preprocessing and compares logits."""
    model, cfg = load_bundle_model(HERE)
    model.eval()
    ref = read_safetensors(os.path.join(HERE, "reference.safetensors"))
    x = Preprocess(cfg)(ref["images"], train=False)
    with torch.no_grad():
        logits = model(x)
    theirs = ref["logits"]
    diff = (logits - theirs).abs().max().item() if theirs.numel() else 0.0
    agree = (logits.argmax(1) == theirs.argmax(1)).float().mean().item() if theirs.numel() else 1.0
    ok = diff <= CHECK_LIMIT and theirs.shape[0] > 0
    print(
        "check: %d reference images, %d classes, %d parameters: max |logit difference| %.3e (limit %.0e), top-1 agreement %.1f%% -> %s"
        % (theirs.shape[0], theirs.shape[1] if theirs.dim() == 2 else 0, sum(p.numel() for p in model.parameters()), diff, CHECK_LIMIT, 100 * agree, "OK" if ok else "FAILED")
    )
    return 0 if ok else 1


def data_root(args, cfg, local_rank):
    """Where the images are: --data-root, the bundle's own shards (unpacked once per node), or the exporting machine's folder."""
    if args.data_root:
        return os.path.abspath(args.data_root)
    shards = sorted(f for f in os.listdir(os.path.join(HERE, "images")) if f.endswith(".tar")) if os.path.isdir(os.path.join(HERE, "images")) else []
    if shards:
        root = os.path.join(HERE, "data")
        done = os.path.join(root, ".unpacked")
        if local_rank == 0 and not os.path.exists(done):
            os.makedirs(root, exist_ok=True)
            for name in shards:
                with tarfile.open(os.path.join(HERE, "images", name)) as t:
                    t.extractall(root)
            open(done, "w").close()
        while not os.path.exists(done):
            time.sleep(0.2)
        return root
    return cfg["dataRoot"]


def verify(items, root):
    bad = []
    for it in items:
        h = hashlib.sha256()
        with open(os.path.join(root, it["path"]), "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        if h.hexdigest() != it["sha256"]:
            bad.append(it["path"])
    if bad:
        raise SystemExit("%d image(s) differ from the exported snapshot, e.g. %s" % (len(bad), bad[0]))


@torch.no_grad()
def evaluate(model, items, root, pre, cfg, device, rank, world, batch):
    """Loss, top-1 and top-5 errors on a split, each process taking every world-th image, summed over all."""
    model.eval()
    mine = items[rank::world]
    sums = torch.zeros(4, dtype=torch.float64)  # loss sum, top-1 correct, top-5 correct, images
    k = min(5, len(cfg["classes"]))
    for start in range(0, len(mine), batch):
        chunk = mine[start : start + batch]
        images = torch.stack([decode(os.path.join(root, it["path"]), cfg["packSize"]) for it in chunk])
        labels = torch.tensor([it["label"] for it in chunk], device=device)
        logits = model(pre(images, train=False).to(device)).float()
        top = logits.topk(k, dim=1).indices
        sums[0] += F.cross_entropy(logits, labels, reduction="sum").item()
        sums[1] += (top[:, 0] == labels).sum().item()
        sums[2] += (top == labels[:, None]).any(dim=1).sum().item()
        sums[3] += len(chunk)
    if world > 1:
        sums = sums.to(device)
        dist.all_reduce(sums)
        sums = sums.cpu()
    n = sums[3].item()
    if n == 0:
        return None
    return {"loss": sums[0].item() / n, "top1Error": 1 - sums[1].item() / n, "top5Error": 1 - sums[2].item() / n, "images": int(n)}


def main(argv=None):
    """Trains (or checks, with --check); argv defaults to the command line. Joins a process group already set up (Ray Train)."""
    args = parse_args(argv)
    if args.check:
        return check()
    cfg = load_config()
    run_cfg = dict(cfg["config"])
    if args.epochs is not None:
        run_cfg["epochs"] = args.epochs
    if args.lr is not None:
        run_cfg["lr"] = args.lr
    epochs = run_cfg["epochs"]

    joined = dist.is_available() and dist.is_initialized()
    world = dist.get_world_size() if joined else int(os.environ.get("WORLD_SIZE", "1"))
    rank = dist.get_rank() if joined else int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    backend = dist.get_backend() if joined else ("nccl" if cuda else "gloo")
    if world > 1 and cuda:
        torch.cuda.set_device(device)
    if world > 1 and not joined:
        dist.init_process_group(backend=backend)
    say = (lambda *a: print(*a, flush=True)) if rank == 0 else (lambda *a: None)

    items = read_manifest()
    root = data_root(args, cfg, local_rank)
    missing = [it["path"] for it in items if not os.path.exists(os.path.join(root, it["path"]))]
    if missing:
        raise SystemExit("%d of %d images are not under %s (e.g. %s); pass --data-root DIR" % (len(missing), len(items), root, missing[0]))
    if args.verify and rank == 0:
        verify(items, root)
    train_items = [it for it in items if it["split"] == "train"]
    val_items = [it for it in items if it["split"] == "val"]

    model = build(cfg["layers"], cfg["inputSize"])
    if args.from_scratch:
        initialise(model, cfg["layers"], cfg["init"], run_cfg["seed"])
    else:
        model.load_state_dict(read_safetensors(os.path.join(HERE, "weights.safetensors")), strict=True)
    model.to(device)
    opt = PaperSgd(model, run_cfg["momentum"], run_cfg["weightDecay"])
    state = {"lr": run_cfg["lr"], "bestError": None, "epochsSinceBest": 0}
    start_epoch, seconds = 0, 0.0
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    if os.path.exists(ckpt_path) and not args.no_resume:
        ckpt = torch.load(ckpt_path, map_location=device)
        model.load_state_dict(ckpt["model"])
        for n, v in ckpt["momentum"].items():
            opt.v[n].copy_(v)
        state, start_epoch, seconds = ckpt["schedule"], ckpt["epoch"], ckpt["seconds"]
        say("Resuming after epoch %d from %s" % (start_epoch, ckpt_path))
    elif rank == 0 and os.path.exists(os.path.join(args.out, "metrics.jsonl")):
        os.remove(os.path.join(args.out, "metrics.jsonl"))
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if cuda else None) if world > 1 else model

    pre = Preprocess(cfg)
    batch = max(1, (args.batch_size or run_cfg["batchSize"]) // world)
    sampler = DistributedSampler(ManifestImages(train_items, root, cfg["packSize"]), num_replicas=world, rank=rank, shuffle=True, seed=run_cfg["seed"])
    loader = DataLoader(sampler.dataset, batch_size=batch, sampler=sampler, num_workers=args.workers, drop_last=False, persistent_workers=args.workers > 0)
    say(
        "Training %s (%d parameters) at %d px on %d images (%d validation), %d process(es) with %s on %s, batch %d per process, epochs %d..%d"
        % (cfg["arch"], sum(p.numel() for p in model.parameters()), cfg["inputSize"], len(train_items), len(val_items), world, backend if world > 1 else "no DDP", device, batch, start_epoch + 1, epochs)
    )
    last = None
    for epoch in range(start_epoch, epochs):
        sampler.set_epoch(epoch)
        gen = torch.Generator().manual_seed(run_cfg["seed"] * 1000003 + epoch * 1009 + rank)
        torch.manual_seed(run_cfg["seed"] * 1000003 + epoch * 1009 + rank + 7)  # dropout: the same job, the same run
        net.train()
        t0 = time.time()
        sums = torch.zeros(2, dtype=torch.float64)
        lr = state["lr"]
        for images, labels in loader:
            x, y = pre(images, train=True, gen=gen).to(device), labels.to(device)
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step(lr)
            sums += torch.tensor([loss.item() * len(y), len(y)], dtype=torch.float64)
        if world > 1:
            sums = sums.to(device)
            dist.all_reduce(sums)
            sums = sums.cpu()
        train_seconds = time.time() - t0
        val = evaluate(model, val_items, root, pre, cfg, device, rank, world, max(batch, 64))
        seconds += time.time() - t0
        state = next_schedule(run_cfg, state, epoch + 1, val["top1Error"] if val else None)
        last = {
            "epoch": epoch + 1,
            "trainLoss": sums[0].item() / max(1, sums[1].item()),
            "valLoss": val["loss"] if val else None,
            "valTop1Error": val["top1Error"] if val else None,
            "valTop5Error": val["top5Error"] if val else None,
            "lr": lr,
            "imagesPerSecond": sums[1].item() / max(train_seconds, 1e-9),
            "seconds": seconds,
        }
        if rank == 0:
            with open(os.path.join(args.out, "metrics.jsonl"), "a") as f:
                f.write(json.dumps(last) + "\n")
            write_safetensors(os.path.join(args.out, "weights.safetensors"), model.state_dict(), {"epoch": str(epoch + 1)})
            torch.save({"model": model.state_dict(), "momentum": opt.v, "schedule": state, "epoch": epoch + 1, "seconds": seconds}, ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
        say(
            "epoch %d/%d: train loss %.4f, val top-1 error %s, top-5 error %s, lr %g, %.0f images/s"
            % (epoch + 1, epochs, last["trainLoss"], "%.2f%%" % (100 * val["top1Error"]) if val else "-", "%.2f%%" % (100 * val["top5Error"]) if val else "-", lr, last["imagesPerSecond"])
        )
    if rank == 0:
        result = {
            "format": "convnet-torch-result",
            "version": 1,
            "parentRunId": cfg["run"]["id"],
            "snapshotHash": cfg["run"]["snapshotHash"],
            "epochs": epochs,
            "config": run_cfg,
            "worldSize": world,
            "backend": backend if world > 1 else "single process",
            "device": torch.cuda.get_device_name(device) if cuda else "cpu",
            "torch": torch.__version__,
            "seconds": seconds,
            "finalVal": {k: last[k] for k in ("valLoss", "valTop1Error", "valTop5Error")} if last else None,
            "finishedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        with open(os.path.join(args.out, "result.json"), "w") as f:
            json.dump(result, f, indent=1)
        say("Wrote %s: import it with  convnet runs import %s" % (args.out, HERE))
    if world > 1:
        dist.barrier()
        if not joined:
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;
