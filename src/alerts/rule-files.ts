/**
 * Rule files: YAML with a top-level `rules:` list. Errors carry the file,
 * line and column of the offending key, so `shoplens rules check` and the
 * server's start-up log point at the exact spot.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { compileRule, RuleError, type CompiledRule, type RuleSource } from './rule.ts';

/** The built-in e-commerce rule pack shipped with Shoplens. */
export const PACK_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../rules/ecommerce.yaml');

/** A problem in a rule file, located. */
export interface RuleFileProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The rule's name when known. */
  readonly rule?: string;
  readonly message: string;
}

export interface RuleFileResult {
  readonly rules: CompiledRule[];
  readonly problems: RuleFileProblem[];
}

/** `file:line:col: message` */
export function formatProblem(p: RuleFileProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.rule ? `rule "${p.rule}": ` : ''}${p.message}`;
}

/** Parses one rule file's text. Good rules are kept even when others are bad. */
export function parseRuleFile(text: string, file: string, kind: 'pack' | 'file' = 'file'): RuleFileResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (node: Node | null | undefined, fallback = 0): { line: number; column: number } => {
    const offset = node?.range?.[0] ?? fallback;
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const problems: RuleFileProblem[] = [];
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
      problems.push({ file, line: pos.line, column: pos.col, message: `not valid YAML: ${e.message.split('\n')[0]}` });
    }
    return { rules: [], problems };
  }
  const root = doc.contents;
  const list = isMap(root) ? root.get('rules', true) : undefined;
  if (!isSeq(list)) {
    problems.push({ file, ...at(root as Node | null), message: 'expected a top-level "rules:" list' });
    return { rules: [], problems };
  }
  const source: RuleSource = { kind, path: file };
  const rules: CompiledRule[] = [];
  const seen = new Set<string>();
  list.items.forEach((item, index) => {
    const value: unknown = (item as Node).toJSON();
    const name = typeof (value as { name?: unknown })?.name === 'string' ? (value as { name: string }).name : undefined;
    try {
      const rule = compileRule(value, source);
      if (seen.has(rule.id)) throw new RuleError(['name'], `the name "${rule.id}" is used twice in this file`);
      seen.add(rule.id);
      rules.push(rule);
    } catch (err) {
      if (!(err instanceof RuleError)) throw err;
      // Point at the deepest node of the path that exists (the key's value, or the rule itself).
      let node: Node | null | undefined = item as Node;
      for (let depth = err.path.length; depth > 0; depth--) {
        const found = doc.getIn(['rules', index, ...err.path.slice(0, depth)], true) as Node | undefined;
        if (found && typeof found === 'object' && 'range' in found) {
          node = found;
          break;
        }
      }
      const key = err.path.length > 0 ? `${err.path.join('.')}: ` : '';
      problems.push({ file, ...at(node), ...(name ? { rule: name } : {}), message: key + err.message });
    }
  });
  return { rules, problems };
}

/** The rules directory exists but cannot be listed: the message names the path and the cause. */
export class RuleDirectoryError extends Error {
  readonly path: string;
  constructor(path: string, reason: string, cause?: unknown) {
    super(`cannot read the rules directory ${path}: ${reason}`, { cause });
    this.name = 'RuleDirectoryError';
    this.path = path;
  }
}

/** Reads one file from disk. */
export function loadRuleFile(path: string, kind: 'pack' | 'file' = 'file'): RuleFileResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return {
      rules: [],
      problems: [{ file: path, line: 0, column: 0, message: `cannot read: ${(err as Error).message}` }],
    };
  }
  return parseRuleFile(text, path, kind);
}

/**
 * The rules of the pack (when enabled) and of every `*.yaml`/`*.yml` in
 * `dir` (a missing directory has none). A file rule with a pack rule's name
 * replaces it, which is how the pack is edited.
 * @throws RuleDirectoryError when `dir` exists but cannot be read (permissions,
 *   not a directory): custom rules must not be skipped without a word.
 */
export function loadRuleDirectory(dir: string, includePack: boolean): RuleFileResult {
  const byName = new Map<string, CompiledRule>();
  const problems: RuleFileProblem[] = [];
  const absoluteDir = resolve(dir);
  const files: string[] = [];
  try {
    if (!statSync(absoluteDir).isDirectory()) {
      throw new RuleDirectoryError(absoluteDir, 'it is not a directory');
    }
    for (const f of readdirSync(absoluteDir).sort()) if (/\.ya?ml$/.test(f)) files.push(join(absoluteDir, f));
  } catch (err) {
    if (err instanceof RuleDirectoryError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    // Only a directory that is not there means "no custom rules"; anything else is a fault to report.
    if (code !== 'ENOENT') {
      throw new RuleDirectoryError(absoluteDir, `${code ?? 'error'}: ${(err as Error).message}`, err);
    }
  }
  if (includePack && !files.includes(PACK_FILE)) files.unshift(PACK_FILE);
  for (const file of files) {
    const result = loadRuleFile(file, file === PACK_FILE ? 'pack' : 'file');
    for (const rule of result.rules) byName.set(rule.id, rule);
    problems.push(...result.problems);
  }
  return { rules: [...byName.values()], problems };
}
