/**
 * A CNI plugin directory of Skiff's own for its containerd: the machine's plugins (bridge,
 * host-local, …) linked in, except `loopback` and `portmap`, which CRI runs for every pod and
 * which here are one small C binary (built with gcc, as the pause image is). Each Go plugin start
 * costs 3–4 ms of CPU; in a burst of pods that is on everyone's critical path. Behaviour is the
 * reference plugins' (the C source says where it defers to them).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/**
 * Fills `dir` with links to `systemBinDir`'s plugins plus the C loopback/portmap (compiled once
 * per source version) and returns it; returns `systemBinDir` itself when the C binary cannot be
 * built (`log` says why), so pods still get their network from the reference plugins.
 */
export async function prepareCniBinDir(dir: string, systemBinDir: string, log?: (msg: string) => void): Promise<string> {
  const hash = createHash('sha256').update(SKIFF_CNI_C).digest('hex').slice(0, 12);
  const bin = path.join(dir, `skiff-cni-${hash}`);
  try {
    mkdirSync(dir, { recursive: true });
    if (!existsSync(bin)) {
      const src = path.join(dir, 'skiff-cni.c');
      writeFileSync(src, SKIFF_CNI_C);
      await execFileP('gcc', ['-static', '-O2', '-s', '-o', `${bin}.tmp`, src]);
      renameSync(`${bin}.tmp`, bin);
    }
  } catch (e) {
    log?.(`containerd: using ${systemBinDir} as is: building the C loopback/portmap failed: ${(e as Error).message}`);
    return systemBinDir;
  }
  const want = new Map<string, string>();
  for (const name of readdirSync(systemBinDir)) want.set(name, path.join(systemBinDir, name));
  want.set('loopback', bin);
  if (want.has('portmap')) {
    want.set('portmap.real', path.join(systemBinDir, 'portmap'));
    want.set('portmap', bin);
  }
  for (const name of readdirSync(dir)) {
    if (name === path.basename(bin) || name === 'skiff-cni.c') continue;
    if (!want.has(name)) rmSync(path.join(dir, name), { force: true }); // older builds, removed plugins
  }
  for (const [name, target] of want) {
    const link = path.join(dir, name);
    let current: string | undefined;
    try {
      current = readlinkSync(link);
    } catch {
      // missing
    }
    if (current === target) continue;
    rmSync(link, { force: true });
    symlinkSync(target, link);
  }
  return dir;
}

export const SKIFF_CNI_C = String.raw`/*
 * Two CNI plugins that CRI runs for every pod, in C so each costs a fraction of a millisecond
 * instead of a Go runtime start. The binary acts by the name it is run as:
 *
 *   loopback  Brings lo up in the pod's network namespace (DEL: down) and reports it with its
 *             addresses, as the reference loopback plugin does (a prevResult passes through).
 *   portmap   Does what the reference portmap does without port mappings (ADD passes prevResult
 *             through, DEL does nothing) and execs the reference plugin (portmap.real beside
 *             this binary) for everything else: hostPorts, CHECK, VERSION.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <libgen.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static char *input;
static size_t input_len;
static char version[32] = "0.3.1";

static void read_stdin(void) {
  size_t cap = 65536;
  input = malloc(cap + 1);
  for (;;) {
    ssize_t n = read(0, input + input_len, cap - input_len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    input_len += (size_t)n;
    if (input_len == cap) input = realloc(input, (cap *= 2) + 1);
  }
  input[input_len] = 0;
}

/* ---- a minimal JSON scanner: enough to find members and copy values verbatim */

static const char *ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}

static const char *skip_string(const char *p) {
  for (p++; *p && *p != '"'; p++)
    if (*p == '\\' && p[1]) p++;
  return *p ? p + 1 : p;
}

/* The end of the value that starts at p. */
static const char *skip_value(const char *p) {
  p = ws(p);
  if (*p == '"') return skip_string(p);
  if (*p == '{' || *p == '[') {
    int depth = 0;
    for (; *p; p++) {
      if (*p == '"') {
        p = skip_string(p) - 1;
      } else if (*p == '{' || *p == '[') {
        depth++;
      } else if (*p == '}' || *p == ']') {
        if (--depth == 0) return p + 1;
      }
    }
    return p;
  }
  while (*p && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') p++;
  return p;
}

/* The value of member key of the object at obj, or NULL. */
static const char *member(const char *obj, const char *key) {
  const char *p = ws(obj);
  if (*p != '{') return NULL;
  p = ws(p + 1);
  size_t klen = strlen(key);
  while (*p == '"') {
    const char *kend = skip_string(p);
    int match = (size_t)(kend - p - 2) == klen && strncmp(p + 1, key, klen) == 0;
    p = ws(kend);
    if (*p != ':') return NULL;
    p = ws(p + 1);
    if (match) return p;
    p = ws(skip_value(p));
    if (*p != ',') return NULL;
    p = ws(p + 1);
  }
  return NULL;
}

static void read_version(void) {
  const char *v = member(input, "cniVersion");
  if (!v || *v != '"') return;
  size_t n = (size_t)(skip_string(v) - v - 2);
  if (n < sizeof version) {
    memcpy(version, v + 1, n);
    version[n] = 0;
  }
}

static int fail(int code, const char *msg, const char *detail) {
  printf("{\"cniVersion\":\"%s\",\"code\":%d,\"msg\":\"%s\",\"details\":\"%s\"}\n", version, code, msg, detail ? detail : "");
  return 1;
}

/* Prints the prevResult member verbatim (libcni gives it in the config's version). */
static int print_prev_result(void) {
  const char *v = member(input, "prevResult");
  if (!v) return -1;
  fwrite(v, 1, (size_t)(skip_value(v) - v), stdout);
  putchar('\n');
  return 0;
}

/* ---- loopback */

static int lo_flags(int set, int up) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
  if (rc == 0 && !set) rc = (ifr.ifr_flags & IFF_UP) ? 1 : 0;
  else if (rc == 0) {
    int want = up ? (ifr.ifr_flags | IFF_UP) : (ifr.ifr_flags & ~IFF_UP);
    if (want != ifr.ifr_flags) {
      ifr.ifr_flags = (short)want;
      rc = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
  }
  close(s);
  return rc;
}

/* The first IPv4 and IPv6 address of lo in CIDR notation ("" when it has none). */
static void lo_addrs(char *v4, char *v6, size_t n) {
  v4[0] = v6[0] = 0;
  struct ifaddrs *ifa, *i;
  if (getifaddrs(&ifa) != 0) return;
  for (i = ifa; i; i = i->ifa_next) {
    if (!i->ifa_addr || !i->ifa_netmask || strcmp(i->ifa_name, "lo") != 0) continue;
    char buf[INET6_ADDRSTRLEN];
    int bits = 0;
    if (i->ifa_addr->sa_family == AF_INET && !v4[0]) {
      inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, sizeof buf);
      uint32_t m = ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
      while (m & 0x80000000u) bits++, m <<= 1;
      snprintf(v4, n, "%s/%d", buf, bits);
    } else if (i->ifa_addr->sa_family == AF_INET6 && !v6[0]) {
      inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, buf, sizeof buf);
      const unsigned char *m = ((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr.s6_addr;
      for (int b = 0; b < 16; b++)
        for (int k = 7; k >= 0 && ((m[b] >> k) & 1); k--) bits++;
      snprintf(v6, n, "%s/%d", buf, bits);
    }
  }
  freeifaddrs(ifa);
}

static int enter_netns(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = setns(fd, CLONE_NEWNET);
  close(fd);
  return rc;
}

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') putchar('\\');
    putchar(*s);
  }
  putchar('"');
}

static int loopback(const char *cmd) {
  const char *netns = getenv("CNI_NETNS");
  if (strcmp(cmd, "DEL") == 0) {
    /* A namespace that is gone already is not an error, as upstream. */
    if (!netns || !*netns) return 0;
    if (enter_netns(netns) != 0) return errno == ENOENT ? 0 : fail(999, "failed to open netns", netns);
    return lo_flags(1, 0) == 0 ? 0 : fail(999, "failed to set lo down", strerror(errno));
  }
  if (!netns || !*netns) return fail(4, "required env variables [CNI_NETNS] missing", NULL);
  if (enter_netns(netns) != 0) return fail(999, "failed to open netns", netns);
  if (strcmp(cmd, "CHECK") == 0) return lo_flags(0, 0) == 1 ? 0 : fail(999, "loopback interface is down", NULL);
  if (lo_flags(1, 1) != 0) return fail(999, "failed to set lo up", strerror(errno));
  if (print_prev_result() == 0) return 0;
  char v4[64], v6[64];
  lo_addrs(v4, v6, sizeof v4);
  /* As the reference plugin: the current result format, whatever cniVersion says. */
  printf("{\"cniVersion\":\"%s\",\"interfaces\":[{\"name\":\"lo\",\"mac\":\"00:00:00:00:00:00\",\"sandbox\":", version);
  json_string(netns);
  printf("}],");
  if (v4[0] || v6[0]) {
    printf("\"ips\":[");
    if (v4[0]) printf("{\"interface\":0,\"address\":\"%s\"}", v4);
    if (v6[0]) printf("%s{\"interface\":0,\"address\":\"%s\"}", v4[0] ? "," : "", v6);
    printf("],");
  }
  printf("\"dns\":{}}\n");
  return 0;
}

/* ---- portmap */

/* Whether runtimeConfig.portMappings holds at least one entry. */
static int has_port_mappings(void) {
  const char *rc = member(input, "runtimeConfig");
  const char *pm = rc ? member(rc, "portMappings") : NULL;
  if (!pm || *pm != '[') return 0;
  return *ws(pm + 1) != ']';
}

static int exec_real(char **argv) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 16);
  if (n <= 0) return fail(999, "cannot find the reference portmap plugin", NULL);
  self[n] = 0;
  char real[PATH_MAX + 16];
  snprintf(real, sizeof real, "%s/portmap.real", dirname(self));
  /* The reference plugin reads the same config from stdin. */
  int fd = memfd_create("cni-config", MFD_CLOEXEC);
  if (fd < 0 || write(fd, input, input_len) != (ssize_t)input_len || lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, 0) < 0)
    return fail(999, "cannot pass the config on", strerror(errno));
  argv[0] = real;
  execv(real, argv);
  return fail(999, "cannot run the reference portmap plugin", real);
}

static int portmap(const char *cmd, char **argv) {
  if (!has_port_mappings()) {
    if (strcmp(cmd, "DEL") == 0) return 0;
    if (strcmp(cmd, "ADD") == 0 && print_prev_result() == 0) return 0;
  }
  return exec_real(argv);
}

int main(int argc, char **argv) {
  (void)argc;
  const char *cmd = getenv("CNI_COMMAND");
  const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
  int is_portmap = strcmp(name, "portmap") == 0;
  if (!cmd) return fail(4, "required env variables [CNI_COMMAND] missing", NULL);
  read_stdin();
  read_version();
  if (is_portmap) return strcmp(cmd, "VERSION") == 0 ? exec_real(argv) : portmap(cmd, argv);
  if (strcmp(cmd, "VERSION") == 0) {
    printf("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.1.0\",\"0.2.0\",\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\"]}\n");
    return 0;
  }
  if (strcmp(cmd, "ADD") == 0 || strcmp(cmd, "DEL") == 0 || strcmp(cmd, "CHECK") == 0) return loopback(cmd);
  return fail(4, "unknown CNI_COMMAND", cmd);
}
`;
