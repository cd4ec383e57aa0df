/**
 * The transformers image-processor classes zs reproduces, as data: each class's __init__ defaults and the rules by
 * which it reads preprocessor_config.json (from transformers' slow, PIL-based processors:
 * models/{clip,vit,siglip,bit,convnext,efficientnet}/image_processing_*.py and image_transforms.py).
 *
 *   geometry 'resize-crop' (CLIP, BiT, ViT, SigLIP, EfficientNet): resize to `size`, then center-crop `crop_size`
 *     when do_center_crop.
 *   geometry 'crop-pct' (ConvNeXt; microsoft/resnet-* use it too): `size` is a shortest edge s (a bare number
 *     counts as one). s < 384: resize the shortest edge to int(s / crop_pct), center-crop s x s. s >= 384: warp to
 *     s x s, no crop (crop_pct unused). The class never reads do_center_crop / crop_size, so they are ignored.
 *   extraKeys: keys outside the common set that the class implements: EfficientNet's rescale_offset (rescale as
 *     (x - 127.5) * rescale_factor) and include_top (after normalize, divide by image_std once more, mean 0; the
 *     hub configs store the square root of the ImageNet std for this).
 * A field the config leaves out takes the class default; a field with no default here (EfficientNet's size, whose
 * default has changed between transformers versions) must be in the config.
 */
export interface ProcessorClass {
  /** How a bare number in `size` is read (transformers' get_size_dict default_to_square). */
  intSizeIsShortestEdge: boolean;
  /** The size forms the class accepts (its resize raises on the others). */
  sizeForms: ReadonlyArray<'shortest_edge' | 'exact'>;
  geometry: 'resize-crop' | 'crop-pct';
  /** Keys of UNSUPPORTED_KEYS (config.ts) that this class implements. */
  extraKeys: readonly string[];
  /** Class defaults. */
  fields: Record<string, unknown>;
}

const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];
/** transformers' IMAGENET_STANDARD_MEAN / _STD. */
const HALF = [0.5, 0.5, 0.5];
const BOTH: ProcessorClass['sizeForms'] = ['shortest_edge', 'exact'];
const RESCALE_NORMALIZE = { do_rescale: true, rescale_factor: 1 / 255, do_normalize: true };

const CLIP_LIKE: ProcessorClass = {
  intSizeIsShortestEdge: true,
  sizeForms: BOTH,
  geometry: 'resize-crop',
  extraKeys: [],
  fields: {
    do_resize: true, size: { shortest_edge: 224 }, resample: 3, do_center_crop: true, crop_size: { height: 224, width: 224 },
    ...RESCALE_NORMALIZE, image_mean: CLIP_MEAN, image_std: CLIP_STD,
  },
};
const SQUARE_LIKE = (resample: number): ProcessorClass => ({
  intSizeIsShortestEdge: false,
  sizeForms: BOTH,
  geometry: 'resize-crop',
  extraKeys: [],
  fields: {
    do_resize: true, size: { height: 224, width: 224 }, resample, do_center_crop: false,
    ...RESCALE_NORMALIZE, image_mean: HALF, image_std: HALF,
  },
});
const CONVNEXT: ProcessorClass = {
  intSizeIsShortestEdge: true,
  sizeForms: ['shortest_edge'],
  geometry: 'crop-pct',
  extraKeys: ['crop_pct'],
  fields: { do_resize: true, size: { shortest_edge: 384 }, crop_pct: 224 / 256, resample: 3, ...RESCALE_NORMALIZE, image_mean: HALF, image_std: HALF },
};
const EFFICIENTNET: ProcessorClass = {
  intSizeIsShortestEdge: false,
  sizeForms: ['exact'],
  geometry: 'resize-crop',
  extraKeys: ['rescale_offset', 'include_top'],
  fields: {
    do_resize: true, resample: 0, do_center_crop: false, crop_size: { height: 289, width: 289 }, ...RESCALE_NORMALIZE,
    rescale_offset: false, image_mean: HALF, image_std: HALF, include_top: true,
  },
};

/** By image_processor_type / feature_extractor_type, without a trailing "Fast". */
export const PROCESSOR_CLASSES: Readonly<Record<string, ProcessorClass>> = {
  CLIPImageProcessor: CLIP_LIKE,
  CLIPFeatureExtractor: CLIP_LIKE,
  BitImageProcessor: CLIP_LIKE,
  ViTImageProcessor: SQUARE_LIKE(2),
  ViTFeatureExtractor: SQUARE_LIKE(2),
  SiglipImageProcessor: SQUARE_LIKE(3),
  ConvNextImageProcessor: CONVNEXT,
  ConvNextFeatureExtractor: CONVNEXT,
  EfficientNetImageProcessor: EFFICIENTNET,
};

/** transformers' ConvNeXt rule: from this shortest edge up, the image is warped to a square instead of cropped. */
export const CROP_PCT_WARP_FROM = 384;
/** EfficientNet's rescale_offset subtracts this before scaling. */
export const RESCALE_OFFSET = 127.5;
