#!/usr/bin/env python3
"""Small PyTorch-exported graphs for test/onnx.test.ts (src/onnx): each shape of classifier head the feature-layer
rule must handle or refuse, with PyTorch's own pooled features for two seeded inputs.

  /usr/bin/python3 scripts/make-onnx-fixtures.py test/fixtures/onnx

Writes <name>.onnx and reference.json ({input: [2,3,16,16] flat, graphs: {name: {feature, pooled: [2, d] flat}}}).
`pooled-unknown.onnx` is `pooled.onnx` with an unknown field (number 1000) appended to its GraphProto and a
metadata_props entry, to check that edits keep bytes they do not understand.
"""
import json, os, sys
import torch, torch.nn as nn
import onnx

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)


class Pooled(nn.Module):  # conv -> GAP -> flatten -> Gemm (ResNet-like)
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        f = torch.flatten(nn.functional.adaptive_avg_pool2d(torch.relu(self.conv(x)), 1), 1)
        self.f = f
        return self.fc(f)


class MeanNorm(nn.Module):  # conv -> mean(H,W) -> LayerNorm -> MatMul + bias as two nodes (ConvNeXt-like)
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.norm = nn.LayerNorm(8)
        self.w = nn.Parameter(torch.randn(8, 5))
        self.b = nn.Parameter(torch.randn(5))

    def forward(self, x):
        f = self.norm(self.conv(x).mean([-2, -1]))
        self.f = f
        return f @ self.w + self.b


class Mlp(nn.Module):  # conv -> avgpool -> flatten -> fc6 -> relu -> fc7 -> relu -> fc8 (VGG-like)
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc6, self.fc7, self.fc8 = nn.Linear(16, 12), nn.Linear(12, 12), nn.Linear(12, 5)

    def forward(self, x):
        f = torch.relu(self.fc7(torch.relu(self.fc6(torch.flatten(self.pool(self.conv(x)), 1)))))
        self.f = f
        return self.fc8(f)


class NoPool(nn.Module):  # conv -> flatten -> Gemm: no pooled layer
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, stride=4, padding=1)
        self.fc = nn.Linear(32, 5)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))


class TwoHeads(nn.Module):  # GAP -> two linear heads averaged (DeiT-distilled-like): ambiguous
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.a, self.b = nn.Linear(8, 5), nn.Linear(8, 5)

    def forward(self, x):
        f = torch.flatten(nn.functional.adaptive_avg_pool2d(self.conv(x), 1), 1)
        g = torch.flatten(nn.functional.adaptive_avg_pool2d(torch.relu(self.conv(x)), 1), 1)
        return (self.a(f) + self.b(g)) / 2


x = torch.randn(2, 3, 16, 16)
ref = {'input': [round(float(v), 8) for v in x.flatten()], 'graphs': {}}
for name, m in [('pooled', Pooled()), ('mean-norm', MeanNorm()), ('mlp', Mlp()), ('no-pool', NoPool()), ('two-heads', TwoHeads())]:
    m.eval()
    path = os.path.join(out, f'{name}.onnx')
    torch.onnx.export(m, x, path, input_names=['pixel_values'], output_names=['logits'],
                      dynamic_axes={'pixel_values': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=17)
    with torch.no_grad():
        m(x)
    if hasattr(m, 'f'):
        ref['graphs'][name] = {'pooled': [float(v) for v in m.f.flatten()], 'dim': m.f.shape[1]}

model = onnx.load(os.path.join(out, 'pooled.onnx'))
model.metadata_props.add(key='zs-test', value='kept')
graph = model.graph.SerializeToString() + bytes([0xc0, 0x3e, 0x2a])  # field 1000, varint 42
model.ClearField('graph')
def varint(n):
    b = b''
    while True:
        if n < 0x80:
            return b + bytes([n])
        b += bytes([(n & 0x7f) | 0x80])
        n >>= 7
with open(os.path.join(out, 'pooled-unknown.onnx'), 'wb') as f:
    f.write(model.SerializeToString() + b'\x3a' + varint(len(graph)) + graph)

# external data: the mean-norm graph with every initializer in mean-norm-ext.onnx.data
m = onnx.load(os.path.join(out, 'mean-norm.onnx'))
onnx.save_model(m, os.path.join(out, 'mean-norm-ext.onnx'), save_as_external_data=True, all_tensors_to_one_file=True,
                location='mean-norm-ext.onnx.data', size_threshold=0)
with open(os.path.join(out, 'reference.json'), 'w') as f:
    json.dump(ref, f)
