/**
 * `shoplens keys create|list|revoke`: API keys, either through a running
 * server (`--url`, with an admin key in --api-key or SHOPLENS_API_KEY) or
 * directly on the data directory when the server is stopped (the local
 * operator, who can manage every tenant).
 */
import { InvalidArgumentError, type Command } from 'commander';
import Table from 'cli-table3';
import type { Principal } from '../api/auth.ts';
import { ROLES, SENTRY_PROJECT, sentryDsn, type ApiKeyInfo } from '../api/keys.ts';
import { callServer, withLocalServer, type Where } from './remote.ts';
import { DEFAULT_CONFIG_FILE } from './config-flags.ts';

const LOCAL_OPERATOR: Principal = { tenant: 'default', role: 'admin', actor: 'cli (local operator)', operator: true };

function checkWhere(where: Where): void {
  if (where.url && where.dataDir) throw new InvalidArgumentError('give either --url or --data-dir, not both');
}

function printKeys(keys: readonly ApiKeyInfo[]): void {
  const table = new Table({ head: ['id', 'tenant', 'role', 'name', 'created', 'revoked'] });
  for (const k of keys) table.push([k.id, k.tenant, k.role, k.name, k.createdAt, k.revokedAt ?? '']);
  process.stdout.write(`${table.toString()}\n`);
}

function withWhere(command: Command): Command {
  return command
    .option('--url <url>', 'manage keys through a running server (needs an admin key: --api-key or SHOPLENS_API_KEY)')
    .option('--data-dir <dir>', 'manage keys in this data directory directly (server must be stopped)')
    .option('--config <file>', `YAML config file (default ./${DEFAULT_CONFIG_FILE} if present)`);
}

export function registerKeysCommand(program: Command): Command {
  const keys = program.command('keys').description('Create, list and revoke API keys');

  withWhere(keys.command('create'))
    .description('Create an API key; prints it once (only its hash is stored)')
    .requiredOption('--tenant <tenant>', 'tenant the key belongs to; its data is all the key can see or write')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--name <name>', 'what the key is for, e.g. "fluent-bit on web-1"')
    .option('--project <id>', 'a Sentry project id: also print the DSN that Sentry SDKs use with this key')
    .option(
      '--public-url <url>',
      'how Sentry SDKs reach Shoplens, for the DSN (default: --url, else the configured server address)',
    )
    .action(
      async (
        options: Where & { tenant: string; role: string; name?: string; project?: string; publicUrl?: string },
      ) => {
        checkWhere(options);
        if (options.project !== undefined && !SENTRY_PROJECT.test(options.project)) {
          throw new InvalidArgumentError(`--project must be a Sentry project id (digits), got "${options.project}"`);
        }
        if (!(ROLES as readonly string[]).includes(options.role)) {
          throw new InvalidArgumentError(`--role must be one of ${ROLES.join(', ')}, got "${options.role}"`);
        }
        const request = {
          tenant: options.tenant,
          role: options.role,
          ...(options.name ? { name: options.name } : {}),
          ...(options.project ? { project: options.project } : {}),
        };
        const created = options.url
          ? ((await callServer(options.url, 'POST', '/api/v1/keys', request)) as ApiKeyInfo & {
              key: string;
            })
          : await withLocalServer(options, async (server) => {
              const { key, info } = await server.context.keys.create({
                tenant: options.tenant,
                role: options.role as ApiKeyInfo['role'],
                ...(options.name ? { name: options.name } : {}),
                ...(options.project ? { project: options.project } : {}),
                createdBy: LOCAL_OPERATOR.actor,
              });
              await server.context.audit.record(
                { ...LOCAL_OPERATOR, tenant: info.tenant },
                { action: 'key.create', message: `created ${info.role} key ${info.id} ("${info.name}")` },
              );
              const { host, port } = server.context.config.server;
              return { key, ...info, localUrl: `http://${host}:${port}` };
            });
        process.stderr.write(
          `Created ${created.role} key ${created.id} for tenant ${created.tenant}. Store it now; it is not shown again:\n`,
        );
        process.stdout.write(`${created.key}\n`);
        if (options.project) {
          const base =
            options.publicUrl ?? options.url ?? (created as { localUrl?: string }).localUrl ?? 'http://127.0.0.1:8080';
          const dsn = sentryDsn(created.key, base, options.project);
          process.stderr.write("Sentry DSN (set it as the SDK's dsn; it holds the key):\n");
          process.stdout.write(`${dsn}\n`);
        }
      },
    );

  withWhere(keys.command('list'))
    .description('List API keys (never the keys themselves)')
    .option('--tenant <tenant>', 'only this tenant (default: every tenant for the local operator, your own over --url)')
    .option('--json', 'print JSON')
    .action(async (options: Where & { tenant?: string; json?: boolean }) => {
      checkWhere(options);
      const list = options.url
        ? (
            (await callServer(
              options.url,
              'GET',
              `/api/v1/keys${options.tenant ? `?tenant=${encodeURIComponent(options.tenant)}` : ''}`,
            )) as { keys: ApiKeyInfo[] }
          ).keys
        : await withLocalServer(options, (server) => server.context.keys.list(options.tenant));
      if (options.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      else printKeys(list);
    });

  withWhere(keys.command('revoke'))
    .description('Revoke an API key by its id (the part after "slk_"); it stops working at once')
    .argument('<id>', 'key id, as shown by keys list')
    .action(async (id: string, options: Where) => {
      checkWhere(options);
      const info = options.url
        ? await callServer<ApiKeyInfo>(options.url, 'DELETE', `/api/v1/keys/${encodeURIComponent(id)}`)
        : await withLocalServer(options, async (server) => {
            const revoked = await server.context.keys.revoke(id, undefined);
            await server.context.audit.record(
              { ...LOCAL_OPERATOR, tenant: revoked.tenant },
              { action: 'key.revoke', message: `revoked key ${revoked.id} ("${revoked.name}")` },
            );
            return revoked;
          });
      process.stderr.write(`Revoked key ${info.id} (${info.name}) of tenant ${info.tenant}\n`);
    });
  return keys;
}
