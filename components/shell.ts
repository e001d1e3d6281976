/**
 * Shell building blocks for the service components. Every provisioning command is a POSIX sh
 * script made of `serviceLibrary` plus a few calls, written to converge: running it again on a
 * provisioned host changes nothing. Secrets never appear in script text; they arrive on stdin.
 */

/** Quotes a value for POSIX sh. */
export function shellQuote(value: string | number): string {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

/** Where a service component keeps its files on the host. */
export interface ServicePaths {
  /** Configuration files, e.g. /var/lib/ai-gateway/conf. */
  conf: string;
  /** Data directory of this service. */
  data: string;
  /** Pid files of supervised daemons. */
  run: string;
  /** Log files of supervised daemons. */
  log: string;
}

/** The folders a service named `name` uses below `baseDir`. */
export function servicePaths(baseDir: string, name: string): ServicePaths {
  return {
    conf: `${baseDir}/conf`,
    data: `${baseDir}/${name}`,
    run: `${baseDir}/run`,
    log: `${baseDir}/log`,
  };
}

/**
 * Functions every provisioning script starts with. `SERVICE` and `HOST` name the service and
 * host in messages. Under systemd a service is a unit `ai-gateway-<name>`; elsewhere
 * (containers, CI) it is a supervised background daemon with a pid file and a log file.
 */
export const serviceLibrary = String.raw`set -eu
fail() { printf '%s\n' "$*" >&2; exit 1; }
has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

# ensure_package NAME [UNIT]: installs a Debian package unless it is installed already. When it
# installs one on a systemd host, the package's own UNIT (started by the install) is disabled:
# our unit of the same service uses the same default ports.
ensure_package() {
  if dpkg-query -W -f='${"${Status}"}' "$1" 2>/dev/null | grep -q 'install ok installed'; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || fail "$SERVICE on $HOST: package $1 is missing and installing it needs root; run: sudo apt-get install -y $1"
  export DEBIAN_FRONTEND=noninteractive
  if ! out=$(apt-get install -y -q --no-install-recommends "$1" 2>&1); then
    apt-get update -q >/dev/null 2>&1 || true
    out=$(apt-get install -y -q --no-install-recommends "$1" 2>&1) ||
      fail "$SERVICE on $HOST: package $1 could not be installed ($(printf '%s' "$out" | tail -n 1)); check the package name and the host's APT sources"
  fi
  if [ -n "${"${2:-}"}" ] && has_systemd; then systemctl disable -q --now "$2" 2>/dev/null || true; fi
  printf 'installed package %s\n' "$1"
}

# install_file PATH MODE OWNER: replaces PATH with stdin when the content differs; returns 0
# when it changed the file and 1 when it was already right.
install_file() {
  mkdir -p "$(dirname "$1")"
  tmp=$(mktemp "$1.XXXXXX")
  chmod "$2" "$tmp"
  cat >"$tmp"
  chown "$3" "$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
    # Same content, but mode and owner are still put right: the file may hold a secret.
    chmod "$2" "$1"
    chown "$3" "$1"
    return 1
  fi
  mv "$tmp" "$1"
  printf 'wrote %s\n' "$1"
}

# daemon_pid PIDFILE NAME: prints the pid of our running supervisor of NAME. A pid file left by a
# reboot may name an unrelated process, and a zombie has no command line; neither counts.
daemon_pid() {
  [ -f "$1" ] && pid=$(cat "$1") && [ -r "/proc/$pid/cmdline" ] &&
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "ai-gateway-supervisor $2 " &&
    printf '%s' "$pid"
}

# start_service NAME USER RESTART PIDDIR LOGDIR COMMAND...: starts the service, or restarts it
# when RESTART is yes; the daemon form reruns COMMAND whenever it exits.
start_service() {
  name=$1 user=$2 restart=$3 piddir=$4 logdir=$5
  shift 5
  if has_systemd; then
    unit=/etc/systemd/system/ai-gateway-$name.service
    {
      printf '[Unit]\nDescription=ai-gateway %s\nAfter=network.target\n\n[Service]\n' "$name"
      printf 'User=%s\nExecStart=%s\nRestart=always\nRestartSec=2\n\n' "$user" "$*"
      printf '[Install]\nWantedBy=multi-user.target\n'
    } | install_file "$unit" 644 root:root && restart=yes
    systemctl daemon-reload
    systemctl enable -q "ai-gateway-$name"
    if [ "$restart" = yes ]; then systemctl restart "ai-gateway-$name"; else systemctl start "ai-gateway-$name"; fi
    return 0
  fi
  mkdir -p "$piddir" "$logdir"
  pidfile=$piddir/$name.pid
  # A changed command line (new ports, new paths) needs a restart just like a changed config.
  printf '%s\n' "$*" | install_file "$piddir/$name.cmdline" 600 root:root && restart=yes
  if pid=$(daemon_pid "$pidfile" "$name"); then
    [ "$restart" = yes ] || return 0
    stop_daemon "$pidfile" "$name"
  fi
  setsid sh -c ": ai-gateway-supervisor $name ; "'while :; do runuser -u "$0" -- "$@"; echo "exited with $?, restarting in 2s"; sleep 2; done' \
    "$user" "$@" >>"$logdir/$name.log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$pidfile"
  printf 'started %s (pid %s, log %s)\n' "$name" "$!" "$logdir/$name.log"
}

# stop_daemon PIDFILE NAME: stops a supervised daemon and everything it started.
stop_daemon() {
  if pid=$(daemon_pid "$1" "$2"); then
    kill -TERM "-$pid" 2>/dev/null || kill -TERM "$pid"
    i=0
    while kill -0 "-$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
    kill -KILL "-$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

# stop_service NAME PIDDIR: stops and removes the unit or the supervised daemon.
stop_service() {
  if has_systemd && [ -f "/etc/systemd/system/ai-gateway-$1.service" ]; then
    systemctl disable -q --now "ai-gateway-$1" || true
    rm -f "/etc/systemd/system/ai-gateway-$1.service"
    systemctl daemon-reload
  fi
  stop_daemon "$2/$1.pid" "$1"
  rm -f "$2/$1.cmdline"
  printf 'stopped %s\n' "$1"
}

# wait_healthy SECONDS CHECK...: runs CHECK every second until it succeeds or time runs out.
wait_healthy() {
  limit=$1
  shift
  start=$(date +%s)
  while ! seen=$("$@" 2>&1); do
    if [ $(($(date +%s) - start)) -ge "$limit" ]; then
      fail "$SERVICE on $HOST not healthy after $limit s ($(printf '%s' "$seen" | tail -n 1 | cut -c1-200)); check the service, its port and its log"
    fi
    sleep 1
  done
  printf '%s on %s is healthy\n' "$SERVICE" "$HOST"
}
`;

/** Starts a script with the library and the names used in its messages. */
export function scriptHeader(service: string, host: string): string {
  return `${serviceLibrary}SERVICE=${shellQuote(service)}\nHOST=${shellQuote(host)}\n`;
}

/** Script lines that remove a service's data directory and purge its package. */
export function purgeLines(dataDir: string, packageName: string): string[] {
  return [
    `rm -rf ${shellQuote(dataDir)}`,
    `apt-get purge -y -q ${shellQuote(packageName)} >/dev/null`,
  ];
}
