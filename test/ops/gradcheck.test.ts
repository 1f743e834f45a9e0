import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { gradcheck, makeInputs } from "../helpers/gradcheck.js";
import { primSpecs, type PrimSpec } from "../op-specs.js";

const prims = Object.keys(tg.rules) as tg.Prim[];

describe("the primitive table", () => {
  it("has a spec row for every primitive", () => {
    const missing = prims.filter((p) => !(primSpecs[p]?.length > 0));
    expect(missing).toEqual([]);
  });

  it("stays a small closed set", () => {
    // The design budget (docs/architecture.md): a new primitive must earn its place.
    expect(prims.length).toBeLessThanOrEqual(41);
  });
});

describe.each(prims)("primitive %s", (prim) => {
  const specs = primSpecs[prim] as PrimSpec<typeof prim>[];
  const rule = tg.rules[prim];
  it.each(specs.map((s) => [s.name, s] as const))(
    "%s: autodiff matches central differences in float64",
    (_name, spec) => {
      const f = (xs: tg.Tensor[]) => tg.run(prim, xs, spec.params);
      if (rule.vjp === null) {
        // Non-differentiable (comparisons, argmax, pooling indices): never on the tape.
        const xs = makeInputs(spec.inputs, "float64", 1).map((t, i) => {
          const leaf = t.dtype === "float64" ? t.requiresGrad_() : t;
          return spec.inputs[i]!.view ? spec.inputs[i]!.view(leaf) : leaf;
        });
        expect(f(xs).requiresGrad).toBe(false);
        return;
      }
      const probe = f(
        makeInputs(spec.inputs, "float64", 1).map((t, i) =>
          spec.inputs[i]!.view ? spec.inputs[i]!.view(t) : t,
        ),
      );
      if (probe.dtype !== "float64") {
        // Casts to float32/int/bool: finite differences are meaningless at that precision.
        return;
      }
      const r = gradcheck(`${prim} ${spec.name}`, f, spec.inputs);
      expect(r.checked).toBeGreaterThan(0);
    },
  );
});
