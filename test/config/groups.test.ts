import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, formatPath } from "../../config/errors";
import { loadRoster, parseRoster } from "../../config/groups";

const parse = (text: string) => () => parseRoster(text, "groups.yaml");

describe("formatPath", () => {
  it("joins names with dots and puts numbers in brackets", () => {
    expect(formatPath(["groups", "alpha", "users", 2, "email"])).toBe(
      "groups.alpha.users[2].email",
    );
  });

  it("starts with a bracket when the first segment is a number", () => {
    expect(formatPath([1, "weight"])).toBe("[1].weight");
  });

  it("prints a single name without a leading dot", () => {
    expect(formatPath(["a/b"])).toBe("a/b");
  });

  it("returns an empty string for an empty path", () => {
    expect(formatPath([])).toBe("");
  });

  it("prints a symbol segment by its description", () => {
    expect(formatPath(["root", Symbol("tag")])).toBe("root.Symbol(tag)");
  });
});

describe("parseRoster", () => {
  it("turns bare user names into objects and keeps object entries", () => {
    const text = [
      "event_id: hack-2026",
      "title: Spring hack",
      "groups:",
      "  alpha:",
      "    title: Team Alpha",
      "    rateLimitTokens: 800",
      "    users:",
      "      - alice",
      "      - name: bob",
      "        email: bob@example.org",
      "        rateLimitTokens: 1200",
      "  beta:",
      "    users: [carol]",
    ].join("\n");

    expect(parseRoster(text, "groups.yaml")).toEqual({
      event_id: "hack-2026",
      title: "Spring hack",
      groups: {
        alpha: {
          title: "Team Alpha",
          rateLimitTokens: 800,
          users: [
            { name: "alice" },
            { name: "bob", email: "bob@example.org", rateLimitTokens: 1200 },
          ],
        },
        beta: { users: [{ name: "carol" }] },
      },
    });
  });

  it("trims white space around group and user names", () => {
    const roster = parseRoster(
      "groups:\n  '  alpha ':\n    users: ['  bob  ', {name: ' eve '}]",
      "g",
    );

    expect(roster.groups).toEqual({ alpha: { users: [{ name: "bob" }, { name: "eve" }] } });
  });

  it("keeps inner white space and slashes in names", () => {
    const roster = parseRoster("groups:\n  team/x:\n    users: ['bob  smith']", "g");

    expect(roster.groups).toEqual({ "team/x": { users: [{ name: "bob  smith" }] } });
  });

  it("names the file and line of a YAML syntax error", () => {
    expect(parse("groups:\n  a: {users: [a]\n")).toThrow(
      "groups.yaml:3: not valid YAML (BAD_INDENT); fix the syntax there.",
    );
  });

  it("rejects a group defined twice", () => {
    expect(parse("groups:\n  a: {users: [a]}\n  a: {users: [b]}")).toThrow(
      "groups.yaml:3: not valid YAML (DUPLICATE_KEY); fix the syntax there.",
    );
  });

  it("keeps the YAML error as the cause", () => {
    let thrown: unknown;
    try {
      parseRoster("groups:\n  a: {users: [a]}\n  a: {users: [b]}", "groups.yaml");
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).name).toBe("ConfigError");
    expect((thrown as ConfigError).cause).toMatchObject({ code: "DUPLICATE_KEY" });
  });

  it("uses the given file name in messages", () => {
    expect(() => parseRoster("groups: {}", "rosters/spring.yaml")).toThrow(
      "rosters/spring.yaml: groups must define at least one group; correct the value.",
    );
  });

  it("rejects an empty file for lacking groups", () => {
    expect(parse("")).toThrow("groups.yaml: groups is missing; add it.");
  });

  it("rejects a document that is not a mapping", () => {
    expect(parse("hello")).toThrow(
      "groups.yaml: (top level) expected object, received string; correct the value.",
    );
  });

  it("rejects an unknown top-level field", () => {
    expect(parse("foo: 1\ngroups:\n  a: {users: [a]}")).toThrow(
      'groups.yaml: (top level) has unknown field "foo"; remove it or check its spelling.',
    );
  });

  it("rejects groups given as a list", () => {
    expect(parse("groups: [a]")).toThrow(
      "groups.yaml: groups expected object, received array; correct the value.",
    );
  });

  it("rejects an empty groups map", () => {
    expect(parse("groups: {}")).toThrow(
      "groups.yaml: groups must define at least one group; correct the value.",
    );
  });

  it("rejects a group with no body", () => {
    expect(parse("groups:\n  a:\n")).toThrow(
      "groups.yaml: groups.a expected object, received null; correct the value.",
    );
  });

  it("rejects an empty group name", () => {
    expect(parse("groups:\n  '': {users: [a]}")).toThrow(
      "groups.yaml: groups. group names must not be empty; correct the value.",
    );
  });

  it("rejects a group with an unknown field", () => {
    expect(parse("groups:\n  alpha:\n    colour: red\n    users: [a]")).toThrow(
      'groups.yaml: groups.alpha has unknown field "colour"; remove it or check its spelling.',
    );
  });

  it("rejects a group without users", () => {
    expect(parse("groups:\n  alpha:\n    users: []")).toThrow(
      "groups.yaml: groups.alpha.users must list at least one user; add the missing entries.",
    );
  });

  it("rejects a group title that is not a string", () => {
    expect(parse("groups:\n  a: {users: [a], title: 5}")).toThrow(
      "groups.yaml: groups.a.title expected string, received number; correct the value.",
    );
  });

  it("rejects a group limit of zero", () => {
    expect(parse("groups:\n  alpha:\n    rateLimitTokens: 0\n    users: [a]")).toThrow(
      "groups.yaml: groups.alpha.rateLimitTokens must be at least 1 token; correct the value.",
    );
  });

  it("rejects a group limit written as a string", () => {
    expect(parse("groups:\n  alpha:\n    rateLimitTokens: '100'\n    users: [a]")).toThrow(
      "groups.yaml: groups.alpha.rateLimitTokens must be a whole number of tokens; correct the value.",
    );
  });

  it("rejects a user entry with an unknown field", () => {
    expect(parse("groups:\n  alpha:\n    users: [{name: a, foo: 1}]")).toThrow(
      'groups.yaml: groups.alpha.users[0] has unknown field "foo"; remove it or check its spelling.',
    );
  });

  it("rejects a user email that is not an address", () => {
    expect(parse("groups:\n  alpha:\n    users: [a, {name: b, email: nope}]")).toThrow(
      "groups.yaml: groups.alpha.users[1].email must be an email address; correct the value.",
    );
  });

  it("rejects a user object with an empty name", () => {
    expect(parse("groups:\n  alpha:\n    users: [{name: '  '}]")).toThrow(
      "groups.yaml: groups.alpha.users[0].name must not be empty; correct the value.",
    );
  });

  it("rejects a user limit that is not a whole number", () => {
    expect(parse("groups:\n  alpha:\n    users: [{name: a, rateLimitTokens: 1.5}]")).toThrow(
      "groups.yaml: groups.alpha.users[0].rateLimitTokens must be a whole number of tokens; correct the value.",
    );
  });

  it("rejects a negative user limit", () => {
    expect(parse("groups:\n  alpha:\n    users: [{name: a, rateLimitTokens: -5}]")).toThrow(
      "groups.yaml: groups.alpha.users[0].rateLimitTokens must be at least 1 token; correct the value.",
    );
  });

  it.each([
    ["a number", "[5]"],
    ["an empty name", "['']"],
    ["an object without a name", "[{email: a@b.co}]"],
    ["a null entry", "[null]"],
    ["a user limit given as a string", "[{name: a, rateLimitTokens: '100'}]"],
  ])("rejects a user entry that is %s", (_label, users) => {
    expect(parse(`groups:\n  alpha:\n    users: ${users}`)).toThrow(
      "groups.yaml: groups.alpha.users[0] must be a user name or an object with name, email and rateLimitTokens; fix that entry.",
    );
  });

  it("reports the first problem only when there are several", () => {
    expect(parse("groups:\n  alpha:\n    users: [{name: a, foo: 1}, {name: b, email: x}]")).toThrow(
      'groups.yaml: groups.alpha.users[0] has unknown field "foo"; remove it or check its spelling.',
    );
  });
});

describe("loadRoster", () => {
  const dir = mkdtempSync(join(tmpdir(), "roster-test-"));

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads and parses the file at the path", () => {
    const file = join(dir, "groups.yaml");
    writeFileSync(file, "groups:\n  alpha:\n    users: [alice]\n");

    expect(loadRoster(file)).toEqual({ groups: { alpha: { users: [{ name: "alice" }] } } });
  });

  it("names the path in validation messages", () => {
    const file = join(dir, "empty-groups.yaml");
    writeFileSync(file, "groups: {}\n");

    expect(() => loadRoster(file)).toThrow(
      `${file}: groups must define at least one group; correct the value.`,
    );
  });

  it("explains how to fix a missing file", () => {
    const file = join(dir, "missing.yaml");

    expect(() => loadRoster(file)).toThrow(
      `${file}: cannot read the groups file (ENOENT); create it or set ai-gateway:groupsFile to its path.`,
    );
  });

  it("reports the error code when the path is a directory", () => {
    expect(() => loadRoster(dir)).toThrow(
      `${dir}: cannot read the groups file (EISDIR); create it or set ai-gateway:groupsFile to its path.`,
    );
  });

  it("keeps the file system error as the cause", () => {
    const file = join(dir, "missing.yaml");
    let thrown: unknown;
    try {
      loadRoster(file);
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).cause).toMatchObject({ code: "ENOENT" });
  });
});
