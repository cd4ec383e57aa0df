/**
 * zs: the library's public API. Like openai/CLIP's, small: load a model (it brings its preprocessing), embed,
 * classify zero-shot, fit and use a linear probe, run the zero-shot vs few-shot benchmark. The library never prints
 * and never exits; every failure is a ZsError with a message naming the bad value and a hint with the fix.
 */
export { ZsError, type ZsErrorKind } from './errors.js';

// models and embeddings
export { Model, loadModel, type LoadOptions, type ModelInfo } from './embed/model.js';
export type { ImageEmbedResult, ImageFailure, EmbedProgress } from './embed/model.js';
export { normalizeRows, matmulT, type Embeddings } from './embed/embeddings.js';
export { resolveModel } from './models/resolve.js';
export { pullModel } from './models/pull.js';
export { loadCatalog } from './models/catalog.js';
export { openModelFolder, DTYPES, type Dtype, type ModelFolder } from './models/folder.js';
export { DEVICES, type Device } from './runtime/session.js';
export { EmbeddingCache } from './embed/cache.js';

// preprocessing and text
export { createPreprocessor, decodeImage, resize, type Preprocessor, type ImageInput, type RgbImage } from './image/index.js';
export { loadTokenizer, loadClipTokenizer, type Tokenizer } from './text/index.js';
export { DEFAULT_TEMPLATE, fillTemplate, loadTemplateSet, resolveTemplates } from './text/index.js';

// heads
export { ZeroShotClassifier, type Prediction, type Classification } from './heads/zeroshot.js';
export { LinearProbe, type ModelRef, type ProbeFitOptions } from './heads/probe.js';
export { Probe } from './heads/probe-file.js';
export { HEAD_NAMES, type HeadName, type HeadParams, type ZeroShotWeights } from './heads/state.js';
export { HEAD_SPECS, fitSession, type HeadSplit } from './heads/registry.js';
export { fitProbe, fitAnchored, fitWise, type FittedHead } from './heads/fewshot.js';
export { fitGda, gdaClosedForm } from './heads/gda.js';
export { fitTip } from './heads/tip.js';
export { fitFinetune, type PreProjection } from './heads/finetune.js';
export { readProjection, type Projection } from './heads/projection.js';
export { fitLogReg, type FitOptions, type FitResult } from './learn/fit.js';
export { searchC, searchCOn, type CSearchResult } from './learn/csearch.js';

// search and duplicates
export { index, type IndexOptions, type IndexResult } from './search/indexer.js';
export { search, findDuplicates, SearchIndex, DEFAULT_DUPE_THRESHOLD, type SearchHit, type DuplicateGroup, type Query, type OpenOptions } from './search/api.js';

// data and benchmark
export { findImages } from './data/images.js';
export { readFolderDataset } from './data/folder.js';
export { readManifest } from './data/manifest.js';
export { readFeatures, writeFeatures } from './data/features.js';
export { readLabeled, type LabeledSource } from './data/labeled.js';
export { stratifiedSplit, fewShotSplit } from './data/split.js';
export { evaluate } from './bench/metrics.js';
export { runBench, type BenchOptions } from './bench/run.js';
export { writeBenchReport } from './bench/report.js';
export type { BenchResults } from './bench/results.js';

// ONNX graphs: read, find a classifier's pooled input, expose tensors as outputs
export { readOnnxGraph, findClassifierInput, readInitializer, addGraphOutputs, type OnnxGraph, type ClassifierInput } from './onnx/index.js';
