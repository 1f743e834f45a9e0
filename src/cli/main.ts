/**
 * The `tsgrad` command line: dispatches to one module per command. Each command parses its own
 * flags (unknown flags are errors) and answers `--help`.
 */
import { UsageError } from "./args.js";
import { TsgradError } from "../tensor/errors.js";

export interface Command {
  /** e.g. "train image" */
  name: string;
  summary: string;
  run(argv: string[]): Promise<number> | number;
}

/**
 * Command name → its module, which exports `command: Command`. Modules are loaded only when their
 * command runs, so `tsgrad --help` stays fast. (Literal `import()`s, so that both tsc's output and
 * a TypeScript loader resolve them.)
 */
const commands: Record<string, () => Promise<{ command: Command }>> = {
  info: () => import("./info.js"),
  "train image": () => import("./train-image.js"),
  "eval image": () => import("./eval-image.js"),
  classify: () => import("./classify.js"),
  "train lm": () => import("./train-lm.js"),
  sample: () => import("./sample.js"),
  "sweep scaling": () => import("./sweep-scaling.js"),
  "analyze scaling": () => import("./analyze-scaling.js"),
  "train translate": () => import("./train-translate.js"),
  translate: () => import("./translate.js"),
  "eval translate": () => import("./eval-translate.js"),
  "experiment weak-to-strong": () => import("./weak-to-strong.js"),
};

async function load(name: string): Promise<Command> {
  return (await commands[name]!()).command;
}

function topUsage(): string {
  return [
    "Usage: tsgrad <command> [flags]   (tsgrad <command> --help for its flags)",
    "",
    "Commands:",
    ...Object.keys(commands).map((c) => `  ${c}`),
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    console.log(topUsage());
    return 0;
  }
  // Longest match first: "train image" before "train".
  const names = Object.keys(commands).sort((a, b) => b.split(" ").length - a.split(" ").length);
  const name = names.find((n) => n.split(" ").every((w, i) => argv[i] === w));
  if (name === undefined) {
    console.error(`tsgrad: unknown command "${argv.slice(0, 2).join(" ")}"\n\n${topUsage()}`);
    return 2;
  }
  try {
    const cmd = await load(name);
    return await cmd.run(argv.slice(name.split(" ").length));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`tsgrad ${name}: ${e.message}`);
      return 2;
    }
    if (e instanceof TsgradError) {
      console.error(`tsgrad ${name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
