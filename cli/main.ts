/**
 * The `tsgrad` command line: dispatches to one module per command. Each command parses its own
 * flags (unknown flags are errors) and answers `--help`.
 */
import { UsageError } from "./args.ts";
import { TsgradError } from "../src/index.ts";

export interface Command {
  /** e.g. "train image" */
  name: string;
  summary: string;
  run(argv: string[]): Promise<number> | number;
}

/**
 * Command name → module (relative to this file) exporting `command: Command`. Modules are loaded
 * only when their command runs, so `tsgrad --help` stays fast.
 */
const commands: Record<string, string> = {
  info: "./info.ts",
  "train image": "./train-image.ts",
  "eval image": "./eval-image.ts",
  classify: "./classify.ts",
  "train lm": "./train-lm.ts",
  sample: "./sample.ts",
  "sweep scaling": "./sweep-scaling.ts",
  "analyze scaling": "./analyze-scaling.ts",
  "train translate": "./train-translate.ts",
  translate: "./translate.ts",
  "eval translate": "./eval-translate.ts",
  "experiment weak-to-strong": "./weak-to-strong.ts",
};

async function load(name: string): Promise<Command> {
  const mod = (await import(new URL(commands[name]!, import.meta.url).href)) as {
    command: Command;
  };
  return mod.command;
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
