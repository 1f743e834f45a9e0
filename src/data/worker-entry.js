// Bootstrap of the DataLoader's prefetch worker when tsgrad runs from its TypeScript sources (the
// tests, tsx); the compiled package starts dist/data/prefetch-worker.js directly. Plain JavaScript
// on purpose: it runs before any TypeScript loader exists in the new thread. It imports the
// TypeScript worker directly when the runtime can (native type stripping, or an inherited loader),
// and otherwise registers tsx (a devDependency) first. A failed import is cached by URL, hence
// the query on the retry.
const target = new URL("./prefetch-worker.ts", import.meta.url).href;
try {
  await import(target);
} catch (e) {
  const code = e && typeof e === "object" ? e.code : undefined;
  if (code !== "ERR_UNKNOWN_FILE_EXTENSION" && code !== "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING")
    throw e;
  const { register } = await import("tsx/esm/api");
  register();
  await import(`${target}?tsx`);
}
