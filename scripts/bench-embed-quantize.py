#!/usr/bin/python3
"""8-bit dynamic quantization of an ONNX graph's MatMul weights, for scripts/bench-embed.ts's q8 row when
onnxruntime's Python package (onnxruntime.quantization.quantize_dynamic, what transformers.js' *_quantized files
come from) is not installed. Needs only onnx and numpy.

It writes the same operator pattern quantize_dynamic(weight_type=QUInt8) writes for MatMul with a constant
weight (per-tensor, asymmetric, uint8, no reduced range):
    A -> DynamicQuantizeLinear -> (A_q, A_scale, A_zp)
    MatMulInteger(A_q, W_q, A_zp, W_zp) -> Cast(float) -> Mul(A_scale * W_scale) -> output
MatMuls of two activations (attention) and the patch-embedding Conv stay float, as in those files' vision graphs
apart from the Conv (quantize_dynamic also makes it a ConvInteger; it is ~1% of ViT-B/32's multiply-adds).

  bench-embed-quantize.py MODEL_DIR/onnx/vision_model.onnx MODEL_DIR/onnx/vision_model_quantized.onnx
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def quantize_weight(w):
    lo, hi = min(float(w.min()), 0.0), max(float(w.max()), 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zp = int(np.clip(round(-lo / scale), 0, 255))
    q = np.clip(np.rint(w / scale) + zp, 0, 255).astype(np.uint8)
    return q, np.float32(scale), np.uint8(zp)


def main(src, dst):
    model = onnx.load(src)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    nodes, added, done = [], [], 0
    for node in g.node:
        w = inits.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if w is None or w.data_type != TensorProto.FLOAT or len(w.dims) != 2:
            nodes.append(node)
            continue
        q, scale, zp = quantize_weight(numpy_helper.to_array(w))
        base = f"{node.name or node.output[0]}_q8_{done}"
        added += [numpy_helper.from_array(q, f"{base}_W_q"), numpy_helper.from_array(np.array(scale), f"{base}_W_scale"),
                  numpy_helper.from_array(np.array(zp), f"{base}_W_zp")]
        a = node.input[0]
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [a], [f"{base}_A_q", f"{base}_A_scale", f"{base}_A_zp"], name=f"{base}_dql"),
            helper.make_node("MatMulInteger", [f"{base}_A_q", f"{base}_W_q", f"{base}_A_zp", f"{base}_W_zp"], [f"{base}_i32"], name=f"{base}_mmi"),
            helper.make_node("Cast", [f"{base}_i32"], [f"{base}_f32"], to=TensorProto.FLOAT, name=f"{base}_cast"),
            helper.make_node("Mul", [f"{base}_A_scale", f"{base}_W_scale"], [f"{base}_scale"], name=f"{base}_scale_mul"),
            helper.make_node("Mul", [f"{base}_f32", f"{base}_scale"], [node.output[0]], name=f"{base}_out_mul"),
        ]
        done += 1
    used = {i for n in nodes for i in n.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(keep + added)
    if not any(o.domain in ("", "ai.onnx") and o.version >= 11 for o in model.opset_import):
        sys.exit("the graph needs opset >= 11 for DynamicQuantizeLinear")
    onnx.save(model, dst)
    print(f"quantized {done} MatMul weights: {dst}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
