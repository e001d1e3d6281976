import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { scriptHeader, serviceLibrary, servicePaths, shellQuote } from "../../components/shell";

const nobodyUid = 65534;

let dir: string;
/** Process groups of daemons the tests started; killed after each test whatever happened. */
const groups = new Set<number>();

/** Runs `calls` after the library with SERVICE=x and HOST=y, in the test's temp dir. */
function sh(calls: string, input = "") {
  return spawnSync("/bin/sh", ["-c", `${serviceLibrary}SERVICE=x HOST=y\n${calls}`], {
    cwd: dir,
    input,
    encoding: "utf8",
    timeout: 60_000,
  });
}

interface ProcessInfo {
  pid: number;
  state: string;
  pgid: number;
  uid: number;
  cmdline: string;
}

/** Reads a process from /proc; undefined when it is gone. */
function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name in parentheses may hold spaces; the fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    return { pid, state: fields[0], pgid: Number(fields[2]), uid, cmdline };
  } catch {
    return undefined;
  }
}

/** Live (not zombie) processes of a process group. */
function groupMembers(pgid: number): ProcessInfo[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => processInfo(Number(entry)))
    .filter((info): info is ProcessInfo => !!info && info.pgid === pgid && info.state !== "Z");
}

/** Polls until `probe` returns a value, for at most `ms`. */
async function waitFor<T>(probe: () => T | undefined, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The daemon's pid from its pid file, remembered for cleanup. */
function daemonPid(name = "t"): number {
  const pid = Number(readFileSync(join(dir, "run", `${name}.pid`), "utf8").trim());
  groups.add(pid);
  return pid;
}

/** The `sleep` process a daemon runs, once runuser has started it. */
function sleeper(pgid: number): Promise<ProcessInfo> {
  return waitFor(() => groupMembers(pgid).find((info) => info.cmdline.startsWith("/bin/sleep ")));
}

function killGroups(): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  groups.clear();
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "shell-lib-"));
});

afterEach(() => {
  if (existsSync(join(dir, "run", "t.pid"))) daemonPid();
  killGroups();
  rmSync(dir, { recursive: true, force: true });
});

afterAll(killGroups);

describe("shellQuote", () => {
  it("wraps a value in single quotes", () => {
    expect(shellQuote("/var/lib/ai-gateway")).toBe("'/var/lib/ai-gateway'");
  });

  it("quotes a number", () => {
    expect(shellQuote(9080)).toBe("'9080'");
  });

  it("closes, escapes and reopens around a single quote", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it("gives sh back the exact value, quotes and expansions included", () => {
    const values = [
      "it's",
      "''",
      "a'b'c",
      '"$HOME" `id` $(id) \\n',
      "line\nbreak",
      "",
      "; rm -rf /",
    ];

    for (const value of values) {
      const result = spawnSync("/bin/sh", ["-c", `printf '%s' ${shellQuote(value)}`], {
        encoding: "utf8",
      });
      expect(result.stdout).toBe(value);
    }
  });
});

describe("servicePaths", () => {
  it("shares conf, run and log and gives each service its own data folder", () => {
    expect(servicePaths("/srv/gw", "etcd")).toEqual({
      conf: "/srv/gw/conf",
      data: "/srv/gw/etcd",
      run: "/srv/gw/run",
      log: "/srv/gw/log",
    });
  });
});

describe("scriptHeader", () => {
  it("appends quoted SERVICE and HOST lines to the library", () => {
    expect(scriptHeader("redis", "o'neil@host:22")).toBe(
      `${serviceLibrary}SERVICE='redis'\nHOST='o'\\''neil@host:22'\n`,
    );
  });
});

describe("install_file", () => {
  const install = (file: string) =>
    `rc=0; install_file ${shellQuote(file)} 640 nobody:nogroup || rc=$?; echo "rc=$rc"`;

  it("writes a new file with the mode and owner and returns 0", () => {
    const file = join(dir, "conf", "a.conf");

    const result = sh(install(file), "first\n");

    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`wrote ${file}\nrc=0\n`);
    expect(readFileSync(file, "utf8")).toBe("first\n");
    const stat = statSync(file);
    expect(stat.mode & 0o777).toBe(0o640);
    expect(stat.uid).toBe(nobodyUid);
    expect(stat.gid).toBe(nobodyUid);
  });

  it("returns 1 and leaves the file alone when the content is the same", () => {
    const file = join(dir, "conf", "a.conf");
    sh(install(file), "first\n");
    const before = statSync(file);

    const result = sh(install(file), "first\n");

    expect(result.stdout).toBe("rc=1\n");
    expect(statSync(file).ino).toBe(before.ino);
    expect(readdirSync(join(dir, "conf"))).toEqual(["a.conf"]);
  });

  it("replaces the file and returns 0 when the content differs", () => {
    const file = join(dir, "conf", "a.conf");
    sh(install(file), "first\n");

    const result = sh(install(file), "second\n");

    expect(result.stdout).toBe(`wrote ${file}\nrc=0\n`);
    expect(readFileSync(file, "utf8")).toBe("second\n");
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(join(dir, "conf"))).toEqual(["a.conf"]);
  });

  it("writes an empty file from empty stdin", () => {
    const file = join(dir, "empty");

    const result = sh(install(file), "");

    expect(result.stdout).toBe(`wrote ${file}\nrc=0\n`);
    expect(readFileSync(file, "utf8")).toBe("");
  });
});

describe("start_service and stop_service without systemd", () => {
  const start = (restart: string, command = "/bin/sleep 300") =>
    `start_service t nobody ${restart} ${shellQuote(join(dir, "run"))} ${shellQuote(join(dir, "log"))} ${command}`;
  const stop = () => `stop_service t ${shellQuote(join(dir, "run"))}`;

  beforeAll(() => {
    // The daemon branch runs only where has_systemd is false; on a systemd host these tests
    // would install real units instead.
    if (existsSync("/run/systemd/system")) {
      throw new Error("/run/systemd/system exists; run these tests where systemd is not running");
    }
    if (process.getuid?.() !== 0) throw new Error("these tests run runuser and must run as root");
  });

  it("starts the command as the given user in its own process group and writes the pid", async () => {
    const result = sh(start("no"));

    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const pid = daemonPid();
    expect(result.stdout).toBe(
      `wrote ${join(dir, "run", "t.cmdline")}\nstarted t (pid ${pid}, log ${join(dir, "log", "t.log")})\n`,
    );
    // setsid runs just after the script returns, so the group may take a moment to appear.
    await waitFor(() => (processInfo(pid)?.pgid === pid ? true : undefined));
    const sleep = await sleeper(pid);
    expect(sleep.uid).toBe(nobodyUid);
    expect(sleep.cmdline).toBe("/bin/sleep 300");
  });

  it("keeps the running daemon when started again with restart=no", async () => {
    sh(start("no"));
    const pid = daemonPid();
    const sleep = await sleeper(pid);

    const result = sh(start("no"));

    expect(result.status).toBe(0);
    expect(result.stdout).toBe("");
    expect(daemonPid()).toBe(pid);
    expect(processInfo(sleep.pid)?.state).not.toBe("Z");
  });

  it("replaces the daemon when started again with restart=yes", async () => {
    sh(start("no"));
    const pid = daemonPid();
    const old = await sleeper(pid);

    const result = sh(start("yes"));

    expect(result.status).toBe(0);
    const next = daemonPid();
    expect(next).not.toBe(pid);
    expect(groupMembers(pid)).toEqual([]);
    expect((await sleeper(next)).pid).not.toBe(old.pid);
  });

  it("replaces the daemon when the command line changes", async () => {
    sh(start("no"));
    const pid = daemonPid();
    await sleeper(pid);

    const result = sh(start("no", "/bin/sleep 301"));

    expect(result.status).toBe(0);
    const next = daemonPid();
    expect(next).not.toBe(pid);
    expect(groupMembers(pid)).toEqual([]);
    expect((await sleeper(next)).cmdline).toBe("/bin/sleep 301");
    expect(readFileSync(join(dir, "run", "t.cmdline"), "utf8")).toBe("/bin/sleep 301\n");
  });

  it("reruns the command when it exits", async () => {
    sh(start("no", "/bin/sh -c 'exit 3'"));
    daemonPid();

    const log = await waitFor(() => {
      const text = readFileSync(join(dir, "log", "t.log"), "utf8");
      return text.split("exited with 3, restarting in 2s").length > 2 ? text : undefined;
    }, 10_000);

    expect(log).toContain("exited with 3, restarting in 2s\nexited with 3, restarting in 2s\n");
  });

  it("kills the whole process group and removes the pid and command line files", async () => {
    sh(start("no"));
    const pid = daemonPid();
    const sleep = await sleeper(pid);

    const result = sh(stop());

    expect(result.status).toBe(0);
    expect(result.stdout).toBe("stopped t\n");
    expect(groupMembers(pid)).toEqual([]);
    expect(processInfo(sleep.pid)?.state ?? "gone").toMatch(/^(gone|Z)$/);
    expect(readdirSync(join(dir, "run"))).toEqual([]);
  });

  it("stops nothing and succeeds when the daemon is not running", () => {
    const result = sh(stop());

    expect(result.status).toBe(0);
    expect(result.stdout).toBe("stopped t\n");
  });

  it("starts again when the pid file names a dead process", async () => {
    sh(start("no"));
    const pid = daemonPid();
    await sleeper(pid);
    process.kill(-pid, "SIGKILL");
    // kill -0 succeeds on a zombie, so wait until init has reaped the old daemon.
    await waitFor(() => (processInfo(pid) === undefined ? true : undefined));

    const result = sh(start("no"));

    expect(result.status).toBe(0);
    expect(daemonPid()).not.toBe(pid);
    await sleeper(daemonPid());
  });
});

describe("wait_healthy", () => {
  it("returns at once when the check passes", () => {
    const result = sh("wait_healthy 5 true");

    expect(result.status).toBe(0);
    expect(result.stdout).toBe("x on y is healthy\n");
  });

  it("retries until the check passes", () => {
    const check = `sh -c 'if [ -f seen ]; then exit 0; fi; touch seen; echo not yet; exit 1'`;

    const result = sh(`wait_healthy 5 ${check}`);

    expect(result.status).toBe(0);
    expect(result.stdout).toBe("x on y is healthy\n");
    expect(existsSync(join(dir, "seen"))).toBe(true);
  });

  it("fails with the last line of the check's output when time runs out", () => {
    const check = `sh -c 'echo starting; echo "connection refused on :2379" >&2; exit 7'`;

    const result = sh(`wait_healthy 1 ${check}\necho after`);

    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "x on y not healthy after 1 s (connection refused on :2379); check the service, its port and its log\n",
    );
  });

  it("cuts the check's last line to 200 characters", () => {
    const result = sh(`wait_healthy 2 sh -c 'printf "%0300d" 0; exit 1'`);

    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `x on y not healthy after 2 s (${"0".repeat(200)}); check the service, its port and its log\n`,
    );
  });
});
