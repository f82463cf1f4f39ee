/**
 * Source of the spawner helper: a tiny C program the process runtime compiles once (gcc) and runs
 * beside the agent. Forking a ~100 MB Node process costs milliseconds of blocked event loop per
 * container; forking this ~1 MB helper costs microseconds, so a burst of pods starts in parallel.
 * Kept as a string because the build (tsc) ships only JavaScript.
 *
 * Protocol (agent → helper on stdin): records `<len>\n` + len bytes of NUL-terminated fields:
 *   token, file, cwd, flags ("i" = stdin socket too), argc, argv…, envc, env…, cgc, cgroup.procs files…
 * For each record the helper connects to the agent's unix socket (argv[1]) once per stdio stream,
 * sends `<token> <fd>\n`, forks a child that makes itself a session/group leader, joins the
 * cgroups, chdirs, takes fds 0/1/2 and execs `file`. The child's stdout/stderr are pipes (a
 * socket there would break `> /dev/stdout`), which the helper relays to those sockets. Replies on stdout, one line each:
 *   P <token> <pid>        started
 *   E <token> <errno>      failed to start (exec, chdir, connect)
 *   X <pid> <code> <sig>   a child exited (code -1 when killed by signal sig)
 * On stdin EOF (the agent is gone) it kills every child's process group and exits.
 */
export const SPAWNER_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *sock_path;
static pid_t *kids; static size_t nkids, capkids;
/* stdout/stderr are pipes (so /dev/stdout can be opened), relayed here to the agent's sockets. */
struct relay { int in, out; char *pend; size_t plen; };
static struct relay *relays; static size_t nrelays, caprelays;
static void add_relay(int in, int out) {
  if (nrelays == caprelays) { caprelays = caprelays ? caprelays * 2 : 64; relays = realloc(relays, caprelays * sizeof *relays); }
  fcntl(out, F_SETFL, fcntl(out, F_GETFL) | O_NONBLOCK); /* a slow reader stalls only its own stream */
  relays[nrelays].in = in; relays[nrelays].out = out; relays[nrelays].pend = NULL; relays[nrelays].plen = 0; nrelays++;
}
/* Writes what it can; keeps the rest pending (then the relay waits for POLLOUT, not input). */
static int relay_write(struct relay *r, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(r->out, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return -1; /* the agent closed it: drop the output */
    }
    p += w; n -= (size_t)w;
  }
  char *np = n ? malloc(n) : NULL;
  if (n) memcpy(np, p, n);
  free(r->pend); r->pend = np; r->plen = n;
  return 0;
}

static void out(const char *s) {
  size_t n = strlen(s);
  while (n > 0) { ssize_t w = write(1, s, n); if (w < 0) { if (errno == EINTR) continue; exit(1); } s += w; n -= (size_t)w; }
}

static int connect_stream(const char *token, int fd) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct sockaddr_un a; memset(&a, 0, sizeof a); a.sun_family = AF_UNIX;
  strncpy(a.sun_path, sock_path, sizeof a.sun_path - 1);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { close(s); return -1; }
  char hdr[128]; int n = snprintf(hdr, sizeof hdr, "%s %d\n", token, fd);
  if (write(s, hdr, (size_t)n) != n) { close(s); return -1; }
  if (fd != 0) shutdown(s, SHUT_RD);
  return s;
}

static void spawn_one(char *rec, size_t len) {
  char *f[4096]; size_t nf = 0; char *p = rec, *end = rec + len;
  while (p < end && nf < 4096) { f[nf++] = p; p += strlen(p) + 1; }
  char line[160];
  if (nf < 5) return;
  size_t i = 0;
  const char *token = f[i++], *file = f[i++], *cwd = f[i++], *flags = f[i++];
  size_t argc = (size_t)atol(f[i++]); if (i + argc > nf) return;
  char **argv = calloc(argc + 1, sizeof(char *)); for (size_t k = 0; k < argc; k++) argv[k] = f[i++];
  size_t envc = (size_t)atol(i < nf ? f[i++] : "0"); if (i + envc > nf) { free(argv); return; }
  char **envp = calloc(envc + 1, sizeof(char *)); for (size_t k = 0; k < envc; k++) envp[k] = f[i++];
  size_t cgc = (size_t)atol(i < nf ? f[i++] : "0"); if (i + cgc > nf) cgc = nf - i;
  char **cgs = f + i;

  int fds[3] = {-1, -1, -1}, socks[3] = {-1, -1, -1}, rd[3] = {-1, -1, -1}, err = 0;
  if (strchr(flags, 'i')) fds[0] = connect_stream(token, 0);
  else fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
  for (int k = 1; k < 3; k++) {
    int pp[2];
    socks[k] = connect_stream(token, k);
    if (socks[k] >= 0 && pipe2(pp, O_CLOEXEC) == 0) { rd[k] = pp[0]; fds[k] = pp[1]; }
  }
  for (int k = 0; k < 3; k++) if (fds[k] < 0) err = errno ? errno : EIO;
  int pipefd[2] = {-1, -1};
  if (!err && pipe2(pipefd, O_CLOEXEC) < 0) err = errno;
  pid_t pid = -1;
  if (!err) {
    pid = fork();
    if (pid < 0) err = errno;
    else if (pid == 0) {
      sigset_t none; sigemptyset(&none); sigprocmask(SIG_SETMASK, &none, NULL);
      signal(SIGPIPE, SIG_DFL);
      setsid();
      char me[32]; int ml = snprintf(me, sizeof me, "%d\n", (int)getpid());
      for (size_t k = 0; k < cgc; k++) {
        int c = open(cgs[k], O_WRONLY | O_CLOEXEC);
        if (c >= 0) { if (write(c, me, (size_t)ml) < 0) {} close(c); }
      }
      int e = 0;
      if (chdir(cwd) < 0) e = errno;
      if (!e) {
        /* Move the stream fds above 2 first so dup2 never clobbers one we still need. */
        for (int k = 0; k < 3; k++) { int d = fcntl(fds[k], F_DUPFD_CLOEXEC, 3); if (d < 0) { e = errno; break; } fds[k] = d; }
        for (int k = 0; !e && k < 3; k++) if (dup2(fds[k], k) < 0) e = errno;
      }
      if (!e) { execve(file, argv, envp); e = errno; }
      if (write(pipefd[1], &e, sizeof e) < 0) {}
      _exit(127);
    }
  }
  for (int k = 0; k < 3; k++) if (fds[k] >= 0) close(fds[k]);
  for (int k = 1; k < 3; k++) {
    if (!err && pid > 0 && rd[k] >= 0) add_relay(rd[k], socks[k]);
    else { if (rd[k] >= 0) close(rd[k]); if (socks[k] >= 0) close(socks[k]); }
  }
  if (pid > 0) {
    close(pipefd[1]);
    int e = 0; ssize_t r;
    do r = read(pipefd[0], &e, sizeof e); while (r < 0 && errno == EINTR);
    close(pipefd[0]);
    if (r == (ssize_t)sizeof e) err = e;
    else {
      if (nkids == capkids) { capkids = capkids ? capkids * 2 : 64; kids = realloc(kids, capkids * sizeof(pid_t)); }
      kids[nkids++] = pid;
    }
  }
  if (err) snprintf(line, sizeof line, "E %s %d\n", token, err);
  else snprintf(line, sizeof line, "P %s %d\n", token, (int)pid);
  out(line);
  free(argv); free(envp);
}

static void reap(void) {
  int st; pid_t pid; char line[96];
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    int known = 0;
    for (size_t k = 0; k < nkids; k++) if (kids[k] == pid) { kids[k] = kids[--nkids]; known = 1; break; }
    if (!known) continue; /* a child whose exec failed: already reported with E */
    if (WIFEXITED(st)) snprintf(line, sizeof line, "X %d %d 0\n", (int)pid, WEXITSTATUS(st));
    else snprintf(line, sizeof line, "X %d -1 %d\n", (int)pid, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    out(line);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  sock_path = argv[1];
  signal(SIGPIPE, SIG_IGN);
  sigset_t m; sigemptyset(&m); sigaddset(&m, SIGCHLD); sigprocmask(SIG_BLOCK, &m, NULL);
  int sfd = signalfd(-1, &m, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 3;
  size_t cap = 1 << 16, len = 0; char *buf = malloc(cap);
  struct pollfd *pf = NULL; size_t cappf = 0;
  static char rbuf[65536];
  for (;;) {
    size_t npf = 2 + nrelays;
    if (npf > cappf) { cappf = npf * 2; pf = realloc(pf, cappf * sizeof *pf); }
    pf[0] = (struct pollfd){0, POLLIN, 0}; pf[1] = (struct pollfd){sfd, POLLIN, 0};
    for (size_t k = 0; k < nrelays; k++) pf[2 + k] = relays[k].plen ? (struct pollfd){relays[k].out, POLLOUT, 0} : (struct pollfd){relays[k].in, POLLIN, 0};
    if (poll(pf, npf, -1) < 0) { if (errno == EINTR) continue; return 4; }
    /* Relay output first (before exits are reported), newest relays at the end are safe to skip. */
    for (size_t k = npf - 2; k-- > 0;) {
      if (!pf[2 + k].revents) continue;
      struct relay *rl = &relays[k];
      int drop = 0;
      if (rl->plen) {
        char *old = rl->pend; size_t n = rl->plen; rl->pend = NULL; rl->plen = 0;
        drop = relay_write(rl, old, n) < 0; free(old);
        if (!drop) continue;
      } else {
        ssize_t r = read(rl->in, rbuf, sizeof rbuf);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r > 0) { if (relay_write(rl, rbuf, (size_t)r) == 0) continue; }
      }
      /* EOF (every writer of the pipe is gone) or the agent went away. */
      close(rl->in); close(rl->out); free(rl->pend);
      relays[k] = relays[--nrelays];
    }
    if (pf[1].revents) { struct signalfd_siginfo si; while (read(sfd, &si, sizeof si) > 0) {} reap(); }
    if (pf[0].revents) {
      if (cap - len < 4096) { cap *= 2; buf = realloc(buf, cap); }
      ssize_t r = read(0, buf + len, cap - len);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        for (size_t k = 0; k < nkids; k++) kill(-kids[k], SIGKILL);
        return 0;
      }
      len += (size_t)r;
      for (;;) {
        char *nl = memchr(buf, '\n', len);
        if (!nl) break;
        size_t rl = (size_t)atol(buf), hl = (size_t)(nl - buf) + 1;
        if (len < hl + rl) { if (cap < hl + rl + 1) { cap = hl + rl + 4096; buf = realloc(buf, cap); } break; }
        spawn_one(buf + hl, rl);
        memmove(buf, buf + hl + rl, len - hl - rl); len -= hl + rl;
      }
      reap();
    }
  }
}
`;
