/**
 * Prompt templates for zero-shot classification: "a photo of a {}." and friends.
 *
 *  - DEFAULT_TEMPLATE, fillTemplate(template, label), checkTemplates(list);
 *  - named sets from OpenAI CLIP's prompts (src/text/clip-prompts.json: class names and templates per
 *    dataset, ImageNet's 80 templates and 1000 classes), looked up case-insensitively ("imagenet",
 *    "cifar10"); the JSON is read on first use, next to this module (src via tsx or dist after tsc);
 *  - template files: one template per line, blank lines and lines starting with '#' skipped;
 *  - resolveTemplates({ template, templates }) for the CLI's --template / --templates.
 *
 * Class lists are returned as OpenAI wrote them: ImageNet's repeats "missile" and "sunglasses",
 * and FacialEmotionRecognition2013 gives synonyms per class (`classSynonyms`; `classes` takes the first).
 */
import { readFile } from 'node:fs/promises';
import { ZsError, usageError, wrapError } from '../errors.js';

export const DEFAULT_TEMPLATE = 'a photo of a {}.';
const SLOT = '{}';

export interface TemplateSet {
  /** The dataset name as OpenAI spells it ("ImageNet"). */
  name: string;
  templates: string[];
  /** One display name per class. */
  classes: string[];
  /** All names per class (one element except where OpenAI lists synonyms). */
  classSynonyms: string[][];
}

interface PromptsFile {
  source: string;
  datasets: Record<string, { classes: Array<string | string[]>; templates: string[] }>;
}

/** Checks one template: it must contain "{}" where the label goes. */
export function checkTemplate(template: unknown): string {
  if (typeof template !== 'string' || template.trim() === '') {
    throw usageError('E_TEMPLATE', `invalid template: ${JSON.stringify(template)} (expected text with {} for the label)`, 'write it like "a photo of a {}."');
  }
  if (!template.includes(SLOT)) {
    throw usageError('E_TEMPLATE', `template ${JSON.stringify(template)} has no {} for the label`, `add {} where the label goes, e.g. ${JSON.stringify(`${template.trim()} {}`)}`);
  }
  return template;
}

/** Checks a non-empty list of templates; returns it. */
export function checkTemplates(templates: readonly unknown[]): string[] {
  if (!Array.isArray(templates) || templates.length === 0) {
    throw usageError('E_TEMPLATE', 'no templates given', `give at least one, e.g. ${JSON.stringify(DEFAULT_TEMPLATE)}`);
  }
  return templates.map(checkTemplate);
}

/** The prompt for one label: every "{}" in the template replaced by the label. */
export function fillTemplate(template: string, label: string): string {
  checkTemplate(template);
  if (typeof label !== 'string' || label.trim() === '') {
    throw usageError('E_LABEL', `invalid label: ${JSON.stringify(label)} (expected a non-empty name)`, 'remove the empty label (look for a doubled or trailing comma)');
  }
  return template.split(SLOT).join(label);
}

async function readPrompts(): Promise<PromptsFile> {
  const url = new URL('./clip-prompts.json', import.meta.url);
  try {
    return JSON.parse(await readFile(url, 'utf8')) as PromptsFile;
  } catch (e) {
    throw wrapError(e, 'E_TEXT_DATA', `cannot read the prompt sets ${url.pathname}`, 'reinstall zs; the file ships with it');
  }
}

/** Names of the built-in template sets (OpenAI's spelling). */
export async function templateSetNames(): Promise<string[]> {
  return Object.keys((await readPrompts()).datasets);
}

/** The template set (and class names) of a dataset, looked up case-insensitively. */
export async function loadTemplateSet(name: string): Promise<TemplateSet> {
  const prompts = await readPrompts();
  const key = Object.keys(prompts.datasets).find((k) => k.toLowerCase() === String(name).toLowerCase());
  if (key === undefined) {
    throw usageError('E_TEMPLATE_SET', `unknown template set ${JSON.stringify(name)}`, `use one of: ${Object.keys(prompts.datasets).join(', ')}`);
  }
  const d = prompts.datasets[key]!;
  const classSynonyms = d.classes.map((c) => (Array.isArray(c) ? c : [c]));
  return { name: key, templates: [...d.templates], classes: classSynonyms.map((s) => s[0]!), classSynonyms };
}

/** Class names of a built-in dataset (for --labels dataset:NAME). */
export async function datasetClasses(name: string): Promise<string[]> {
  return (await loadTemplateSet(name)).classes;
}

/** Templates from a file: one per line; blank lines and '#' comments skipped; each must contain {}. */
export async function readTemplatesFile(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ZsError('E_TEMPLATE_FILE', `cannot read templates file ${file}: ${(e as Error).message}`, {
      kind: 'usage',
      hint: 'give a file with one template per line, or a set name such as imagenet',
      cause: e,
    });
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw usageError('E_TEMPLATE_FILE', `templates file ${file} has no templates`, 'write one template per line, e.g. "a photo of a {}."');
  return lines.map((l, i) => {
    try {
      return checkTemplate(l);
    } catch (e) {
      throw usageError('E_TEMPLATE', `${file}:${i + 1}: ${(e as ZsError).message}`, (e as ZsError).hint);
    }
  });
}

/**
 * Templates from the CLI's options: `template` (repeatable --template), or `templates` (--templates:
 * a set name, case-insensitive, else a file path), or the default template when neither is given.
 */
export async function resolveTemplates(opts: { template?: readonly string[]; templates?: string }): Promise<string[]> {
  const { template, templates } = opts;
  if (template && template.length > 0 && templates !== undefined) {
    throw usageError('E_TEMPLATE', 'give either --template or --templates, not both', 'use --template for a few templates, --templates for a set or a file');
  }
  if (template && template.length > 0) return checkTemplates(template);
  if (templates === undefined) return [DEFAULT_TEMPLATE];
  const names = await templateSetNames();
  if (names.some((n) => n.toLowerCase() === templates.toLowerCase())) return (await loadTemplateSet(templates)).templates;
  try {
    return await readTemplatesFile(templates);
  } catch (e) {
    if (e instanceof ZsError && e.code === 'E_TEMPLATE_FILE' && (e.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw usageError('E_TEMPLATE_SET', `--templates ${JSON.stringify(templates)} is neither a template set nor a file`, `use a file path or one of: ${names.join(', ')}`);
    }
    throw e;
  }
}
