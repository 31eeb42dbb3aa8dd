import { pythonJsonDumps } from "../../src/storage/pythonJsonDumps";

describe("pythonJsonDumps", () => {
  it("writes what Python's json.dumps writes: its spacing, and escapes for everything after ~", () => {
    // python3 -c 'import json; print(json.dumps({"a": ["\U0001F600", "a\x7f\u2028\n\"\\\x01"], "b": []}))'
    expect(pythonJsonDumps({ a: ["\u{1F600}", 'a\x7f\u2028\n"\\\x01'], b: [] })).toBe(
      '{"a": ["\\ud83d\\ude00", "a\\u007f\\u2028\\n\\"\\\\\\u0001"], "b": []}',
    );
  });

  it("refuses values a manifest never holds", () => {
    expect(() => pythonJsonDumps(1)).toThrow(TypeError);
    expect(() => pythonJsonDumps(new Map())).toThrow("not object");
  });
});
