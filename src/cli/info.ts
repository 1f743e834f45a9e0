import * as tg from "../index.js";
import { parseFlags, usage } from "./args.js";
import type { Command } from "./main.js";

const flags = {
  json: { type: "boolean", help: "print machine-readable JSON", default: false },
} as const;

export const command: Command = {
  name: "info",
  summary: "Show the backends, which one is active, and the machine's details.",
  run(argv) {
    const { flags: f, help } = parseFlags(argv, flags);
    if (help) {
      console.log(usage("info", this.summary, flags));
      return 0;
    }
    const backends = tg.listBackends();
    const active = tg.getBackend();
    const report = { active: active.name, backends, details: active.info?.() ?? {} };
    if (f.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(`active backend: ${active.name}`);
      for (const b of backends) {
        console.log(
          `  ${b.name.padEnd(8)} ${b.available ? "available" : `unavailable: ${b.reason}`}`,
        );
      }
      for (const [k, v] of Object.entries(report.details)) console.log(`  ${k}: ${String(v)}`);
    }
    return 0;
  },
};
