/**
 * Which part of src/ may import which (`npm run lint` runs it; docs/architecture.md explains it).
 * Dependencies point one way, from the routes down to the foundations:
 *
 *   index.ts → routes → middleware, access, streams, pipeline → dialects, formats, providers, request
 *            → events, sse, config, errors, log
 *
 * Type-only imports count too: a cycle through types is still a cycle a reader has to hold.
 */
const FOUNDATIONS = '^src/(events|sse|config)/|^src/(errors|log)\\.ts$'

export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycle, type imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'routes-stand-alone',
      comment: 'A route never imports another route: what routes share lives in routes/shared/.',
      severity: 'error',
      from: { path: '^src/routes/([^/.]+)' },
      to: { path: '^src/routes/', pathNot: ['^src/routes/$1', '^src/routes/shared/'] },
    },
    {
      name: 'shared-is-no-route',
      comment: 'routes/shared/ is what routes have in common; it knows none of them.',
      severity: 'error',
      from: { path: '^src/routes/shared/' },
      to: { path: '^src/routes/', pathNot: '^src/routes/shared/' },
    },
    {
      name: 'only-the-app-imports-routes',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/routes/', '^src/index\\.ts$'] },
      to: { path: '^src/routes/' },
    },
    {
      name: 'streams-blind-to-formats',
      comment:
        'The answer’s Durable Object stores and replays events in any format by name, through the ' +
        'registry (formats/index.ts); it never imports a format module, a provider, or request-time code.',
      severity: 'error',
      from: { path: '^src/streams/' },
      to: {
        path: [
          '^src/formats/(?!index\\.ts$)',
          '^src/dialects/',
          '^src/providers/',
          '^src/middleware/',
          '^src/app-env\\.ts$',
          '^src/access/(admission|authenticate|jwt|jwks-cache|rate-limit)\\.ts$',
        ],
      },
    },
    {
      name: 'pipeline-knows-no-surface',
      comment:
        'The pipeline turns upstream bytes into our events for any encoder; it knows no format, route or caller.',
      severity: 'error',
      from: { path: '^src/pipeline/' },
      to: { path: ['^src/(formats|streams|access|routes|middleware)/', '^src/app-env\\.ts$', 'node_modules/hono/'] },
    },
    {
      name: 'formats-only-encode',
      comment: 'A wire format writes our events; it knows nothing of where they come from.',
      severity: 'error',
      from: { path: ['^src/formats/', '^src/dialects/[^/]+/format\\.ts$'] },
      to: { path: '^src/(pipeline|providers|streams|access|routes|middleware|request|config)/' },
    },
    {
      name: 'dialects-know-no-route',
      comment:
        'A dialect (dialects/<name>/) translates its requests and writes its answers, errors and streams; ' +
        'HTTP and storage stay in the routes, which import it, never the reverse. Of a provider it knows only the types; ' +
        'of the pipeline, only the collected answer a whole body is written from.',
      severity: 'error',
      from: { path: '^src/dialects/' },
      to: {
        path: [
          '^src/(routes|middleware|streams|usage)/',
          '^src/pipeline/(?!collect-answer\\.ts$)',
          '^src/providers/(?!types\\.ts$)',
        ],
      },
    },
    {
      name: 'provider-knowledge-stays-in-providers',
      severity: 'error',
      from: { path: '^src/providers/' },
      to: { path: '^src/(pipeline|formats|streams|access|routes|middleware)/' },
    },
    {
      name: 'access-below-streams',
      comment: 'Access control knows no answer: the ledger (usage/) calls lease accounting, never the reverse.',
      severity: 'error',
      from: { path: '^src/access/' },
      to: { path: '^src/(pipeline|formats|streams|routes|providers|usage)/' },
    },
    {
      name: 'leases-without-hono',
      comment: 'Lease accounting runs in Durable Objects: no Hono, no JWT verification behind it.',
      severity: 'error',
      from: { path: '^src/access/(leases|estimate|principal-limits)\\.ts$' },
      to: {
        path: [
          'node_modules/hono/',
          '^src/app-env\\.ts$',
          '^src/access/(admission|authenticate|jwt|jwks-cache|rate-limit)\\.ts$',
        ],
      },
    },
    {
      name: 'usage-below-routes',
      comment:
        'The usage ledger (records, queue consumer, queries, retention) runs in routes, Durable Objects, ' +
        'the queue and the cron alike: no Hono, no route, no request-time access code. Ending an answer ' +
        '(end-answer.ts) settles its lease too: only lease accounting, which Durable Objects call, is allowed.',
      severity: 'error',
      from: { path: '^src/usage/' },
      to: {
        path: [
          '^src/(routes|middleware|streams|formats|providers|request)/',
          '^src/access/(?!leases\\.ts$)',
          '^src/app-env\\.ts$',
          'node_modules/hono/',
        ],
      },
    },
    {
      name: 'request-below-providers',
      severity: 'error',
      from: { path: '^src/request/' },
      to: { path: '^src/(providers|pipeline|formats|access|streams|routes|middleware)/' },
    },
    {
      name: 'foundations-stay-at-the-bottom',
      severity: 'error',
      from: { path: FOUNDATIONS },
      to: { path: '^src/', pathNot: FOUNDATIONS },
    },
    {
      name: 'browser-side-stays-apart',
      comment: 'The client module and the page ship to browsers: only our event and request types cross.',
      severity: 'error',
      from: { path: '^src/(client|page)/' },
      to: {
        path: '^src/',
        pathNot: [
          '^src/(client|page)/',
          '^src/events/chat-events\\.ts$',
          '^src/request/chat-request\\.ts$',
          '^src/errors\\.ts$',
        ],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^src/page/tsconfig\\.json$' },
  },
}
