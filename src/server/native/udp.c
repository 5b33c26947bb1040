// Batched UDP I/O for Linux (Node-API addon): recvmmsg/sendmmsg on a libuv poll handle, one JS call per batch.
//
// JavaScript sees five ArrayBuffers per socket: `input` (BATCH slots of SLOT octets, the received datagrams),
// `overflow` (per slot, the octets of a datagram past the first SLOT, up to the 65535 a UDP datagram can carry),
// `meta` (per datagram: length or -1 when truncated, family 4|6, port, 16 address octets as 4 int32, IPv6 scope),
// `output` (BATCH slots for the answers) and `outLen` (answer length per slot, 0 = nothing to send). After the
// batch callback returns, every slot with an answer goes back to its sender in one sendmmsg call.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define BATCH 64
#define SLOT 4096
/* RFC 768: a datagram's length field is 16 bits, so no payload exceeds 65535 octets; what does not fit the slot
 * lands in the slot's overflow area. Those pages stay untouched (not resident) until a large datagram arrives. */
#define MAX_DGRAM 65535
#define OVERFLOW (MAX_DGRAM - SLOT)
#define META 8
/* Batches per readiness event, so TCP and timers on the same loop get their turn under a flood. */
#define ROUNDS 8

typedef struct udp_s {
  int fd;
  int polling;
  int closed;
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_ref resource;
  napi_ref buffers[5];
  napi_async_context async;
  uint8_t* in;
  uint8_t* over;
  uint8_t* out;
  int32_t* meta;
  int32_t* out_len;
  struct mmsghdr rmsg[BATCH];
  struct iovec riov[BATCH][2];
  struct sockaddr_storage raddr[BATCH];
  struct mmsghdr smsg[BATCH];
  struct iovec siov[BATCH];
} udp_t;

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "apexdns native udp: " #call);      \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

/* "EADDRINUSE" (as node:dgram names errors) where the C library can say it, else the text. */
static const char* errno_name(int e) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
  const char* name = strerrorname_np(e);
  if (name != NULL) return name;
#endif
  return strerror(e);
}

/* Throws an Error "<syscall> <ERRNO NAME>" with `errno` and `code` set, like node:dgram's errors. */
static napi_value throw_errno(napi_env env, const char* what, int e) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s %s", what, errno_name(e));
  napi_value code, text, err;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, NULL, text, &err);
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &code);
  napi_set_named_property(env, err, "code", code);
  napi_create_int32(env, e, &code);
  napi_set_named_property(env, err, "errno", code);
  napi_throw(env, err);
  return NULL;
}

static void fill_meta(udp_t* u, int i) {
  int32_t* m = u->meta + i * META;
  const struct sockaddr_storage* sa = &u->raddr[i];
  memset(m, 0, sizeof(int32_t) * META);
  m[0] = (u->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)u->rmsg[i].msg_len;
  if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6* s6 = (const struct sockaddr_in6*)sa;
    m[1] = 6;
    m[2] = ntohs(s6->sin6_port);
    memcpy(&m[3], &s6->sin6_addr, 16);
    m[7] = (int32_t)s6->sin6_scope_id;
  } else {
    const struct sockaddr_in* s4 = (const struct sockaddr_in*)sa;
    m[1] = 4;
    m[2] = ntohs(s4->sin_port);
    memcpy(&m[3], &s4->sin_addr, 4);
  }
}

static void send_batch(udp_t* u, int n) {
  int k = 0;
  for (int i = 0; i < n; i++) {
    int32_t len = u->out_len[i];
    if (len <= 0 || len > SLOT) continue;
    u->siov[k].iov_base = u->out + (size_t)i * SLOT;
    u->siov[k].iov_len = (size_t)len;
    memset(&u->smsg[k].msg_hdr, 0, sizeof(struct msghdr));
    u->smsg[k].msg_hdr.msg_name = &u->raddr[i];
    u->smsg[k].msg_hdr.msg_namelen = u->rmsg[i].msg_hdr.msg_namelen;
    u->smsg[k].msg_hdr.msg_iov = &u->siov[k];
    u->smsg[k].msg_hdr.msg_iovlen = 1;
    k++;
  }
  int done = 0;
  while (done < k) {
    int r = sendmmsg(u->fd, u->smsg + done, (unsigned)(k - done), MSG_DONTWAIT);
    if (r > 0) done += r;
    else if (r < 0 && errno == EINTR) continue;
    else done++; /* a full send buffer or an error for this datagram: drop it (UDP) and go on */
  }
}

static void on_readable(uv_poll_t* handle, int status, int events) {
  udp_t* u = handle->data;
  (void)events;
  if (status < 0 || !u->polling) return;
  napi_env env = u->env;
  for (int round = 0; round < ROUNDS && u->polling; round++) {
    for (int i = 0; i < BATCH; i++) {
      u->riov[i][0].iov_base = u->in + (size_t)i * SLOT;
      u->riov[i][0].iov_len = SLOT;
      u->riov[i][1].iov_base = u->over + (size_t)i * OVERFLOW;
      u->riov[i][1].iov_len = OVERFLOW;
      memset(&u->rmsg[i].msg_hdr, 0, sizeof(struct msghdr));
      u->rmsg[i].msg_hdr.msg_name = &u->raddr[i];
      u->rmsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
      u->rmsg[i].msg_hdr.msg_iov = u->riov[i];
      u->rmsg[i].msg_hdr.msg_iovlen = 2;
    }
    int n = recvmmsg(u->fd, u->rmsg, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) break; /* EAGAIN: drained; other errors (ICMP-induced) are per-datagram and already consumed */
    for (int i = 0; i < n; i++) {
      fill_meta(u, i);
      u->out_len[i] = 0;
    }
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value cb, res, argv[1], result;
    napi_get_reference_value(env, u->callback, &cb);
    napi_get_reference_value(env, u->resource, &res);
    napi_create_int32(env, n, &argv[0]);
    /* napi_make_callback, not napi_call_function: it runs the microtask and nextTick queues afterwards. */
    if (napi_make_callback(env, u->async, res, cb, 1, argv, &result) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
    napi_close_handle_scope(env, scope);
    if (u->closed) return;
    send_batch(u, n);
    if (n < BATCH) break;
  }
}

static void on_closed(uv_handle_t* h) { free(h->data); }

static void release(udp_t* u) {
  napi_env env = u->env;
  u->closed = 1;
  u->polling = 0;
  if (u->callback != NULL) {
    uv_poll_stop(&u->poll);
    napi_delete_reference(env, u->callback);
    napi_async_destroy(env, u->async);
  }
  close(u->fd);
  napi_delete_reference(env, u->resource);
  for (int i = 0; i < 5; i++) napi_delete_reference(env, u->buffers[i]);
  if (u->callback != NULL) uv_close((uv_handle_t*)&u->poll, on_closed);
  else free(u);
}

static void cleanup_hook(void* arg) {
  udp_t* u = arg;
  if (!u->closed) release(u);
}

/* The JS object for a bound socket `fd`: { handle, fd, port, input, overflow, output, meta, outLen }. */
static napi_value wrap_socket(napi_env env, int fd) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(fd, (struct sockaddr*)&ss, &sl) < 0) return throw_errno(env, "getsockname", errno);
  int port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6*)&ss)->sin6_port) : ntohs(((struct sockaddr_in*)&ss)->sin_port);
  udp_t* u = calloc(1, sizeof(udp_t));
  if (u == NULL) return throw_errno(env, "calloc", ENOMEM);
  u->fd = fd;
  u->env = env;
  napi_value obj, bufs[5], v;
  CHECK(napi_create_object(env, &obj));
  void* data;
  CHECK(napi_create_arraybuffer(env, (size_t)BATCH * SLOT, &data, &bufs[0]));
  u->in = data;
  CHECK(napi_create_arraybuffer(env, (size_t)BATCH * SLOT, &data, &bufs[1]));
  u->out = data;
  CHECK(napi_create_arraybuffer(env, sizeof(int32_t) * BATCH * META, &data, &bufs[2]));
  u->meta = data;
  CHECK(napi_create_arraybuffer(env, sizeof(int32_t) * BATCH, &data, &bufs[3]));
  u->out_len = data;
  CHECK(napi_create_arraybuffer(env, (size_t)BATCH * OVERFLOW, &data, &bufs[4]));
  u->over = data;
  static const char* names[5] = {"input", "output", "meta", "outLen", "overflow"};
  for (int i = 0; i < 5; i++) {
    CHECK(napi_set_named_property(env, obj, names[i], bufs[i]));
    CHECK(napi_create_reference(env, bufs[i], 1, &u->buffers[i]));
  }
  CHECK(napi_create_int32(env, port, &v));
  CHECK(napi_set_named_property(env, obj, "port", v));
  CHECK(napi_create_int32(env, fd, &v));
  CHECK(napi_set_named_property(env, obj, "fd", v));
  CHECK(napi_create_int32(env, ss.ss_family == AF_INET6 ? 6 : 4, &v));
  CHECK(napi_set_named_property(env, obj, "family", v));
  CHECK(napi_create_external(env, u, NULL, NULL, &v));
  CHECK(napi_set_named_property(env, obj, "handle", v));
  CHECK(napi_create_reference(env, obj, 1, &u->resource));
  CHECK(napi_add_env_cleanup_hook(env, cleanup_hook, u));
  return obj;
}

/* Reads up to `n` arguments into argv; returns the socket named by the first (NULL when it is not one). */
static udp_t* handle_arg(napi_env env, napi_callback_info info, size_t n, napi_value* argv) {
  size_t argc = n;
  void* p = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) return NULL;
  if (napi_get_value_external(env, argv[0], &p) != napi_ok) return NULL;
  return p;
}

static int fill_sockaddr(struct sockaddr_storage* ss, int family, const void* addr, size_t alen, int port, int scope) {
  memset(ss, 0, sizeof *ss);
  if (family == 6 && alen == 16) {
    struct sockaddr_in6* s6 = (struct sockaddr_in6*)ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    memcpy(&s6->sin6_addr, addr, 16);
    s6->sin6_scope_id = (uint32_t)scope;
    return sizeof *s6;
  }
  if (family == 4 && alen == 4) {
    struct sockaddr_in* s4 = (struct sockaddr_in*)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    memcpy(&s4->sin_addr, addr, 4);
    return sizeof *s4;
  }
  return -1;
}

/* open(family 4|6, address Uint8Array(4|16), port, v6only 0|1, recvBuffer bytes (0: system default), reusePort 0|1,
 *      zone: interface name or index of a link-local IPv6 address ("" for none; RFC 4007 §11) */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family, port, v6only, rcvbuf, reuse;
  void* addr;
  size_t alen, off;
  napi_typedarray_type tt;
  napi_value ab;
  CHECK(napi_get_value_int32(env, argv[0], &family));
  CHECK(napi_get_typedarray_info(env, argv[1], &tt, &alen, &addr, &ab, &off));
  CHECK(napi_get_value_int32(env, argv[2], &port));
  CHECK(napi_get_value_int32(env, argv[3], &v6only));
  CHECK(napi_get_value_int32(env, argv[4], &rcvbuf));
  CHECK(napi_get_value_int32(env, argv[5], &reuse));
  char zone[IF_NAMESIZE + 1];
  size_t zlen = 0;
  CHECK(napi_get_value_string_utf8(env, argv[6], zone, sizeof zone, &zlen));
  unsigned scope = 0;
  if (zlen > 0) {
    char* end;
    unsigned long n = strtoul(zone, &end, 10);
    scope = *end == '\0' ? (unsigned)n : if_nametoindex(zone);
    if (scope == 0) return throw_errno(env, "if_nametoindex", ENODEV);
  }
  struct sockaddr_storage ss;
  int sl = fill_sockaddr(&ss, family, addr, alen, port, (int)scope);
  if (sl < 0) return throw_errno(env, "open", EINVAL);
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  /* One socket per cluster worker on the same address; the kernel spreads the flows over them. */
  if (reuse) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &reuse, sizeof reuse);
  if (family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (bind(fd, (struct sockaddr*)&ss, (socklen_t)sl) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e);
  }
  return wrap_socket(env, fd);
}

/* adopt(fd): a bound UDP socket inherited from the parent process. */
static napi_value js_adopt(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  int type = 0;
  socklen_t tl = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0) return throw_errno(env, "adopt", errno);
  if (type != SOCK_DGRAM) return throw_errno(env, "adopt", ENOTSOCK);
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return throw_errno(env, "adopt", errno);
  /* Not passed on to processes this one starts. */
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  return wrap_socket(env, fd);
}

/* start(handle, onBatch(count)): begin reading. */
static napi_value js_start(napi_env env, napi_callback_info info) {
  napi_value argv[2], name, res;
  udp_t* u = handle_arg(env, info, 2, argv);
  if (u == NULL || u->closed || u->callback != NULL) return throw_errno(env, "start", EINVAL);
  CHECK(napi_create_reference(env, argv[1], 1, &u->callback));
  CHECK(napi_get_reference_value(env, u->resource, &res));
  CHECK(napi_create_string_utf8(env, "apexdns:udp", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, res, name, &u->async));
  uv_loop_t* loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int r = uv_poll_init(loop, &u->poll, u->fd);
  if (r == 0) {
    u->poll.data = u;
    r = uv_poll_start(&u->poll, UV_READABLE, on_readable);
  }
  if (r != 0) return throw_errno(env, "start", -r);
  u->polling = 1;
  return NULL;
}

/* pause(handle): stop reading (the socket stays open for answers still on their way). */
static napi_value js_pause(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  udp_t* u = handle_arg(env, info, 1, argv);
  if (u != NULL && u->polling) {
    u->polling = 0;
    uv_poll_stop(&u->poll);
  }
  return NULL;
}

/* sendTo(handle, bytes, family, address Uint8Array(4|16), port, scope) -> 0 or errno */
static napi_value js_send_to(napi_env env, napi_callback_info info) {
  napi_value argv[6], ret;
  udp_t* u = handle_arg(env, info, 6, argv);
  void *buf, *addr;
  size_t len, alen, off;
  napi_typedarray_type tt;
  napi_value ab;
  int32_t family, port, scope;
  CHECK(napi_get_typedarray_info(env, argv[1], &tt, &len, &buf, &ab, &off));
  CHECK(napi_get_value_int32(env, argv[2], &family));
  CHECK(napi_get_typedarray_info(env, argv[3], &tt, &alen, &addr, &ab, &off));
  CHECK(napi_get_value_int32(env, argv[4], &port));
  CHECK(napi_get_value_int32(env, argv[5], &scope));
  int err = 0;
  struct sockaddr_storage ss;
  int sl = fill_sockaddr(&ss, family, addr, alen, port, scope);
  if (u == NULL || u->closed) err = EBADF;
  else if (sl < 0) err = EINVAL;
  else {
    while (sendto(u->fd, buf, len, MSG_DONTWAIT, (struct sockaddr*)&ss, (socklen_t)sl) < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
  }
  CHECK(napi_create_int32(env, err, &ret));
  return ret;
}

/* close(handle): stop reading and close the socket. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  udp_t* u = handle_arg(env, info, 1, argv);
  if (u != NULL && !u->closed) {
    napi_remove_env_cleanup_hook(env, cleanup_hook, u);
    release(u);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  static const struct {
    const char* name;
    napi_callback fn;
  } fns[] = {{"open", js_open}, {"adopt", js_adopt}, {"start", js_start}, {"pause", js_pause}, {"sendTo", js_send_to}, {"close", js_close}};
  napi_value v;
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    CHECK(napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &v));
    CHECK(napi_set_named_property(env, exports, fns[i].name, v));
  }
  CHECK(napi_create_int32(env, BATCH, &v));
  CHECK(napi_set_named_property(env, exports, "batch", v));
  CHECK(napi_create_int32(env, SLOT, &v));
  CHECK(napi_set_named_property(env, exports, "slot", v));
  CHECK(napi_create_int32(env, META, &v));
  CHECK(napi_set_named_property(env, exports, "meta", v));
  CHECK(napi_create_int32(env, OVERFLOW, &v));
  CHECK(napi_set_named_property(env, exports, "overflow", v));
  return exports;
}

NAPI_MODULE(apexdns_udp, init)
