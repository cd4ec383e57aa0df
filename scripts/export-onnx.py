#!/usr/bin/env python3
"""Export a Hugging Face CLIP, SigLIP, ViT or DINOv2 checkpoint into the ONNX folder layout zs (and
transformers.js) load. See onnx-models/README.md for the layout.

Needs Python 3.8+, torch and transformers; onnx for checks; onnxruntime for the q8 graphs (and for
onnx/model_quantized.onnx, the small combined graph zs reads the zero-shot logit scale from);
onnxconverter-common for fp16. Without torch and transformers it cannot run: pull a ready folder with
`zs models pull` instead.

    pip install torch transformers onnx onnxruntime onnxconverter-common
    python3 scripts/export-onnx.py openai/clip-vit-base-patch32 models/clip-vit-b32
    python3 scripts/export-onnx.py google/siglip-base-patch16-224 models/siglip --dtypes fp32,q8
    python3 scripts/export-onnx.py facebook/dinov2-small models/dinov2-small
    zs models info models/clip-vit-b32

ImageNet CNN classifiers the hub has no transformers.js copy of come from torchvision instead (--torchvision NAME,
NAME one of TORCHVISION below); the weights are torchvision's DEFAULT ImageNet-1k weights of that architecture
(e.g. VGG16_Weights.IMAGENET1K_V1, DenseNet121_Weights.IMAGENET1K_V1, EfficientNet_B0/B3_Weights.IMAGENET1K_V1,
ResNet50_Weights.IMAGENET1K_V2), downloaded by torchvision; preprocessor_config.json reproduces those weights'
own transforms (resize the shortest edge, center crop, ImageNet mean/std). --random-weights exports the same
architecture with random weights and no download (for speed measurements):

    python3 scripts/export-onnx.py --torchvision vgg16 models/vgg16
    python3 scripts/export-onnx.py --torchvision resnet50 --random-weights /tmp/zs-cnn-bench/resnet50

Output:
  config.json, preprocessor_config.json, tokenizer.json (+ tokenizer_config.json, special_tokens_map.json)
  CLIP / SigLIP: onnx/vision_model{,_fp16,_quantized}.onnx   pixel_values -> image_embeds
                 onnx/text_model{,_fp16,_quantized}.onnx     input_ids[, attention_mask] -> text_embeds
                 onnx/model.onnx, onnx/model_quantized.onnx  input_ids, pixel_values[, attention_mask] ->
                                                              logits_per_image, logits_per_text, text_embeds, image_embeds
  ViT / DINOv2:  onnx/model{,_fp16,_quantized}.onnx          pixel_values -> last_hidden_state, pooler_output
  --torchvision: onnx/model{,_fp16}.onnx                     pixel_values -> logits (config.json id2label: ImageNet-1k);
                 zs embeds with the pooled tensor entering the classifier (src/onnx/classifier.ts)
"""
import argparse
import os
import sys

TEXT_IMAGE = {"clip", "siglip"}
IMAGE_ONLY = {"vit", "dinov2", "deit", "beit"}
SUFFIX = {"fp32": "", "fp16": "_fp16", "q8": "_quantized"}
# torchvision classifiers: name -> (config.json architectures[0], model_type)
TORCHVISION = {
    "resnet50": ("ResNetForImageClassification", "resnet"),
    "resnet101": ("ResNetForImageClassification", "resnet"),
    "vgg16": ("VGGForImageClassification", "vgg"),
    "vgg19": ("VGGForImageClassification", "vgg"),
    "densenet121": ("DenseNetForImageClassification", "densenet"),
    "efficientnet_b0": ("EfficientNetForImageClassification", "efficientnet"),
    "efficientnet_b3": ("EfficientNetForImageClassification", "efficientnet"),
    "efficientnet_b7": ("EfficientNetForImageClassification", "efficientnet"),
    "convnext_tiny": ("ConvNextForImageClassification", "convnext"),
}


def need(module, why):
    try:
        return __import__(module)
    except ImportError:
        sys.exit(f"export-onnx: this step needs the Python package '{module}' ({why}): pip install {module}")


def export(module, inputs, names_in, names_out, path, opset):
    import torch
    dynamic = {n: {0: "batch"} for n in names_in + names_out}
    for n in ("input_ids", "attention_mask"):
        if n in names_in:
            dynamic[n] = {0: "batch", 1: "sequence"}
    if "last_hidden_state" in names_out:
        dynamic["last_hidden_state"] = {0: "batch", 1: "tokens"}
    if "logits_per_image" in names_out:
        dynamic["logits_per_image"] = {0: "images", 1: "texts"}
        dynamic["logits_per_text"] = {0: "texts", 1: "images"}
        dynamic["pixel_values"] = {0: "images"}
        dynamic["image_embeds"] = {0: "images"}
        dynamic["text_embeds"] = {0: "texts"}
        for n in ("input_ids", "attention_mask"):
            if n in names_in:
                dynamic[n] = {0: "texts", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(module, tuple(inputs), path, input_names=names_in, output_names=names_out,
                          dynamic_axes=dynamic, opset_version=opset, do_constant_folding=True)
    onnx = need("onnx", "to check the exported graph")
    onnx.checker.check_model(path)
    print(f"  wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB)")


def to_fp16(src, dst):
    onnx = need("onnx", "fp16 conversion")
    need("onnxconverter_common", "fp16 conversion")
    from onnxconverter_common import float16
    model = float16.convert_float_to_float16(onnx.load(src), keep_io_types=True)
    onnx.save(model, dst)
    print(f"  wrote {dst} ({os.path.getsize(dst) / 1e6:.1f} MB)")


def to_q8(src, dst):
    need("onnxruntime", "8-bit quantization")
    from onnxruntime.quantization import QuantType, quantize_dynamic
    # dynamic (weight-only) 8-bit quantization of MatMul/Gemm weights, as transformers.js' *_quantized files
    quantize_dynamic(src, dst, weight_type=QuantType.QUInt8)
    print(f"  wrote {dst} ({os.path.getsize(dst) / 1e6:.1f} MB)")


def export_torchvision(name, out, dtypes, opset, random_weights):
    """A torchvision ImageNet classifier in the transformers.js layout, output `logits` (see the header)."""
    import json
    torch = need("torch", "the export itself")
    torchvision = need("torchvision", "the torchvision architectures and weights")
    if name not in TORCHVISION:
        sys.exit(f"export-onnx: --torchvision {name!r} is not one of {', '.join(TORCHVISION)}")
    if "q8" in dtypes:
        sys.exit("export-onnx: q8 is not offered for torchvision classifiers (not tried with zs; use --dtypes fp32,fp16)")
    weights = torchvision.models.get_model_weights(name).DEFAULT
    model = torchvision.models.get_model(name, weights=None if random_weights else weights).eval()
    t = weights.transforms()
    crop, resize = t.crop_size[0], t.resize_size[0]
    resample = {"bilinear": 2, "bicubic": 3}[t.interpolation.value]
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    arch, model_type = TORCHVISION[name]
    labels = weights.meta["categories"]
    config = {"architectures": [arch], "model_type": model_type, "num_labels": len(labels),
              "id2label": {str(i): l for i, l in enumerate(labels)}, "label2id": {l: i for i, l in enumerate(labels)},
              "zs_source": f"torchvision {name} " + ("random weights (no download)" if random_weights else str(weights))}
    pre = {"image_processor_type": "BitImageProcessor", "do_convert_rgb": True, "do_resize": True,
           "size": {"shortest_edge": resize}, "resample": resample, "do_center_crop": True,
           "crop_size": {"height": crop, "width": crop}, "do_rescale": True, "rescale_factor": 1 / 255,
           "do_normalize": True, "image_mean": list(t.mean), "image_std": list(t.std)}
    for file, obj in (("config.json", config), ("preprocessor_config.json", pre)):
        with open(os.path.join(out, file), "w") as f:
            json.dump(obj, f, indent=2)
    print(f"exporting torchvision {name} ({config['zs_source']}, {crop}x{crop}) to {out}")
    src = os.path.join(out, "onnx", "model.onnx")
    export(model, [torch.randn(1, 3, crop, crop)], ["pixel_values"], ["logits"], src, max(opset, 17))
    if "fp16" in dtypes:
        to_fp16(src, os.path.join(out, "onnx", "model_fp16.onnx"))
    if "fp32" not in dtypes:
        os.remove(src)
    print(f"done: zs models info {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", help="hub id or local checkpoint folder (transformers format)")
    ap.add_argument("out", help="output folder")
    ap.add_argument("--torchvision", metavar="NAME", help=f"export a torchvision ImageNet classifier instead: {', '.join(TORCHVISION)}")
    ap.add_argument("--random-weights", action="store_true", help="with --torchvision: random weights, no download")
    ap.add_argument("--dtypes", default="fp32,fp16,q8", help="comma-separated: fp32, fp16, q8 (default all)")
    ap.add_argument("--opset", type=int, default=14)
    ap.add_argument("--image-size", type=int, default=None, help="export resolution (default: from the config)")
    args = ap.parse_args()
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    bad = [d for d in dtypes if d not in SUFFIX]
    if bad:
        sys.exit(f"export-onnx: unknown dtype {bad[0]!r} (use fp32, fp16, q8)")
    if args.torchvision:
        if args.model:
            sys.exit("export-onnx: give either a checkpoint or --torchvision NAME, not both")
        return export_torchvision(args.torchvision, args.out, [d for d in dtypes if d != "q8"] if args.dtypes == "fp32,fp16,q8" else dtypes,
                                  args.opset, args.random_weights)
    if not args.model:
        sys.exit("export-onnx: name a checkpoint (or --torchvision NAME)")

    torch = need("torch", "the export itself")
    transformers = need("transformers", "to load the checkpoint")
    from transformers import AutoConfig, AutoImageProcessor, AutoModel

    config = AutoConfig.from_pretrained(args.model)
    kind = config.model_type
    if kind not in TEXT_IMAGE | IMAGE_ONLY:
        sys.exit(f"export-onnx: {args.model} is a {kind!r} model; zs runs {', '.join(sorted(TEXT_IMAGE | IMAGE_ONLY))}")
    os.makedirs(os.path.join(args.out, "onnx"), exist_ok=True)
    model = AutoModel.from_pretrained(args.model).eval()
    config.save_pretrained(args.out)
    processor = AutoImageProcessor.from_pretrained(args.model)
    processor.save_pretrained(args.out)
    vision_cfg = getattr(config, "vision_config", config)
    size = args.image_size or vision_cfg.image_size
    pixels = torch.randn(2, 3, size, size)
    onnx_dir = os.path.join(args.out, "onnx")
    print(f"exporting {args.model} ({kind}, {size}x{size}) to {args.out}")

    graphs = []  # base names written in fp32, to derive the other dtypes from
    if kind in TEXT_IMAGE:
        from transformers import AutoTokenizer
        tokenizer = AutoTokenizer.from_pretrained(args.model)
        if not tokenizer.is_fast:
            sys.exit("export-onnx: zs needs tokenizer.json (a fast tokenizer); install `tokenizers` and retry")
        tokenizer.save_pretrained(args.out)
        siglip = kind == "siglip"
        # SigLIP was trained on texts padded to 64 tokens, without an attention mask; CLIP pads to the longest text
        text = tokenizer(["a photo of a cat", "a photo of a dog"], padding="max_length" if siglip else True,
                         max_length=64 if siglip else None, return_tensors="pt")
        ids, mask = text["input_ids"], text.get("attention_mask")

        class Vision(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, pixel_values):
                return self.m.get_image_features(pixel_values=pixel_values)

        class Text(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, input_ids, attention_mask=None):
                return self.m.get_text_features(input_ids=input_ids, attention_mask=attention_mask)

        class Combined(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, input_ids, pixel_values, attention_mask=None):
                o = self.m(input_ids=input_ids, pixel_values=pixel_values, attention_mask=attention_mask)
                return o.logits_per_image, o.logits_per_text, o.text_embeds, o.image_embeds

        text_in, text_args = (["input_ids"], [ids]) if siglip else (["input_ids", "attention_mask"], [ids, mask])
        export(Vision(model), [pixels], ["pixel_values"], ["image_embeds"], os.path.join(onnx_dir, "vision_model.onnx"), args.opset)
        export(Text(model), text_args, text_in, ["text_embeds"], os.path.join(onnx_dir, "text_model.onnx"), args.opset)
        combined_in = ["input_ids", "pixel_values"] + ([] if siglip else ["attention_mask"])
        combined_args = [ids, pixels] + ([] if siglip else [mask])
        export(Combined(model), combined_args, combined_in, ["logits_per_image", "logits_per_text", "text_embeds", "image_embeds"],
               os.path.join(onnx_dir, "model.onnx"), args.opset)
        graphs = ["vision_model", "text_model"]
        # zs reads the logit scale from the combined graph; the q8 one is the smallest to ship
        to_q8(os.path.join(onnx_dir, "model.onnx"), os.path.join(onnx_dir, "model_quantized.onnx"))
    else:
        class Encoder(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, pixel_values):
                o = self.m(pixel_values=pixel_values)
                return o.last_hidden_state, o.pooler_output

        export(Encoder(model), [pixels], ["pixel_values"], ["last_hidden_state", "pooler_output"],
               os.path.join(onnx_dir, "model.onnx"), args.opset)
        graphs = ["model"]

    for base in graphs:
        src = os.path.join(onnx_dir, f"{base}.onnx")
        if "fp16" in dtypes:
            to_fp16(src, os.path.join(onnx_dir, f"{base}_fp16.onnx"))
        if "q8" in dtypes:
            to_q8(src, os.path.join(onnx_dir, f"{base}_quantized.onnx"))
        if "fp32" not in dtypes:
            os.remove(src)
    print(f"done: zs models info {args.out}")


if __name__ == "__main__":
    main()
