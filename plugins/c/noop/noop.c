/*
 * noop: the smallest useful Plugboard plugin, in C, for benchmarks.
 *
 * It answers every reconcile request with no actions ({}), as fast as one
 * thread with epoll can, so that the host is what a benchmark measures. It
 * speaks just enough HTTP/1.1 for the host and for wrk: keep-alive requests
 * with a Content-Length body, no chunked bodies.
 *
 * When a request body contains "stamp":"<nanoseconds since the epoch>" (the
 * host benchmark writes it into each object), the delay from that time to the
 * request's arrival is recorded; GET /latencies returns them (microseconds,
 * one per line) and forgets them. GET /healthz answers ok. GET /count returns
 * how many reconcile requests were answered.
 *
 * Build: cc -O2 -o noop noop.c      Run: PLUGBOARD_PORT=8080 ./noop
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define BUFFER_LIMIT (16 << 20)

struct conn {
    int fd;
    char *buf;
    size_t len, cap;
};

static long long *latencies;
static size_t latency_count, latency_cap;
static unsigned long long answered;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void record_stamp(const char *body, size_t len) {
    const char *key = "\"stamp\":\"";
    const char *p = memmem(body, len, key, strlen(key));
    if (!p) return;
    long long stamp = strtoll(p + strlen(key), NULL, 10);
    if (stamp <= 0) return;
    if (latency_count == latency_cap) {
        latency_cap = latency_cap ? latency_cap * 2 : 4096;
        latencies = realloc(latencies, latency_cap * sizeof *latencies);
    }
    latencies[latency_count++] = (now_ns() - stamp) / 1000;
}

static int send_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) { usleep(50); continue; }
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int respond(int fd, int status, const char *reason, const char *body, size_t body_len) {
    char head[256];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     status, reason, body_len);
    if (send_all(fd, head, (size_t)n) < 0) return -1;
    return send_all(fd, body, body_len);
}

/* Handles every complete request in the buffer; returns -1 to close the connection. */
static int handle(struct conn *c) {
    for (;;) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!end) return c->len > 65536 ? -1 : 0;
        size_t head_len = (size_t)(end - c->buf) + 4;
        size_t body_len = 0;
        for (char *line = c->buf; line < end; ) {
            char *next = memmem(line, (size_t)(end - line), "\r\n", 2);
            if (!next) next = end;
            if (strncasecmp(line, "Content-Length:", 15) == 0) body_len = strtoul(line + 15, NULL, 10);
            if (strncasecmp(line, "Transfer-Encoding:", 18) == 0) {
                respond(c->fd, 411, "Length Required", "{\"error\":\"chunked bodies are not supported\"}", 44);
                return -1;
            }
            line = next + 2;
        }
        if (body_len > BUFFER_LIMIT) return -1;
        if (c->len < head_len + body_len) return 0;
        int rc;
        if (strncmp(c->buf, "POST ", 5) == 0) {
            record_stamp(c->buf + head_len, body_len);
            answered++;
            rc = respond(c->fd, 200, "OK", "{}", 2);
        } else if (strncmp(c->buf, "GET /healthz", 12) == 0) {
            rc = respond(c->fd, 200, "OK", "\"ok\"", 4);
        } else if (strncmp(c->buf, "GET /count", 10) == 0) {
            char text[32];
            int n = snprintf(text, sizeof text, "%llu", answered);
            rc = respond(c->fd, 200, "OK", text, (size_t)n);
        } else if (strncmp(c->buf, "GET /latencies", 14) == 0) {
            size_t size = latency_count * 21 + 1, used = 0;
            char *text = malloc(size);
            for (size_t i = 0; i < latency_count; i++) used += (size_t)snprintf(text + used, size - used, "%lld\n", latencies[i]);
            latency_count = 0;
            rc = respond(c->fd, 200, "OK", text, used);
            free(text);
        } else {
            rc = respond(c->fd, 404, "Not Found", "{}", 2);
        }
        if (rc < 0) return -1;
        memmove(c->buf, c->buf + head_len + body_len, c->len - head_len - body_len);
        c->len -= head_len + body_len;
    }
}

int main(void) {
    const char *port_text = getenv("PLUGBOARD_PORT");
    int port = port_text ? atoi(port_text) : 8080;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 512) < 0) {
        perror("noop: listen");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    fprintf(stderr, "noop plugin on 127.0.0.1:%d\n", port);
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    nc->cap = 65536;
                    nc->buf = malloc(nc->cap);
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            int closed = 0;
            for (;;) {
                if (c->len == c->cap) {
                    if (c->cap >= BUFFER_LIMIT + 65536) { closed = 1; break; }
                    c->cap *= 2;
                    c->buf = realloc(c->buf, c->cap);
                }
                ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
                if (r > 0) { c->len += (size_t)r; continue; }
                if (r == 0 || (errno != EAGAIN && errno != EINTR)) closed = 1;
                break;
            }
            if (!closed && handle(c) < 0) closed = 1;
            if (closed) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                free(c->buf);
                free(c);
            }
        }
    }
}
