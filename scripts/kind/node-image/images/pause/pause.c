/*
 * The sandbox ("pause") process of every pod: holds the pod's namespaces, reaps the zombies it
 * inherits as PID 1 of a shared PID namespace, and exits 0 on SIGINT or SIGTERM. Written for
 * this project; built static by build-images.sh.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int signo) {
  (void)signo;
  _exit(0);
}

static void reap(int signo) {
  (void)signo;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'v') {
    printf("pause (event-pipeline node image)\n");
    return 0;
  }
  if (getpid() != 1) fprintf(stderr, "pause: not PID 1, zombies are reaped only as PID 1\n");

  struct sigaction sa = {0};
  sa.sa_handler = stop;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = reap;
  sa.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);

  for (;;) pause();
}
