// Package boundaries, held by `npm run lint:deps` in CI (issue 15). Each rule says why it exists.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "service-imports-service",
      comment: "Services never import each other; they call each other over gRPC (libs/service-clients).",
      severity: "error",
      from: { path: "^services/([^/]+)/" },
      to: { path: "^services/([^/]+)/", pathNot: "^services/$1/" },
    },
    {
      name: "lib-imports-service",
      comment:
        "Libraries sit below the services: a lib that imported a service would tie every other user of the lib (services, the SDK) to that service's code and start-up.",
      severity: "error",
      from: { path: "^libs/" },
      to: { path: "^services/" },
    },
    {
      name: "lib-imports-app",
      comment:
        "Libraries never import an application (apps/): apps are the top of the graph and import libs and services, so a lib importing one would pull the services in below it.",
      severity: "error",
      from: { path: "^libs/", pathNot: "\\.test\\.ts$" },
      to: { path: "^apps/" },
    },
    {
      name: "lib-test-imports-app",
      comment:
        "A lib's tests may start the one-process suite (apps/suite, declared as a devDependency) to run against real services, the way the SDK's tests do; no other app.",
      severity: "error",
      from: { path: "^libs/.*\\.test\\.ts$" },
      to: { path: "^apps/", pathNot: "^apps/suite/" },
    },
    {
      name: "service-imports-app",
      comment: "Services never import an application: apps (the suite, the CLI) start or call the services, never the other way round.",
      severity: "error",
      from: { path: "^services/" },
      to: { path: "^apps/" },
    },
    {
      name: "sdk-imports-server-code",
      comment:
        "The SDK (libs/client) and the CLI on it (apps/cli) talk to services over the wire only: no service code, server runtime, storage, catalogue internals or the one-process suite, so they run where no server is installed. Their tests may start the suite.",
      severity: "error",
      from: { path: "^(libs/client|apps/cli)/", pathNot: "\\.test\\.ts$" },
      to: { path: "^(services/|libs/(server|postgres|catalogue-cache|catalogue-rules)/|apps/suite/)" },
    },
    {
      name: "offline-duck-through-index",
      comment:
        "The offline service's duck/ module owns DuckDB and the DuckDB <-> Arrow bridge; the feature folders (write/, read/, training/, stats/, consistency/) enter it only through duck/index.ts, so its insides can change without touching them.",
      severity: "error",
      from: { path: "^services/offline/src/", pathNot: "^services/offline/src/duck/" },
      to: { path: "^services/offline/src/duck/", pathNot: "^services/offline/src/duck/index\\.ts$" },
    },
    {
      name: "generated-code-outside-proto",
      comment: "Generated code is imported only through @granary/proto's entry points.",
      severity: "error",
      from: { pathNot: "^libs/proto/" },
      to: { path: "^libs/proto/src/gen/" },
    },
    {
      name: "no-circular",
      comment:
        "Files of a package import one way: in a cycle no file can be read, tested or loaded before the others, and ESM hands the first one an uninitialised binding. Break a cycle by moving the shared piece down (a types file, or into the lower of the two), not by merging files; type-only imports count too (tsPreCompilationDeps), as they are a real dependency.",
      severity: "error",
      from: { path: "^(libs|services|apps)/" },
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      comment: "An import that resolves to nothing is a typo or a missing install.",
      severity: "error",
      from: { path: "^(libs|services|apps)/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: ["node_modules", "^libs/proto/src/gen/"] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".json"],
    },
    moduleSystems: ["es6"],
  },
};
