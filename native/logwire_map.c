/*
 * logwire_map: maps file pages into a WebAssembly memory, and keeps a file
 * truncated under a mapping from killing the process with SIGBUS.
 * Nothing else lives here: the pread path in src/io works without it.
 */
#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <node_api.h>

/* Fixed size so the signal handler can scan it without locks or malloc. */
#define MAX_WINDOWS 256
/* Slot ids carry a generation so a stale id cannot unmap a newer window. */
#define MAX_GENERATION (1u << 22)

typedef struct {
  /* Read by the signal handler: a window is live while end != 0. */
  _Atomic uintptr_t start;
  _Atomic uintptr_t end;
  atomic_int faulted;
  /* Guarded by g_lock; never read by the handler. */
  bool used;
  uint32_t generation;
  napi_env owner;
  /* Keeps the memory alive until a grow detaches this buffer; from then on
   * only the caller, who owns the WebAssembly.Memory, does. */
  napi_ref memory_ref;
} window_t;

static window_t g_windows[MAX_WINDOWS];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t g_page_size;
static struct sigaction g_previous;
static pthread_once_t g_install_once = PTHREAD_ONCE_INIT;
static int g_install_errno;

/* ---- errors ------------------------------------------------------------ */

#define CALL(env, call, failed)                                                \
  do {                                                                         \
    napi_status status_ = (call);                                              \
    if (status_ != napi_ok) {                                                  \
      throw_napi_failure((env), status_, #call);                               \
      return failed;                                                           \
    }                                                                          \
  } while (0)
#define CHECK(env, call) CALL(env, call, NULL)

static void throw_napi_failure(napi_env env, napi_status status,
                               const char *call) {
  const napi_extended_error_info *info = NULL;
  bool pending = false;
  char message[512];
  /* Must be read before any other napi call overwrites it. */
  napi_get_last_error_info(env, &info);
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  snprintf(message, sizeof message, "logwire_map: %s failed: %s (status %d)",
           call, info && info->error_message ? info->error_message : "unknown",
           (int)status);
  napi_throw_error(env, "LOGWIRE_ERR_NATIVE", message);
}

typedef enum { PLAIN_ERROR, TYPE_ERROR, RANGE_ERROR } error_kind;

static void throw_kind(napi_env env, error_kind kind, const char *code,
                       const char *format, ...) {
  char message[512];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  if (kind == TYPE_ERROR) napi_throw_type_error(env, code, message);
  else if (kind == RANGE_ERROR) napi_throw_range_error(env, code, message);
  else napi_throw_error(env, code, message);
}

static const char *errno_name(int error) {
  switch (error) {
    case EACCES: return "EACCES";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case EEXIST: return "EEXIST";
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case ENODEV: return "ENODEV";
    case ENOMEM: return "ENOMEM";
    case ENOSYS: return "ENOSYS";
    case EOVERFLOW: return "EOVERFLOW";
    case EPERM: return "EPERM";
    case ETXTBSY: return "ETXTBSY";
    default: return "EUNKNOWN";
  }
}

/* An Error shaped like Node's own system errors: code, errno, syscall. */
static void throw_system_error(napi_env env, int error, const char *syscall,
                               const char *format, ...) {
  char detail[400];
  char message[512];
  const char *code = errno_name(error);
  napi_value code_value, message_value, error_value, errno_value,
      syscall_value;
  va_list args;
  va_start(args, format);
  vsnprintf(detail, sizeof detail, format, args);
  va_end(args);
  snprintf(message, sizeof message, "%s: %s (%s)", detail, strerror(error),
           code);
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value) !=
          napi_ok ||
      napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH,
                              &message_value) != napi_ok ||
      napi_create_error(env, code_value, message_value, &error_value) !=
          napi_ok ||
      napi_create_int32(env, -error, &errno_value) != napi_ok ||
      napi_set_named_property(env, error_value, "errno", errno_value) !=
          napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH,
                              &syscall_value) != napi_ok ||
      napi_set_named_property(env, error_value, "syscall", syscall_value) !=
          napi_ok ||
      napi_throw(env, error_value) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, code, message);
  }
}

/* ---- SIGBUS guard ------------------------------------------------------ */

static void pass_to_previous(int signo, siginfo_t *info, void *context) {
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction != NULL) {
      g_previous.sa_sigaction(signo, info, context);
      return;
    }
  } else if (g_previous.sa_handler != SIG_DFL &&
             g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(signo);
    return;
  } else if (g_previous.sa_handler == SIG_IGN &&
             (info == NULL || info->si_code <= 0)) {
    /* An ignored SIGBUS sent with kill() stays ignored... */
    return;
  }
  /* ...but a real fault cannot be ignored: die the way the kernel would. The
   * signal is blocked while we run, so it is delivered when we return. */
  struct sigaction fallback;
  memset(&fallback, 0, sizeof fallback);
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(SIGBUS, &fallback, NULL);
  raise(SIGBUS);
}

/* Async-signal-safe: atomics, mmap and nothing else. */
static void on_sigbus(int signo, siginfo_t *info, void *context) {
  int saved_errno = errno;
  /* si_code > 0 means the kernel raised it for a fault; for kill() and
   * friends si_addr is not an address at all. */
  if (info != NULL && info->si_code > 0) {
    uintptr_t address = (uintptr_t)info->si_addr;
    for (int i = 0; i < MAX_WINDOWS; i++) {
      window_t *window = &g_windows[i];
      uintptr_t end = atomic_load_explicit(&window->end, memory_order_acquire);
      if (end == 0 || address >= end) continue;
      if (address < atomic_load_explicit(&window->start, memory_order_acquire))
        continue;
      /* The page lies past the file's end now: put zeros there so the
       * faulting load is retried and reads 0, and remember it. */
      void *page = (void *)(address & ~(g_page_size - 1));
      if (mmap(page, g_page_size, PROT_READ,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
               0) == MAP_FAILED)
        break;
      atomic_store_explicit(&window->faulted, 1, memory_order_release);
      errno = saved_errno;
      return;
    }
  }
  errno = saved_errno;
  pass_to_previous(signo, info, context);
}

static void install_guard(void) {
  struct sigaction action;
  g_page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
  memset(&action, 0, sizeof action);
  action.sa_sigaction = on_sigbus;
  /* No SA_NODEFER: a SIGBUS inside the handler itself must kill us rather
   * than recurse. SA_ONSTACK in case a thread runs on an alternate stack. */
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGBUS, &action, &g_previous) != 0) g_install_errno = errno;
}

/* ---- argument parsing -------------------------------------------------- */

/* An integer in [min, max] (max at most 2^53 - 1). */
static bool get_integer(napi_env env, napi_value value, const char *name,
                        double min, double max, int64_t *out) {
  napi_valuetype type;
  double number;
  CALL(env, napi_typeof(env, value, &type), false);
  if (type != napi_number) {
    throw_kind(env, TYPE_ERROR, "ERR_INVALID_ARG_TYPE",
               "%s must be a number", name);
    return false;
  }
  CALL(env, napi_get_value_double(env, value, &number), false);
  if (!(number >= min && number <= max) || number != (double)(int64_t)number) {
    throw_kind(env, RANGE_ERROR, "ERR_OUT_OF_RANGE",
               "%s must be an integer in [%.0f, %.0f], got %g", name, min, max,
               number);
    return false;
  }
  *out = (int64_t)number;
  return true;
}

#define MAX_SAFE_INTEGER 9007199254740991.0

/* Resolves a slot id to its window (g_lock held by the caller). */
static window_t *find_window(napi_env env, int64_t id) {
  window_t *window = &g_windows[id % MAX_WINDOWS];
  if (id / MAX_WINDOWS >= MAX_GENERATION || !window->used ||
      window->generation != (uint32_t)(id / MAX_WINDOWS)) {
    throw_kind(env, RANGE_ERROR, "ERR_OUT_OF_RANGE",
               "slot %lld is not a mapped window (already unmapped?)",
               (long long)id);
    return NULL;
  }
  return window;
}

/* ---- exports ----------------------------------------------------------- */

static napi_value page_size(napi_env env, napi_callback_info info) {
  napi_value result;
  (void)info;
  CHECK(env, napi_create_double(env, (double)g_page_size, &result));
  return result;
}

static napi_value map_window(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  bool is_arraybuffer = false, detached = false;
  void *data = NULL;
  size_t byte_length = 0;
  int64_t region_offset, fd, file_offset, length;
  struct stat file_stat;
  napi_ref memory_ref;
  napi_value result;

  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    throw_kind(env, TYPE_ERROR, "ERR_MISSING_ARGS",
               "mapWindow(memory, regionOffset, fd, fileOffset, length) "
               "takes 5 arguments, got %zu", argc);
    return NULL;
  }
  CHECK(env, napi_is_arraybuffer(env, argv[0], &is_arraybuffer));
  if (!is_arraybuffer) {
    throw_kind(env, TYPE_ERROR, "ERR_INVALID_ARG_TYPE",
               "memory must be an ArrayBuffer (WebAssembly.Memory.buffer)");
    return NULL;
  }
  CHECK(env, napi_is_detached_arraybuffer(env, argv[0], &detached));
  if (detached) {
    throw_kind(env, TYPE_ERROR, "ERR_INVALID_ARG_VALUE",
               "memory is a detached ArrayBuffer: take memory.buffer again "
               "after memory.grow()");
    return NULL;
  }
  CHECK(env, napi_get_arraybuffer_info(env, argv[0], &data, &byte_length));
  if (!get_integer(env, argv[1], "regionOffset", 0, MAX_SAFE_INTEGER,
                   &region_offset) ||
      !get_integer(env, argv[2], "fd", 0, INT_MAX, &fd) ||
      !get_integer(env, argv[3], "fileOffset", 0, MAX_SAFE_INTEGER,
                   &file_offset) ||
      !get_integer(env, argv[4], "length", 1, MAX_SAFE_INTEGER, &length))
    return NULL;

  uintptr_t page = g_page_size;
  uintptr_t start = (uintptr_t)data + (uintptr_t)region_offset;
  if ((uint64_t)region_offset > byte_length) {
    throw_kind(env, RANGE_ERROR, "ERR_OUT_OF_RANGE",
               "regionOffset %lld is past the end of memory (byteLength %zu)",
               (long long)region_offset, byte_length);
    return NULL;
  }
  if (start % page != 0) {
    throw_kind(env, RANGE_ERROR, "ERR_OUT_OF_RANGE",
               "regionOffset %lld does not put the window on a page boundary "
               "(page size %zu, memory base %% page size = %zu)",
               (long long)region_offset, (size_t)page,
               (size_t)((uintptr_t)data % page));
    return NULL;
  }
  if ((uint64_t)file_offset % page != 0) {
    throw_kind(env, RANGE_ERROR, "ERR_OUT_OF_RANGE",
               "fileOffset %lld is not a multiple of the page size %zu",
               (long long)file_offset, (size_t)page);
    return NULL;
  }
  uint64_t room = byte_length - (uint64_t)region_offset;
  if ((uint64_t)length > room ||
      (((uint64_t)length + page - 1) & ~(uint64_t)(page - 1)) > room) {
    throw_kind(env, RANGE_ERROR, "ERR_OUT_OF_RANGE",
               "length %lld (rounded up to whole %zu-byte pages) at "
               "regionOffset %lld ends past the end of memory (byteLength %zu)",
               (long long)length, (size_t)page, (long long)region_offset,
               byte_length);
    return NULL;
  }
  size_t mapped_length = ((size_t)length + page - 1) & ~(size_t)(page - 1);
  uintptr_t end = start + mapped_length;
  /* Check the fd first: a failed MAP_FIXED would cost the range its pages. */
  if (fstat((int)fd, &file_stat) != 0) {
    throw_system_error(env, errno, "fstat", "mapWindow: fd %d", (int)fd);
    return NULL;
  }
  if (!S_ISREG(file_stat.st_mode)) {
    throw_system_error(env, ENODEV, "mmap",
                       "mapWindow: fd %d is not a regular file", (int)fd);
    return NULL;
  }
  int flags = fcntl((int)fd, F_GETFL);
  if (flags == -1 || (flags & O_ACCMODE) == O_WRONLY) {
    throw_system_error(env, flags == -1 ? errno : EACCES,
                       flags == -1 ? "fcntl" : "mmap",
                       "mapWindow: fd %d is not open for reading", (int)fd);
    return NULL;
  }

  CHECK(env, napi_create_reference(env, argv[0], 1, &memory_ref));
  pthread_mutex_lock(&g_lock);
  int free_index = -1;
  for (int i = 0; i < MAX_WINDOWS; i++) {
    window_t *window = &g_windows[i];
    if (!window->used) {
      if (free_index < 0) free_index = i;
    } else if (atomic_load(&window->start) < end &&
               start < atomic_load(&window->end)) {
      long long other = (long long)window->generation * MAX_WINDOWS + i;
      pthread_mutex_unlock(&g_lock);
      CHECK(env, napi_delete_reference(env, memory_ref));
      throw_kind(env, RANGE_ERROR, "ERR_OUT_OF_RANGE",
                 "the window at regionOffset %lld (%zu bytes) overlaps the "
                 "mapped window slot %lld", (long long)region_offset,
                 mapped_length, other);
      return NULL;
    }
  }
  if (free_index < 0) {
    pthread_mutex_unlock(&g_lock);
    CHECK(env, napi_delete_reference(env, memory_ref));
    throw_kind(env, PLAIN_ERROR, "LOGWIRE_ERR_NATIVE_WINDOWS",
               "all %d window slots are in use: unmap one first",
               MAX_WINDOWS);
    return NULL;
  }
  window_t *window = &g_windows[free_index];
  window->used = true;
  window->generation = window->generation % (MAX_GENERATION - 1) + 1;
  window->owner = env;
  window->memory_ref = memory_ref;
  atomic_store(&window->faulted, 0);
  /* Start before end: a half-published window is empty, never [0, end). */
  atomic_store_explicit(&window->start, start, memory_order_release);
  atomic_store_explicit(&window->end, end, memory_order_release);

  /* MAP_PRIVATE, not MAP_SHARED: memory.grow() has V8 mprotect the whole
   * memory [base, new size) read-write, which a shared mapping of a read-only
   * fd refuses with EACCES, and V8 aborts on that. A private mapping may turn
   * writable (copy on write, never reaching the file); until written, its
   * pages are the page cache's, so reads see the file as a shared one would. */
  if (mmap((void *)start, mapped_length, PROT_READ, MAP_PRIVATE | MAP_FIXED,
           (int)fd, (off_t)file_offset) == MAP_FAILED) {
    int error = errno;
    /* A failed MAP_FIXED may already have dropped the old pages: leave the
     * range as zeroed read-write memory, as unmapWindow would. */
    mmap((void *)start, mapped_length, PROT_READ | PROT_WRITE,
         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    atomic_store_explicit(&window->end, 0, memory_order_release);
    atomic_store_explicit(&window->start, 0, memory_order_release);
    window->used = false;
    window->owner = NULL;
    window->memory_ref = NULL;
    pthread_mutex_unlock(&g_lock);
    CHECK(env, napi_delete_reference(env, memory_ref));
    throw_system_error(env, error, "mmap",
                       "mapWindow: cannot map fd %d at fileOffset %lld "
                       "(%zu bytes)", (int)fd, (long long)file_offset,
                       mapped_length);
    return NULL;
  }
  int64_t id = (int64_t)window->generation * MAX_WINDOWS + free_index;
  pthread_mutex_unlock(&g_lock);
  CHECK(env, napi_create_int64(env, id, &result));
  return result;
}

/* The one argument of unmapWindow and windowFaulted: a slot id. false if it
   threw (missing or not an integer). */
static bool slot_argument(napi_env env, napi_callback_info info,
                          const char *call, int64_t *id) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_kind(env, PLAIN_ERROR, "LOGWIRE_ERR_NATIVE",
               "logwire_map: napi_get_cb_info failed");
    return false;
  }
  if (argc < 1) {
    throw_kind(env, TYPE_ERROR, "ERR_MISSING_ARGS", "%s(slot) takes 1 argument",
               call);
    return false;
  }
  return get_integer(env, argv[0], "slot", 0, MAX_SAFE_INTEGER, id);
}

static napi_value unmap_window(napi_env env, napi_callback_info info) {
  int64_t id;
  napi_value result;

  if (!slot_argument(env, info, "unmapWindow", &id)) return NULL;
  pthread_mutex_lock(&g_lock);
  window_t *window = find_window(env, id);
  if (window == NULL) {
    pthread_mutex_unlock(&g_lock);
    return NULL;
  }
  if (window->owner != env) {
    pthread_mutex_unlock(&g_lock);
    throw_kind(env, PLAIN_ERROR, "LOGWIRE_ERR_NATIVE_THREAD",
               "slot %lld was mapped by another thread; unmap it there",
               (long long)id);
    return NULL;
  }
  uintptr_t start = atomic_load(&window->start);
  uintptr_t end = atomic_load(&window->end);
  if (mmap((void *)start, end - start, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
    int error = errno;
    /* The file pages are still there, so the window stays guarded. */
    pthread_mutex_unlock(&g_lock);
    throw_system_error(env, error, "mmap",
                       "unmapWindow: cannot put memory back over slot %lld",
                       (long long)id);
    return NULL;
  }
  /* Unpublish only now: until the file pages are gone they may fault. */
  atomic_store_explicit(&window->end, 0, memory_order_release);
  atomic_store_explicit(&window->start, 0, memory_order_release);
  bool faulted = atomic_exchange(&window->faulted, 0) != 0;
  napi_ref memory_ref = window->memory_ref;
  window->used = false;
  window->owner = NULL;
  window->memory_ref = NULL;
  pthread_mutex_unlock(&g_lock);
  CHECK(env, napi_delete_reference(env, memory_ref));
  CHECK(env, napi_get_boolean(env, faulted, &result));
  return result;
}

static napi_value window_faulted(napi_env env, napi_callback_info info) {
  int64_t id;
  napi_value result;

  if (!slot_argument(env, info, "windowFaulted", &id)) return NULL;
  pthread_mutex_lock(&g_lock);
  window_t *window = find_window(env, id);
  bool faulted = window != NULL && atomic_load(&window->faulted) != 0;
  pthread_mutex_unlock(&g_lock);
  if (window == NULL) return NULL;
  CHECK(env, napi_get_boolean(env, faulted, &result));
  return result;
}

/* A worker exiting with windows still mapped: its memory goes away with its
 * isolate, so only forget the windows (touching the pages could hit memory
 * that is already freed). The references die with the env. */
static void on_env_cleanup(void *arg) {
  napi_env env = (napi_env)arg;
  pthread_mutex_lock(&g_lock);
  for (int i = 0; i < MAX_WINDOWS; i++) {
    window_t *window = &g_windows[i];
    if (!window->used || window->owner != env) continue;
    atomic_store_explicit(&window->end, 0, memory_order_release);
    atomic_store_explicit(&window->start, 0, memory_order_release);
    window->used = false;
    window->owner = NULL;
    window->memory_ref = NULL;
  }
  pthread_mutex_unlock(&g_lock);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  static const struct {
    const char *name;
    napi_callback callback;
  } functions[] = {
      {"pageSize", page_size},
      {"mapWindow", map_window},
      {"unmapWindow", unmap_window},
      {"windowFaulted", window_faulted},
  };
  /* Once per process, however many worker threads load us. */
  pthread_once(&g_install_once, install_guard);
  if (g_install_errno != 0) {
    throw_system_error(env, g_install_errno, "sigaction",
                       "logwire_map: cannot install the SIGBUS handler");
    return NULL;
  }
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value function;
    CHECK(env, napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH,
                                    functions[i].callback, NULL, &function));
    CHECK(env, napi_set_named_property(env, exports, functions[i].name,
                                       function));
  }
  CHECK(env, napi_add_env_cleanup_hook(env, on_env_cleanup, env));
  return exports;
}
