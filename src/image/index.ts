/** Image preprocessing: decode (sharp), Pillow-exact resampling, transformers-equal pixel values. */
export { decodeImage, chooseShrink, DEFAULT_MAX_PIXELS, type DecodeOptions, type DecodedImage, type ImageInput } from './decode.js';
export { resize, filterFromPilCode, PIL_RESAMPLE_CODES, type RgbImage, type ResampleFilter, type Box } from './resample.js';
export { parsePreprocessorConfig, resizeTarget, type PreprocessSpec, type ResizeSpec } from './config.js';
export { createPreprocessor, type Preprocessor, type PreprocessorOptions } from './preprocess.js';
