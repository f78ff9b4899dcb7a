/**
 * `shoplens` command line: serve, query, and the subcommands of their own
 * modules (demo, import, rules, keys, privacy), each loaded only when it is
 * named, so `shoplens --help` and `shoplens query --url` load neither DuckDB
 * nor Fastify.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { AppError, QueryError } from '../errors.ts';
import type { QueryAnswer } from '../store/query-service.ts';
import { API_KEY_ENV, authHeaders, postJson, type JsonAnswer } from './client.ts';
import type { OutputFormat } from './output.ts';
import type { ServerFlags } from './config-flags.ts';

/** The config file looked for in the working directory (as config-flags.ts's DEFAULT_CONFIG_FILE). */
const DEFAULT_CONFIG_FILE = 'shoplens.yaml';

/** Commander parser for --port (as config-flags.ts's, without loading the config schema). */
function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

type Register = (program: Command) => unknown;

/**
 * Subcommands defined in their own modules: the top-level help lists them
 * with these summaries (test/cli/cli.test.ts checks they match the modules'
 * own descriptions); naming one loads its module, which defines it in full.
 */
export const LAZY_COMMANDS: readonly {
  readonly summaries: Readonly<Record<string, string>>;
  readonly load: () => Promise<Register>;
}[] = [
  {
    summaries: { demo: 'Run Shoplens with a simulated shop: backfill its history, then stream live traffic' },
    load: async () => (await import('./demo.ts')).registerDemoCommand,
  },
  {
    summaries: {
      import:
        'Import an orders, customers or clickstream CSV file (exit code 2 when rows were rejected); importing a file again replaces its rows',
    },
    load: async () => (await import('./import.ts')).registerImportCommand,
  },
  {
    summaries: {
      rules: 'Alert rules: validate files, test a rule against stored data',
      silences: 'Silences and maintenance windows on a running server',
    },
    load: async () => (await import('./rules.ts')).registerRulesCommand,
  },
  {
    summaries: { keys: 'Create, list and revoke API keys' },
    load: async () => (await import('./keys.ts')).registerKeysCommand,
  },
  {
    summaries: { privacy: "GDPR: erase or export one customer's events", retention: 'Retention per data class' },
    load: async () => (await import('./privacy.ts')).registerPrivacyCommands,
  },
];

/** The subcommand `argv` names (the first word after the options of the root command), if any. */
function commandNamed(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--api-key') i++;
    else if (arg !== 'help' && !arg.startsWith('-')) return arg; // `help demo` names demo
  }
  return undefined;
}

/** Prints a query error with a caret under the position. */
function printQueryError(query: string, message: string, position: number | undefined): void {
  process.stderr.write(`error: ${message}\n`);
  if (position !== undefined) {
    process.stderr.write(`  ${query}\n  ${' '.repeat(Math.max(0, Math.min(position, query.length)))}^\n`);
  }
}

async function queryOverHttp(url: string, body: Record<string, unknown>): Promise<QueryAnswer> {
  let response: JsonAnswer;
  try {
    response = await postJson(new URL('/api/v1/query', url), body, authHeaders());
  } catch (err) {
    throw new AppError(503, 'cli.unreachable', `Cannot reach Shoplens at ${url}: ${(err as Error).message}`);
  }
  const json = response.json;
  if (response.status < 200 || response.status > 299) {
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

/**
 * The program for `argv`: the subcommand it names is defined in full (its
 * module loaded); the others only by name and summary, for the help.
 */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
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
    .option('--grpc-port <port>', 'OTLP/gRPC port (default 4317; 0 = any free port)', parsePort)
    .option('--no-grpc', 'do not serve OTLP/gRPC (OTLP/HTTP on the main port stays)')
    .action(async (options: ServerFlags) => {
      const { configFromFlags } = await import('./config-flags.ts');
      const { startServer } = await import('./serve.ts');
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
            const { configFromFlags } = await import('./config-flags.ts');
            const { openStore } = await import('./serve.ts');
            const { runQuery } = await import('../store/query-service.ts');
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
        const { printAnswer } = await import('./output.ts');
        await printAnswer(answer, options.format);
      },
    );

  const named = commandNamed(argv);
  for (const lazy of LAZY_COMMANDS) {
    if (named !== undefined && named in lazy.summaries) (await lazy.load())(program);
    else for (const [name, summary] of Object.entries(lazy.summaries)) program.command(name).description(summary);
  }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await (await buildProgram(argv)).parseAsync(argv);
  } catch (err) {
    // By name: config.ts (and its schema) is loaded only by the commands that read a config.
    if (err instanceof Error && err.name === 'ConfigError') {
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
