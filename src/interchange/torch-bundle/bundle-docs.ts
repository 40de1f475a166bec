/** File name of the torchrun launcher. */
export const LAUNCH_FILE = 'launch.sh';

/** launch.sh: torchrun on one node (all its GPUs, or N CPU processes) or on several (--nnodes/--node-rank/--master-addr). */
export const LAUNCH_SH = String.raw`#!/bin/sh
# Launches train.py with torchrun (PyTorch's elastic launcher; SLURM, Ray Train and Lightning all start it).
#
#   ./launch.sh [--nproc N] [--master-port P] [--nnodes N --node-rank I --master-addr HOST] -- [train.py options]
#
# One node:     ./launch.sh -- --epochs 30 --data-root /data/set          (one process per GPU, or 2 on a CPU;
#               --standalone on port 29400, or --master-port P where two jobs share a host)
# Two nodes:    node 0: ./launch.sh --nnodes 2 --node-rank 0 --master-addr node0 -- --data-root /data/set
#               node 1: ./launch.sh --nnodes 2 --node-rank 1 --master-addr node0 -- --data-root /data/set
# PYTHON picks the interpreter (default python3); NCCL is used on GPUs, gloo on CPUs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=${'$'}{PYTHON:-python3}
nproc=""
nnodes=1
node_rank=0
master_addr=""
master_port=""
while [ $# -gt 0 ]; do
  case "$1" in
    --nproc) nproc=$2; shift 2 ;;
    --nnodes) nnodes=$2; shift 2 ;;
    --node-rank) node_rank=$2; shift 2 ;;
    --master-addr) master_addr=$2; shift 2 ;;
    --master-port) master_port=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "launch.sh: unknown option $1 (train.py's options go after --)" >&2; exit 2 ;;
  esac
done
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "launch.sh: $python cannot import torch; install PyTorch or set PYTHON=/path/to/python" >&2
  exit 2
fi
if [ -z "$nproc" ]; then
  nproc=$("$python" -c 'import torch; print(torch.cuda.device_count() or 2)')
fi
# torch 1.13's torchrun fails on Python >= 3.11 with "'NoneType' object has no attribute 'get'" (its Std flag
# lookup misses 0); naming a redirect it can parse avoids that code path.
workaround=""
if "$python" -c 'import sys, torch; sys.exit(0 if torch.__version__.startswith("1.13") and sys.version_info >= (3, 11) else 1)'; then
  workaround="--redirects 1 --tee 1"
fi
if [ "$nnodes" -gt 1 ]; then
  if [ -z "$master_addr" ]; then
    echo "launch.sh: --nnodes $nnodes needs --master-addr (the host of node rank 0)" >&2
    exit 2
  fi
  # shellcheck disable=SC2086
  exec "$python" -m torch.distributed.run $workaround --nnodes "$nnodes" --node_rank "$node_rank" --nproc_per_node "$nproc" \
    --master_addr "$master_addr" --master_port "${'$'}{master_port:-29500}" "$here/train.py" "$@"
fi
if [ -n "$master_port" ]; then
  # One node on a port of your choosing (--standalone always takes 29400, which two jobs on one host would share).
  # shellcheck disable=SC2086
  exec "$python" -m torch.distributed.run $workaround --nnodes 1 --nproc_per_node "$nproc" --master_addr 127.0.0.1 --master_port "$master_port" "$here/train.py" "$@"
fi
# shellcheck disable=SC2086
exec "$python" -m torch.distributed.run $workaround --standalone --nproc_per_node "$nproc" "$here/train.py" "$@"
`;

/** What the README states about the run. */
export interface BundleFacts {
  runId: number;
  arch: string;
  datasetName: string | null;
  classes: string[];
  images: { train: number; val: number; test: number };
  inputSize: number;
  packSize: number;
  params: number;
  epochs: number;
  batchSize: number;
  dataRoot: string;
  withImages: boolean;
  app: string;
}

/** README.md of a bundle: what is in it, how to check it, train it on one node, on several, under SLURM and Ray Train, and bring it back. */
export function bundleReadme(f: BundleFacts): string {
  return `# Run ${f.runId} as a PyTorch DDP bundle

Exported by ${f.app}: ${f.arch} (${f.params.toLocaleString('en-US')} parameters, ${f.inputSize} px inputs from ${f.packSize} px images),
${f.classes.length} classes, ${f.images.train} training / ${f.images.val} validation / ${f.images.test} test images of ${f.datasetName ?? 'its dataset'}.
Needs Python 3 with PyTorch (≥ 1.13), NumPy and Pillow; nothing else, and nothing from ConvNet Studio.

| file | what |
| --- | --- |
| \`model.py\` | the network, built from the layer list in \`config.json\` (LRN, grouped conv, dropout, init as in the app) |
| \`weights.safetensors\` | the run's current weights in PyTorch layout (read by \`model.py\` without the safetensors package) |
| \`config.json\` | the run's recipe, layers, classes, normalisation and colour statistics |
| \`manifest.jsonl\` | one line per image of the run's frozen snapshot: path (relative to the data root), SHA-256, label, split |
| \`reference.safetensors\` | a few packed reference images and the app's logits on them, for \`train.py --check\` |
| \`train.py\` | the paper's recipe with DDP; writes \`result/\` |
| \`launch.sh\` | torchrun on one node or several |
${f.withImages ? '| `images/*.tar` | the images themselves, unpacked into `data/` on first use |\n' : ''}
## 1. Check the network

\`\`\`sh
python3 train.py --check
\`\`\`

loads the weights into \`model.py\`'s network and compares its logits with the app's on the reference images;
it exits non-zero when any differs by more than 1e-4.

## 2. Train

${f.withImages ? 'The images travel in `images/`; without `--data-root`, train.py unpacks them into `data/` once per node.' : `The images are not in the bundle. Put the dataset's folder on the cluster (or a shared file system) and pass it as
\`--data-root\`; paths in \`manifest.jsonl\` are relative to it (on the exporting machine: \`${f.dataRoot}\`). \`--verify\`
checks every file's SHA-256 against the snapshot first.`}

\`\`\`sh
./launch.sh -- --epochs ${f.epochs} --data-root /data/set                    # one node: every GPU, or 2 CPU processes
./launch.sh --nproc 8 --nnodes 2 --node-rank 0 --master-addr node0 -- --data-root /data/set   # on node0
./launch.sh --nproc 8 --nnodes 2 --node-rank 1 --master-addr node0 -- --data-root /data/set   # on node1
\`\`\`

On a host shared with other torchrun jobs, add \`--master-port P\` (a free port): \`--standalone\` always takes 29400.
Or torchrun directly: \`torchrun --standalone --nproc_per_node 2 train.py --epochs 1\` (with torch 1.13 on Python ≥ 3.11,
add \`--redirects 1 --tee 1\`: its launcher otherwise fails with "'NoneType' object has no attribute 'get'"; launch.sh does). The global batch is the run's
(${f.batchSize}), split over the processes (\`--batch-size\` changes it). Training starts from the run's current weights
(\`--from-scratch\`: from the run's init) with its learning rate; validation uses the centre crop. A killed job resumes from \`result/checkpoint.pt\`
when started again with the same command.

### SLURM

\`\`\`sh
#!/bin/bash
#SBATCH --nodes=2 --ntasks-per-node=1 --gpus-per-node=8 --cpus-per-task=32
head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
srun ./launch.sh --nproc 8 --nnodes "$SLURM_NNODES" --node-rank "$SLURM_NODEID" --master-addr "$head" -- --data-root /data/set
\`\`\`

### Ray Train

\`\`\`python
import sys
from ray.train import ScalingConfig
from ray.train.torch import TorchTrainer

def loop(_):
    sys.path.insert(0, "/path/to/this/bundle")
    import train  # joins the process group Ray Train has set up (its rank, world size, NCCL/gloo)
    train.main(["--data-root", "/data/set", "--workers", "4"])

TorchTrainer(loop, scaling_config=ScalingConfig(num_workers=16, use_gpu=True)).fit()
\`\`\`

## 3. Bring the result back

\`result/\` holds \`weights.safetensors\`, \`metrics.jsonl\` (one line per epoch: losses, top-1/top-5 error, lr) and
\`result.json\`. Copy the bundle folder back and run \`convnet runs import DIR\` (or *Import bundle result* in the
Runs view): it becomes a run linked to run ${f.runId}, with its curves, and evaluates, classifies and exports like any run.
`;
}
