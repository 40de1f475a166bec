"""Writes the peers the pretrained-import parity tests compare against, into the folder argv[1]:
a seeded torchvision AlexNet saved as a state_dict (.pth) and exported to ONNX, a Caffe-style (bvlc) AlexNet built
as an ONNX graph by hand (grouped conv2/4/5, LRN, BGR input, ceil-mode pool1 as explicit pads, Reshape before fc6),
generated PNG images, and for each model PyTorch's logits on preprocessed tensors (written too, so both sides see
the same input). Usage: python3 make-peers.py OUT_DIR [IMAGES]"""
import json, os, sys
import numpy as np
import torch, torchvision
from torch import nn
from PIL import Image

out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 16
os.makedirs(out, exist_ok=True)
torch.manual_seed(1234)
rng = np.random.default_rng(1234)

# Generated images: smooth colour fields with a few discs and bars, of assorted sizes.
names = []
for i in range(count):
    h, w = int(rng.integers(230, 330)), int(rng.integers(230, 330))
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.zeros((h, w, 3))
    for c in range(3):
        a, b, p = rng.uniform(-3, 3, 3)
        img[..., c] = 0.5 + 0.4 * np.sin(a * xx * 3 + b * yy * 3 + p)
    for _ in range(4):
        cy, cx, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.25)
        mask = (yy - cy * h / max(h, w)) ** 2 + (xx - cx * w / max(h, w)) ** 2 < r * r
        img[mask] = rng.uniform(0, 1, 3)
    name = f"img{i:02d}.png"
    Image.fromarray((img * 255).clip(0, 255).astype(np.uint8)).save(os.path.join(out, name))
    names.append(name)

# torchvision's own preprocessing of the weights (IMAGENET1K_V1.transforms: resize 256, centre crop 224, mean/std).
tv = torchvision.models.AlexNet_Weights.IMAGENET1K_V1.transforms()
x_tv = torch.stack([tv(Image.open(os.path.join(out, n)).convert("RGB")) for n in names])

def centre_logits(head, features):
    # A seeded network answers nearly the same class for every image (its output is dominated by what all
    # inputs share); shifting fc8's bias by the mean hidden activation makes its top-1 depend on the image,
    # so top-1 agreement between pipelines means something.
    with torch.no_grad():
        head.bias -= head.weight @ features.mean(0)

net = torchvision.models.alexnet(num_classes=1000).eval()
with torch.no_grad():
    centre_logits(net.classifier[6], net.classifier[:-1](torch.flatten(net.avgpool(net.features(x_tv)), 1)))
torch.save(net.state_dict(), os.path.join(out, "alexnet-seeded.pth"))
with torch.no_grad():
    torch.onnx.export(net, torch.zeros(1, 3, 224, 224), os.path.join(out, "alexnet-torchvision.onnx"), input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    logits_tv = net(x_tv)

# Caffe's AlexNet (BVLC, as in the ONNX model zoo's bvlcalexnet): 96-256-384-384-256, groups 2 in conv2/4/5,
# LRN(5, 1e-4, 0.75, k=1) after conv1/conv2, pool1 in Caffe's ceil mode, BGR input minus the mean [104, 117, 123].
class Bvlc(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 11, 4), nn.ReLU(), nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0), nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0), nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(), nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True))
        self.fc = nn.Sequential(nn.Linear(9216, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000))
    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))

bvlc = Bvlc().eval()
for m in bvlc.modules():
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        nn.init.normal_(m.weight, 0, 0.01 if isinstance(m, nn.Conv2d) else 0.005)
        nn.init.uniform_(m.bias, 0, 0.1)

# Caffe-style preprocessing for the reference: resize short side 256, centre crop 224, BGR, minus the BGR mean, 0..255.
caffe_tf = torchvision.transforms.Compose([torchvision.transforms.Resize(256), torchvision.transforms.CenterCrop(224), torchvision.transforms.PILToTensor()])
x_bgr = torch.stack([caffe_tf(Image.open(os.path.join(out, n)).convert("RGB")).float()[[2, 1, 0]] for n in names])
x_bgr -= torch.tensor([104.0, 117.0, 123.0]).view(1, 3, 1, 1)
with torch.no_grad():
    centre_logits(bvlc.fc[4], bvlc.fc[:-1](torch.flatten(bvlc.features(x_bgr), 1)))

import onnx
from onnx import helper, numpy_helper, TensorProto
def init(name, t):
    return numpy_helper.from_array(t.detach().numpy().astype(np.float32), name)
convs = [m for m in bvlc.features if isinstance(m, nn.Conv2d)]
fcs = [m for m in bvlc.fc if isinstance(m, nn.Linear)]
inits, nodes = [], []
x = "data_0"
def node(op, inputs, name, **attrs):
    nodes.append(helper.make_node(op, inputs, [name + "_1"], name=name, **attrs))
    return name + "_1"
pads = {1: 0, 2: 2, 3: 1, 4: 1, 5: 1}
for i, conv in enumerate(convs, 1):
    inits += [init(f"conv{i}_w_0", conv.weight), init(f"conv{i}_b_0", conv.bias)]
    k = conv.kernel_size[0]
    x = node("Conv", [x, f"conv{i}_w_0", f"conv{i}_b_0"], f"conv{i}", kernel_shape=[k, k], strides=list(conv.stride),
             pads=[pads[i]] * 4, dilations=[1, 1], group=conv.groups)
    x = node("Relu", [x], f"relu{i}")
    if i in (1, 2):
        x = node("LRN", [x], f"norm{i}", size=5, alpha=1e-4, beta=0.75, bias=1.0)
    if i in (1, 2, 5):
        x = node("MaxPool", [x], f"pool{i}", kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1] if i == 1 else [0, 0, 0, 0])
inits.append(numpy_helper.from_array(np.array([1, 9216], dtype=np.int64), "OC2_DUMMY_1"))
x = node("Reshape", [x, "OC2_DUMMY_1"], "OC2_DUMMY_0")
for i, fc in enumerate(fcs, 6):
    inits += [init(f"fc{i}_w_0", fc.weight), init(f"fc{i}_b_0", fc.bias)]
    x = node("Gemm", [x, f"fc{i}_w_0", f"fc{i}_b_0"], f"fc{i}", transB=1)
    if i < 8:
        x = node("Relu", [x], f"relu{i}")
        x = node("Dropout", [x], f"drop{i}", ratio=0.5)
nodes.append(helper.make_node("Softmax", [x], ["prob_1"], name="prob"))
graph = helper.make_graph(nodes, "bvlc_alexnet", [helper.make_tensor_value_info("data_0", TensorProto.FLOAT, [1, 3, 224, 224])],
                          [helper.make_tensor_value_info("prob_1", TensorProto.FLOAT, [1, 1000])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)], producer_name="onnx-caffe2")
model.ir_version = 4
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "bvlcalexnet-seeded.onnx"))

with torch.no_grad():
    logits_bvlc = bvlc(x_bgr)

def dump(name, t):
    t.detach().numpy().astype("<f4").tofile(os.path.join(out, name))
dump("input-torchvision.f32", x_tv)   # [N, 3, 224, 224] RGB, normalised
dump("logits-torchvision.f32", logits_tv)
dump("input-bvlc.f32", x_bgr)          # [N, 3, 224, 224] BGR, mean-subtracted
dump("logits-bvlc.f32", logits_bvlc)
json.dump({"images": names, "torch": torch.__version__, "torchvision": torchvision.__version__}, open(os.path.join(out, "peers.json"), "w"))
print(json.dumps({"images": len(names)}))
