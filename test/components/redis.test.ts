import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  RedisArgs,
  redisCreateScript,
  redisDeleteScript,
  renderRedisConfig,
} from "../../components/redis";
import { serviceLibrary } from "../../components/shell";
import { bodyLines, syntaxErrors } from "./scripts";

const password = "sample-redis-password-4f9c2e";

/** Arguments with values unlike the defaults, so a test notices when one is ignored. */
function redisArgs(overrides: Partial<RedisArgs> = {}): RedisArgs {
  return {
    host: { label: "local" },
    baseDir: "/srv/gateway",
    port: 16379,
    password,
    packageName: "redis-server-7",
    healthTimeoutSeconds: 35,
    purge: false,
    ...overrides,
  };
}

describe("renderRedisConfig", () => {
  const lines = renderRedisConfig(redisArgs()).split("\n");

  it("binds to loopback with protected mode on the configured port", () => {
    expect(lines.slice(0, 3)).toEqual(["bind 127.0.0.1 -::1", "protected-mode yes", "port 16379"]);
  });

  it("runs in the foreground with data in its own directory and no persistence", () => {
    expect(lines.slice(3)).toEqual([
      "daemonize no",
      "dir /srv/gateway/redis",
      "appendonly no",
      'save ""',
      "",
    ]);
  });

  it("has no requirepass line and no password", () => {
    const text = renderRedisConfig(redisArgs());

    expect(text).not.toContain("requirepass");
    expect(text).not.toContain(password);
  });
});

describe("redisCreateScript", () => {
  const script = redisCreateScript(redisArgs());
  const lines = bodyLines(script);

  it("parses as POSIX sh", () => {
    expect(syntaxErrors(script)).toBe("");
  });

  it("reads the password from the first line of stdin before anything else", () => {
    expect(lines.slice(0, 5)).toEqual([
      "SERVICE='redis'",
      "HOST='local'",
      "",
      "IFS= read -r REDIS_PASSWORD || true",
      '[ -n "$REDIS_PASSWORD" ] || fail "redis on $HOST: no password arrived on stdin"',
    ]);
  });

  it("never contains the password", () => {
    expect(script).not.toContain(password);
    expect(redisDeleteScript(redisArgs())).not.toContain(password);
  });

  it("installs the configured package", () => {
    expect(lines).toContain("ensure_package 'redis-server-7' redis-server.service");
  });

  it("starts redis-server as user redis, restarting when the config changed", () => {
    expect(lines).toContain(
      "start_service redis redis \"$changed\" '/srv/gateway/run' '/srv/gateway/log' " +
        "/usr/bin/redis-server '/srv/gateway/conf/redis.conf'",
    );
  });

  it("pings the configured port with the password from the environment, last", () => {
    expect(lines.slice(-2)).toEqual([
      'export REDISCLI_AUTH="$REDIS_PASSWORD"',
      "wait_healthy 35 sh -c 'out=$(timeout 3 redis-cli -h 127.0.0.1 -p 16379 ping 2>&1); " +
        `[ "$out" = PONG ] || { printf '\\''%s'\\'' "$out"; exit 1; }'`,
    ]);
  });
});

describe("redisCreateScript config step", () => {
  let dir: string | undefined;

  beforeAll(() => {
    // The step writes the file for the redis user, which the redis-server package creates.
    const uid = spawnSync("id", ["-u", "redis"], { encoding: "utf8" });
    if (uid.status !== 0)
      throw new Error("these tests need a user named redis; install redis-server");
    if (process.getuid?.() !== 0) throw new Error("these tests chown files and must run as root");
  });

  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /**
   * Runs the script up to start_service (without ensure_package) with baseDir in a temp dir, so
   * the password read from stdin and the config file can be checked on disk.
   */
  function runConfigStep(stdin: string) {
    dir ??= mkdtempSync(join(tmpdir(), "redis-config-"));
    const args = redisArgs({ baseDir: dir });
    const lines = bodyLines(redisCreateScript(args));
    const step = lines
      .slice(
        0,
        lines.findIndex((line) => line.startsWith("start_service ")),
      )
      .filter((line) => !line.startsWith("ensure_package "));
    const script = `${serviceLibrary}${step.join("\n")}\nprintf 'changed=%s\\n' "$changed"\n`;
    const result = spawnSync("/bin/sh", ["-c", script], { input: stdin, encoding: "utf8" });
    return { ...result, conf: join(dir, "conf", "redis.conf"), args };
  }

  it("writes the config plus the password from stdin, mode 600, owned by redis", () => {
    const run = runConfigStep(`${password}\n`);

    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`wrote ${run.conf}\nchanged=yes\n`);
    expect(readFileSync(run.conf, "utf8")).toBe(
      `${renderRedisConfig(run.args)}requirepass "${password}"\n`,
    );
    const stat = statSync(run.conf);
    expect(stat.mode & 0o777).toBe(0o600);
    expect(stat.uid).toBe(Number(execFileSync("id", ["-u", "redis"], { encoding: "utf8" })));
  });

  it("reports no change when the same password arrives again", () => {
    runConfigStep(`${password}\n`);

    const again = runConfigStep(`${password}\n`);

    expect(again.status).toBe(0);
    expect(again.stdout).toBe("changed=no\n");
  });

  it("rewrites the config when the password changes", () => {
    runConfigStep(`${password}\n`);

    const rotated = runConfigStep("rotated-password\n");

    expect(rotated.stdout).toBe(`wrote ${rotated.conf}\nchanged=yes\n`);
    expect(readFileSync(rotated.conf, "utf8")).toContain('requirepass "rotated-password"\n');
  });

  it("uses only the first line of stdin", () => {
    const run = runConfigStep(`${password}\nsecond line\n`);

    expect(readFileSync(run.conf, "utf8").endsWith(`\nrequirepass "${password}"\n`)).toBe(true);
  });

  it("quotes a configured password with spaces, quotes and backslashes so redis.conf parses", () => {
    const run = runConfigStep('two words "quoted" back\\slash\n');

    expect(readFileSync(run.conf, "utf8")).toContain(
      'requirepass "two words \\"quoted\\" back\\\\slash"\n',
    );
  });

  it("rejects empty stdin", () => {
    const run = runConfigStep("");

    expect(run.status).toBe(1);
    expect(run.stderr).toBe("redis on local: no password arrived on stdin\n");
    expect(run.stdout).toBe("");
  });
});

describe("redisDeleteScript", () => {
  it("stops the service and removes its config, keeping data and package without purge", () => {
    expect(bodyLines(redisDeleteScript(redisArgs({ purge: false })))).toEqual([
      "SERVICE='redis'",
      "HOST='local'",
      "",
      "stop_service redis '/srv/gateway/run'",
      "rm -f '/srv/gateway/conf/redis.conf'",
    ]);
  });

  it("also removes the data directory and purges the package with purge", () => {
    expect(bodyLines(redisDeleteScript(redisArgs({ purge: true }))).slice(3)).toEqual([
      "stop_service redis '/srv/gateway/run'",
      "rm -f '/srv/gateway/conf/redis.conf'",
      "rm -rf '/srv/gateway/redis'",
      "apt-get purge -y -q 'redis-server-7' >/dev/null",
    ]);
  });

  it("parses as POSIX sh with and without purge", () => {
    expect(syntaxErrors(redisDeleteScript(redisArgs({ purge: false })))).toBe("");
    expect(syntaxErrors(redisDeleteScript(redisArgs({ purge: true })))).toBe("");
  });
});
