/**
 * A measuring child process for the Node peers (tsgrad, tfjs, jax-js): one framework, one
 * workload. Started by `bench/run.ts` as `node --import tsx bench/child.ts '<request JSON>'`;
 * prints one `RESULT_MARKER` line on stdout and logs on stderr. Only the peer's own module is
 * imported, so the process's peak RSS is that framework's.
 */
import { runPair } from "./lib/pair.js";
import { type ChildRequest, RESULT_MARKER } from "./lib/protocol.js";
import type { Peer } from "./peers/peer.js";

async function loadPeer(name: ChildRequest["peer"]): Promise<Peer> {
  if (name.startsWith("tsgrad")) return (await import("./peers/tsgrad.js")).peer;
  if (name.startsWith("tfjs")) return (await import("./peers/tfjs.js")).peer;
  if (name.startsWith("jax-js")) return (await import("./peers/jax.js")).peer;
  throw new Error(`${name} is not a Node peer`);
}

const req = JSON.parse(process.argv[2] ?? "{}") as ChildRequest;
const log = (msg: string) => process.stderr.write(`[${req.peer} ${req.workload}] ${msg}\n`);
const result = await runPair(() => loadPeer(req.peer), req, log);
result.maxRssKiB = process.resourceUsage().maxRSS;
// Exit explicitly: worker pools (jax-js, tsgrad-wasm) would otherwise keep the process alive.
process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`, () => process.exit(0));
