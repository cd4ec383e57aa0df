/**
 * ONNX Runtime sessions: execution-provider choice (cpu, webgpu, cuda, auto), thread counts, clear errors.
 * `auto` tries cuda (when its provider library is installed), then webgpu, then cpu, and reports what it took.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { ZsError } from '../errors.js';
import { oneOf, int } from '../validate.js';
import { loadOrt, type Ort } from './ort.js';

export const DEVICES = ['cpu', 'webgpu', 'cuda', 'auto'] as const;
export type Device = (typeof DEVICES)[number];
export type ResolvedDevice = Exclude<Device, 'auto'>;

export interface SessionOptions {
  device?: Device;
  /** Intra-op threads for the CPU provider (default: all cores). */
  threads?: number;
  /**
   * Whether the CPU provider's idle intra-op threads spin-wait for work (onnxruntime's default, true) or sleep.
   * Spinning burns the cores other threads of the process need (zs's image preprocessing): engine-config.ts.
   */
  spinning?: boolean;
}

type OrtTensor = import('onnxruntime-node').Tensor;

export interface Session {
  readonly file: string;
  readonly device: ResolvedDevice;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly ort: Ort;
  /** Providers tried before the one taken, with the reason each failed (for `auto`). */
  readonly skipped: { device: ResolvedDevice; reason: string }[];
  run(feeds: Record<string, OrtTensor>, fetches?: string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

const HOW_TO_GET: Record<Exclude<ResolvedDevice, 'cpu'>, string> = {
  cuda: 'install the CUDA provider with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm install onnxruntime-node` (needs an NVIDIA GPU, CUDA 12 and cuDNN 9), or use --device cpu',
  webgpu: 'it needs a GPU with a Vulkan driver and the Vulkan loader (libvulkan1) on Linux, or use --device cpu',
};

/** Folder holding onnxruntime-node's native binaries, where the optional CUDA provider library lands. */
function ortBinaryDir(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    const pkg = dirname(req.resolve('onnxruntime-node/package.json'));
    return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/** Whether the CUDA provider library is installed (checked before trying, so `auto` stays quiet on CPU machines). */
export function cudaProviderInstalled(): boolean {
  const dir = ortBinaryDir();
  if (!dir) return false;
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return existsSync(join(dir, lib));
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const line = text.split('\n').map((s) => s.trim()).find((s) => s.length > 0) ?? text;
  return line.replace(/^\/onnxruntime_src\/\S+\s+/, '').slice(0, 300);
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

async function open(ort: Ort, file: string | Uint8Array, device: ResolvedDevice, threads: number, spinning: boolean): Promise<import('onnxruntime-node').InferenceSession> {
  const opts: import('onnxruntime-node').InferenceSession.SessionOptions = {
    executionProviders: [device],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3,
    // onnxruntime's config key session.intra_op.allow_spinning (the Node binding flattens `extra` into such keys)
    ...(spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  };
  return typeof file === 'string' ? ort.InferenceSession.create(file, opts) : ort.InferenceSession.create(file, opts);
}

/**
 * A CPU session on model bytes built in memory (src/onnx/build.ts); `name` stands for the file in errors. A graph
 * onnxruntime refuses is a bug in zs, reported as E_MODEL_LOAD naming it.
 */
export async function createMemorySession(bytes: Uint8Array, name: string, options: Omit<SessionOptions, 'device'> = {}): Promise<Session> {
  const threads = options.threads === undefined ? defaultThreads() : int('--threads', options.threads, 1, 1024);
  const ort = await loadOrt();
  try {
    return wrap(ort, await open(ort, bytes, 'cpu', threads, options.spinning ?? true), name, 'cpu', []);
  } catch (e) {
    throw new ZsError('E_MODEL_LOAD', `cannot load the built-in graph ${name}: ${firstLine(e)}`, {
      hint: 'this is a bug in zs: please report it with the message', cause: e,
    });
  }
}

export async function createSession(file: string, options: SessionOptions = {}): Promise<Session> {
  const device = oneOf('--device', options.device ?? 'cpu', DEVICES);
  const threads = options.threads === undefined ? defaultThreads() : int('--threads', options.threads, 1, 1024);
  if (!existsSync(file)) {
    throw new ZsError('E_MODEL_FILE', `model graph not found: ${file}`, { hint: 'check the model folder or pick another --dtype' });
  }
  const ort = await loadOrt();
  const order: ResolvedDevice[] = device === 'auto' ? ['cuda', 'webgpu', 'cpu'] : [device];
  const skipped: { device: ResolvedDevice; reason: string }[] = [];
  for (const d of order) {
    if (d === 'cuda' && !cudaProviderInstalled()) {
      const reason = 'the CUDA provider of onnxruntime-node is not installed';
      if (device !== 'auto') throw new ZsError('E_DEVICE', `--device cuda: ${reason}`, { hint: HOW_TO_GET.cuda });
      skipped.push({ device: d, reason });
      continue;
    }
    try {
      const s = await open(ort, file, d, threads, options.spinning ?? true);
      return wrap(ort, s, file, d, skipped);
    } catch (e) {
      const reason = firstLine(e);
      if (d === 'cpu') {
        throw new ZsError('E_MODEL_LOAD', `cannot load ONNX graph ${file}: ${reason}`, {
          hint: 'the file may be truncated or not an ONNX model: download or export it again',
          cause: e,
        });
      }
      if (device !== 'auto') {
        throw new ZsError('E_DEVICE', `--device ${d} cannot start: ${reason}`, { hint: HOW_TO_GET[d], cause: e });
      }
      skipped.push({ device: d, reason });
    }
  }
  /* c8 ignore next */
  throw new ZsError('E_DEVICE', 'no execution provider could start', { hint: 'use --device cpu' });
}

function wrap(
  ort: Ort,
  s: import('onnxruntime-node').InferenceSession,
  file: string,
  device: ResolvedDevice,
  skipped: { device: ResolvedDevice; reason: string }[],
): Session {
  return {
    file,
    device,
    ort,
    skipped,
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    async run(feeds, fetches) {
      try {
        return (fetches ? await s.run(feeds, fetches) : await s.run(feeds)) as Record<string, OrtTensor>;
      } catch (e) {
        throw new ZsError('E_INFERENCE', `inference failed in ${file}: ${firstLine(e)}`, {
          hint: device === 'cpu' ? 'check that the graph matches its model folder' : 'try --device cpu',
          cause: e,
        });
      }
    },
    release: () => s.release(),
  };
}
