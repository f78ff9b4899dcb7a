/**
 * The Elasticsearch surface log shippers and clients need: cluster info,
 * `_bulk`, single-document index calls, and setup calls (templates, ILM,
 * pipelines, license) answered harmlessly so that shippers configured for
 * Elasticsearch deliver unmodified.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';
import { decodeBody } from '../../ingest/body.ts';
import { EsRequestError, ingestBulk, newDocumentId } from '../../ingest/elasticsearch-bulk.ts';
import { applyRefresh, refreshMode, type RefreshMode } from '../refresh.ts';
import { defaultRole } from '../auth.ts';
import type { AppContext } from '../server.ts';
import { prefersHtml, sendIndexHtml } from './ui.ts';
import { redactMessage } from '../../privacy/log-redaction.ts';

/** The Elasticsearch version Shoplens answers as (8.x: what current shippers accept). */
export const ES_COMPAT_VERSION = '8.17.0';

function clusterInfo(): Record<string, unknown> {
  return {
    name: 'shoplens',
    cluster_name: 'shoplens',
    cluster_uuid: 'shoplens-0000000000000000000',
    version: {
      number: ES_COMPAT_VERSION,
      build_flavor: 'default',
      build_type: 'shoplens',
      build_hash: 'shoplens',
      build_date: '2025-01-01T00:00:00.000Z',
      build_snapshot: false,
      lucene_version: '9.12.0',
      minimum_wire_compatibility_version: '7.17.0',
      minimum_index_compatibility_version: '7.0.0',
    },
    tagline: 'You Know, for Search',
  };
}

/** `refresh` as Elasticsearch clients send it; a bad value answers in Elasticsearch's error shape. */
function esRefreshMode(query: unknown): RefreshMode {
  try {
    return refreshMode(query);
  } catch (err) {
    throw new EsRequestError(400, 'illegal_argument_exception', (err as Error).message);
  }
}

export function elasticsearchRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    // Log shippers and Elasticsearch clients send data and make their setup calls with an ingest key.
    defaultRole(app, 'ingest');
    // Elasticsearch clients read `error.type` and `error.reason` (the official
    // client's message is "Response Error" otherwise), so whole-request errors
    // of these routes (413, 415, 503 with Retry-After, ...) take Elasticsearch's
    // shape, with the Shoplens code as the type. Anything else goes on to the
    // server's error handler (this plugin is encapsulated, so only these routes).
    app.setErrorHandler((err, request, reply) => {
      if (err instanceof EsRequestError) return reply.code(err.status).send(err.toBody());
      if (!(err instanceof AppError)) throw err;
      for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
      if (err.status >= 500) request.log.warn({ code: err.code, err: err.cause ?? err }, err.message);
      const reason = err.expose ? err.message : 'Internal server error';
      return reply.code(err.status).send(new EsRequestError(err.status, err.code, reason).toBody());
    });

    const bulk = async (request: FastifyRequest, index: string | undefined) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const refresh = esRefreshMode(request.query);
      const answer = await ctx.pipeline.admitted(raw.length, async (admission) => {
        const body = await decodeBody(raw, request.headers['content-encoding'], ctx.config.server.maxBodyBytes);
        admission.resize(Math.max(raw.length, body.length));
        return ingestBulk(ctx.pipeline, (tenant, ids) => ctx.store.existingEventIds(tenant, ids), body, index, {
          tenant: request.principal.tenant,
          receivedAtMs: Date.now(),
        });
      });
      await applyRefresh(ctx.store, refresh);
      return answer;
    };

    // Public: browsers navigating here cannot send an API key, and cluster info is what every ES client may see.
    app.get('/', { config: { role: 'public' } }, async (request, reply) => {
      // Browsers get the web UI; Elasticsearch clients and log shippers get cluster info.
      if (prefersHtml(request)) return sendIndexHtml(reply);
      return clusterInfo();
    });

    for (const method of ['POST', 'PUT'] as const) {
      const config = { ingestBody: true };
      app.route({ method, url: '/_bulk', config, handler: async (request) => bulk(request, undefined) });
      app.route<{ Params: { index: string } }>({
        method,
        url: '/:index/_bulk',
        config,
        handler: async (request) => bulk(request, request.params.index),
      });
    }

    // Single documents: POST /{index}/_doc, PUT /{index}/_doc/{id}, PUT|POST /{index}/_create/{id}.
    const single = async (
      request: FastifyRequest<{ Params: { index: string; id?: string } }>,
      reply: FastifyReply,
      action: 'index' | 'create',
    ) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const refresh = esRefreshMode(request.query);
      return ctx.pipeline.admitted(raw.length, () => indexOne(request, reply, action, raw, refresh));
    };
    const indexOne = async (
      request: FastifyRequest<{ Params: { index: string; id?: string } }>,
      reply: FastifyReply,
      action: 'index' | 'create',
      raw: Buffer,
      refresh: RefreshMode,
    ) => {
      const source = (
        await decodeBody(raw, request.headers['content-encoding'], ctx.config.server.maxBodyBytes)
      ).toString('utf8');
      if (source.trim() === '') throw new EsRequestError(400, 'parse_exception', 'request body is required');
      const id = request.params.id ?? newDocumentId();
      const line = JSON.stringify({ [action]: { _index: request.params.index, _id: id } });
      const answer = await ingestBulk(
        ctx.pipeline,
        (tenant, ids) => ctx.store.existingEventIds(tenant, ids),
        Buffer.from(`${line}\n${source.replace(/\r?\n/g, ' ')}\n`),
        request.params.index,
        { tenant: request.principal.tenant, receivedAtMs: Date.now() },
      );
      const item = answer.items[0]?.[action];
      if (!item) throw new EsRequestError(400, 'parse_exception', 'the document could not be read');
      if (item.error) throw new EsRequestError(item.status, item.error.type, item.error.reason);
      // The single-document answer is the bulk item without its `status` (that is the HTTP status).
      const { status, ...document } = item;
      await applyRefresh(ctx.store, refresh);
      if (status === 201) {
        // The id as stored (redacted): a card number in the request's id must not come back in a header.
        reply.header(
          'Location',
          `/${encodeURIComponent(document._index)}/_doc/${encodeURIComponent(document._id ?? '')}`,
        );
      }
      return reply.code(status).send(document);
    };
    const doc = { config: { ingestBody: true } };
    app.post<{ Params: { index: string } }>('/:index/_doc', doc, (request, reply) => single(request, reply, 'index'));
    app.put<{ Params: { index: string; id: string } }>('/:index/_doc/:id', doc, (request, reply) =>
      single(request, reply, 'index'),
    );
    app.post<{ Params: { index: string; id: string } }>('/:index/_doc/:id', doc, (request, reply) =>
      single(request, reply, 'index'),
    );
    app.put<{ Params: { index: string; id: string } }>('/:index/_create/:id', doc, (request, reply) =>
      single(request, reply, 'create'),
    );
    app.post<{ Params: { index: string; id: string } }>('/:index/_create/:id', doc, (request, reply) =>
      single(request, reply, 'create'),
    );

    // Setup calls of shippers: accepted and ignored; Shoplens has one schema for every index.
    app.get('/_license', async () => ({
      license: { status: 'active', uid: 'shoplens', type: 'basic', issue_date_in_millis: 0, max_nodes: 1000 },
    }));
    app.get('/_xpack', async () => ({
      build: {},
      license: { uid: 'shoplens', type: 'basic', mode: 'basic', status: 'active' },
      features: {},
    }));
    app.get('/_cluster/health', async () => ({ cluster_name: 'shoplens', status: 'green', number_of_nodes: 1 }));
    app.get('/_nodes', async () => ({
      _nodes: { total: 1, successful: 1, failed: 0 },
      cluster_name: 'shoplens',
      nodes: {},
    }));
    app.get('/_nodes/*', async () => ({
      _nodes: { total: 1, successful: 1, failed: 0 },
      cluster_name: 'shoplens',
      nodes: {},
    }));
    const setupPrefixes = [
      '_index_template',
      '_template',
      '_component_template',
      '_ilm/policy',
      '_ingest/pipeline',
      '_data_stream',
    ];
    for (const prefix of setupPrefixes) {
      const notFound = async (request: FastifyRequest, reply: FastifyReply) =>
        reply.code(404).send({
          error: {
            root_cause: [{ type: 'resource_not_found_exception', reason: `${request.url} does not exist` }],
            type: 'resource_not_found_exception',
            reason: `${request.url} does not exist`,
          },
          status: 404,
        });
      app.get(`/${prefix}/*`, notFound);
      app.put(`/${prefix}/*`, async () => ({ acknowledged: true }));
      app.post(`/${prefix}/*`, async () => ({ acknowledged: true }));
      app.delete(`/${prefix}/*`, async () => ({ acknowledged: true }));
    }
    // Refresh: what was acknowledged becomes visible to queries now.
    const refreshAll = async () => {
      await ctx.store.refresh(true);
      return { _shards: { total: 1, successful: 1, failed: 0 } };
    };
    for (const method of ['POST', 'GET'] as const) {
      app.route({ method, url: '/_refresh', handler: refreshAll });
      app.route({ method, url: '/:index/_refresh', handler: refreshAll });
    }
    // Creating or checking an index: every index exists in Shoplens's one schema.
    app.put<{ Params: { index: string } }>('/:index', async (request) => ({
      acknowledged: true,
      shards_acknowledged: true,
      // Echoed as stored: an index name is redacted like any text (a card number in it is masked).
      index: redactMessage(request.params.index),
    }));
    app.head('/:index', async (_request, reply) => reply.code(200).send());
  };
}
