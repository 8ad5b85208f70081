// The physical-limit anchor for bench/channel: the same ring layout and protocol as ipckit's
// Channel (src/shared/LAYOUT.md: locks, journal, commit store, sleeper counts, spin then
// FUTEX_WAIT), in C with no runtime in between. Two processes (fork), shared anonymous mapping.
//   anchor rtt    <bytes> <roundtrips> <spin_us>   -> median of 1000-round-trip batch means, ns
//   anchor stream <bytes> <messages>   <spin_us>   -> messages/s and MB/s, receiver side
//   a 5th argument "pin" puts the parent on CPU 0 and the child on CPU 1
// Build: gcc -O2 -o anchor anchor.c
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { TAIL = 16, RECV_SLEEPERS = 17, HEAD = 32, SEND_SLEEPERS = 33, ROOM_EPOCH = 34,
       SEND_LOCK = 48, INTENT_TAIL = 50, INTENT_SENT = 51, SENT = 52,
       RECV_LOCK = 64, INTENT_HEAD = 66, INTENT_RECEIVED = 67, RECEIVED = 68, HDR = 512 };

typedef struct { _Atomic int32_t *w; uint8_t *data; uint32_t cap; } ring;
static long spin_ns;

static double now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
static void fwait(_Atomic int32_t *a, int32_t v) { syscall(SYS_futex, a, FUTEX_WAIT, v, NULL, NULL, 0); }
static void fwake(_Atomic int32_t *a) { syscall(SYS_futex, a, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0); }

static void wait_change(_Atomic int32_t *word, int32_t seen, _Atomic int32_t *sleepers) {
  if (spin_ns > 0) {
    double end = now_ns() + spin_ns;
    for (int n = 0; atomic_load(word) == seen; n++) if ((n & 63) == 0 && now_ns() > end) break;
    if (atomic_load(word) != seen) return;
  }
  atomic_fetch_add(sleepers, 1);
  if (atomic_load(word) == seen) fwait(word, seen);
  atomic_fetch_sub(sleepers, 1);
}

static void lock(_Atomic int32_t *l) { int32_t z; while (z = 0, !atomic_compare_exchange_strong(l, &z, getpid())) ; }

static void ring_send(ring *r, const uint8_t *msg, uint32_t n) {
  _Atomic int32_t *w = r->w;
  uint32_t rec = 4 + ((n + 3) & ~3u), mask = r->cap - 1;
  for (;;) {
    lock(&w[SEND_LOCK]);
    int32_t epoch = atomic_load(&w[ROOM_EPOCH]);
    uint32_t tail = atomic_load(&w[TAIL]), head = atomic_load(&w[HEAD]);
    if (tail - head + rec <= r->cap) {
      uint32_t off = tail & mask, start = (off + 4) & mask, first = r->cap - start;
      memcpy(r->data + off, &n, 4);
      if (n <= first) memcpy(r->data + start, msg, n);
      else { memcpy(r->data + start, msg, first); memcpy(r->data, msg + first, n - first); }
      int32_t sent = atomic_load(&w[SENT]) + 1;
      atomic_store(&w[INTENT_TAIL], tail + rec);
      atomic_store(&w[INTENT_SENT], sent);
      atomic_store(&w[TAIL], tail + rec);
      atomic_store(&w[SENT], sent);
      atomic_store(&w[SEND_LOCK], 0);
      if (atomic_load(&w[RECV_SLEEPERS]) > 0) fwake(&w[TAIL]);
      return;
    }
    atomic_store(&w[SEND_LOCK], 0);
    wait_change(&w[ROOM_EPOCH], epoch, &w[SEND_SLEEPERS]);
  }
}

static uint32_t ring_recv(ring *r, uint8_t *out) {
  _Atomic int32_t *w = r->w;
  uint32_t mask = r->cap - 1;
  for (;;) {
    lock(&w[RECV_LOCK]);
    uint32_t tail = atomic_load(&w[TAIL]), head = atomic_load(&w[HEAD]);
    if (tail != head) {
      uint32_t off = head & mask, n, start, first;
      memcpy(&n, r->data + off, 4);
      start = (off + 4) & mask; first = r->cap - start;
      if (n <= first) memcpy(out, r->data + start, n);
      else { memcpy(out, r->data + start, first); memcpy(out + first, r->data, n - first); }
      uint32_t nh = head + 4 + ((n + 3) & ~3u);
      int32_t received = atomic_load(&w[RECEIVED]) + 1;
      atomic_store(&w[INTENT_HEAD], nh);
      atomic_store(&w[INTENT_RECEIVED], received);
      atomic_store(&w[HEAD], nh);
      atomic_store(&w[RECEIVED], received);
      atomic_fetch_add(&w[ROOM_EPOCH], 1);
      atomic_store(&w[RECV_LOCK], 0);
      if (atomic_load(&w[SEND_SLEEPERS]) > 0) fwake(&w[ROOM_EPOCH]);
      return n;
    }
    atomic_store(&w[RECV_LOCK], 0);
    wait_change(&w[TAIL], (int32_t)tail, &w[RECV_SLEEPERS]);
  }
}

static ring make(uint32_t cap) {
  void *m = mmap(NULL, HDR + cap, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) { perror("mmap"); exit(1); }
  ring r = { (_Atomic int32_t *)m, (uint8_t *)m + HDR, cap };
  return r;
}

static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: anchor rtt|stream <bytes> <count> <spin_us>\n"); return 2; }
  int rtt = strcmp(argv[1], "rtt") == 0;
  uint32_t size = atoi(argv[2]);
  long count = atol(argv[3]);
  spin_ns = atol(argv[4]) * 1000L;
  uint32_t cap = 1u << 16;
  while (cap < 8 * (size + 8)) cap <<= 1;
  ring a = make(cap), b = make(cap);
  uint8_t *msg = calloc(1, size + 8), *buf = calloc(1, size + 8);
  int pin = argc > 5 && strcmp(argv[5], "pin") == 0;
  pid_t child = fork();
  if (pin) {
    cpu_set_t set; CPU_ZERO(&set); CPU_SET(child == 0 ? 1 : 0, &set);
    sched_setaffinity(0, sizeof set, &set);
  }
  if (child == 0) {
    if (rtt) for (;;) { uint32_t n = ring_recv(&a, buf); if (n == 0) break; ring_send(&b, buf, n); }
    else {
      ring_recv(&a, buf);
      double t0 = now_ns();
      for (long i = 1; i < count; i++) ring_recv(&a, buf);
      double dt = (now_ns() - t0) / 1e9;
      printf("{\"msgsPerSec\":%.0f,\"MBps\":%.1f}\n", (count - 1) / dt, (count - 1) * (double)size / dt / 1e6);
    }
    return 0;
  }
  if (rtt) {
    for (int i = 0; i < 20000; i++) { ring_send(&a, msg, size); ring_recv(&b, buf); }
    long batches = count / 1000;
    double *means = calloc(batches, sizeof(double));
    for (long k = 0; k < batches; k++) {
      double t0 = now_ns();
      for (int i = 0; i < 1000; i++) { ring_send(&a, msg, size); ring_recv(&b, buf); }
      means[k] = (now_ns() - t0) / 1000;
    }
    qsort(means, batches, sizeof(double), cmp);
    printf("{\"rttNs\":%.0f}\n", means[batches / 2]);
    ring_send(&a, msg, 0);
  } else {
    for (long i = 0; i < count; i++) ring_send(&a, msg, size);
  }
  waitpid(child, NULL, 0);
  return 0;
}
