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
        "Libraries never import a service. libs/suite (which starts the four services in one process) is an application and is the one exception until it moves to apps/.",
      severity: "error",
      from: { path: "^libs/", pathNot: "^libs/suite/" },
      to: { path: "^services/" },
    },
    {
      name: "sdk-imports-server-code",
      comment: "The SDK (libs/client) and the CLI on it talk to services over the wire only: no server runtime, storage or service code.",
      severity: "error",
      from: { path: "^libs/(client|cli)/", pathNot: "\\.test\\.ts$" },
      to: { path: "^(services/|libs/(server|postgres|catalogue-cache|catalogue-rules|suite)/)" },
    },
    {
      name: "generated-code-outside-proto",
      comment: "Generated code is imported only through @granary/proto's entry points.",
      severity: "error",
      from: { pathNot: "^libs/proto/" },
      to: { path: "^libs/proto/src/gen/" },
    },
    {
      name: "not-to-unresolvable",
      comment: "An import that resolves to nothing is a typo or a missing install.",
      severity: "error",
      from: { path: "^(libs|services)/" },
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
      extensions: [".ts", ".js", ".mjs", ".json"],
    },
    moduleSystems: ["es6"],
  },
};
