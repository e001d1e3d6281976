import { describe, expect, it } from "vitest";
import {
  EtcdArgs,
  etcdCommandLine,
  etcdCreateScript,
  etcdDeleteScript,
} from "../../components/etcd";
import { bodyLines, syntaxErrors } from "./scripts";

/** Arguments with values unlike the defaults, so a test notices when one is ignored. */
function etcdArgs(overrides: Partial<EtcdArgs> = {}): EtcdArgs {
  return {
    host: { label: "local" },
    baseDir: "/srv/gateway",
    clientPort: 12379,
    peerPort: 12380,
    packageName: "etcd-server-3.5",
    healthTimeoutSeconds: 25,
    purge: false,
    ...overrides,
  };
}

describe("etcdCommandLine", () => {
  it("runs one member on loopback with its own data directory", () => {
    expect(etcdCommandLine(etcdArgs())).toEqual([
      "/usr/bin/etcd",
      "--name=ai-gateway",
      "--data-dir=/srv/gateway/etcd",
      "--listen-client-urls=http://127.0.0.1:12379",
      "--advertise-client-urls=http://127.0.0.1:12379",
      "--listen-peer-urls=http://127.0.0.1:12380",
      "--initial-advertise-peer-urls=http://127.0.0.1:12380",
      "--initial-cluster=ai-gateway=http://127.0.0.1:12380",
    ]);
  });

  it("listens on no address other than 127.0.0.1", () => {
    const urls = etcdCommandLine(etcdArgs())
      .filter((arg) => arg.includes("http://"))
      .map((arg) => arg.slice(arg.lastIndexOf("http://")));

    expect(urls).toHaveLength(5);
    for (const url of urls) expect(new URL(url).hostname).toBe("127.0.0.1");
  });
});

describe("etcdCreateScript", () => {
  const script = etcdCreateScript(etcdArgs());
  const lines = bodyLines(script);

  it("parses as POSIX sh", () => {
    expect(syntaxErrors(script)).toBe("");
  });

  it("names the service and host for its messages", () => {
    expect(lines.slice(0, 2)).toEqual(["SERVICE='etcd'", "HOST='local'"]);
  });

  it("installs the configured package and curl for the health check", () => {
    expect(lines).toContain("ensure_package 'etcd-server-3.5' etcd.service");
    expect(lines).toContain("ensure_package curl");
  });

  it("creates the data directory for the etcd user with mode 700", () => {
    expect(lines).toContain("install -d -m 700 -o etcd -g etcd '/srv/gateway/etcd'");
  });

  it("starts the service as user etcd without a forced restart", () => {
    expect(lines).toContain(
      `start_service etcd etcd no '/srv/gateway/run' '/srv/gateway/log' ${etcdCommandLine(etcdArgs()).join(" ")}`,
    );
  });

  it("waits on /health of the client port with the configured timeout, last", () => {
    expect(lines[lines.length - 1]).toBe(
      "wait_healthy 25 curl -fsS --max-time 2 http://127.0.0.1:12379/health",
    );
  });

  it("names the SSH target in its messages", () => {
    const remote = bodyLines(etcdCreateScript(etcdArgs({ host: { label: "ops@10.0.0.5:2222" } })));

    expect(remote[1]).toBe("HOST='ops@10.0.0.5:2222'");
  });
});

describe("etcdDeleteScript", () => {
  it("stops the service and keeps data and package without purge", () => {
    const lines = bodyLines(etcdDeleteScript(etcdArgs({ purge: false })));

    expect(lines).toEqual([
      "SERVICE='etcd'",
      "HOST='local'",
      "",
      "stop_service etcd '/srv/gateway/run'",
    ]);
  });

  it("also removes the data directory and purges the package with purge", () => {
    const lines = bodyLines(etcdDeleteScript(etcdArgs({ purge: true })));

    expect(lines.slice(3)).toEqual([
      "stop_service etcd '/srv/gateway/run'",
      "rm -rf '/srv/gateway/etcd'",
      "apt-get purge -y -q 'etcd-server-3.5' >/dev/null",
    ]);
  });

  it("parses as POSIX sh with and without purge", () => {
    expect(syntaxErrors(etcdDeleteScript(etcdArgs({ purge: false })))).toBe("");
    expect(syntaxErrors(etcdDeleteScript(etcdArgs({ purge: true })))).toBe("");
  });
});
