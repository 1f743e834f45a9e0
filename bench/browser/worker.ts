/**
 * The measuring side of a browser pair: a Web Worker that receives one `ChildRequest`, runs it
 * with the same code as a Node child (`lib/pair.ts`), posts its log lines as `{ log }` and its
 * result as `{ result }`. Each framework has a worker bundle of its own (worker-*.ts), so that a
 * page loads only the framework it measures.
 */
import { runPair } from "../lib/pair.js";
import type { ChildRequest, ChildResult } from "../lib/protocol.js";
import type { Peer } from "../peers/peer.js";

/** What a worker posts to its page. */
export type WorkerMessage = { log: string } | { result: ChildResult };

/** Answer the page's request with `load`'s peer. */
export function serve(load: (req: ChildRequest) => Promise<Peer>): void {
  const post = (m: WorkerMessage) => self.postMessage(m);
  self.onmessage = (e: MessageEvent<ChildRequest>) => {
    const req = e.data;
    const log = (msg: string) => post({ log: `[${req.peer} ${req.workload}] ${msg}` });
    void runPair(() => load(req), req, log).then((result) => post({ result }));
  };
}
