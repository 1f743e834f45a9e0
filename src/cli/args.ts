/**
 * A small typed flag parser: each command declares its flags with types, defaults and help text
 * (the defaults are the schema). Unknown flags and malformed values are errors, never ignored.
 *
 * Numbers are checked here, for every command alike: a value must parse completely and be finite,
 * an "int" must also be a safe integer (so 99999999999999999999, which parses to 1e20, is refused
 * rather than looping or allocating forever), and both must lie in the flag's declared range —
 * by default an int is non-negative and a number unbounded. A violation is a `UsageError` naming
 * the flag, the value given and the allowed range (exit code 2, no stack trace).
 */

export type FlagType = "string" | "number" | "int" | "boolean" | "list";

export interface FlagSpec {
  type: FlagType;
  help: string;
  default?: string | number | boolean | string[];
  /** For string flags: the allowed values. */
  choices?: readonly string[];
  /** For number and int flags: the smallest allowed value (ints default to 0). */
  min?: number;
  /** For number and int flags: the largest allowed value (default: none beyond safe integers). */
  max?: number;
  /** For number flags: `min` itself is not allowed (a learning rate must be > 0). */
  exclusiveMin?: boolean;
  /** For number flags: `max` itself is not allowed (a dropout probability must be < 1). */
  exclusiveMax?: boolean;
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

/** The allowed range of a number or int flag, with the defaults filled in. */
function range(spec: FlagSpec) {
  const int = spec.type === "int";
  return {
    min: spec.min ?? (int ? 0 : -Infinity),
    max: spec.max ?? (int ? Number.MAX_SAFE_INTEGER : Infinity),
    exclusiveMin: spec.exclusiveMin === true,
    exclusiveMax: spec.exclusiveMax === true,
  };
}

/** A range as the help and the errors write it: "[1, 1000]", "(0, 10]", ">= 0", "" (any). */
function rangeText(spec: FlagSpec): string {
  const { min, max, exclusiveMin, exclusiveMax } = range(spec);
  const hiOpen = max === Infinity || max === Number.MAX_SAFE_INTEGER;
  if (min === -Infinity) return hiOpen ? "" : `${exclusiveMax ? "<" : "<="} ${max}`;
  if (hiOpen) return `${exclusiveMin ? ">" : ">="} ${min}`;
  return `${exclusiveMin ? "(" : "["}${min}, ${max}${exclusiveMax ? ")" : "]"}`;
}

/**
 * null when `v` is a valid value of the number or int flag `spec`; otherwise what the flag takes
 * ("an integer 1..100000"), for an error message. Also checks values from `--config` files.
 */
export function outOfRange(spec: FlagSpec, v: unknown): string | null {
  const int = spec.type === "int";
  const bounds = rangeText(spec);
  const wanted = `${int ? "an integer" : "a number"}${bounds ? ` ${bounds.startsWith("[") || bounds.startsWith("(") ? "in " : ""}${bounds}` : ""}`;
  if (typeof v !== "number" || !Number.isFinite(v)) return wanted;
  const { min, max, exclusiveMin, exclusiveMax } = range(spec);
  if (int && !Number.isSafeInteger(v)) return wanted;
  if (v < min || (exclusiveMin && v === min) || v > max || (exclusiveMax && v === max)) {
    return wanted;
  }
  return null;
}

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
    const numeric = s.type === "number" || s.type === "int";
    const allowed = numeric && rangeText(s) ? ` [allowed: ${rangeText(s)}]` : "";
    const def =
      s.default === undefined
        ? ""
        : ` (default: ${Array.isArray(s.default) ? s.default.join(",") : String(s.default)})`;
    lines.push(`  ${flag.padEnd(34)} ${s.help}${def}${allowed}`);
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
      const v = raw.trim() === "" ? NaN : Number(raw);
      const wanted = outOfRange(spec, v);
      if (wanted !== null) throw new UsageError(`--${name} takes ${wanted}, got "${raw}"`);
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
