// Shared memory between the worker processes (Node-API addon): maps a file (on tmpfs) MAP_SHARED and hands it to
// JavaScript as an ArrayBuffer, so every process sees the same bytes (the response rate limiter's table).

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value fail(napi_env env, const char *what, int err) {
  char msg[4200];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

// map(path: string, size: number): ArrayBuffer: opens (creating it, mode 0600) and grows the file to `size` octets
// when it is shorter; new files read as zeros.
static napi_value map(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return fail(env, "map(path, size)", EINVAL);
  char path[4096];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok || len == 0 || len >= sizeof path - 1) return fail(env, "map: path", EINVAL);
  int64_t size = 0;
  if (napi_get_value_int64(env, argv[1], &size) != napi_ok || size <= 0 || size > ((int64_t)1 << 32)) return fail(env, "map: size", EINVAL);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(env, path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0 || (st.st_size < size && ftruncate(fd, (off_t)size) != 0)) {
    int e = errno;
    close(fd);
    return fail(env, path, e);
  }
  void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int e = errno;
  close(fd);
  if (p == MAP_FAILED) return fail(env, path, e);
  napi_value ab;
  if (napi_create_external_arraybuffer(env, p, (size_t)size, unmap, (void *)(uintptr_t)size, &ab) != napi_ok) {
    munmap(p, (size_t)size);
    return fail(env, "map: external ArrayBuffer", EINVAL);
  }
  return ab;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "map", NAPI_AUTO_LENGTH, map, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "map", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(apexdns_shm, init)
