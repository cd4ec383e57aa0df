/** Reading and editing ONNX ModelProto bytes (see graph.ts for the approach). */
export { readOnnxGraph, producers, type OnnxGraph, type OnnxNode, type OnnxInitializer } from './graph.js';
export { addGraphOutputs, type NewOutput } from './edit.js';
export { readInitializer, half, DATA_TYPE, type FloatTensor } from './initializer.js';
export { findClassifierInput, type ClassifierInput } from './classifier.js';
