/**
 * `shoplens` command line: serve, query.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../config.ts';
import { AppError, QueryError } from '../errors.ts';
import { runQuery, type QueryAnswer } from '../store/query-service.ts';
import { configFromFlags, DEFAULT_CONFIG_FILE, parsePort } from './config-flags.ts';
import { registerDemoCommand } from './demo.ts';
import { registerImportCommand } from './import.ts';
import { registerKeysCommand } from './keys.ts';
import { registerPrivacyCommands } from './privacy.ts';
import { registerRulesCommand } from './rules.ts';
import { printAnswer, type OutputFormat } from './output.ts';
import { openStore, startServer } from './serve.ts';
import { API_KEY_ENV, authHeaders } from './client.ts';

/** Prints a query error with a caret under the position. */
function printQueryError(query: string, message: string, position: number | undefined): void {
  process.stderr.write(`error: ${message}\n`);
  if (position !== undefined) {
    process.stderr.write(`  ${query}\n  ${' '.repeat(Math.max(0, Math.min(position, query.length)))}^\n`);
  }
}

async function queryOverHttp(url: string, body: Record<string, unknown>): Promise<QueryAnswer> {
  let response: Response;
  try {
    response = await fetch(new URL('/api/v1/query', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders() },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new AppError(
      503,
      'cli.unreachable',
      `Cannot reach Shoplens at ${url}: ${(err as Error).cause ?? (err as Error).message}`,
    );
  }
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const error = (json['error'] ?? {}) as { code?: string; message?: string; position?: number };
    if (error.code?.startsWith('query.') && typeof error.position === 'number') {
      throw new QueryError(
        error.code === 'query.syntax' ? 'query.syntax' : 'query.invalid',
        error.message ?? 'bad query',
        error.position,
      );
    }
    throw new AppError(response.status, error.code ?? 'cli.http_error', error.message ?? `HTTP ${response.status}`);
  }
  return json as unknown as QueryAnswer;
}

export function buildProgram(): Command {
  const program = new Command()
    .name('shoplens')
    .description('E-commerce observability and analytics in one service')
    .showHelpAfterError()
    .option('--api-key <key>', `API key for commands that call a server with --url (default: $${API_KEY_ENV})`)
    .hook('preAction', (root) => {
      const key = root.opts<{ apiKey?: string }>().apiKey;
      if (key) process.env[API_KEY_ENV] = key;
    });

  program
    .command('serve')
    .description('Run the Shoplens server')
    .option('--port <port>', 'port to listen on (default 8080)', parsePort)
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--data-dir <dir>', 'where the embedded store keeps its files (default ./data)')
    .option('--config <file>', `YAML config file (default ./${DEFAULT_CONFIG_FILE} if present)`)
    .action(async (options: { port?: number; host?: string; dataDir?: string; config?: string }) => {
      const config = configFromFlags(options);
      const server = await startServer(config);
      const stop = (signal: string) => {
        server.context.metrics.registry.clear();
        process.stderr.write(`${signal}: stopping Shoplens…\n`);
        server.close().then(
          () => process.exit(0),
          (err: unknown) => {
            process.stderr.write(`error while stopping: ${(err as Error).message}\n`);
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });

  program
    .command('query')
    .description(
      "Run a query, e.g. shoplens query 'event.type:payment_transaction | stats count() by transaction.gateway'",
    )
    .argument('<query>', 'query text: a KQL filter, then optional | stages')
    .option('--from <time>', 'start of the time range: now-15m, now-7d/d, ISO-8601', 'now-1h')
    .option('--to <time>', 'end of the time range', 'now')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
    .option('--url <url>', 'query a running server, e.g. http://127.0.0.1:8080')
    .option('--data-dir <dir>', 'query the embedded store in this directory directly (server must be stopped)')
    .option('--config <file>', 'YAML config file')
    .option('--explain', 'print the plan in plain English and the generated SQL')
    .action(
      async (
        query: string,
        options: {
          from: string;
          to: string;
          format: OutputFormat;
          url?: string;
          dataDir?: string;
          config?: string;
          explain?: boolean;
        },
      ) => {
        if (options.url && options.dataDir) throw new InvalidArgumentError('give either --url or --data-dir, not both');
        const request = { query, from: options.from, to: options.to, explain: options.explain ?? false };
        let answer: QueryAnswer;
        try {
          if (options.url) {
            answer = await queryOverHttp(options.url, request);
          } else {
            const config = configFromFlags(options);
            const store = await openStore(config);
            try {
              // The local operator reads the store directly, audit trail included.
              answer = await runQuery(store, {
                ...request,
                tenant: 'default',
                auditAccess: true,
                timeoutMs: config.query.timeout,
              });
            } finally {
              await store.close();
            }
          }
        } catch (err) {
          if (err instanceof QueryError) {
            printQueryError(query, err.message, err.position);
            process.exitCode = 2;
            return;
          }
          throw err;
        }
        if (answer.explain) {
          process.stdout.write(
            `Plan: ${answer.explain.plan}\n\nSQL: ${answer.explain.sql}\nParams: ${JSON.stringify(answer.explain.params)}\n\n`,
          );
        }
        await printAnswer(answer, options.format);
      },
    );

  registerDemoCommand(program);
  registerImportCommand(program);
  registerRulesCommand(program);
  registerKeysCommand(program);
  registerPrivacyCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    if (err instanceof AppError || err instanceof InvalidArgumentError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
