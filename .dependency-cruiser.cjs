/** Layering rules of STYLE.md ("Dependency rules"), enforced in CI. */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'resources-know-no-http',
      severity: 'error',
      from: { path: '^src/resources' },
      to: { path: '^(src/(fhir|operations|subscriptions|auth|bundles)|node_modules/fastify)' },
    },
    {
      name: 'fhir-knows-no-sql',
      severity: 'error',
      from: { path: '^src/fhir' },
      to: { path: '^(src/db|node_modules/(kysely|pg)/)' },
    },
    {
      name: 'operations-stay-pure',
      severity: 'error',
      from: { path: '^src/operations' },
      to: { path: '^(src/(fhir|db|auth|subscriptions)|node_modules/(fastify|kysely|pg)/)' },
    },
    {
      name: 'bundles-use-the-repository-only',
      comment: 'Bundle processing knows neither HTTP nor SQL: resources/index.ts and errors.ts only',
      severity: 'error',
      from: { path: '^src/bundles' },
      to: { path: '^(src/(?!bundles/|errors\\.ts$|resources/index\\.ts$)|node_modules/(fastify|kysely|pg)/)' },
    },
    {
      name: 'auth-no-db-or-http-layers',
      severity: 'error',
      from: { path: '^src/auth' },
      to: { path: '^src/(fhir|operations|subscriptions|db)' },
    },
    {
      name: 'db-imports-nothing-internal',
      severity: 'error',
      from: { path: '^src/db' },
      to: { path: '^src/(?!db/|config\\.ts)' },
    },
    {
      name: 'errors-import-nothing',
      severity: 'error',
      from: { path: '^src/errors\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'layers-through-their-index',
      comment: 'resources, operations, subscriptions and auth are imported only through index.ts from outside',
      severity: 'error',
      from: { path: '^src/(fhir|operations|subscriptions|auth|bundles)/' },
      to: { path: '^src/resources/(?!index\\.ts$)' },
    },
    {
      name: 'fhir-uses-operations-and-auth-index',
      severity: 'error',
      from: { path: '^src/fhir/' },
      to: { path: '^src/(operations|auth|bundles)/(?!index\\.ts$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
}
