/* Baseline for bench/mq: the same transfer as the ipckit benchmark, in plain C.
 *   native posix|sysv SIZE COUNT
 * Forks a producer that sends COUNT messages of SIZE bytes (blocking mq_send / msgsnd) while
 * the parent receives them (blocking mq_receive / msgrcv); prints messages per second measured
 * by the receiver from its first message to its last, as the JS side does, and the CPU time
 * per message of both processes (user + system), which the machine's other load disturbs less.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double cpu(int who) {
    struct rusage u;
    getrusage(who, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct sysv_msg {
    long mtype;
    char mtext[8192];
};

int main(int argc, char **argv) {
    if (argc != 4) return fprintf(stderr, "usage: native posix|sysv SIZE COUNT\n"), 2;
    int posix = strcmp(argv[1], "posix") == 0;
    size_t size = (size_t)atol(argv[2]);
    long count = atol(argv[3]);
    char name[64];
    snprintf(name, sizeof name, "/ipckit-bench-c-%d", (int)getpid());
    mqd_t q = (mqd_t)-1;
    int id = -1;
    if (posix) {
        struct mq_attr attr = {0};
        attr.mq_maxmsg = 10;
        attr.mq_msgsize = 8192;
        q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
        if (q == (mqd_t)-1) return perror("mq_open"), 1;
        mq_unlink(name);
    } else {
        id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
        if (id < 0) return perror("msgget"), 1;
    }
    static struct sysv_msg m;
    memset(&m, 7, sizeof m);
    pid_t child = fork();
    if (child == 0) {
        for (long i = 0; i < count; i++) {
            int rc = posix ? mq_send(q, m.mtext, size, (unsigned)(i & 7)) : (m.mtype = 1, msgsnd(id, &m, size, 0));
            if (rc != 0) return perror("send"), 1;
        }
        return 0;
    }
    double cpu0 = cpu(RUSAGE_SELF);
    double start = 0;
    unsigned priority = 0;
    long checksum = 0;
    for (long i = 0; i < count; i++) {
        /* The priority / type is read as the JS side's receiveSync() reads it. */
        ssize_t n = posix ? mq_receive(q, m.mtext, sizeof m.mtext, &priority) : msgrcv(id, &m, sizeof m.mtext, 0, 0);
        if (n != (ssize_t)size) return perror("receive"), 1;
        checksum += posix ? (long)priority : m.mtype;
        if (i == 0) start = now();
    }
    double elapsed = now() - start;
    double receiver_cpu = cpu(RUSAGE_SELF) - cpu0;
    waitpid(child, NULL, 0);
    if (!posix) msgctl(id, IPC_RMID, NULL);
    if (checksum < 0) return 1; /* keeps the reads */
    /* msg/s, then CPU microseconds per message of both processes (the child's whole life). */
    printf("%.0f %.3f\n", (double)(count - 1) / elapsed, (receiver_cpu + cpu(RUSAGE_CHILDREN)) * 1e6 / (double)count);
    return 0;
}
