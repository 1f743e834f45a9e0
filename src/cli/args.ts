/**
 * A small typed flag parser: each command declares its flags with types, defaults and help text
 * (the defaults are the schema). Unknown flags and malformed values are errors, never ignored.
 */

export type FlagType = "string" | "number" | "int" | "boolean" | "list";

export interface FlagSpec {
  type: FlagType;
  help: string;
  default?: string | number | boolean | string[];
  /** For string flags: the allowed values. */
  choices?: readonly string[];
}

export type FlagSpecs = Record<string, FlagSpec>;

type ValueOf<F extends FlagSpec> = F["type"] extends "number" | "int"
  ? number
  : F["type"] extends "boolean"
    ? boolean
    : F["type"] extends "list"
      ? string[]
      : string;

export type Flags<S extends FlagSpecs> = {
  [K in keyof S]: S[K]["default"] extends undefined ? ValueOf<S[K]> | undefined : ValueOf<S[K]>;
};

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());

/** Usage text for a command. */
export function usage(command: string, summary: string, specs: FlagSpecs, positional = ""): string {
  const lines = [
    `Usage: tsgrad ${command}${positional ? " " + positional : ""} [flags]`,
    "",
    summary,
    "",
    "Flags:",
  ];
  for (const [name, s] of Object.entries(specs)) {
    const flag = `--${kebab(name)}${s.type === "boolean" ? "" : ` <${s.choices ? s.choices.join("|") : s.type}>`}`;
    const def =
      s.default === undefined
        ? ""
        : ` (default: ${Array.isArray(s.default) ? s.default.join(",") : String(s.default)})`;
    lines.push(`  ${flag.padEnd(34)} ${s.help}${def}`);
  }
  lines.push(`  ${"--help".padEnd(34)} show this help`);
  return lines.join("\n");
}

/** Parse `argv` against `specs`; returns typed flags, positionals, and whether --help was asked. */
export function parseFlags<S extends FlagSpecs>(
  argv: readonly string[],
  specs: S,
): { flags: Flags<S>; positionals: string[]; help: boolean } {
  const byKebab = new Map(Object.keys(specs).map((k) => [kebab(k), k]));
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(specs)) if (s.default !== undefined) out[k] = s.default;
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    let name = arg.slice(2, eq < 0 ? undefined : eq);
    let negated = false;
    if (
      !byKebab.has(name) &&
      name.startsWith("no-") &&
      specs[byKebab.get(name.slice(3)) ?? ""]?.type === "boolean"
    ) {
      name = name.slice(3);
      negated = true;
    }
    const key = byKebab.get(name);
    if (key === undefined) {
      const known = [...byKebab.keys()].map((k) => "--" + k).join(", ");
      throw new UsageError(`unknown flag --${name} (known flags: ${known}, --help)`);
    }
    const spec = specs[key]!;
    if (spec.type === "boolean") {
      if (eq >= 0) {
        const v = arg.slice(eq + 1);
        if (v !== "true" && v !== "false") {
          throw new UsageError(`--${name} takes true or false, got "${v}"`);
        }
        out[key] = v === "true";
      } else out[key] = !negated;
      continue;
    }
    const raw = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    out[key] = convert(name, spec, raw);
  }
  return { flags: out as Flags<S>, positionals, help };
}

function convert(name: string, spec: FlagSpec, raw: string): unknown {
  switch (spec.type) {
    case "number":
    case "int": {
      const v = Number(raw);
      if (
        raw.trim() === "" ||
        !Number.isFinite(v) ||
        (spec.type === "int" && !Number.isInteger(v))
      ) {
        throw new UsageError(
          `--${name} takes ${spec.type === "int" ? "an integer" : "a number"}, got "${raw}"`,
        );
      }
      return v;
    }
    case "list":
      return raw
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    case "string":
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new UsageError(`--${name} must be one of ${spec.choices.join(", ")}, got "${raw}"`);
      }
      return raw;
    default:
      return raw;
  }
}
