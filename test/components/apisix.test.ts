import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  apisixCreateScript,
  apisixDeleteScript,
  apisixFiles,
  apisixKeyUrl,
  ApisixArgs,
  renderApisixConfig,
} from "../../components/apisix";
import { serviceLibrary } from "../../components/shell";
import { syntaxErrors } from "./scripts";

/** Arguments with values unlike the defaults, so a test notices when one is ignored. */
function apisixArgs(overrides: Partial<ApisixArgs> = {}): ApisixArgs {
  return {
    host: { label: "local" },
    version: "3.18.0-0",
    repository: "https://repos.example.test/packages/debian",
    suite: "debian12",
    etcdEndpoints: ["http://127.0.0.1:12379"],
    proxyPort: 18080,
    adminListen: "127.0.0.2",
    adminPort: 19180,
    allowAdmin: ["127.0.0.0/24", "10.1.0.0/16"],
    statusPort: 17085,
    healthTimeoutSeconds: 45,
    purge: false,
    ...overrides,
  };
}

const adminKey = "Zm9vYmFyLWFkbWluLWtleS1mb3ItdGVzdHMtb25seQ";
const endpoints = ["http://127.0.0.1:12379", "http://127.0.0.1:22379"];

/** The lines a script adds after the shared library and its SERVICE/HOST lines. */
function body(script: string): string {
  expect(script.startsWith(serviceLibrary)).toBe(true);
  return script.slice(serviceLibrary.length);
}

describe("renderApisixConfig", () => {
  const config = parse(renderApisixConfig(apisixArgs(), endpoints, adminKey));

  it("starts with a comment that names the writer", () => {
    const text = renderApisixConfig(apisixArgs(), endpoints, adminKey);

    expect(text.split("\n")[0]).toBe(
      "# Written by ai-gateway (Pulumi); changes here are overwritten by the next run.",
    );
  });

  it("renders the proxy port, the admin switch and the status API on loopback", () => {
    expect(config.apisix).toEqual({
      node_listen: [18080],
      enable_admin: true,
      status: { ip: "127.0.0.1", port: 17085 },
    });
  });

  it("renders a traditional deployment with etcd as config provider", () => {
    expect(config.deployment.role).toBe("traditional");
    expect(config.deployment.role_traditional).toEqual({ config_provider: "etcd" });
  });

  it("renders one admin-role key equal to the given key and requires it", () => {
    expect(config.deployment.admin.admin_key).toEqual([
      { name: "ai-gateway", key: adminKey, role: "admin" },
    ]);
    expect(config.deployment.admin.admin_key_required).toBe(true);
  });

  it("renders the admin listen address, port and allowed ranges", () => {
    expect(config.deployment.admin.admin_listen).toEqual({ ip: "127.0.0.2", port: 19180 });
    expect(config.deployment.admin.allow_admin).toEqual(["127.0.0.0/24", "10.1.0.0/16"]);
  });

  it("renders the etcd hosts, prefix and timeout", () => {
    expect(config.deployment.etcd).toEqual({ host: endpoints, prefix: "/apisix", timeout: 30 });
  });

  it("renders nothing beyond the apisix and deployment sections", () => {
    expect(Object.keys(config)).toEqual(["apisix", "deployment"]);
    expect(Object.keys(config.deployment.admin).sort()).toEqual([
      "admin_key",
      "admin_key_required",
      "admin_listen",
      "allow_admin",
    ]);
  });

  it("keeps a key made only of digits a string", () => {
    const digits = "1".repeat(40);

    const parsed = parse(renderApisixConfig(apisixArgs(), endpoints, digits));

    expect(parsed.deployment.admin.admin_key[0].key).toBe(digits);
  });

  it("accepts a key of exactly 32 characters", () => {
    const key = "k".repeat(32);

    const parsed = parse(renderApisixConfig(apisixArgs(), endpoints, key));

    expect(parsed.deployment.admin.admin_key[0].key).toBe(key);
  });

  it("rejects a key of 31 characters", () => {
    expect(() => renderApisixConfig(apisixArgs(), endpoints, "k".repeat(31))).toThrow(
      new Error("the APISIX admin key must be at least 32 characters"),
    );
  });

  it("rejects an empty key", () => {
    expect(() => renderApisixConfig(apisixArgs(), endpoints, "")).toThrow(
      new Error("the APISIX admin key must be at least 32 characters"),
    );
  });
});

describe("apisixKeyUrl", () => {
  it("puts pubkey.gpg at the origin of the repository", () => {
    expect(apisixKeyUrl("https://repos.apiseven.com/packages/debian")).toBe(
      "https://repos.apiseven.com/pubkey.gpg",
    );
  });

  it("keeps the scheme and port of the repository", () => {
    expect(apisixKeyUrl("http://mirror.local:8081/apisix/packages/arm64/debian")).toBe(
      "http://mirror.local:8081/pubkey.gpg",
    );
  });

  it("rejects a repository that is not a URL", () => {
    expect(() => apisixKeyUrl("repos.apiseven.com/packages/debian")).toThrow("Invalid URL");
  });
});

describe("apisixCreateScript", () => {
  const script = apisixCreateScript(apisixArgs());
  const lines = body(script).split("\n");

  it("starts with the service library and names the service and host", () => {
    expect(lines.slice(0, 2)).toEqual(["SERVICE='apisix'", "HOST='local'"]);
  });

  it("parses as POSIX sh", () => {
    expect(syntaxErrors(script)).toBe("");
  });

  it("copies stdin to a temporary file before any other command runs", () => {
    const copy = lines.indexOf('cat >"$CONFIG_IN"');

    expect(lines).toContain("CONFIG_IN=$(mktemp)");
    expect(lines).toContain(`trap 'rm -f "$CONFIG_IN"' EXIT`);
    expect(copy).toBeGreaterThan(0);
    expect(lines.findIndex((line) => line.includes("ensure_package"))).toBeGreaterThan(copy);
    expect(lines.findIndex((line) => line.includes("curl "))).toBeGreaterThan(copy);
  });

  it("adds the APT source with a signed-by keyring for the repository and suite", () => {
    expect(script).toContain(
      "'deb [signed-by=/usr/share/keyrings/ai-gateway-apisix.gpg] " +
        "https://repos.example.test/packages/debian debian12 main' | " +
        "install_file /etc/apt/sources.list.d/ai-gateway-apisix.list 644 root:root",
    );
  });

  it("fetches the signing key from the repository's origin and dearmors it with gpg", () => {
    expect(script).toContain("curl -fsSL 'https://repos.example.test/pubkey.gpg'");
    expect(script).toContain("gpg --dearmor");
    expect(script).toContain(`if [ ! -s ${apisixFiles.keyring} ]; then`);
  });

  it("never uses apt-key", () => {
    expect(script).not.toContain("apt-key");
  });

  it("installs the pinned version unless dpkg already reports it", () => {
    expect(script).toContain(
      `if [ "$(dpkg-query -W -f='\${Version}' apisix 2>/dev/null)" != '3.18.0-0' ]; then`,
    );
    expect(script).toContain(
      "apt-get install -y -q --allow-downgrades apisix='3.18.0-0' >/dev/null",
    );
    expect(script).toContain(
      'fail "apisix on $HOST: package apisix=3.18.0-0 could not be installed; check ai-gateway:apisixVersion and the repository"',
    );
  });

  it("keeps the packaged config once before replacing it", () => {
    expect(lines).toContain(
      "[ -f /usr/local/apisix/conf/config.yaml.before-ai-gateway ] || " +
        "cp -p /usr/local/apisix/conf/config.yaml /usr/local/apisix/conf/config.yaml.before-ai-gateway",
    );
  });

  it("installs the config from the stdin copy with mode 600 and notes a change", () => {
    const install = lines.indexOf(
      'install_file /usr/local/apisix/conf/config.yaml 600 root:root <"$CONFIG_IN" && changed=yes',
    );

    expect(install).toBeGreaterThan(0);
    expect(lines[install - 1]).toBe("changed=no");
  });

  it("starts or reloads under systemd", () => {
    expect(lines).toContain("if has_systemd; then");
    expect(lines).toContain("  systemctl enable -q apisix");
    expect(lines).toContain(
      '  if systemctl is-active -q apisix; then [ "$changed" = no ] || systemctl reload apisix; ' +
        "else systemctl start apisix; fi",
    );
  });

  it("starts or reloads through the apisix CLI without systemd", () => {
    const elif = lines.indexOf(
      'elif [ -f /usr/local/apisix/logs/nginx.pid ] && kill -0 "$(cat /usr/local/apisix/logs/nginx.pid)" 2>/dev/null; then',
    );

    expect(elif).toBeGreaterThan(lines.indexOf("if has_systemd; then"));
    expect(lines.slice(elif + 1, elif + 5)).toEqual([
      '  [ "$changed" = no ] || apisix reload',
      "else",
      "  apisix start",
      "fi",
    ]);
  });

  it("waits for /status/ready on the status port with the configured timeout, last", () => {
    expect(lines[lines.length - 1]).toBe(
      "wait_healthy 45 curl -fsS --max-time 2 http://127.0.0.1:17085/status/ready",
    );
  });

  it("contains no admin key; the key travels only in the config on stdin", () => {
    const args = apisixArgs();
    const config = renderApisixConfig(args, endpoints, adminKey);

    expect(config).toContain(adminKey);
    expect(apisixCreateScript(args)).not.toContain(adminKey);
    expect(apisixDeleteScript(args)).not.toContain(adminKey);
  });

  it("names the SSH target in its messages", () => {
    const remote = apisixCreateScript(apisixArgs({ host: { label: "root@10.0.0.5:22" } }));

    expect(body(remote).split("\n")[1]).toBe("HOST='root@10.0.0.5:22'");
  });
});

describe("apisixCreateScript signing-key step", () => {
  let dir: string;
  const keyBytes = Buffer.from("not a real key, just bytes for --dearmor to give back\n");

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "apisix-key-"));
    mkdirSync(join(dir, "bin"));
    mkdirSync(join(dir, "gnupg"), { mode: 0o700 });
    mkdirSync(join(dir, "keyrings"));
    const armored = spawnSync("gpg", ["--enarmor"], { input: keyBytes, env: gpgEnv() });
    if (armored.status !== 0) throw new Error(`gpg --enarmor failed: ${armored.stderr}`);
    writeFileSync(join(dir, "key.asc"), armored.stdout);
    // A curl that records its arguments and serves key.asc, or fails like a 404 when asked to.
    writeFileSync(
      join(dir, "bin", "curl"),
      [
        "#!/bin/sh",
        `printf '%s\\n' "$*" >>${dir}/curl.args`,
        'if [ -n "${CURL_FAIL:-}" ]; then echo "curl: (22) 404" >&2; exit 22; fi',
        `while [ $# -gt 0 ]; do if [ "$1" = -o ]; then cp ${dir}/key.asc "$2"; fi; shift; done`,
        "",
      ].join("\n"),
    );
    chmodSync(join(dir, "bin", "curl"), 0o755);
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function gpgEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { ...process.env, GNUPGHOME: join(dir, "gnupg"), ...extra };
  }

  /** Runs only the keyring block of the script, with the keyring moved into the temp dir. */
  function runKeyStep(extra: Record<string, string> = {}) {
    const lines = body(apisixCreateScript(apisixArgs())).split("\n");
    const start = lines.findIndex((line) => line.startsWith("if [ ! -s "));
    const end = lines.indexOf("fi", start);
    const block = lines
      .slice(start, end + 1)
      .join("\n")
      .replaceAll(apisixFiles.keyring, join(dir, "keyrings", "apisix.gpg"));
    const script = `${serviceLibrary}SERVICE=apisix\nHOST=local\n${block}\n`;
    const env = gpgEnv({ PATH: `${join(dir, "bin")}:${process.env.PATH}`, ...extra });
    return spawnSync("/bin/sh", ["-c", script], { env, encoding: "utf8" });
  }

  it("downloads pubkey.gpg from the origin and stores it dearmored", () => {
    const result = runKeyStep();

    expect(result.status).toBe(0);
    expect(readFileSync(join(dir, "curl.args"), "utf8")).toBe(
      `-fsSL https://repos.example.test/pubkey.gpg -o ${join(dir, "keyrings", "apisix.gpg")}.asc\n`,
    );
    expect(readFileSync(join(dir, "keyrings", "apisix.gpg"))).toEqual(keyBytes);
    expect(readdirSync(join(dir, "keyrings"))).toEqual(["apisix.gpg"]);
  });

  it("keeps a keyring that is already there", () => {
    writeFileSync(join(dir, "keyrings", "apisix.gpg"), "existing");

    const result = runKeyStep();

    expect(result.status).toBe(0);
    expect(existsSync(join(dir, "curl.args"))).toBe(false);
    expect(readFileSync(join(dir, "keyrings", "apisix.gpg"), "utf8")).toBe("existing");
  });

  it("fails with the key URL and leaves no files when the download fails", () => {
    const result = runKeyStep({ CURL_FAIL: "1" });

    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "curl: (22) 404\napisix on local: could not fetch the APT signing key from " +
        "https://repos.example.test/pubkey.gpg; check the host's network or ai-gateway:apisixRepository\n",
    );
    expect(readdirSync(join(dir, "keyrings"))).toEqual([]);
  });

  it("fails and leaves no files when the download is not an armored key", () => {
    writeFileSync(join(dir, "key.asc"), "<html>not found</html>\n");

    const result = runKeyStep();

    expect(result.status).toBe(1);
    expect(result.stderr).toContain("apisix on local: could not fetch the APT signing key from");
    expect(readdirSync(join(dir, "keyrings"))).toEqual([]);
  });
});

describe("apisixDeleteScript", () => {
  it("stops APISIX with systemd or the CLI and restores the packaged config", () => {
    const lines = body(apisixDeleteScript(apisixArgs())).split("\n");

    expect(lines).toEqual([
      "SERVICE='apisix'",
      "HOST='local'",
      "",
      "if has_systemd; then systemctl disable -q --now apisix || true; " +
        "elif command -v apisix >/dev/null; then apisix stop || true; fi",
      "[ ! -f /usr/local/apisix/conf/config.yaml.before-ai-gateway ] || " +
        "mv /usr/local/apisix/conf/config.yaml.before-ai-gateway /usr/local/apisix/conf/config.yaml",
    ]);
  });

  it("leaves the package, APT source and keyring without purge", () => {
    const script = apisixDeleteScript(apisixArgs({ purge: false }));

    expect(script).not.toContain("apt-get purge");
    expect(script).not.toContain(apisixFiles.source);
    expect(script).not.toContain(apisixFiles.keyring);
  });

  it("purges the package and removes the APT source and keyring with purge", () => {
    const lines = body(apisixDeleteScript(apisixArgs({ purge: true }))).split("\n");

    expect(lines.slice(-3)).toEqual([
      "apt-get purge -y -q apisix >/dev/null || true",
      "rm -f /etc/apt/sources.list.d/ai-gateway-apisix.list /usr/share/keyrings/ai-gateway-apisix.gpg",
      "apt-get update -q >/dev/null || true",
    ]);
  });

  it("parses as POSIX sh with and without purge", () => {
    expect(syntaxErrors(apisixDeleteScript(apisixArgs({ purge: false })))).toBe("");
    expect(syntaxErrors(apisixDeleteScript(apisixArgs({ purge: true })))).toBe("");
  });
});
