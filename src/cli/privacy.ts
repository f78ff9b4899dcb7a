/**
 * `shoplens privacy erase|export` and `shoplens retention run|status`: the
 * GDPR and retention endpoints from the command line, through a running
 * server (`--url`, with an admin key in --api-key or SHOPLENS_API_KEY) or on
 * the data directory while the server is stopped (the local operator).
 * Either way the same route code runs, so validation and the audit trail
 * are the same.
 */
import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { callRoute, type Where } from './remote.ts';
import { DEFAULT_CONFIG_FILE } from './config-flags.ts';

function withWhere(command: Command): Command {
  return command
    .option('--url <url>', 'a running server (needs an admin key: --api-key or SHOPLENS_API_KEY)')
    .option('--data-dir <dir>', 'the data directory, directly (server must be stopped)')
    .option('--config <file>', `YAML config file (default ./${DEFAULT_CONFIG_FILE} if present)`);
}

/** What the export and erasure routes answer (the parts the CLI prints). */
interface CustomerAnswer {
  readonly count: number;
  readonly deleted: number;
  readonly customerIds: readonly string[];
  readonly note?: string;
}

interface Subject extends Where {
  readonly customerId?: string;
  readonly email?: string;
}

function subjectOf(options: Subject): Record<string, string> {
  if (!options.customerId && !options.email) throw new InvalidArgumentError('give --customer-id or --email');
  return {
    ...(options.customerId ? { customer_id: options.customerId } : {}),
    ...(options.email ? { email: options.email } : {}),
  };
}

export function registerPrivacyCommands(program: Command): void {
  const privacy = program.command('privacy').description("GDPR: erase or export one customer's events");
  withWhere(privacy.command('erase'))
    .description("Delete a customer's events in every data class but the audit trail (irreversible)")
    .option('--customer-id <id>', 'customer id (matched as customer.id and user.id)')
    .option('--email <address>', 'e-mail address (finds events that carry it unmasked, and their customer ids)')
    .option('--yes', 'do it (without --yes, only says what would be erased)')
    .action(async (options: Subject & { yes?: boolean }) => {
      const subject = subjectOf(options);
      if (!options.yes) {
        const preview = await callRoute<CustomerAnswer>(
          options,
          'GET',
          `/api/v1/privacy/export?${new URLSearchParams(subject)}`,
        );
        process.stderr.write(
          `Would erase ${preview.count} events (customer ids: ${preview.customerIds.join(', ') || 'none'}). ` +
            'Run again with --yes to erase them.\n',
        );
        if (preview.note) process.stderr.write(`Note: ${preview.note}\n`);
        return;
      }
      const result = await callRoute<CustomerAnswer>(options, 'POST', '/api/v1/privacy/erasure', subject);
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      process.stderr.write(`Erased ${result.deleted} events.\n`);
      if (result.note) process.stderr.write(`Note: ${result.note}\n`);
    });
  withWhere(privacy.command('export'))
    .description("Write a customer's events as JSON (to --output, or standard output)")
    .option('--customer-id <id>', 'customer id')
    .option('--email <address>', 'e-mail address')
    .option('--output <file>', 'file to write (mode 0600)')
    .action(async (options: Subject & { output?: string }) => {
      const result = await callRoute<CustomerAnswer>(
        options,
        'GET',
        `/api/v1/privacy/export?${new URLSearchParams(subjectOf(options))}`,
      );
      const text = `${JSON.stringify(result, null, 2)}\n`;
      if (options.output) {
        writeFileSync(options.output, text, { mode: 0o600 });
        process.stderr.write(`Wrote ${result.count} events to ${options.output}\n`);
      } else process.stdout.write(text);
      if (result.note) process.stderr.write(`Note: ${result.note}\n`);
    });

  const retention = program.command('retention').description('Retention per data class');
  withWhere(retention.command('run'))
    .description('Delete expired events now (rolling whole hours up first) and print the report')
    .action(async (options: Where) => {
      const report = await callRoute<unknown>(options, 'POST', '/api/v1/retention/run', {});
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    });
  withWhere(retention.command('status'))
    .description('Print the retention policy and the last run')
    .action(async (options: Where) => {
      process.stdout.write(
        `${JSON.stringify(await callRoute<unknown>(options, 'GET', '/api/v1/retention'), null, 2)}\n`,
      );
    });
}
