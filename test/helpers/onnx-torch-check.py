# Checks an ONNX file ConvNet Studio wrote the way a Python user would meet it: onnx.checker (full check, with
# shape inference), then the graph computed node by node with PyTorch's own operators (Conv with groups, LRN,
# MaxPool, Gemm, Softmax) on the float32 NCHW input in argv[2]. Prints JSON: the checker's verdict, the
# metadata, the inferred output shape and PyTorch's probabilities.
import json
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

model = onnx.load(sys.argv[1])
onnx.checker.check_model(model, full_check=True)
inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
out_dims = [d.dim_param or d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim]

graph = model.graph
(n, c, h, w) = [int(v) for v in sys.argv[3:7]]
x = torch.from_numpy(np.fromfile(sys.argv[2], dtype='<f4').reshape(n, c, h, w))
weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
values = {graph.input[0].name: x}


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


with torch.no_grad():
    for node in graph.node:
        a = attrs(node)
        ins = [values.get(i, weights.get(i)) for i in node.input]
        op = node.op_type
        if op == 'Conv':
            top, left, bottom, right = a['pads']
            y = F.conv2d(F.pad(ins[0], (left, right, top, bottom)), ins[1], ins[2], stride=tuple(a['strides']), groups=a.get('group', 1))
        elif op == 'Relu':
            y = F.relu(ins[0])
        elif op == 'LRN':
            # PyTorch's (like ONNX's and Caffe's): b = a / (k + alpha/n * sum over n channels)^beta.
            y = F.local_response_norm(ins[0], a['size'], alpha=a['alpha'], beta=a['beta'], k=a['bias'])
        elif op == 'MaxPool':
            top, left, bottom, right = a['pads']
            y = F.max_pool2d(F.pad(ins[0], (left, right, top, bottom), value=float('-inf')), tuple(a['kernel_shape']), tuple(a['strides']))
        elif op == 'Flatten':
            y = torch.flatten(ins[0], a.get('axis', 1))
        elif op == 'Gemm':
            assert a.get('transB') == 1 and a.get('transA', 0) == 0
            y = F.linear(ins[0], ins[1], ins[2])
        elif op == 'Softmax':
            y = F.softmax(ins[0], dim=a.get('axis', -1))
        else:
            raise SystemExit('unexpected op ' + op)
        values[node.output[0]] = y

probs = values[graph.output[0].name]
print(json.dumps({
    'checker': 'ok',
    'irVersion': model.ir_version,
    'opset': [[o.domain, o.version] for o in model.opset_import],
    'input': graph.input[0].name,
    'output': graph.output[0].name,
    'outputDims': out_dims,
    'ops': sorted({nd.op_type for nd in graph.node}),
    'metadata': {p.key: p.value for p in model.metadata_props},
    'probabilities': probs.flatten().tolist(),
}))
