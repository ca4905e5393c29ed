// The console's browser build: `npm run build:console` (root) runs `vite build` here into dist/,
// which src/server serves. `npm run dev -w @granary/console` serves the app with hot reload and
// the same API paths proxied to a running suite's HTTP ports.
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

const upstream = (service, port) => [
  `^/granary\\.${service}\\.`,
  { target: process.env[`GRANARY_${service.toUpperCase()}_HTTP_URL`] ?? `http://127.0.0.1:${port}` },
];

export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: Object.fromEntries([upstream("metadata", 51051), upstream("online", 51052), upstream("offline", 51053), upstream("registry", 51054)]),
  },
});
