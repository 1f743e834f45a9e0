/**
 * Vite config of the browser demo: `npm run demo` (dev server) or `npx vite build demo` (a static
 * site in demo/dist). "tsgrad" resolves to the package's browser build, dist/browser.js — the
 * file a bundler picks for users through the package's `browser` condition — so the demo runs
 * what users get, not the TypeScript sources. The dev and preview servers send the headers that
 * make the page cross-origin isolated, for the wasm backend's threads.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type UserConfig, defineConfig } from "vite";

const browserBuild = fileURLToPath(new URL("../dist/browser.js", import.meta.url));

/**
 * Cross-origin isolation: with these headers the page (and its workers) get SharedArrayBuffer,
 * so the wasm backend loads its threaded build and runs its kernels on every core. A server
 * without them still works, on one thread (`tg.info().singleThreadReason` says why).
 */
const crossOriginIsolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig((): UserConfig => {
  if (!existsSync(browserBuild)) {
    throw new Error(
      `The demo imports tsgrad's browser build, ${browserBuild}, which is missing: run \`npm run build\` first (\`npm run demo\` does).`,
    );
  }
  return {
    root: fileURLToPath(new URL(".", import.meta.url)),
    // Relative asset URLs: the built site works from any folder or sub-path.
    base: "./",
    // The Fashion-MNIST files are assets the worker references (worker.ts), not a copied folder.
    publicDir: false,
    resolve: { alias: [{ find: /^tsgrad$/, replacement: browserBuild }] },
    // The training worker is an ES module (it imports tsgrad).
    worker: { format: "es" },
    build: {
      target: "es2022",
      // The data files stay files (the two small label files would otherwise become data: URLs).
      assetsInlineLimit: (file: string) => (file.endsWith(".gz") ? false : undefined),
    },
    server: { host: "127.0.0.1", headers: crossOriginIsolation },
    preview: { headers: crossOriginIsolation },
  };
});
