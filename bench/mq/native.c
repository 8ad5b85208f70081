/* Baseline for bench/mq: the same transfer as the ipckit benchmark, in plain C.
 *   native posix|sysv SIZE COUNT
 * Forks a producer that sends COUNT messages of SIZE bytes (blocking mq_send / msgsnd) while
 * the parent receives them (blocking mq_receive / msgrcv); prints messages per second measured
 * by the receiver from its first message to its last, as the JS side does.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
    double start = 0;
    for (long i = 0; i < count; i++) {
        ssize_t n = posix ? mq_receive(q, m.mtext, sizeof m.mtext, NULL) : msgrcv(id, &m, sizeof m.mtext, 0, 0);
        if (n != (ssize_t)size) return perror("receive"), 1;
        if (i == 0) start = now();
    }
    double elapsed = now() - start;
    waitpid(child, NULL, 0);
    if (!posix) msgctl(id, IPC_RMID, NULL);
    printf("%.0f\n", (double)(count - 1) / elapsed);
    return 0;
}
