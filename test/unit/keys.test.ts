import { getValidName, InMemoryStorage, InvalidKeyError, Storage, type StorageDriver, validateKey } from "../../src";
import { MemoryDriver } from "../../src/drivers/memory/MemoryDriver";
import { getAlternativeName, splitKey } from "../../src/keys/getAlternativeName";
import { getAvailableOverwriteName } from "../../src/keys/getAvailableOverwriteName";

/** Filenames an attacker or a careless client may send. */
const HOSTILE = [
  "../../etc/passwd",
  "..\\..\\windows\\system32\\config",
  "/etc/shadow",
  "C:\\boot.ini",
  "a/../../b.txt",
  "nul\u0000byte.txt",
  "bell\u0007.txt",
  "new\nline.txt",
  "tab\tname.txt",
  "..",
  ".",
  "....//....//x",
  "%2e%2e%2fescape.txt",
  "ünïcödé 日本語.pdf",
  "‮fdp.exe",
  "<script>alert(1)</script>.html",
  `${"a".repeat(5000)}.txt`,
  " spaced  out .txt ",
  "CON",
  "emoji 😀.png",
];

describe("getValidName", () => {
  it("cleans or refuses every hostile filename, and nothing it returns can escape", () => {
    for (const name of HOSTILE) {
      let cleaned: string;
      try {
        cleaned = getValidName(name);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidKeyError);
        continue;
      }
      // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting none survive
      expect(cleaned).not.toMatch(/[/\\\u0000-\u001f\u007f]/);
      expect(cleaned).not.toBe("..");
      expect(cleaned).not.toBe(".");
      expect(() => validateKey(cleaned.slice(0, 200))).not.toThrow();
    }
  });

  it("keeps letters, digits, dashes, underscores and dots, as Django does", () => {
    expect(getValidName("../../My Report (final).pdf")).toBe("My_Report_final.pdf");
    expect(getValidName("C:\\Users\\me\\photo.JPG")).toBe("photo.JPG");
    expect(getValidName("ünïcödé 日本語.pdf")).toBe("ünïcödé_日本語.pdf");
    expect(getValidName("<script>alert(1)</script>.html")).toBe("script.html");
    expect(() => getValidName("..")).toThrow(/Could not derive a valid file name/);
    expect(() => getValidName("///")).toThrow(InvalidKeyError);
  });
});

describe("validateKey", () => {
  it("refuses traversal, absolute paths, backslashes, control characters and overlong keys", () => {
    const refused = [
      "",
      "../x",
      "a/../b",
      "./a",
      "/a",
      "a\\b",
      "a\u0000",
      "a\u001fb",
      "a\u007f",
      "a//b",
      "a/",
      `${"é".repeat(513)}`,
      "a\uD800",
      "\uDC00/b",
      "a\uDE00\uD83D",
      `${"a".repeat(400)}\uD800`,
    ];
    for (const key of refused) expect(() => validateKey(key)).toThrow(InvalidKeyError);
    expect(() => validateKey("users/a\uD800/photo.txt")).toThrow(
      'Invalid key "users/a\\ud800/photo.txt": unpaired UTF-16 surrogates cannot be stored (they are not UTF-8): ' +
        "replace them before building the key.",
    );
    expect(() => validateKey(42)).toThrow(/must be a string/);
  });

  it("accepts ordinary nested keys with unicode and punctuation", () => {
    for (const key of [
      "a.txt",
      "a/b/c.pdf",
      "ünï/日本語 ファイル.txt",
      "x+y z%20.txt",
      "..hidden/...dots",
      "a😀/b😀",
    ]) {
      expect(validateKey(key)).toBe(key);
    }
  });
});

describe("alternative and available names", () => {
  it("appends an underscore and 7 random characters before the extension", () => {
    expect(getAlternativeName("dir/report.pdf")).toMatch(/^dir\/report_[A-Za-z0-9]{7}\.pdf$/);
    expect(getAlternativeName("noext")).toMatch(/^noext_[A-Za-z0-9]{7}$/);
    expect(splitKey("a/b/.env")).toEqual(["a/b/", ".env", ""]);
  });

  it("keeps every extension after the suffix, from the first dot past the leading dots (Django 5.1+, pathlib's suffixes)", () => {
    const suffix = "_[A-Za-z0-9]{7}";
    const cases: [name: string, pattern: string][] = [
      ["up/archive.tar.gz", `^up/archive${suffix}\\.tar\\.gz$`],
      ["v1.2.3-final.tar.gz", `^v1${suffix}\\.2\\.3-final\\.tar\\.gz$`],
      [".bashrc", `^\\.bashrc${suffix}$`],
      ["cfg/.bashrc.bak", `^cfg/\\.bashrc${suffix}\\.bak$`],
      ["..a", `^\\.\\.a${suffix}$`],
      ["a..b", `^a${suffix}\\.\\.b$`],
      // Python 3.14's pathlib: a trailing dot is a suffix too (3.13 and older gave "a._XXXXXXX")
      ["a.", `^a${suffix}\\.$`],
      ["dir.d/noext", `^dir\\.d/noext${suffix}$`],
    ];
    for (const [name, pattern] of cases) expect(getAlternativeName(name)).toMatch(new RegExp(pattern));
    expect(splitKey("a/b.d/c.tar.gz")).toEqual(["a/b.d/", "c", ".tar.gz"]);
    expect(splitKey("...")).toEqual(["", "...", ""]);
  });

  it("truncates the stem to fit maxLength, and fails clearly when nothing is left", () => {
    const alt = getAlternativeName(`d/${"x".repeat(50)}.txt`, 30);
    expect([...alt].length).toBe(30);
    expect(() => getAlternativeName("dir/long-enough.txt", 12)).toThrow(/raise the field's maxLength/);
  });

  it("truncates only the stem before all the extensions, and refuses when they leave no room for it", () => {
    const alt = getAlternativeName(`d/${"x".repeat(50)}.tar.gz`, 30);
    expect(alt).toMatch(/^d\/x{13}_[A-Za-z0-9]{7}\.tar\.gz$/);
    // "d/v1_XXXXXXX.2.3-final.tar.gz" is 29 characters: the 2-character stem cannot lose 9
    expect(() => getAlternativeName("d/v1.2.3-final.tar.gz", 20)).toThrow(InvalidKeyError);
    expect(getAvailableOverwriteName(`d/${"x".repeat(50)}.tar.gz`, 20)).toBe(`d/${"x".repeat(11)}.tar.gz`);
    expect(() => getAvailableOverwriteName("d/v1.2.3-final.tar.gz", 19)).toThrow(/directory and extension/);
  });

  it("builds every alternative from the name asked for, as Django does, when an alternative is taken too", async () => {
    const memory = new MemoryDriver();
    // a backend on which the name, then its first alternative, turn out taken at write time
    const driver: StorageDriver = {
      kind: "memory",
      publicUrls: false,
      write: (key, body, options) => memory.write(options.alternativeKey(options.alternativeKey(key)), body, options),
      open: (key, range) => memory.open(key, range),
      stat: (key) => memory.stat(key),
      delete: (key) => memory.delete(key),
      list: (prefix) => memory.list(prefix),
      url: (key) => memory.url(key),
    };
    const storage = new Storage(driver);
    expect(await storage.save("up/pack.tar.gz", "x")).toMatch(/^up\/pack_[A-Za-z0-9]{7}\.tar\.gz$/);
  });

  it("getAvailableName returns a free name (Django's get_available_name)", async () => {
    const storage = new InMemoryStorage();
    expect(await storage.getAvailableName("a/b.txt")).toBe("a/b.txt");
    await storage.save("a/b.txt", "x");
    expect(await storage.getAvailableName("a/b.txt")).toMatch(/^a\/b_[A-Za-z0-9]{7}\.txt$/);
    expect(storage.generateFilename("up/2026/My File.txt")).toBe("up/2026/My_File.txt");
    expect(() => storage.generateFilename("up/../../etc/passwd")).toThrow(InvalidKeyError);
  });

  it("generateFilename normalises the directory as Django's os.path.normpath does, and still refuses what no key may hold", () => {
    const storage = new InMemoryStorage();
    expect(storage.generateFilename("a//b.txt")).toBe("a/b.txt");
    expect(storage.generateFilename("./a.txt")).toBe("a.txt");
    expect(storage.generateFilename("up/./2026//My File.txt")).toBe("up/2026/My_File.txt");
    expect(storage.generateFilename("up\\.\\x y.txt")).toBe("up/x_y.txt");
    expect(storage.generateFilename("..hidden/...dots")).toBe("..hidden/...dots");
    for (const refused of [
      "../x.txt",
      "up/../../etc/passwd",
      "a/./../b.txt",
      "/etc/passwd",
      "//host/x.txt",
      "a/b/..",
      "a/b/.",
      "a/",
      "./",
      "a/\u0000/b.txt",
      "a\uD800/b.txt",
    ])
      expect(() => storage.generateFilename(refused)).toThrow(InvalidKeyError);
    expect(() => storage.generateFilename("a/../b.txt")).toThrow(/'\.' and '\.\.' segments are not allowed/);
    expect(() => storage.generateFilename("/etc/passwd")).toThrow(/absolute paths are not allowed/);
  });

  it("getAvailableName on a storage that overwrites gives the name save() writes: the name, its stem shortened to fit (django-storages)", async () => {
    const storage = new InMemoryStorage({ fileOverwrite: true });
    await storage.save("a/b.txt", "x");
    expect(await storage.getAvailableName("a/b.txt")).toBe("a/b.txt");
    const long = `a/${"é".repeat(30)}.txt`;
    await storage.save(long, "x", { maxLength: 20 });
    const available = await storage.getAvailableName(long, 20);
    expect(available).toBe(`a/${"é".repeat(14)}.txt`);
    expect(await storage.save(long, "y", { maxLength: 20 })).toBe(available);
    await expect(storage.getAvailableName("a/b.txt", 5)).rejects.toBeInstanceOf(InvalidKeyError);
  });

  it("shortens a name over 1024 UTF-8 bytes to maxLength, as Django truncates any name too long, and refuses it only without a maxLength that fits", async () => {
    for (const overwrite of [false, true]) {
      const storage = new InMemoryStorage({ fileOverwrite: overwrite });
      const ascii = await storage.save(`up/${"a".repeat(2000)}.txt`, "x", { maxLength: 100 });
      expect(ascii).toMatch(/^up\/a+(_[A-Za-z0-9]{7})?\.txt$/);
      expect([...ascii].length).toBeLessThanOrEqual(100);
      const wide = await storage.save(`up/${"語".repeat(400)}.txt`, "x", { maxLength: 255 });
      expect(wide.startsWith("up/語")).toBe(true);
      expect([...wide].length).toBeLessThanOrEqual(255);
      expect(await storage.getAvailableName(`up/${"b".repeat(2000)}.txt`, 50)).toMatch(/^up\/b+/);
      // no maxLength, or one that leaves the name over the byte limit: nothing to shorten it to
      await expect(storage.save(`up/${"c".repeat(2000)}.txt`, "x")).rejects.toThrow(/1024 UTF-8 bytes/);
      await expect(storage.save(`up/${"語".repeat(400)}.txt`, "x", { maxLength: 380 })).rejects.toThrow(
        /1024 UTF-8 bytes/,
      );
      // the other rules still hold before any shortening
      await expect(storage.save(`../${"d".repeat(2000)}.txt`, "x", { maxLength: 100 })).rejects.toThrow(/'\.\.'/);
    }
  });
});
