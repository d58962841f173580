import { describe, expect, it } from "vitest";

import { findUnstorableText, REPLACEMENT_CHARACTER, toStorableJson, unstorableTextProblem } from "./storable-text";

const GRINNING_FACE = "\ud83d\ude00";

describe("unstorableTextProblem", () => {
  it("accepts ordinary text, including characters outside the Basic Multilingual Plane", () => {
    expect(unstorableTextProblem("Ana Lima")).toBeNull();
    expect(unstorableTextProblem(`great service ${GRINNING_FACE}`)).toBeNull();
    expect(unstorableTextProblem("")).toBeNull();
  });

  it("names the NUL character and an unpaired surrogate, high or low", () => {
    expect(unstorableTextProblem("Pat\u0000Provider")).toMatch(/NUL/);
    expect(unstorableTextProblem("cancelled \ud800")).toMatch(/unpaired UTF-16 surrogate/);
    expect(unstorableTextProblem("\ude00 first")).toMatch(/unpaired UTF-16 surrogate/);
    // Two halves in the wrong order are two unpaired halves.
    expect(unstorableTextProblem("\ude00\ud83d")).toMatch(/unpaired UTF-16 surrogate/);
  });
});

describe("findUnstorableText", () => {
  it("lists every string and field name that cannot be stored, by path", () => {
    const body = {
      id: "evt_1",
      data: {
        provider: { name: "Pat\u0000Provider", email: "pat@example.test" },
        reason: "x\ud800",
        items: ["ok", "\u0000"],
        ["bad\u0000key"]: 1,
      },
    };
    expect(findUnstorableText(body)).toEqual([
      { path: "data.provider.name", message: expect.stringMatching(/NUL/) },
      { path: "data.reason", message: expect.stringMatching(/surrogate/) },
      { path: "data.items.1", message: expect.stringMatching(/NUL/) },
      { path: `data.bad${REPLACEMENT_CHARACTER}key`, message: expect.stringMatching(/^field name .*NUL/) },
    ]);
    expect(findUnstorableText({ a: [1, true, null, { b: GRINNING_FACE }] })).toEqual([]);
  });
});

describe("toStorableJson", () => {
  it("returns the value itself when everything can be stored", () => {
    const value = { a: { b: ["c", 1] } };
    expect(toStorableJson(value)).toEqual({ value, replaced: [] });
    expect(toStorableJson(value).value).toBe(value);
  });

  it("replaces what cannot be stored with U+FFFD, in strings and field names, and keeps everything else", () => {
    const value = {
      id: "evt_1",
      data: { object: { description: "a\u0000b\ud800c", name: GRINNING_FACE, ["k\u0000"]: "v", __proto__field: 1 } },
    };
    const { value: stored, replaced } = toStorableJson(value);
    expect(stored).toEqual({
      id: "evt_1",
      data: { object: { description: "a\uFFFDb\uFFFDc", name: GRINNING_FACE, ["k\uFFFD"]: "v", __proto__field: 1 } },
    });
    expect(replaced).toEqual(["data.object.description", "data.object.k\uFFFD"]);
    expect(findUnstorableText(stored)).toEqual([]);
    // The input is not changed.
    expect(value.data.object.description).toBe("a\u0000b\ud800c");
  });

  it("keeps a field named __proto__ as a field", () => {
    const parsed = JSON.parse('{"__proto__": {"x": "\\u0000"}}') as Record<string, unknown>;
    const { value } = toStorableJson(parsed);
    expect(Object.keys(value)).toEqual(["__proto__"]);
    expect(JSON.stringify(value)).toBe('{"__proto__":{"x":"\uFFFD"}}');
  });
});
