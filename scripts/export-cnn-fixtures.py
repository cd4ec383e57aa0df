#!/usr/bin/python3
"""Tiny random-weight CNN classifier fixtures (ResNet, VGG, EfficientNet, DenseNet, ConvNeXt) and their references.

Offline, with Debian's python3-torch 1.13 / python3-torchvision 0.14 / python3-onnx / PIL / numpy (no transformers,
no timm). Every network is built from torchvision's own classes (ResNet's forward with Bottleneck blocks and
_make_layer, VGG + make_layers, EfficientNet + MBConvConfig, DenseNet, ConvNeXt + CNBlockConfig) at tiny widths
and depths, with fixed-seed random weights (BatchNorm/LayerNorm statistics and affines randomised too, so no layer
is an identity), 10 classes, and exported with torch.onnx (opset 17, weights inside, input `pixel_values`
[batch, 3, H, W] with a dynamic batch, output `logits` [batch, 10]).

Writes, in the transformers.js layout:
  test/fixtures/tiny-random-<family>/config.json               model_type, architectures, id2label, label2id, ...
  test/fixtures/tiny-random-<family>/preprocessor_config.json  that family's Hugging Face processor format
  test/fixtures/tiny-random-<family>/onnx/model.onnx
and the references for the 4 images of test/fixtures/reference/images:
  test/fixtures/reference/cnn-reference.json   per family: processor, output size, the ONNX name of the tensor
                                               entering the final classifier (the last Gemm), and per image the
                                               pixel channel means, the pooled features (input of the final
                                               nn.Linear, taken by a forward hook) and the logits (PyTorch, fp32)
  test/fixtures/reference/cnn-pixels/<pixels-id>/<image>.f32   pixel_values, float32 little-endian [3, H, W]
                                               (the convention of reference/pixels); families whose processors give
                                               identical values share one folder (named in the JSON)

Preprocessing: transformers is not installed, so the slow (PIL) image processors are re-implemented below with PIL +
numpy, following transformers' own source (read with the search tool: models/convnext/image_processing_convnext.py,
models/efficientnet/image_processing_efficientnet.py, models/bit/image_processing_bit.py and image_transforms.py's
resize / center_crop / rescale / normalize and get_resize_output_image_size), like scripts/make-image-goldens.py:
  load: PIL.ImageOps.exif_transpose, convert("RGB") (transformers' load_image)
  resize: PIL Image.resize((w, h), resample=<config resample>, reducing_gap=None) on the uint8 image
  ConvNextImageProcessor (microsoft/resnet-*, facebook/convnext-*): size read with default_to_square=False (a bare
    number is the shortest edge); shortest_edge < 384: resize the shortest edge to int(shortest_edge / crop_pct)
    (the long edge to int(s * long / short)), then center-crop shortest_edge x shortest_edge; shortest_edge >= 384:
    warp to shortest_edge x shortest_edge, no crop (crop_pct ignored). Defaults: crop_pct 224/256, resample 3
    (bicubic), rescale 1/255, mean/std 0.5 (IMAGENET_STANDARD_*).
  EfficientNetImageProcessor (google/efficientnet-b*): resize to size {height, width} (default resample 0,
    nearest); center-crop crop_size only when do_center_crop; rescale: rescale_offset false -> float64 x * factor,
    true -> float64 (x - 127.5) * factor, then float32; normalize (x - mean) / std; include_top (default true)
    normalizes AGAIN with mean 0 and the same std (the hub configs store sqrt of the ImageNet std for this).
  BitImageProcessor (the CLIP-style processor; DINOv2 uses it): shortest edge resize, center crop, rescale, normalize.
  center_crop: top = (H - h) // 2, left = (W - w) // 2 (zero padding if smaller); rescale: float64 multiply, cast
  to float32; normalize: float32 (x - mean) / std.
DenseNet and VGG have no transformers processor class. Their configs express torchvision's ImageNet evaluation
recipe (Resize(256) bilinear, CenterCrop(224), ImageNet mean/std; timm's *.tv_in1k pretrained_cfg says the same:
crop_pct 0.875, bilinear) in two Hugging Face formats: DenseNet as a BitImageProcessor (shortest_edge 256,
crop 224, resample 2), VGG as a ConvNextImageProcessor (shortest_edge 224, crop_pct 0.875, resample 2). Note:
torchvision's own CenterCrop rounds the offset (int(round((H - h) / 2))) where transformers floors it, so for
some sizes its crop sits one pixel lower/righter; these fixtures follow transformers' processors.
The ResNet config is microsoft/resnet-50's (legacy ConvNextFeatureExtractor keys, size as a bare number, bicubic),
ConvNeXt's is facebook/convnext-tiny-224's in the current format, EfficientNet's is google/efficientnet-b0's.
Two extra pixel-only variants (chelsea.png only) cover the other rules: ConvNeXt at 384 (warp) and EfficientNet
with do_center_crop + rescale_offset + include_top false.

Run: /usr/bin/python3 scripts/export-cnn-fixtures.py
"""
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from PIL import Image, ImageOps
from torchvision.models.convnext import CNBlockConfig, ConvNeXt
from torchvision.models.densenet import DenseNet
from torchvision.models.efficientnet import EfficientNet, MBConvConfig
from torchvision.models.resnet import Bottleneck, ResNet
from torchvision.models.vgg import VGG, make_layers

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
FIX = os.path.join(ROOT, 'test', 'fixtures')
REF = os.path.join(FIX, 'reference')
IMAGES = ['chelsea.png', 'chelsea_q90.jpg', 'coffee.png', 'gradient_320x200.png']
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
# The first ten ImageNet-1k labels as transformers' configs spell them (the weights are random: any label is noise).
LABELS = ['tench, Tinca tinca', 'goldfish, Carassius auratus',
          'great white shark, white shark, man-eater, man-eating shark, Carcharodon carcharias',
          'tiger shark, Galeocerdo cuvieri', 'hammerhead, hammerhead shark', 'electric ray, crampfish, numbfish, torpedo',
          'stingray', 'cock', 'hen', 'ostrich, Struthio camelus']
N = len(LABELS)


# ---------------------------------------------------------------------------------------------- the processors

def resize_shortest(img, s, resample):
    """get_resize_output_image_size(default_to_square=False) + PIL resize."""
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(s * long / short)
    size = (s, new_long) if w <= h else (new_long, s)
    return img.resize(size, resample=resample, reducing_gap=None)


def center_crop(a, ch, cw):
    """transformers' center_crop on uint8 [C, H, W] (floor offsets; zero padding when smaller)."""
    h, w = a.shape[1:]
    top, left = (h - ch) // 2, (w - cw) // 2
    if top >= 0 and left >= 0:
        return a[:, top:top + ch, left:left + cw]
    nh, nw = max(ch, h), max(cw, w)
    padded = np.zeros((a.shape[0], nh, nw), dtype=a.dtype)
    tp, lp = -(-(nh - h) // 2), -(-(nw - w) // 2)
    padded[:, tp:tp + h, lp:lp + w] = a
    top, left = top + tp, left + lp
    return padded[:, max(0, top):top + ch, max(0, left):left + cw]


def chw(img):
    return np.ascontiguousarray(np.array(img).transpose(2, 0, 1))


def normalize(x, mean, std):
    """transformers' normalize: float32 (x - mean) / std per channel."""
    x = x.astype(np.float32)
    return ((x - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]).astype(np.float32)


def rescale(a, factor):
    return (a.astype(np.float64) * factor).astype(np.float32)


def convnext_processor(img, cfg):
    size = cfg.get('size', {'shortest_edge': 384})
    s = size if isinstance(size, int) else size['shortest_edge']
    resample = cfg.get('resample', 3)
    if cfg.get('do_resize', True):
        if s < 384:
            a = center_crop(chw(resize_shortest(img, int(s / cfg.get('crop_pct', 224 / 256)), resample)), s, s)
        else:
            a = chw(img.resize((s, s), resample=resample, reducing_gap=None))
    else:
        a = chw(img)
    x = rescale(a, cfg.get('rescale_factor', 1 / 255)) if cfg.get('do_rescale', True) else a
    if cfg.get('do_normalize', True):
        x = normalize(x, cfg.get('image_mean', [0.5] * 3), cfg.get('image_std', [0.5] * 3))
    return x.astype(np.float32)


def efficientnet_processor(img, cfg):
    if cfg['do_resize']:
        img = img.resize((cfg['size']['width'], cfg['size']['height']), resample=cfg['resample'], reducing_gap=None)
    a = chw(img)
    if cfg['do_center_crop']:
        a = center_crop(a, cfg['crop_size']['height'], cfg['crop_size']['width'])
    x = a
    if cfg['do_rescale']:
        if cfg['rescale_offset']:
            x = ((a.astype(np.float64) - 127.5) * cfg['rescale_factor']).astype(np.float32)
        else:
            x = rescale(a, cfg['rescale_factor'])
    if cfg['do_normalize']:
        x = normalize(x, cfg['image_mean'], cfg['image_std'])
    if cfg['include_top']:
        x = normalize(x, [0, 0, 0], cfg['image_std'])
    return x.astype(np.float32)


def bit_processor(img, cfg):
    a = chw(resize_shortest(img, cfg['size']['shortest_edge'], cfg['resample']))
    a = center_crop(a, cfg['crop_size']['height'], cfg['crop_size']['width'])
    return normalize(rescale(a, cfg['rescale_factor']), cfg['image_mean'], cfg['image_std'])


PROCESSORS = {'ConvNextFeatureExtractor': convnext_processor, 'ConvNextImageProcessor': convnext_processor,
              'EfficientNetImageProcessor': efficientnet_processor, 'BitImageProcessor': bit_processor}


def preprocess(path, cfg):
    img = ImageOps.exif_transpose(Image.open(path))
    if img.mode != 'RGB':
        img = img.convert('RGB')
    kind = cfg.get('image_processor_type') or cfg['feature_extractor_type']
    return PROCESSORS[kind](img, cfg)


# ------------------------------------------------------------------------------------------------ the configs

RESNET_PRE = {'crop_pct': 0.875, 'do_normalize': True, 'do_resize': True, 'feature_extractor_type': 'ConvNextFeatureExtractor',
              'image_mean': IMAGENET_MEAN, 'image_std': IMAGENET_STD, 'resample': 3, 'size': 224}
CONVNEXT_PRE = {'crop_pct': 0.875, 'do_normalize': True, 'do_rescale': True, 'do_resize': True,
                'image_mean': IMAGENET_MEAN, 'image_processor_type': 'ConvNextImageProcessor', 'image_std': IMAGENET_STD,
                'resample': 3, 'rescale_factor': 0.00392156862745098, 'size': {'shortest_edge': 224}}
EFFICIENTNET_PRE = {'crop_size': {'height': 289, 'width': 289}, 'do_center_crop': False, 'do_normalize': True,
                    'do_rescale': True, 'do_resize': True, 'image_mean': IMAGENET_MEAN,
                    'image_processor_type': 'EfficientNetImageProcessor',
                    'image_std': [0.47853944, 0.4732864, 0.47434163], 'include_top': True, 'resample': 0,
                    'rescale_factor': 0.00392156862745098, 'rescale_offset': False, 'size': {'height': 224, 'width': 224}}
DENSENET_PRE = {'crop_size': {'height': 224, 'width': 224}, 'do_center_crop': True, 'do_convert_rgb': True,
                'do_normalize': True, 'do_rescale': True, 'do_resize': True, 'image_mean': IMAGENET_MEAN,
                'image_processor_type': 'BitImageProcessor', 'image_std': IMAGENET_STD, 'resample': 2,
                'rescale_factor': 0.00392156862745098, 'size': {'shortest_edge': 256}}
VGG_PRE = {**CONVNEXT_PRE, 'resample': 2}
VARIANTS = {
    'convnext-384-warp': {**CONVNEXT_PRE, 'size': {'shortest_edge': 384}},
    'efficientnet-crop-offset': {**EFFICIENTNET_PRE, 'size': {'height': 160, 'width': 200}, 'do_center_crop': True,
                                 'crop_size': {'height': 144, 'width': 144}, 'rescale_offset': True,
                                 'rescale_factor': 1 / 127.5, 'include_top': False, 'resample': 3,
                                 'image_mean': [0.0, 0.0, 0.0], 'image_std': [1.0, 1.0, 1.0]},
}


# ------------------------------------------------------------------------------------------------- the networks

class TinyResNet(ResNet):
    """torchvision's ResNet (its forward, Bottleneck blocks and _make_layer) with a narrow stem and stages."""

    def __init__(self, widths, layers, num_classes):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = widths[0], 1, 1, 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(Bottleneck, widths[0], layers[0])
        self.layer2 = self._make_layer(Bottleneck, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(Bottleneck, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(Bottleneck, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * Bottleneck.expansion, num_classes)


def tiny_vgg():
    # VGG-11's layout ("A") at 1/8 width; the 100M-parameter classifier replaced by the same structure at 64 wide.
    m = VGG(make_layers([8, 'M', 16, 'M', 32, 32, 'M', 64, 64, 'M', 64, 64, 'M']), num_classes=N)
    m.classifier = nn.Sequential(nn.Linear(64 * 7 * 7, 64), nn.ReLU(True), nn.Dropout(0.5),
                                 nn.Linear(64, 64), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(64, N))
    return m, m.classifier[-1]


def tiny_efficientnet():
    setting = [MBConvConfig(1, 3, 1, 8, 8, 1), MBConvConfig(6, 3, 2, 8, 16, 1), MBConvConfig(6, 5, 2, 16, 24, 1),
               MBConvConfig(6, 3, 2, 24, 32, 1), MBConvConfig(6, 5, 1, 32, 48, 1)]
    m = EfficientNet(setting, dropout=0.2, num_classes=N)
    return m, m.classifier[-1]


def tiny_densenet():
    m = DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16, bn_size=2, num_classes=N)
    return m, m.classifier


def tiny_convnext():
    setting = [CNBlockConfig(16, 32, 1), CNBlockConfig(32, 64, 1), CNBlockConfig(64, 128, 1), CNBlockConfig(128, None, 1)]
    m = ConvNeXt(setting, layer_scale=0.5, num_classes=N)
    return m, m.classifier[-1]


def tiny_resnet():
    m = TinyResNet([8, 16, 32, 64], [1, 1, 1, 1], N)
    return m, m.fc


def label_maps():
    return {'id2label': {str(i): l for i, l in enumerate(LABELS)}, 'label2id': {l: i for i, l in enumerate(LABELS)}}


FAMILIES = {
    'resnet': (tiny_resnet, RESNET_PRE, {
        'model_type': 'resnet', 'architectures': ['ResNetForImageClassification'], 'embedding_size': 8,
        'hidden_sizes': [32, 64, 128, 256], 'depths': [1, 1, 1, 1], 'layer_type': 'bottleneck', 'hidden_act': 'relu'}),
    'vgg': (tiny_vgg, VGG_PRE, {
        'model_type': 'vgg', 'architectures': ['VGGForImageClassification'], 'cfg': 'A at 1/8 width',
        'classifier_hidden_size': 64}),
    'efficientnet': (tiny_efficientnet, EFFICIENTNET_PRE, {
        'model_type': 'efficientnet', 'architectures': ['EfficientNetForImageClassification'], 'image_size': 224,
        'hidden_dim': 192, 'hidden_act': 'swish', 'dropout_rate': 0.2}),
    'densenet': (tiny_densenet, DENSENET_PRE, {
        'model_type': 'densenet', 'architectures': ['DenseNetForImageClassification'], 'growth_rate': 8,
        'block_config': [2, 2, 2, 2], 'num_init_features': 16, 'bn_size': 2}),
    'convnext': (tiny_convnext, CONVNEXT_PRE, {
        'model_type': 'convnext', 'architectures': ['ConvNextForImageClassification'], 'hidden_sizes': [16, 32, 64, 128],
        'depths': [1, 1, 1, 1], 'layer_scale_init_value': 0.5, 'hidden_act': 'gelu', 'image_size': 224}),
}


# Folder names of the pixel sets (families with identical processing share the first one's).
PIXEL_NAMES = {'resnet': 'crop-pct-bicubic-224', 'vgg': 'shortest-256-bilinear-crop-224', 'efficientnet': 'efficientnet-b0',
               'densenet': 'shortest-256-bilinear-crop-224', 'convnext': 'crop-pct-bicubic-224'}


def randomize_norms(model, g):
    """BatchNorm running stats and affines, LayerNorm affines: random but tame (fixed generator)."""
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
                mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
            if isinstance(mod, (nn.BatchNorm2d, nn.LayerNorm)) and mod.weight is not None:
                mod.weight.copy_(torch.rand(mod.weight.shape, generator=g) + 0.5)
                mod.bias.copy_(torch.randn(mod.bias.shape, generator=g) * 0.1)


def classifier_input(path):
    """Name of the first input of the Gemm that produces `logits` (what graph surgery must expose)."""
    g = onnx.load(path).graph
    producer = {o: n for n in g.node for o in n.output}
    node = producer['logits']
    assert node.op_type == 'Gemm', node.op_type
    return node.input[0], producer[node.input[0]].op_type


def output_size(cfg):
    if cfg.get('do_center_crop'):
        return cfg['crop_size']['height'], cfg['crop_size']['width']
    size = cfg['size']
    if isinstance(size, dict) and 'height' in size:
        return size['height'], size['width']
    s = size if isinstance(size, int) else size['shortest_edge']
    return s, s


def write_f32(path, x):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(np.ascontiguousarray(x, dtype='<f4').tobytes())


def pixel_set(cfg, pixel_dirs, name_hint):
    """Computes pixel_values for the 4 images; identical results share one folder. Returns (folder, arrays)."""
    arrays = [preprocess(os.path.join(REF, 'images', n), cfg) for n in IMAGES]
    digest = hashlib.sha256(b''.join(a.tobytes() for a in arrays)).hexdigest()
    if digest not in pixel_dirs:
        pixel_dirs[digest] = name_hint
        for n, a in zip(IMAGES, arrays):
            write_f32(os.path.join(REF, 'cnn-pixels', name_hint, n + '.f32'), a)
    return pixel_dirs[digest], arrays


def main():
    torch.manual_seed(0)
    pixel_dirs = {}
    ref = {'source': 'scripts/export-cnn-fixtures.py (torch %s, torchvision %s, PIL %s, numpy %s): PIL + numpy '
                     're-implementation of the transformers slow image processors; PyTorch fp32 eval forward'
                     % (torch.__version__, __import__('torchvision').__version__, Image.__version__, np.__version__),
           'pixels': 'cnn-pixels/<pixels>/<image>.f32: float32 little-endian [3, height, width] pixel_values',
           'features': 'input of the final nn.Linear (forward hook), [feature_size]', 'families': {}, 'variants': {}}
    for i, (family, (build, pre, cfg)) in enumerate(FAMILIES.items()):
        g = torch.Generator().manual_seed(1000 + i)
        torch.manual_seed(1000 + i)
        model, final = build()
        randomize_norms(model, g)
        model.eval()
        out_dir = os.path.join(FIX, f'tiny-random-{family}')
        os.makedirs(os.path.join(out_dir, 'onnx'), exist_ok=True)
        config = {**cfg, 'num_labels': N, **label_maps(), 'num_channels': 3,
                  'zs_fixture': 'random weights from scripts/export-cnn-fixtures.py (torchvision classes, tiny sizes)'}
        for fn, obj in (('config.json', config), ('preprocessor_config.json', pre)):
            with open(os.path.join(out_dir, fn), 'w') as f:
                json.dump(obj, f, indent=2, sort_keys=True)
                f.write('\n')
        h, w = output_size(pre)
        onnx_path = os.path.join(out_dir, 'onnx', 'model.onnx')
        torch.onnx.export(model, torch.randn(2, 3, h, w), onnx_path, input_names=['pixel_values'],
                          output_names=['logits'], dynamic_axes={'pixel_values': {0: 'batch'}, 'logits': {0: 'batch'}},
                          opset_version=17, do_constant_folding=True)
        onnx.checker.check_model(onnx.load(onnx_path))
        feat_name, feat_op = classifier_input(onnx_path)

        pix_dir, arrays = pixel_set(pre, pixel_dirs, PIXEL_NAMES[family])
        captured = []
        hook = final.register_forward_hook(lambda m, inp, out: captured.append(inp[0].detach().clone()))
        with torch.no_grad():
            logits = model(torch.from_numpy(np.stack(arrays)))
        hook.remove()
        feats = captured[0]
        params = sum(p.numel() for p in model.parameters())
        ref['families'][family] = {
            'model': f'tiny-random-{family}', 'processor': pre.get('image_processor_type') or pre['feature_extractor_type'],
            'height': h, 'width': w, 'pixels': pix_dir, 'classifier_input': feat_name, 'classifier_input_op': feat_op,
            'feature_size': feats.shape[1], 'num_labels': N, 'parameters': params,
            'images': {n: {'pixel_mean': [float(v) for v in a.reshape(3, -1).mean(1)],
                           'features': [float(v) for v in feats[j]], 'logits': [float(v) for v in logits[j]]}
                       for j, (n, a) in enumerate(zip(IMAGES, arrays))}}
        print(f'{family}: {params} parameters, {os.path.getsize(onnx_path) / 1e6:.2f} MB, {h}x{w}, feature '
              f'{feats.shape[1]} = {feat_name} ({feat_op}), pixels {pix_dir}, logits[0] {logits[0, :3].tolist()}')
    for name, cfg in VARIANTS.items():
        a = preprocess(os.path.join(REF, 'images', 'chelsea.png'), cfg)
        write_f32(os.path.join(REF, 'cnn-pixels', 'variants', f'{name}.chelsea.png.f32'), a)
        ref['variants'][name] = {'config': cfg, 'image': 'chelsea.png', 'pixels': f'variants/{name}.chelsea.png.f32',
                                 'height': a.shape[1], 'width': a.shape[2]}
    with open(os.path.join(REF, 'cnn-reference.json'), 'w') as f:
        json.dump(ref, f, indent=1)
        f.write('\n')
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(os.path.join(REF, 'cnn-pixels')) for fn in fns)
    print(f'reference: {REF}/cnn-reference.json, pixels {total / 1e6:.2f} MB')


if __name__ == '__main__':
    sys.exit(main())
