/*
 * The TCP benchmark's load generator, in C so that it takes as little of the shared 2 cores as
 * possible and gives haproxy and keepcache the same conditions (one thread, epoll, non-blocking
 * sockets to 127.0.0.1). bench/tcp/index.ts compiles it with cc on first use.
 *
 *   loadgen bulk     PORT MS CONNS        -> MB/s read from a streaming source
 *   loadgen pingpong PORT MS CONNS SIZE   -> round trips/s, one SIZE-byte message in flight per conn
 *   loadgen conns    PORT MS PAR          -> connect + 1-byte echo + close per second, PAR in flight
 *
 * Prints one number on stdout. Every run is bounded by MS (plus a 300 ms warm-up for bulk).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 1024
static int ep;
static struct sockaddr_in addr;
static char buf[256 * 1024];

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int open_conn(int blocking) {
  int fd = socket(AF_INET, SOCK_STREAM | (blocking ? 0 : SOCK_NONBLOCK), 0);
  if (fd < 0) { perror("socket"); exit(1); }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
    perror("connect");
    exit(1);
  }
  return fd;
}

static void watch(int fd, unsigned ev, int op) {
  struct epoll_event e = {.events = ev, .data.fd = fd};
  if (epoll_ctl(ep, op, fd, &e) < 0) { perror("epoll_ctl"); exit(1); }
}

static double bulk(double ms, int conns) {
  for (int i = 0; i < conns; i++) watch(open_conn(1), EPOLLIN, EPOLL_CTL_ADD);
  struct epoll_event evs[64];
  double bytes = 0, start = now_ms() + 300, end = start + ms;
  for (double t = now_ms(); t < end; t = now_ms()) {
    int n = epoll_wait(ep, evs, 64, 50);
    for (int i = 0; i < n; i++) {
      ssize_t r = read(evs[i].data.fd, buf, sizeof buf);
      if (r <= 0) { fprintf(stderr, "bulk: connection closed\n"); exit(1); }
      if (t >= start) bytes += r;
    }
  }
  return bytes / (ms / 1e3) / 1e6;
}

static double pingpong(double ms, int conns, int size) {
  static int got[65536];
  char msg[4096];
  memset(msg, 'a', sizeof msg);
  for (int i = 0; i < conns; i++) {
    int fd = open_conn(1);
    watch(fd, EPOLLIN, EPOLL_CTL_ADD);
    if (write(fd, msg, size) != size) { perror("write"); exit(1); }
  }
  struct epoll_event evs[64];
  double ops = 0, end = now_ms() + ms;
  while (now_ms() < end) {
    int n = epoll_wait(ep, evs, 64, 50);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      ssize_t r = read(fd, buf, sizeof buf);
      if (r <= 0) { fprintf(stderr, "pingpong: connection closed\n"); exit(1); }
      got[fd] += r;
      while (got[fd] >= size) {
        got[fd] -= size;
        ops++;
        if (write(fd, msg, size) != size) { perror("write"); exit(1); }
      }
    }
  }
  return ops / (ms / 1e3);
}

static double conns(double ms, int par) {
  struct epoll_event evs[64];
  double done = 0, end = now_ms() + ms;
  for (int i = 0; i < par; i++) watch(open_conn(0), EPOLLOUT, EPOLL_CTL_ADD);
  while (now_ms() < end) {
    int n = epoll_wait(ep, evs, 64, 50);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (evs[i].events & EPOLLOUT) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err || write(fd, "x", 1) != 1) { fprintf(stderr, "conns: connect failed\n"); exit(1); }
        watch(fd, EPOLLIN, EPOLL_CTL_MOD);
        continue;
      }
      ssize_t r = read(fd, buf, 16);
      if (r < 0 && errno == EAGAIN) continue;
      if (r <= 0) { fprintf(stderr, "conns: no echo\n"); exit(1); }
      close(fd);
      done++;
      watch(open_conn(0), EPOLLOUT, EPOLL_CTL_ADD);
    }
  }
  return done / (ms / 1e3);
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: loadgen bulk|pingpong|conns PORT MS N [SIZE]\n");
    return 2;
  }
  addr.sin_family = AF_INET;
  addr.sin_port = htons(atoi(argv[2]));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  double ms = atof(argv[3]);
  int n = atoi(argv[4]);
  if (n < 1 || n > MAXC) { fprintf(stderr, "N must be 1..%d\n", MAXC); return 2; }
  ep = epoll_create1(0);
  double v;
  if (!strcmp(argv[1], "bulk")) v = bulk(ms, n);
  else if (!strcmp(argv[1], "pingpong")) v = pingpong(ms, n, argc > 5 ? atoi(argv[5]) : 64);
  else if (!strcmp(argv[1], "conns")) v = conns(ms, n);
  else { fprintf(stderr, "unknown mode %s\n", argv[1]); return 2; }
  printf("%.1f\n", v);
  return 0;
}
