/**
 * Debian's nginx as a load balancer in front of gateway replicas, run unprivileged: a generated
 * configuration, loopback ports, and every path it writes (pid, logs, temp files) in a temporary folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx'];

/** The nginx binary, or undefined where it is not installed (`apt-get install nginx-light`). */
export function findNginx(): string | undefined {
  return CANDIDATES.find((path) => existsSync(path));
}

export interface NginxOptions {
  listenPort: number;
  /** The replicas nginx sends traffic to; `setUpstreams` changes them with a reload. */
  upstreamPorts: number[];
  /**
   * How long nginx keeps an idle pooled connection to a replica. Below the gateway's own keep-alive
   * timeout (Node's default, 5 s), so the idle close always comes from nginx's side.
   */
  upstreamKeepaliveTimeoutS?: number;
}

export interface RunningNginx {
  url: string;
  config(): string;
  /**
   * Rewrites the upstream list and reloads nginx (SIGHUP); resolves once the new worker runs (the old
   * one, told to quit, takes no new request but finishes those it has).
   */
  setUpstreams(ports: number[]): Promise<void>;
  reloads(): number;
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * The balancer as this harness runs it. Open-source nginx has no active health checks, so the harness
 * plays the part of the orchestrator's endpoint controller: it polls each replica's /ready and
 * reloads nginx with the replicas that answer 200 (as consul-template or an ingress controller
 * does). Connections to replicas are pooled (keepalive), so the drain's `Connection: close` matters;
 * clients' connections to nginx are not (`keepalive_timeout 0`): a reload closes the idle client
 * connections of the old worker, a race between nginx and its clients that is not the gateway's
 * (ingress-nginx avoids it by changing endpoints without reloading). `X-Upstream` names the
 * replica(s) nginx tried, so retries can be counted.
 */
export function nginxConfig(directory: string, options: NginxOptions): string {
  const servers = options.upstreamPorts.map((port) => `    server 127.0.0.1:${port};`).join('\n');
  // Running as root (a CI container), the workers still drop to an unprivileged user.
  const user = process.getuid?.() === 0 ? 'user nobody nogroup;\n' : '';
  return `${user}daemon off;
master_process on;
worker_processes 1;
pid ${directory}/nginx.pid;
error_log ${directory}/error.log info;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_timeout 0;
  client_body_temp_path ${directory}/client_body;
  proxy_temp_path ${directory}/proxy;
  fastcgi_temp_path ${directory}/fastcgi;
  uwsgi_temp_path ${directory}/uwsgi;
  scgi_temp_path ${directory}/scgi;
  upstream gateway {
${servers}
    keepalive 32;
    keepalive_timeout ${options.upstreamKeepaliveTimeoutS ?? 4}s;
  }
  server {
    listen 127.0.0.1:${options.listenPort};
    location = /__nginx { return 204; }
    location / {
      proxy_pass http://gateway;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout;
      proxy_connect_timeout 2s;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
}

export async function startNginx(binary: string, options: NginxOptions): Promise<RunningNginx> {
  const directory = mkdtempSync(join(tmpdir(), 'kibo-nginx-'));
  const configPath = join(directory, 'nginx.conf');
  let current = { ...options };
  writeFileSync(configPath, nginxConfig(directory, current));
  // -e: the error log before the configuration is read, which would otherwise be /var/log/nginx.
  const child: ChildProcess = spawn(binary, ['-p', directory, '-e', join(directory, 'error.log'), '-c', configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const errorLog = () => {
    const path = join(directory, 'error.log');
    return stderr + (existsSync(path) ? readFileSync(path, 'utf8') : '');
  };
  const url = `http://127.0.0.1:${options.listenPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited during start:\n${errorLog()}`);
    try {
      // Answered by nginx itself, not by a replica.
      await (await fetch(`${url}/__nginx`)).arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not start:\n${errorLog()}`);
      await sleep(50);
    }
  }
  let reloads = 0;
  return {
    url,
    config: () => nginxConfig(directory, current),
    setUpstreams: async (ports) => {
      const workersStarted = () => errorLog().split('start worker process').length;
      const before = workersStarted();
      current = { ...current, upstreamPorts: ports };
      writeFileSync(configPath, nginxConfig(directory, current));
      child.kill('SIGHUP');
      reloads++;
      const deadline = Date.now() + 60_000;
      while (workersStarted() === before && Date.now() < deadline) await sleep(20);
    },
    reloads: () => reloads,
    errorLog,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
