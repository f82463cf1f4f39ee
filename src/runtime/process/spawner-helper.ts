/**
 * Source of the spawner helper: a tiny C program the process runtime compiles once (gcc) and runs
 * beside the agent. Forking a ~100 MB Node process costs milliseconds of blocked event loop per
 * container; forking this ~1 MB helper costs microseconds, so a burst of pods starts in parallel.
 * Kept as a string because the build (tsc) ships only JavaScript.
 *
 * Protocol (agent → helper on stdin): records `<len>\n` + len bytes of NUL-terminated fields:
 *   token, file, cwd, flags ("i" = stdin socket too, "t" = on a new pseudo-terminal, "n" =
 *   no_new_privs), argc, argv…, envc, env…, cgc, cgroup.procs files…, then optionally the user:
 *   uid, gid, groups ("g1,g2", may be empty)
 * or a resize of a TTY process's terminal: "R", pid, cols, rows.
 * For each record the helper connects to the agent's unix socket (argv[1]) once per stdio stream,
 * sends `<token> <fd>\n`, forks a child that makes itself a session/group leader, joins the
 * cgroups, chdirs, takes fds 0/1/2 and execs `file`. The child's stdout/stderr are pipes (a
 * socket there would break `> /dev/stdout`), which the helper relays to those sockets. With "t"
 * the child's fds 0/1/2 are the slave of a new pty (its controlling terminal) instead, and the
 * helper relays the master to the stdout socket and the stdin socket to the master (no stderr
 * stream: a terminal has one output, as upstream's TTY exec). Replies on stdout, one line each:
 *   P <token> <pid>        started
 *   E <token> <errno>      failed to start (exec, chdir, connect)
 *   X <pid> <code> <sig>   a child exited (code -1 when killed by signal sig)
 * On stdin EOF (the agent is gone) it kills every child's process group and exits.
 *
 * `spawner --as uid gid groups file argv…` only drops to that user and execs: for a process that
 * must enter its pod's network namespace (`ip netns exec`, which needs root) before it changes user.
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
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *sock_path;
static pid_t *kids; static size_t nkids, capkids;
/* stdout/stderr are pipes (so /dev/stdout can be opened), relayed here to the agent's sockets. */
/* A TTY child's relays have an owner and a kind: its stdin feed goes when it is reaped; its
 * terminal output is drained then (the helper holds the slave open, so nothing the child wrote
 * is lost to EIO) and closes once written (eof). */
enum { R_PLAIN, R_TTY_IN, R_TTY_OUT };
struct relay { int in, out; char *pend; size_t plen; pid_t owner; int kind, eof; };
static struct relay *relays; static size_t nrelays, caprelays;
/* Per TTY child: a master fd for resizes and the helper's own slave fd. */
struct ptyent { pid_t pid; int fd, slave; };
static struct ptyent *ptys; static size_t nptys, capptys;
/* Children between fork and exec. Each has an exec-status pipe (close-on-exec): EOF means the exec
 * succeeded, an int is its errno. They are waited for in the poll loop, not one by one, so a burst's
 * children join their cgroups and exec side by side, and one slow exec holds up no other child. */
struct pending_exec { int fd; pid_t pid; char token[64]; };
static struct pending_exec *pexecs; static size_t npexecs, cappexecs;
static void add_relay_owned(int in, int out, pid_t owner, int kind);
static void add_relay(int in, int out) { add_relay_owned(in, out, 0, R_PLAIN); }
static void add_relay_owned(int in, int out, pid_t owner, int kind) {
  if (nrelays == caprelays) { caprelays = caprelays ? caprelays * 2 : 64; relays = realloc(relays, caprelays * sizeof *relays); }
  fcntl(out, F_SETFL, fcntl(out, F_GETFL) | O_NONBLOCK); /* a slow reader stalls only its own stream */
  relays[nrelays].in = in; relays[nrelays].out = out; relays[nrelays].pend = NULL; relays[nrelays].plen = 0; relays[nrelays].owner = owner; relays[nrelays].kind = kind; relays[nrelays].eof = 0; nrelays++;
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

static void relay_append(struct relay *r, const char *p, size_t n) {
  r->pend = realloc(r->pend, r->plen + n); memcpy(r->pend + r->plen, p, n); r->plen += n;
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

/* Supplementary groups, then gid, then uid (after which nothing privileged is possible). */
static int become(const char *uid, const char *gid, const char *groups) {
  gid_t gs[64]; size_t ng = 0;
  for (const char *p = groups; p && *p && ng < 64;) { gs[ng++] = (gid_t)strtoul(p, NULL, 10); p = strchr(p, ','); if (p) p++; }
  if (setgroups(ng, gs) < 0) return errno;
  if (setgid((gid_t)strtoul(gid, NULL, 10)) < 0) return errno;
  if (setuid((uid_t)strtoul(uid, NULL, 10)) < 0) return errno;
  return 0;
}

static void resize_one(char **f, size_t nf) {
  if (nf < 4) return;
  pid_t pid = (pid_t)atol(f[1]);
  for (size_t k = 0; k < nptys; k++) {
    if (ptys[k].pid != pid) continue;
    struct winsize ws; memset(&ws, 0, sizeof ws);
    ws.ws_col = (unsigned short)atoi(f[2]); ws.ws_row = (unsigned short)atoi(f[3]);
    ioctl(ptys[k].fd, TIOCSWINSZ, &ws); /* the kernel sends SIGWINCH to the foreground group */
    return;
  }
}

static void spawn_one(char *rec, size_t len) {
  char *f[4096]; size_t nf = 0; char *p = rec, *end = rec + len;
  while (p < end && nf < 4096) { f[nf++] = p; p += strlen(p) + 1; }
  char line[160];
  if (nf >= 1 && strcmp(f[0], "R") == 0) { resize_one(f, nf); return; }
  if (nf < 5) return;
  size_t i = 0;
  const char *token = f[i++], *file = f[i++], *cwd = f[i++], *flags = f[i++];
  size_t argc = (size_t)atol(f[i++]); if (i + argc > nf) return;
  char **argv = calloc(argc + 1, sizeof(char *)); for (size_t k = 0; k < argc; k++) argv[k] = f[i++];
  size_t envc = (size_t)atol(i < nf ? f[i++] : "0"); if (i + envc > nf) { free(argv); return; }
  char **envp = calloc(envc + 1, sizeof(char *)); for (size_t k = 0; k < envc; k++) envp[k] = f[i++];
  size_t cgc = (size_t)atol(i < nf ? f[i++] : "0"); if (i + cgc > nf) cgc = nf - i;
  char **cgs = f + i; i += cgc;
  const char *as_uid = NULL, *as_gid = NULL, *as_groups = NULL;
  if (i + 3 <= nf) { as_uid = f[i]; as_gid = f[i + 1]; as_groups = f[i + 2]; }

  int fds[3] = {-1, -1, -1}, socks[3] = {-1, -1, -1}, rd[3] = {-1, -1, -1}, err = 0;
  int tty = strchr(flags, 't') != NULL, master = -1;
  char slave[128] = "";
  if (tty) {
    errno = 0;
    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, slave, sizeof slave) != 0) err = errno ? errno : EIO;
    if (strchr(flags, 'i') && (socks[0] = connect_stream(token, 0)) < 0) err = errno ? errno : EIO;
    if ((socks[1] = connect_stream(token, 1)) < 0) err = errno ? errno : EIO;
  } else {
    if (strchr(flags, 'i')) fds[0] = connect_stream(token, 0);
    else fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (int k = 1; k < 3; k++) {
      int pp[2];
      socks[k] = connect_stream(token, k);
      if (socks[k] >= 0 && pipe2(pp, O_CLOEXEC) == 0) { rd[k] = pp[0]; fds[k] = pp[1]; }
    }
    for (int k = 0; k < 3; k++) if (fds[k] < 0) err = errno ? errno : EIO;
  }
  int pipefd[2] = {-1, -1};
  if (!err && pipe2(pipefd, O_CLOEXEC) < 0) err = errno;
  pid_t pid = -1;
  if (!err) {
    pid_t helper = getpid();
    pid = fork();
    if (pid < 0) err = errno;
    else if (pid == 0) {
      /* Until it execs, the child dies with the helper: the agent learns its pid only from P. */
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != helper) _exit(127);
      sigset_t none; sigemptyset(&none); sigprocmask(SIG_SETMASK, &none, NULL);
      signal(SIGPIPE, SIG_DFL);
      setsid();
      char me[32]; int ml = snprintf(me, sizeof me, "%d\n", (int)getpid());
      for (size_t k = 0; k < cgc; k++) {
        int c = open(cgs[k], O_WRONLY | O_CLOEXEC);
        if (c >= 0) { if (write(c, me, (size_t)ml) < 0) {} close(c); }
      }
      int e = 0;
      if (tty) {
        /* A session leader opening a terminal without O_NOCTTY makes it its controlling tty. It is
         * opened while still root (the slave belongs to the helper's user) and given to the user. */
        int sl = open(slave, O_RDWR);
        if (sl < 0) e = errno;
        else {
          ioctl(sl, TIOCSCTTY, 0); fds[0] = fds[1] = fds[2] = sl;
          if (as_uid && fchown(sl, (uid_t)strtoul(as_uid, NULL, 10), (gid_t)-1) < 0) {}
        }
      }
      if (!e && strchr(flags, 'n') && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) e = errno;
      /* The user before the directory: the process must be able to enter it as itself. */
      if (!e && as_uid) e = become(as_uid, as_gid, as_groups);
      if (!e && chdir(cwd) < 0) e = errno;
      if (!e) {
        /* Move the stream fds above 2 first so dup2 never clobbers one we still need. */
        for (int k = 0; k < 3; k++) { int d = fcntl(fds[k], F_DUPFD_CLOEXEC, 3); if (d < 0) { e = errno; break; } fds[k] = d; }
        for (int k = 0; !e && k < 3; k++) if (dup2(fds[k], k) < 0) e = errno;
      }
      if (!e) { prctl(PR_SET_PDEATHSIG, 0); execve(file, argv, envp); e = errno; }
      if (write(pipefd[1], &e, sizeof e) < 0) {}
      _exit(127);
    }
  }
  for (int k = 0; k < 3; k++) if (fds[k] >= 0) close(fds[k]);
  if (tty) {
    /* Each relay owns its fd: the master is dup'ed for the input side and for resizes. */
    if (!err && pid > 0) {
      fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
      if (socks[0] >= 0) add_relay_owned(socks[0], fcntl(master, F_DUPFD_CLOEXEC, 3), pid, R_TTY_IN);
      if (nptys == capptys) { capptys = capptys ? capptys * 2 : 16; ptys = realloc(ptys, capptys * sizeof *ptys); }
      ptys[nptys].pid = pid; ptys[nptys].fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
      ptys[nptys].slave = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC); nptys++;
      add_relay_owned(master, socks[1], pid, R_TTY_OUT);
    } else {
      if (master >= 0) close(master);
      if (socks[0] >= 0) close(socks[0]);
      if (socks[1] >= 0) close(socks[1]);
    }
  }
  for (int k = 1; k < 3 && !tty; k++) {
    if (!err && pid > 0 && rd[k] >= 0) add_relay(rd[k], socks[k]);
    else { if (rd[k] >= 0) close(rd[k]); if (socks[k] >= 0) close(socks[k]); }
  }
  free(argv); free(envp);
  if (pid > 0) {
    /* Counted as a child at once (killed with the rest if the agent goes); reported once it execs. */
    close(pipefd[1]);
    if (nkids == capkids) { capkids = capkids ? capkids * 2 : 64; kids = realloc(kids, capkids * sizeof(pid_t)); }
    kids[nkids++] = pid;
    if (npexecs == cappexecs) { cappexecs = cappexecs ? cappexecs * 2 : 64; pexecs = realloc(pexecs, cappexecs * sizeof *pexecs); }
    pexecs[npexecs].fd = pipefd[0]; pexecs[npexecs].pid = pid;
    snprintf(pexecs[npexecs].token, sizeof pexecs[npexecs].token, "%s", token);
    npexecs++;
    return;
  }
  if (pipefd[0] >= 0) { close(pipefd[0]); close(pipefd[1]); }
  snprintf(line, sizeof line, "E %s %d\n", token, err);
  out(line);
}

/* Reports the exec of pexecs[k] (P or E) and forgets it; its pipe is readable or the child is gone. */
static void settle_exec(size_t k) {
  struct pending_exec pe = pexecs[k];
  pexecs[k] = pexecs[--npexecs];
  int e = 0; ssize_t r;
  do r = read(pe.fd, &e, sizeof e); while (r < 0 && errno == EINTR);
  close(pe.fd);
  char line[160];
  if (r == (ssize_t)sizeof e) {
    for (size_t j = 0; j < nkids; j++) if (kids[j] == pe.pid) { kids[j] = kids[--nkids]; break; }
    snprintf(line, sizeof line, "E %s %d\n", pe.token, e);
  } else snprintf(line, sizeof line, "P %s %d\n", pe.token, (int)pe.pid);
  out(line);
}

static void reap(void) {
  int st; pid_t pid; char line[96];
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    /* Its exec is reported before its exit (the agent learns the pid from P). */
    for (size_t k = 0; k < npexecs; k++) if (pexecs[k].pid == pid) { settle_exec(k); break; }
    int known = 0;
    for (size_t k = 0; k < nkids; k++) if (kids[k] == pid) { kids[k] = kids[--nkids]; known = 1; break; }
    /* Its terminal: the output it wrote is drained (then sent and closed), the stdin feed and
     * the resize handle go. */
    for (size_t k = nrelays; k-- > 0;) {
      struct relay *rl = &relays[k];
      if (rl->owner != pid) continue;
      if (rl->kind == R_TTY_OUT) {
        static char dbuf[65536]; ssize_t r;
        while ((r = read(rl->in, dbuf, sizeof dbuf)) > 0 || (r < 0 && errno == EINTR)) if (r > 0) relay_append(rl, dbuf, (size_t)r);
        rl->eof = 1;
        continue;
      }
      close(rl->in); close(rl->out); free(rl->pend);
      relays[k] = relays[--nrelays];
    }
    for (size_t k = 0; k < nptys; k++) if (ptys[k].pid == pid) { close(ptys[k].fd); if (ptys[k].slave >= 0) close(ptys[k].slave); ptys[k] = ptys[--nptys]; break; }
    if (!known) continue; /* a child whose exec failed: already reported with E */
    if (WIFEXITED(st)) snprintf(line, sizeof line, "X %d %d 0\n", (int)pid, WEXITSTATUS(st));
    else snprintf(line, sizeof line, "X %d -1 %d\n", (int)pid, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    out(line);
  }
}

int main(int argc, char **argv) {
  if (argc >= 6 && strcmp(argv[1], "--as") == 0) {
    int e = become(argv[2], argv[3], argv[4]);
    if (e) { fprintf(stderr, "spawner: cannot become uid %s gid %s: %s\n", argv[2], argv[3], strerror(e)); return 126; }
    execvp(argv[5], argv + 5);
    fprintf(stderr, "spawner: exec %s: %s\n", argv[5], strerror(errno));
    return 127;
  }
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
    size_t nr = nrelays, np = npexecs, npf = 2 + nr + np;
    if (npf > cappf) { cappf = npf * 2; pf = realloc(pf, cappf * sizeof *pf); }
    pf[0] = (struct pollfd){0, POLLIN, 0}; pf[1] = (struct pollfd){sfd, POLLIN, 0};
    for (size_t k = 0; k < nr; k++) pf[2 + k] = relays[k].plen || relays[k].eof ? (struct pollfd){relays[k].out, POLLOUT, 0} : (struct pollfd){relays[k].in, POLLIN, 0};
    for (size_t k = 0; k < np; k++) pf[2 + nr + k] = (struct pollfd){pexecs[k].fd, POLLIN, 0};
    if (poll(pf, npf, -1) < 0) { if (errno == EINTR) continue; return 4; }
    /* Relay output first (before exits are reported), newest relays at the end are safe to skip. */
    for (size_t k = nr; k-- > 0;) {
      if (!pf[2 + k].revents) continue;
      struct relay *rl = &relays[k];
      int drop = 0;
      if (rl->plen) {
        char *old = rl->pend; size_t n = rl->plen; rl->pend = NULL; rl->plen = 0;
        drop = relay_write(rl, old, n) < 0; free(old);
        if (!drop && !(rl->eof && !rl->plen)) continue;
      } else if (rl->eof) {
        /* drained and sent: close below */
      } else {
        ssize_t r = read(rl->in, rbuf, sizeof rbuf);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r > 0) { if (relay_write(rl, rbuf, (size_t)r) == 0) continue; }
      }
      /* EOF (every writer of the pipe is gone) or the agent went away. */
      close(rl->in); close(rl->out); free(rl->pend);
      relays[k] = relays[--nrelays];
    }
    /* Execs done (or failed), before exits: descending, so a swapped-in entry was already seen. */
    for (size_t k = np; k-- > 0;) if (pf[2 + nr + k].revents) settle_exec(k);
    if (pf[1].revents) { struct signalfd_siginfo si; while (read(sfd, &si, sizeof si) > 0) {} reap(); }
    if (pf[0].revents) {
      if (cap - len < 4096) { cap *= 2; buf = realloc(buf, cap); }
      ssize_t r = read(0, buf + len, cap - len);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        /* The pid too: a child not yet past setsid() leads no group of its own. */
        for (size_t k = 0; k < nkids; k++) { kill(-kids[k], SIGKILL); kill(kids[k], SIGKILL); }
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
