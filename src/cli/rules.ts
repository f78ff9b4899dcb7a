/**
 * `shoplens rules check FILE...`: validates rule files (errors as
 * `file:line:col: message`, exit code 1 when any is bad).
 * `shoplens silences add|list|expire`: silences and maintenance windows.
 * `shoplens rules test NAME [--at TIME]`: evaluates one rule against stored
 * data (a running server with --url, or the store with --data-dir) and
 * prints the values of every group and the verdict.
 */
import type { Command } from 'commander';
import { loadRuleFile, formatProblem, loadRuleDirectory } from '../alerts/rule-files.ts';
import { readRule, type Sample } from '../alerts/rule-query.ts';
import { readErrorGroupRule } from '../alerts/error-group-rules.ts';
import { ErrorGroupService } from '../errors/error-group-service.ts';
import { ErrorGrouper } from '../errors/grouping-rules.ts';
import { AppError } from '../errors.ts';
import { parseTimeExpr } from '../query/index.ts';
import { formatValue } from '../alerts/templates.ts';
import { authHeaders } from './client.ts';
import { configFromFlags, DEFAULT_CONFIG_FILE } from './config-flags.ts';
import { openStore } from './serve.ts';

interface TestAnswer {
  rule: string;
  at: string;
  condition: string;
  firing: boolean;
  samples: Sample[];
}

function printAnswer(answer: TestAnswer): void {
  const out = process.stdout;
  out.write(`rule ${answer.rule} at ${answer.at}\ncondition: ${answer.condition}\n`);
  if (answer.samples.length === 0) out.write('no data in the window\n');
  for (const s of answer.samples) {
    const labels = Object.entries(s.labels).map(([k, v]) => `${k}=${v}`);
    const values = Object.entries(s.values).map(([k, v]) => `${k}=${formatValue(v)}`);
    out.write(
      `${s.active ? 'FIRING ' : 'ok     '} ${labels.length ? `{${labels.join(', ')}} ` : ''}${values.join(' ')}\n`,
    );
  }
  out.write(`verdict: ${answer.firing ? 'FIRING' : 'not firing'}\n`);
}

/** Calls the server's API; throws AppError with the server's code and message on an error answer. */
async function callApi(url: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(new URL(path, url), {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: { 'content-type': 'application/json', ...authHeaders() },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  } catch (err) {
    throw new AppError(503, 'cli.unreachable', `Cannot reach Shoplens at ${url}: ${(err as Error).message}`);
  }
  const text = await response.text();
  const json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  if (!response.ok) {
    const error = (json['error'] ?? {}) as { code?: string; message?: string };
    throw new AppError(response.status, error.code ?? 'cli.http_error', error.message ?? `HTTP ${response.status}`);
  }
  return json;
}

/** `name=value`, `name!=value`, `name=~regex`, `name!~regex`. */
function parseMatcher(text: string): { name: string; op: string; value: string } {
  const m = /^([^=!~]+)(=~|!~|!=|=)(.*)$/.exec(text);
  if (!m)
    throw new AppError(
      400,
      'cli.invalid_matcher',
      `matcher "${text}": expected name=value, name!=value, name=~regex or name!~regex`,
    );
  return { name: m[1]!.trim(), op: m[2]!, value: m[3]! };
}

async function testOverHttp(url: string, name: string, at: string | undefined): Promise<TestAnswer> {
  let response: Response;
  try {
    response = await fetch(new URL(`/api/v1/alerts/rules/${encodeURIComponent(name)}/test`, url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders() },
      body: JSON.stringify(at ? { at } : {}),
    });
  } catch (err) {
    throw new AppError(503, 'cli.unreachable', `Cannot reach Shoplens at ${url}: ${(err as Error).message}`);
  }
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const error = (json['error'] ?? {}) as { code?: string; message?: string };
    throw new AppError(response.status, error.code ?? 'cli.http_error', error.message ?? `HTTP ${response.status}`);
  }
  return json as unknown as TestAnswer;
}

export function registerRulesCommand(program: Command): void {
  const rules = program.command('rules').description('Alert rules: validate files, test a rule against stored data');

  rules
    .command('check')
    .description('Validate rule files; errors carry file, line and column')
    .argument('<files...>', 'YAML rule files')
    .action((files: string[]) => {
      let bad = 0;
      for (const file of files) {
        const result = loadRuleFile(file);
        for (const p of result.problems) process.stderr.write(`${formatProblem(p)}\n`);
        bad += result.problems.length;
        if (result.problems.length === 0) process.stdout.write(`${file}: ${result.rules.length} rules ok\n`);
      }
      if (bad > 0) process.exitCode = 1;
    });

  rules
    .command('test')
    .description('Evaluate a rule against stored data and print its values and verdict')
    .argument('<name>', 'rule name')
    .option('--at <time>', 'evaluate at this time (now, now-1h, ISO-8601, epoch ms; default now)')
    .option('--url <url>', 'ask a running server')
    .option('--data-dir <dir>', 'read the embedded store directly (server must be stopped)')
    .option('--config <file>', `YAML config file (default ./${DEFAULT_CONFIG_FILE} if present)`)
    .option('--format <format>', 'text or json', 'text')
    .action(
      async (
        name: string,
        options: { at?: string; url?: string; dataDir?: string; config?: string; format: string },
      ) => {
        let answer: TestAnswer;
        if (options.url) answer = await testOverHttp(options.url, name, options.at);
        else {
          const config = configFromFlags(options);
          const loaded = loadRuleDirectory(config.alerts.rulesDir, config.alerts.pack);
          const rule = loaded.rules.find((r) => r.id === name);
          if (!rule)
            throw new AppError(404, 'rule.not_found', `No rule "${name}" in the pack or ${config.alerts.rulesDir}`);
          const atMs = options.at ? parseTimeExpr(options.at, Date.now()) : Date.now();
          const store = await openStore(config);
          try {
            // An error group rule offline: every group in the window counts (no engine watched before).
            const reading = rule.errorGroup
              ? await readErrorGroupRule(
                  {
                    groups: new ErrorGroupService(store, new ErrorGrouper(config.ingest.errorGrouping), {
                      timeoutMs: config.query.timeout,
                    }),
                    tenant: 'default',
                    nowMs: atMs,
                    watchFromMs: 0,
                  },
                  rule,
                )
              : await readRule(store, 'default', rule, atMs, config.query.timeout);
            answer = {
              rule: rule.id,
              at: new Date(atMs).toISOString(),
              condition: rule.spec.condition,
              firing: reading.samples.some((s) => s.active),
              samples: [...reading.samples],
            };
          } finally {
            await store.close();
          }
        }
        if (options.format === 'json') process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
        else printAnswer(answer);
      },
    );

  const silences = program.command('silences').description('Silences and maintenance windows on a running server');
  silences
    .command('add')
    .description(
      'Mute alerts whose labels match every matcher, e.g. service.name=search-service severity=~"warning|info"',
    )
    .argument('<matchers...>', 'label matchers')
    .requiredOption('--comment <text>', 'why (shown in the UI)')
    .option('--start <time>', 'start (now, ISO-8601, now+2h; default now)')
    .option('--end <time>', 'end (default now+2h)', 'now+2h')
    .option('--url <url>', 'the server', 'http://127.0.0.1:8080')
    .action(async (matchers: string[], options: { comment: string; start?: string; end: string; url: string }) => {
      const body = {
        matchers: matchers.map(parseMatcher),
        comment: options.comment,
        endsAt: options.end,
        ...(options.start ? { startsAt: options.start } : {}),
      };
      const silence = (await callApi(options.url, '/api/v1/alerts/silences', { body })) as {
        id: string;
        startsAt: string;
        endsAt: string;
      };
      process.stdout.write(`silence ${silence.id}: ${silence.startsAt} -> ${silence.endsAt}\n`);
    });
  silences
    .command('list')
    .description('List silences that have not ended')
    .option('--url <url>', 'the server', 'http://127.0.0.1:8080')
    .action(async (options: { url: string }) => {
      const answer = (await callApi(options.url, '/api/v1/alerts/silences')) as {
        silences: {
          id: string;
          matchers: { name: string; op: string; value: string }[];
          startsAt: string;
          endsAt: string;
          comment: string;
          active: boolean;
          expired: boolean;
        }[];
      };
      for (const s of answer.silences.filter((x) => !x.expired)) {
        const m = s.matchers.map((x) => `${x.name}${x.op}${x.value}`).join(' ');
        process.stdout.write(
          `${s.id} ${s.active ? 'active   ' : 'scheduled'} ${s.startsAt} -> ${s.endsAt} ${m} # ${s.comment}\n`,
        );
      }
    });
  silences
    .command('expire')
    .description('End a silence now')
    .argument('<id>', 'silence id')
    .option('--url <url>', 'the server', 'http://127.0.0.1:8080')
    .action(async (id: string, options: { url: string }) => {
      await callApi(options.url, `/api/v1/alerts/silences/${encodeURIComponent(id)}`, { method: 'DELETE' });
      process.stdout.write(`silence ${id} expired\n`);
    });
}
