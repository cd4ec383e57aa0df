#!/usr/bin/python3
"""Golden values for src/image: transformers' slow image-processor pipeline re-implemented with PIL + numpy.

transformers is not installed here, so this script repeats what its slow CLIPImageProcessor/ViTImageProcessor
do (transformers/image_transforms.py): load_image (exif_transpose) -> convert("RGB") -> PIL resize to
get_resize_output_image_size -> center_crop (zero padding when smaller) -> rescale (float64 multiply, cast to
float32) -> normalize (float32). `--check` first compares it with the committed reference pixels
(test/fixtures/reference/pixels/*.f32, written by transformers 5.17): they agree to within one 8-bit level on
~0.3% of values (the reference came from the torchvision-based fast processor), mean |diff| ~5e-5.

Writes test/fixtures/image-goldens/:
  inputs/<name>        small synthetic and cropped images (grayscale, RGBA, LA, palette +/- transparency, GIF,
                       tiny 7x5, portrait, very wide, EXIF orientation 6 JPEG, 16-bit RGB PNG, a 2-frame GIF,
                       a PNG "bomb" header claiming 30000x20000 pixels)
  out/<case>.png       the 8-bit image after resize + crop (lossless), i.e. the pixels before rescale/normalize
  goldens.json         per case: input, config, output size; per config: configs and numpy's float32 value table
                       (the output float for every 8-bit value and channel), so tests rebuild every output float
  resample.bin/.json   byte-exact PIL resize results for every filter (noise and photo sources, up and down,
                       with and without a source box)

Run: /usr/bin/python3 scripts/make-image-goldens.py [--check]
"""
import io
import json
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image, ImageOps

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
FIX = os.path.join(ROOT, 'test', 'fixtures')
REF = os.path.join(FIX, 'reference')
OUT = os.path.join(FIX, 'image-goldens')

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def load_json(path):
    with open(path) as f:
        return json.load(f)


CONFIGS = {
    'clip': load_json(os.path.join(FIX, 'tiny-random-clip', 'preprocessor_config.json')),
    'vit': load_json(os.path.join(FIX, 'tiny-random-vit', 'preprocessor_config.json')),
    'siglip': {'image_processor_type': 'SiglipImageProcessor', 'do_resize': True, 'size': {'height': 224, 'width': 224},
               'resample': 3, 'do_rescale': True, 'rescale_factor': 1 / 255, 'do_normalize': True,
               'image_mean': [0.5, 0.5, 0.5], 'image_std': [0.5, 0.5, 0.5]},
    'dinov2': {'image_processor_type': 'BitImageProcessor', 'do_convert_rgb': True, 'do_resize': True,
               'size': {'shortest_edge': 256}, 'resample': 3, 'do_center_crop': True,
               'crop_size': {'height': 224, 'width': 224}, 'do_rescale': True, 'rescale_factor': 0.00392156862745098,
               'do_normalize': True, 'image_mean': IMAGENET_MEAN, 'image_std': IMAGENET_STD},
    # An unknown type with the same fields: shortest edge smaller than the crop (zero padding), lanczos.
    'pad_lanczos': {'image_processor_type': 'SomeNewImageProcessor', 'do_resize': True, 'size': {'shortest_edge': 150},
                    'resample': 1, 'do_center_crop': True, 'crop_size': {'height': 160, 'width': 200},
                    'do_rescale': True, 'rescale_factor': 1 / 255, 'do_normalize': True,
                    'image_mean': CLIP_MEAN, 'image_std': CLIP_STD},
    # Odd exact size with hamming, no normalize; and box / nearest with rescale only.
    'odd_hamming': {'image_processor_type': 'SomeNewImageProcessor', 'do_resize': True, 'size': {'height': 97, 'width': 131},
                    'resample': 5, 'do_rescale': True, 'rescale_factor': 1 / 255, 'do_normalize': False},
    'box_crop': {'image_processor_type': 'SomeNewImageProcessor', 'do_resize': True, 'size': {'shortest_edge': 100},
                 'resample': 4, 'do_center_crop': True, 'crop_size': {'height': 96, 'width': 96},
                 'do_rescale': True, 'rescale_factor': 1 / 255, 'do_normalize': True,
                 'image_mean': IMAGENET_MEAN, 'image_std': IMAGENET_STD},
    'nearest': {'image_processor_type': 'SomeNewImageProcessor', 'do_resize': True, 'size': {'height': 64, 'width': 48},
                'resample': 0, 'do_rescale': False, 'do_normalize': True, 'image_mean': [127.5, 127.5, 127.5],
                'image_std': [127.5, 127.5, 127.5]},
}


def resize_size(w, h, size):
    """transformers' get_resize_output_image_size (default_to_square=False for shortest_edge)."""
    if 'shortest_edge' in size:
        s = size['shortest_edge']
        short, long = (w, h) if w <= h else (h, w)
        new_long = int(s * long / short)
        return (s, new_long) if w <= h else (new_long, s)
    return size['width'], size['height']


def center_crop(a, ch, cw):
    """transformers' center_crop on [C, H, W], with its zero padding when the image is smaller than the crop."""
    h, w = a.shape[1:]
    top, left = (h - ch) // 2, (w - cw) // 2
    if top >= 0 and left >= 0 and top + ch <= h and left + cw <= w:
        return a[:, top:top + ch, left:left + cw]
    nh, nw = max(ch, h), max(cw, w)
    padded = np.zeros((a.shape[0], nh, nw), dtype=a.dtype)
    tp, lp = -(-(nh - h) // 2), -(-(nw - w) // 2)
    padded[:, tp:tp + h, lp:lp + w] = a
    top, left = top + tp, left + lp
    return padded[:, max(0, top):min(nh, top + ch), max(0, left):min(nw, left + cw)]


def pipeline_u8(img, cfg):
    """Returns the uint8 [3, H, W] image after convert/resize/crop (what rescale and normalize then see)."""
    img = ImageOps.exif_transpose(img)
    if img.mode != 'RGB':
        img = img.convert('RGB')
    if cfg.get('do_resize', True):
        ow, oh = resize_size(img.width, img.height, cfg['size'])
        img = img.resize((ow, oh), resample=cfg['resample'])
    a = np.array(img).transpose(2, 0, 1)
    if cfg.get('do_center_crop', False):
        a = center_crop(a, cfg['crop_size']['height'], cfg['crop_size']['width'])
    return np.ascontiguousarray(a)


def to_float(a, cfg):
    """transformers' rescale (float64 then float32) and normalize (float32), on [3, H, W]."""
    x = a
    if cfg.get('do_rescale', False):
        x = (x.astype(np.float64) * cfg['rescale_factor']).astype(np.float32)
    if cfg.get('do_normalize', False):
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(np.float32)
        mean = np.array(cfg['image_mean'], dtype=x.dtype)
        std = np.array(cfg['image_std'], dtype=x.dtype)
        x = ((x.T - mean) / std).T
    return x.astype(np.float32)


def value_table(cfg):
    """[3, 256] float32: the output of to_float for every 8-bit value in every channel."""
    v = np.tile(np.arange(256, dtype=np.uint8), (3, 1))[:, :, None]  # [3, 256, 1]
    return to_float(v, cfg)[:, :, 0]


def check_reference():
    cfg = CONFIGS['clip']
    worst = 0.0
    for name in sorted(os.listdir(os.path.join(REF, 'images'))):
        ref = np.fromfile(os.path.join(REF, 'pixels', name + '.f32'), dtype='<f4').reshape(3, 224, 224)
        out = to_float(pipeline_u8(Image.open(os.path.join(REF, 'images', name)), cfg), cfg)
        d = np.abs(out - ref)
        worst = max(worst, float(d.max()))
        print(f'{name}: mean|diff| {d.mean():.3e}  max|diff| {d.max():.5f}  values off by >1e-6: {(d > 1e-6).mean() * 100:.2f}%')
    assert worst < 0.02, 'the PIL pipeline does not reproduce the reference pixels'


def png16(path, arr):
    """Writes a 16-bit RGB PNG (PIL cannot write one from an array)."""
    h, w = arr.shape[:2]
    raw = b''.join(b'\x00' + arr[y].astype('>u2').tobytes() for y in range(h))

    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 16, 2, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))


def bomb_png(path, w, h):
    """A PNG whose header claims w x h pixels, with a few bytes of image data: refused before decoding."""
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(b'\x00' * 1024)) + chunk(b'IEND', b''))


def make_inputs(d):
    rng = np.random.default_rng(20240601)
    chelsea = Image.open(os.path.join(REF, 'images', 'chelsea.png')).convert('RGB')
    coffee = Image.open(os.path.join(REF, 'images', 'coffee.png')).convert('RGB')
    yy, xx = np.mgrid[0:120, 0:160]
    synth = np.stack([(xx * 255 // 159), (yy * 255 // 119), ((xx // 10 + yy // 10) % 2) * 200 + 20], -1).astype(np.uint8)
    synth = np.clip(synth.astype(int) + rng.integers(-3, 4, synth.shape), 0, 255).astype(np.uint8)
    files = {}

    def save(name, im, **kw):
        im.save(os.path.join(d, name), **kw)
        files[name] = im.mode

    save('gray.png', Image.fromarray(synth).convert('L'))
    alpha = np.tile(np.linspace(0, 255, 160).astype(np.uint8), (120, 1))
    alpha[:, :40] = 0  # fully transparent: convert("RGB") keeps the colour underneath
    save('rgba.png', Image.fromarray(np.dstack([synth, alpha]), 'RGBA'))
    save('la.png', Image.fromarray(np.dstack([np.array(Image.fromarray(synth).convert('L')), alpha]), 'LA'))
    pal = chelsea.crop((100, 40, 260, 160)).quantize(24)
    save('palette.png', pal)
    save('palette_trns.png', pal, transparency=5)
    save('palette.gif', pal)
    save('tiny_7x5.png', Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)))
    save('portrait.jpg', chelsea.crop((120, 0, 320, 300)), quality=90)
    wide = np.concatenate([np.array(coffee.crop((0, 180, 400, 240))), np.array(chelsea.crop((100, 150, 400, 210)))], 1)
    save('wide.png', Image.fromarray(wide))  # 700x60
    exif = Image.Exif()
    exif[0x0112] = 6
    save('exif_rot6.jpg', chelsea.crop((50, 20, 350, 220)), quality=90, exif=exif.tobytes())
    rgb16 = (synth[:60, :80].astype(np.uint16) * 257 + rng.integers(0, 257, (60, 80, 3))).astype(np.uint16)
    png16(os.path.join(d, 'rgb16.png'), rgb16)
    files['rgb16.png'] = 'RGB;16'
    frames = [Image.fromarray(np.full((30, 40, 3), c, dtype=np.uint8)) for c in ((200, 30, 30), (30, 30, 200))]
    frames[0].paste(Image.fromarray(synth[:10, :20]), (10, 10))
    frames[0].save(os.path.join(d, 'anim.gif'), save_all=True, append_images=frames[1:], duration=100, loop=0)
    files['anim.gif'] = 'P (2 frames)'
    bomb_png(os.path.join(d, 'bomb.png'), 30000, 20000)
    return files


# (input, config) pairs with goldens. Reference images are referred to as ref:<name>.
CASES = [
    ('gray.png', 'clip'), ('rgba.png', 'clip'), ('la.png', 'clip'), ('palette.png', 'clip'),
    ('palette_trns.png', 'clip'), ('palette.gif', 'clip'), ('tiny_7x5.png', 'clip'), ('portrait.jpg', 'clip'),
    ('wide.png', 'clip'), ('exif_rot6.jpg', 'clip'), ('rgb16.png', 'clip'),
    ('tiny_7x5.png', 'vit'), ('exif_rot6.jpg', 'vit'),
    ('anim.gif', 'vit'), ('ref:chelsea.png', 'siglip'), ('ref:coffee.png', 'dinov2'), ('ref:gradient_320x200.png', 'clip'),
    ('portrait.jpg', 'pad_lanczos'), ('tiny_7x5.png', 'pad_lanczos'), ('wide.png', 'odd_hamming'),
    ('gray.png', 'box_crop'), ('rgba.png', 'nearest'),
]


def resample_goldens():
    """Byte-exact PIL resize results: noise 64x48 and a photo crop, every filter, up/down/mixed/one-axis sizes."""
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    photo = np.array(Image.open(os.path.join(REF, 'images', 'coffee.png')).convert('RGB').crop((150, 80, 300, 180)))
    sources = {'noise': noise, 'photo': photo}
    # (width, height, box): box is PIL's source region (None: the whole image).
    sizes = {'noise': [(17, 11, None), (75, 50, None), (23, 40, None), (32, 5, None), (1, 1, None), (32, 9, (0, 3, 32, 20))],
             'photo': [(61, 41, None), (40, 90, None), (150, 7, None), (61, 41, (10.5, 7.25, 140.75, 93.5)),
                       (57, 41, (20, 10, 60, 40.5))]}
    filters = {'nearest': 0, 'lanczos': 1, 'bilinear': 2, 'bicubic': 3, 'box': 4, 'hamming': 5}
    blob = bytearray()
    index = {'sources': {}, 'cases': []}
    for name, arr in sources.items():
        index['sources'][name] = {'offset': len(blob), 'width': arr.shape[1], 'height': arr.shape[0]}
        blob += arr.tobytes()
    for name, arr in sources.items():
        im = Image.fromarray(arr)
        for (w, h, box) in sizes[name]:
            for fname, code in filters.items():
                out = np.array(im.resize((w, h), code, box=box))
                case = {'source': name, 'filter': fname, 'width': w, 'height': h, 'offset': len(blob)}
                if box is not None:
                    case['box'] = list(box)
                index['cases'].append(case)
                blob += out.tobytes()
    with open(os.path.join(OUT, 'resample.bin'), 'wb') as f:
        f.write(zlib.compress(bytes(blob), 9))
    with open(os.path.join(OUT, 'resample.json'), 'w') as f:
        json.dump(index, f, indent=1)
        f.write('\n')


def main():
    check_reference()
    if '--check' in sys.argv:
        return
    inputs = os.path.join(OUT, 'inputs')
    outs = os.path.join(OUT, 'out')
    for d in (inputs, outs):
        os.makedirs(d, exist_ok=True)
        for fn in os.listdir(d):
            os.remove(os.path.join(d, fn))
    modes = make_inputs(inputs)
    goldens = {'source': 'scripts/make-image-goldens.py (PIL %s, numpy %s): transformers slow image-processor pipeline'
               % (Image.__version__, np.__version__),
               'configs': CONFIGS, 'tables': {k: value_table(c).tolist() for k, c in CONFIGS.items()},
               'modes': modes, 'cases': []}
    written = {}
    for src, cfg_name in CASES:
        path = os.path.join(REF, 'images', src[4:]) if src.startswith('ref:') else os.path.join(inputs, src)
        u8 = pipeline_u8(Image.open(path), CONFIGS[cfg_name])
        case = f'{src.replace("ref:", "ref_").replace(".", "_")}__{cfg_name}'
        key = u8.tobytes()
        if key not in written:  # identical outputs (e.g. palette with/without transparency) share one file
            written[key] = case + '.png'
            Image.fromarray(u8.transpose(1, 2, 0)).save(os.path.join(outs, case + '.png'), optimize=True)
        f = to_float(u8, CONFIGS[cfg_name])
        goldens['cases'].append({'case': case, 'input': src, 'config': cfg_name, 'golden': written[key],
                                 'height': u8.shape[1], 'width': u8.shape[2],
                                 'mean': [float(m) for m in f.reshape(3, -1).mean(1)]})
    with open(os.path.join(OUT, 'goldens.json'), 'w') as fh:
        json.dump(goldens, fh)
        fh.write('\n')
    resample_goldens()
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
    print(f'wrote {len(CASES)} pipeline goldens and resample goldens under {OUT} ({total / 1e6:.2f} MB)')


if __name__ == '__main__':
    main()
