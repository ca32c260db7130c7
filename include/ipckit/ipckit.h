/* SPDX-License-Identifier: MIT */
/* ipckit.h: the C API (C11) over ipckit's zero-copy channel (docs/design/bindings.md).
 *
 * Conventions, for every function below:
 *  - Objects are opaque 64-bit handles into a process-wide table, never pointers. A closed,
 *    forged, zero-initialised or never-opened handle, or a handle of another kind, gives
 *    IPCKIT_EBADHANDLE and is never dereferenced.
 *  - Every function returns an ipckit_status (IPCKIT_OK = 0, a negative IPCKIT_E* code
 *    otherwise) and takes an optional `ipckit_error* err` (NULL: not wanted) that receives the
 *    code, the errno value and the C++ message in a fixed buffer: no allocation, nothing to free.
 *  - Deadlines are absolute int64_t nanoseconds of CLOCK_MONOTONIC: IPCKIT_NEVER waits forever,
 *    0 tries once (IPCKIT_EAGAIN when nothing is there), ipckit_deadline_after(ns) is now + ns.
 *    A deadline in the past gives IPCKIT_ETIMEDOUT when nothing is there.
 *  - Thread-safety: the handle table is thread-safe (open/close from any thread; a lookup takes
 *    no lock). One publisher or subscriber handle is used by one thread at a time, and must not
 *    be closed while another thread is using it. Different handles are independent.
 *  - Fork: open publishers and subscribers after fork; a child must not use the parent's.
 */
#ifndef IPCKIT_IPCKIT_H
#define IPCKIT_IPCKIT_H

/* A C11 header: typedef struct, #define constants, C headers and snake_case C names on purpose.
 * NOLINTBEGIN(modernize-use-using, cppcoreguidelines-macro-usage, readability-identifier-naming,
 * modernize-deprecated-headers) */

#include <stddef.h>
#include <stdint.h>

/* Exported whatever the library's default symbol visibility is. */
#if defined(__GNUC__) || defined(__clang__)
#define IPCKIT_C_API __attribute__((visibility("default")))
#else
#define IPCKIT_C_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes and errors */

typedef int32_t ipckit_status;

#define IPCKIT_OK 0
#define IPCKIT_EAGAIN (-1)     /* nothing now (deadline 0): not a failure */
#define IPCKIT_ETIMEDOUT (-2)  /* the deadline passed: not a failure */
#define IPCKIT_EBADHANDLE (-3) /* closed, forged, never-opened or wrong-kind handle */
#define IPCKIT_EINVAL (-4)     /* NULL pointer, bad name or configuration, n > loan capacity */
#define IPCKIT_EEXIST (-5)     /* create: the channel exists */
#define IPCKIT_ENOENT (-6)     /* open/remove: no such channel */
#define IPCKIT_EACCES (-7)     /* refused: permissions, or a file owned by another user */
#define IPCKIT_EMSGSIZE (-8)   /* n > max_message_size, or a copy buffer too small (kept) */
#define IPCKIT_EBUSY (-9)      /* a loan is outstanding, max_loans samples held, no free record */
#define IPCKIT_ENOMEM (-10)    /* out of memory or handle table full */
#define IPCKIT_ECORRUPT (-11)  /* the channel file is corrupt, truncated or removed under us */
#define IPCKIT_ESYS (-12)      /* another system error: see ipckit_error.errno_value */
#define IPCKIT_ECONNREFUSED (-13) /* request/reply: no live server */
#define IPCKIT_ECONNRESET (-14)   /* request/reply: the server died with the call in flight */
#define IPCKIT_EREMOTE (-15)      /* request/reply: the server answered with an error */

#define IPCKIT_ERROR_MESSAGE_SIZE 256

/* Filled by a failing call (untouched on success). Owned by the caller; plain data. */
typedef struct ipckit_error {
    ipckit_status code;                      /* the returned status */
    int errno_value;                         /* errno behind it, 0 if none (e.g. EBADHANDLE) */
    char message[IPCKIT_ERROR_MESSAGE_SIZE]; /* "chan loan chan:x: Message too long (...)",
                                               NUL-terminated, truncated to fit */
} ipckit_error;

/* Static name of a status, "IPCKIT_EBADHANDLE"; "IPCKIT_E?" for an unknown value. Thread-safe. */
IPCKIT_C_API const char* ipckit_status_name(ipckit_status status);

/* ---- time */

#define IPCKIT_NEVER INT64_MAX

/* Now, in nanoseconds of CLOCK_MONOTONIC. Thread-safe. */
IPCKIT_C_API int64_t ipckit_now(void);
/* now + ns, saturating at IPCKIT_NEVER; ns <= 0 gives now. Thread-safe. */
IPCKIT_C_API int64_t ipckit_deadline_after(int64_t ns);

/* ---- handles */

typedef struct ipckit_publisher {
    uint64_t handle;
} ipckit_publisher;
typedef struct ipckit_subscriber {
    uint64_t handle;
} ipckit_subscriber;

/* ---- channel */

#define IPCKIT_POLICY_BLOCK 0     /* lossless: a publisher waits for the slowest subscriber */
#define IPCKIT_POLICY_OVERWRITE 1 /* lossy: a publisher never waits; lapped readers count lost */

/* Creation parameters (docs/design/channel.md). Start from ipckit_channel_config_init(). */
typedef struct ipckit_channel_config {
    uint32_t policy;           /* IPCKIT_POLICY_* */
    uint32_t max_publishers;   /* default 4 */
    uint32_t max_subscribers;  /* default 16 */
    uint32_t max_loans;        /* samples one subscriber may hold at once, default 4 */
    uint64_t lane_bytes;       /* ring per publisher: power of two, >= 2 x (max msg + 16) */
    uint64_t max_message_size; /* default 64 KiB */
    uint32_t permissions;      /* mode of the file; 0: the default 0600 */
    const char* dir;           /* NULL: $IPCKIT_SHM_DIR, else /dev/shm; borrowed during the call */
} ipckit_channel_config;

/* Fills *config with the defaults of ipckit::ChannelConfig. */
IPCKIT_C_API ipckit_status ipckit_channel_config_init(ipckit_channel_config* config);

/* Creates the channel file NAME (or "chan:NAME") exclusively. IPCKIT_EEXIST if it exists,
 * IPCKIT_EINVAL for a bad name or configuration. config NULL: the defaults. */
IPCKIT_C_API ipckit_status ipckit_channel_create(const char* name,
                                                 const ipckit_channel_config* config,
                                                 ipckit_error* err);
/* Unlinks the channel file (dir NULL: the default). Open participants keep their mapping.
 * IPCKIT_ENOENT if there is none. */
IPCKIT_C_API ipckit_status ipckit_channel_remove(const char* name,
                                                 const char* dir,
                                                 ipckit_error* err);

/* ---- publisher */

/* Writable space for one message inside the channel's shared memory. Filled by
 * ipckit_publisher_loan; valid until it is passed to ipckit_publisher_publish or _discard (which
 * clear it) or the publisher is closed. `token` identifies the loan: a stale or forged loan is
 * IPCKIT_EBADHANDLE. */
typedef struct ipckit_loan {
    void* data;
    size_t capacity;
    uint64_t token;
} ipckit_loan;

/* Opens a publisher of an existing channel (dir NULL: the default). On success *out is a new
 * handle owned by the caller: close it with ipckit_publisher_close. */
IPCKIT_C_API ipckit_status ipckit_publisher_open(const char* name,
                                                 const char* dir,
                                                 ipckit_publisher* out,
                                                 ipckit_error* err);
/* Creates the channel (exclusive) and joins it as a publisher. */
IPCKIT_C_API ipckit_status ipckit_publisher_create(const char* name,
                                                   const ipckit_channel_config* config,
                                                   ipckit_publisher* out,
                                                   ipckit_error* err);
/* Closes the handle (an outstanding loan is dropped unpublished). The handle value becomes
 * invalid at once: a second close is IPCKIT_EBADHANDLE. */
IPCKIT_C_API ipckit_status ipckit_publisher_close(ipckit_publisher pub, ipckit_error* err);
/* Space for n bytes (0..max_message_size; more is IPCKIT_EMSGSIZE), waiting until `deadline`
 * for space in block mode (IPCKIT_EAGAIN / IPCKIT_ETIMEDOUT when none came). One loan at a time
 * (IPCKIT_EBUSY). */
IPCKIT_C_API ipckit_status ipckit_publisher_loan(
    ipckit_publisher pub, size_t n, int64_t deadline, ipckit_loan* loan, ipckit_error* err);
/* Publishes the first n bytes of the loan (n <= loan->capacity) and clears *loan. Subscribers
 * see the message once this returns. */
IPCKIT_C_API ipckit_status ipckit_publisher_publish(ipckit_publisher pub,
                                                    ipckit_loan* loan,
                                                    size_t n,
                                                    ipckit_error* err);
/* Gives an unpublished loan's space back and clears *loan. */
IPCKIT_C_API ipckit_status ipckit_publisher_discard(ipckit_publisher pub,
                                                    ipckit_loan* loan,
                                                    ipckit_error* err);
/* Copying convenience: loan n bytes, copy `data`, publish. data may be NULL only if n == 0. */
IPCKIT_C_API ipckit_status ipckit_publisher_send(
    ipckit_publisher pub, const void* data, size_t n, int64_t deadline, ipckit_error* err);
/* The channel's max_message_size into *out. */
IPCKIT_C_API ipckit_status ipckit_publisher_max_message_size(ipckit_publisher pub,
                                                             size_t* out,
                                                             ipckit_error* err);
/* Messages published through this handle into *out. */
IPCKIT_C_API ipckit_status ipckit_publisher_published(ipckit_publisher pub,
                                                      uint64_t* out,
                                                      ipckit_error* err);

/* ---- subscriber */

/* A received message, read-only, in shared memory. Valid until it is passed to
 * ipckit_subscriber_release (which clears it) or the subscriber is closed; counts against the
 * channel's max_loans. A released, copied-then-released or forged sample is IPCKIT_EBADHANDLE. */
typedef struct ipckit_sample {
    const void* data;
    size_t size;
    uint32_t publisher;   /* lane it came from; order is kept per lane */
    uint64_t lost_before; /* messages of this publisher lost just before this one */
    uint64_t token;
} ipckit_sample;

/* What a copying receive delivered. */
typedef struct ipckit_received {
    size_t size;
    uint32_t publisher;
    uint64_t lost_before;
} ipckit_received;

/* Counters of one subscriber handle. received + lost = published (per live publisher). */
typedef struct ipckit_counters {
    uint64_t received;
    uint64_t lost;
    uint64_t corrupt; /* corrupt records skipped */
} ipckit_counters;

/* Joins an existing channel as a subscriber: it sees messages published after this returns.
 * *out is a new handle owned by the caller: close it with ipckit_subscriber_close. */
IPCKIT_C_API ipckit_status ipckit_subscriber_open(const char* name,
                                                  const char* dir,
                                                  ipckit_subscriber* out,
                                                  ipckit_error* err);
/* Closes the handle; samples still held are released, their pointers become invalid. */
IPCKIT_C_API ipckit_status ipckit_subscriber_close(ipckit_subscriber sub, ipckit_error* err);
/* Zero-copy receive, waiting until `deadline`. IPCKIT_EAGAIN / IPCKIT_ETIMEDOUT when nothing
 * came, IPCKIT_EBUSY when max_loans samples are held. *sample is owned by the caller until
 * ipckit_subscriber_release. */
IPCKIT_C_API ipckit_status ipckit_subscriber_receive(ipckit_subscriber sub,
                                                     int64_t deadline,
                                                     ipckit_sample* sample,
                                                     ipckit_error* err);
/* Gives the sample back (its publisher may reuse the space) and clears *sample. */
IPCKIT_C_API ipckit_status ipckit_subscriber_release(ipckit_subscriber sub,
                                                     ipckit_sample* sample,
                                                     ipckit_error* err);
/* Copying receive into buf[0..capacity). IPCKIT_EMSGSIZE (nothing consumed) if the next message
 * is larger: a buffer of max_message_size bytes always fits. info may be NULL. */
IPCKIT_C_API ipckit_status ipckit_subscriber_receive_copy(ipckit_subscriber sub,
                                                          void* buf,
                                                          size_t capacity,
                                                          int64_t deadline,
                                                          ipckit_received* info,
                                                          ipckit_error* err);
/* A descriptor for poll/epoll, owned by the subscriber (do not close it), readable when messages
 * may be waiting: read its 8-byte counter, then receive with deadline 0 until IPCKIT_EAGAIN.
 * Readiness can be spurious, never missed. Starts a helper thread on first use. */
IPCKIT_C_API ipckit_status ipckit_subscriber_fd(ipckit_subscriber sub, int* fd, ipckit_error* err);
IPCKIT_C_API ipckit_status ipckit_subscriber_counters(ipckit_subscriber sub,
                                                      ipckit_counters* out,
                                                      ipckit_error* err);
IPCKIT_C_API ipckit_status ipckit_subscriber_max_message_size(ipckit_subscriber sub,
                                                              size_t* out,
                                                              ipckit_error* err);

/* ---- POSIX named semaphores (sem_open(3)) */

/* A named semaphore handle. post, wait and value may run concurrently from many threads on one
 * handle (the semaphore is); close must not run concurrently with them. */
typedef struct ipckit_semaphore {
    uint64_t handle;
} ipckit_semaphore;

/* Creates "/NAME" exclusively with `initial` (<= INT_MAX) and mode `permissions` (0: 0600).
 * IPCKIT_EEXIST if the name is taken. The name stays until ipckit_semaphore_unlink. */
IPCKIT_C_API ipckit_status ipckit_semaphore_create(const char* name,
                                                   unsigned initial,
                                                   uint32_t permissions,
                                                   ipckit_semaphore* out,
                                                   ipckit_error* err);
/* Opens an existing one (only the caller's own: another owner's is IPCKIT_EACCES). */
IPCKIT_C_API ipckit_status ipckit_semaphore_open(const char* name,
                                                 ipckit_semaphore* out,
                                                 ipckit_error* err);
/* sem_close; the handle becomes invalid. */
IPCKIT_C_API ipckit_status ipckit_semaphore_close(ipckit_semaphore sem, ipckit_error* err);
/* Removes the name; open handles keep working. IPCKIT_ENOENT if absent. */
IPCKIT_C_API ipckit_status ipckit_semaphore_unlink(const char* name, ipckit_error* err);
/* Increments (IPCKIT_ESYS with errno EOVERFLOW at the maximum). */
IPCKIT_C_API ipckit_status ipckit_semaphore_post(ipckit_semaphore sem, ipckit_error* err);
/* Decrements, waiting until `deadline` (CLOCK_MONOTONIC) while the value is 0: IPCKIT_EAGAIN
 * (deadline 0) or IPCKIT_ETIMEDOUT when it stayed 0. */
IPCKIT_C_API ipckit_status ipckit_semaphore_wait(ipckit_semaphore sem,
                                                 int64_t deadline,
                                                 ipckit_error* err);
/* The current value (a snapshot) into *out. */
IPCKIT_C_API ipckit_status ipckit_semaphore_value(ipckit_semaphore sem,
                                                  int* out,
                                                  ipckit_error* err);

/* ---- POSIX message queues (mq_overview(7)) */

/* A message queue handle (read-write). send and receive may run concurrently from many threads
 * on one handle (the kernel queue is thread-safe); close must not run concurrently with them. */
typedef struct ipckit_mq {
    uint64_t handle;
} ipckit_mq;

/* Creates "/NAME" exclusively. max_messages / max_message_size 0: the defaults (10, 8192);
 * permissions 0: 0600. IPCKIT_EEXIST if the name is taken; limits over the sysctls are
 * IPCKIT_EINVAL with the sysctl named in the message. The queue stays until ipckit_mq_unlink. */
IPCKIT_C_API ipckit_status ipckit_mq_create(const char* name,
                                            long max_messages,
                                            long max_message_size,
                                            uint32_t permissions,
                                            ipckit_mq* out,
                                            ipckit_error* err);
/* Opens an existing queue (only the caller's own: another owner's is IPCKIT_EACCES). */
IPCKIT_C_API ipckit_status ipckit_mq_open(const char* name, ipckit_mq* out, ipckit_error* err);
IPCKIT_C_API ipckit_status ipckit_mq_close(ipckit_mq mq, ipckit_error* err);
/* Removes the name; open handles keep working. IPCKIT_ENOENT if absent. */
IPCKIT_C_API ipckit_status ipckit_mq_unlink(const char* name, ipckit_error* err);
/* Sends n bytes with `priority` (<= 32767), waiting until `deadline` while the queue is full
 * (IPCKIT_EAGAIN / IPCKIT_ETIMEDOUT). IPCKIT_EMSGSIZE if n > the queue's message size. */
IPCKIT_C_API ipckit_status ipckit_mq_send(ipckit_mq mq,
                                          const void* data,
                                          size_t n,
                                          unsigned priority,
                                          int64_t deadline,
                                          ipckit_error* err);
/* Receives the oldest message of the highest priority into buf, waiting until `deadline`
 * (IPCKIT_EAGAIN / IPCKIT_ETIMEDOUT). capacity must be >= the queue's message size
 * (ipckit_mq_max_message_size), else IPCKIT_EMSGSIZE. size and priority may be NULL. */
IPCKIT_C_API ipckit_status ipckit_mq_receive(ipckit_mq mq,
                                             void* buf,
                                             size_t capacity,
                                             int64_t deadline,
                                             size_t* size,
                                             unsigned* priority,
                                             ipckit_error* err);
/* The queue's message size (mq_msgsize) into *out. */
IPCKIT_C_API ipckit_status ipckit_mq_max_message_size(ipckit_mq mq, size_t* out, ipckit_error* err);

/* ---- request/reply (srv:NAME, docs/design/patterns.md)
 * The service's files live in the default directory ($IPCKIT_SHM_DIR, else /dev/shm). Names are
 * NAME or "srv:NAME". A server or client handle is used by one thread at a time; different
 * handles are independent. Fork: create servers and connect clients after fork. */

/* One server of a service (at most one live server per service). */
typedef struct ipckit_server {
    uint64_t handle;
} ipckit_server;
/* One client of a service: holds one request lane and its own response channel. */
typedef struct ipckit_client {
    uint64_t handle;
} ipckit_client;

/* Sizes chosen by the server. Start from ipckit_service_config_init(). */
typedef struct ipckit_service_config {
    uint64_t max_request_size;  /* largest request payload, 1..64 MiB, default 4096 */
    uint64_t max_response_size; /* largest response payload, 1..64 MiB, default 4096 */
    uint32_t max_clients;       /* clients connected at once, 1..256, default 8 */
    uint32_t response_wait_ms;  /* how long a response may wait for a client that does not
                                   read (capped by the request's deadline), default 1000 */
} ipckit_service_config;

/* A received request, read-only, in shared memory. Valid until its final response
 * (ipckit_server_respond with final != 0, or ipckit_server_respond_error, which clear it) or the
 * server is closed. A server holds at most 8 requests at once (IPCKIT_EBUSY beyond). A finished,
 * copied-then-finished or forged request is IPCKIT_EBADHANDLE. */
typedef struct ipckit_request {
    const void* data;
    size_t size;
    uint64_t id;      /* the client's request number */
    uint32_t client;  /* the client's lane: its responses go to that client only */
    int64_t deadline; /* the client's deadline (CLOCK_MONOTONIC ns), IPCKIT_NEVER if none */
    uint64_t token;
} ipckit_request;

/* Fills *config with the defaults of ipckit::ServiceConfig. */
IPCKIT_C_API ipckit_status ipckit_service_config_init(ipckit_service_config* config);

/* Becomes the server of service NAME (its files are created or reused). config NULL: the
 * defaults. IPCKIT_EBUSY if a live server holds the service (its pid in the message),
 * IPCKIT_EINVAL for a bad name or sizes. *out is a new handle owned by the caller: close it
 * with ipckit_server_close. */
IPCKIT_C_API ipckit_status ipckit_server_create(const char* name,
                                                const ipckit_service_config* config,
                                                ipckit_server* out,
                                                ipckit_error* err);
/* Closes the handle: held requests are dropped unanswered (their clients time out), the
 * service's files stay (a new server reuses them; ipckit_service_remove deletes them). */
IPCKIT_C_API ipckit_status ipckit_server_close(ipckit_server server, ipckit_error* err);
/* The next request, waiting until `deadline`: IPCKIT_EAGAIN (deadline 0) / IPCKIT_ETIMEDOUT when
 * none came. Malformed, expired and stale requests are dropped (counted by the C++ Server).
 * *request is owned by the caller until its final response. */
IPCKIT_C_API ipckit_status ipckit_server_receive(ipckit_server server,
                                                 int64_t deadline,
                                                 ipckit_request* request,
                                                 ipckit_error* err);
/* Sends n bytes (data may be NULL only if n == 0; n <= max_response_size, else IPCKIT_EMSGSIZE
 * and the request stays open) to the request's client. final != 0 ends the request and clears
 * *request; final == 0 sends one part of a stream. A dead client: dropped, IPCKIT_OK.
 * IPCKIT_ETIMEDOUT: a live client did not read by the request's deadline (or response_wait). */
IPCKIT_C_API ipckit_status ipckit_server_respond(ipckit_server server,
                                                 ipckit_request* request,
                                                 const void* data,
                                                 size_t n,
                                                 int final,
                                                 ipckit_error* err);
/* A final response flagged as an error, carrying the NUL-terminated `text`; clears *request.
 * The client's call returns IPCKIT_EREMOTE with the text. */
IPCKIT_C_API ipckit_status ipckit_server_respond_error(ipckit_server server,
                                                       ipckit_request* request,
                                                       const char* text,
                                                       ipckit_error* err);

/* Connects to the live server of service NAME: IPCKIT_ECONNREFUSED when there is none,
 * IPCKIT_EBUSY when all max_clients lanes are taken. *out is a new handle owned by the caller:
 * close it with ipckit_client_close. */
IPCKIT_C_API ipckit_status ipckit_client_connect(const char* name,
                                                 ipckit_client* out,
                                                 ipckit_error* err);
/* Closes the handle (its lane is freed for another client). */
IPCKIT_C_API ipckit_status ipckit_client_close(ipckit_client client, ipckit_error* err);
/* Sends n bytes (data may be NULL only if n == 0) and copies the first response into
 * buf[0..capacity), its size into *len (len may be NULL). `deadline` bounds the whole call and
 * travels with the request (the server drops it after); 0 or a past deadline is
 * IPCKIT_ETIMEDOUT. IPCKIT_ECONNRESET: the server died first (the next call finds a restarted
 * server); IPCKIT_ECONNREFUSED: no live server; IPCKIT_EREMOTE: the server answered with an
 * error (its text copied into buf, truncated to capacity, and in err's message).
 * IPCKIT_EMSGSIZE: n > max_request_size, or the response is larger than capacity (*len is its
 * size; the response is dropped). A streamed response: only its first part is returned, the
 * rest is dropped. */
IPCKIT_C_API ipckit_status ipckit_client_call(ipckit_client client,
                                              const void* data,
                                              size_t n,
                                              int64_t deadline,
                                              void* buf,
                                              size_t capacity,
                                              size_t* len,
                                              ipckit_error* err);

/* Deletes the service's record and channels (missing files are fine; a live server's open
 * handles keep working until it closes). Thread-safe. */
IPCKIT_C_API ipckit_status ipckit_service_remove(const char* name, ipckit_error* err);

/* ---- POSIX shared memory (shm_open + mmap) -------------------------------------------------
 * A named object in /dev/shm, mapped once when the handle is made; the mapping lives until the
 * handle is closed. Names persist until ipckit_shm_unlink (as queues and semaphores do). A peer
 * with write access that shrinks the object makes accesses past its new end raise SIGBUS: map
 * only objects of peers you trust. A handle may be used from one thread at a time; the mapped
 * bytes are shared memory, synchronised by the caller. */
typedef struct ipckit_shm {
    uint64_t handle;
} ipckit_shm;

/* Creates NAME ("/name") exclusively with `size` bytes reserved (0 is IPCKIT_EINVAL; a full
 * /dev/shm is an error here, never a SIGBUS later), mode `permissions` (0: 0600), and maps it
 * read-write. *out is a new handle owned by the caller: close it with ipckit_shm_close. */
IPCKIT_C_API ipckit_status ipckit_shm_create(const char* name,
                                             size_t size,
                                             uint32_t permissions,
                                             ipckit_shm* out,
                                             ipckit_error* err);
/* Opens the caller's own existing NAME and maps all of it, read-write when `writable` is
 * non-zero, else read-only. Another user's object is IPCKIT_EACCES. */
IPCKIT_C_API ipckit_status ipckit_shm_open(const char* name,
                                           int writable,
                                           ipckit_shm* out,
                                           ipckit_error* err);
/* The mapping: *data (valid until ipckit_shm_close) and its size. */
IPCKIT_C_API ipckit_status ipckit_shm_data(ipckit_shm shm,
                                           const void** data,
                                           size_t* size,
                                           ipckit_error* err);
/* The mapping, writable: IPCKIT_EACCES when the handle was opened read-only. */
IPCKIT_C_API ipckit_status ipckit_shm_data_mut(ipckit_shm shm,
                                               void** data,
                                               size_t* size,
                                               ipckit_error* err);
/* Unmaps and closes the handle (the name stays). */
IPCKIT_C_API ipckit_status ipckit_shm_close(ipckit_shm shm, ipckit_error* err);
/* Removes NAME (mappings that exist stay valid). Thread-safe. */
IPCKIT_C_API ipckit_status ipckit_shm_unlink(const char* name, ipckit_error* err);

/* ---- Work queues: a consumer of a named group on a channel --------------------------------
 * Each message published while the group has a live consumer goes to exactly one consumer of
 * the group; several groups and ordinary subscribers read one channel independently (docs/
 * design/patterns.md). A message is acknowledged when the receive that returned it returns: a
 * consumer killed before that (inside the call) gives it back to the group, which delivers it
 * again flagged redelivered (at-least-once, the default). A handle may be used from one thread
 * at a time. */
typedef struct ipckit_group_consumer {
    uint64_t handle;
} ipckit_group_consumer;

/* Joins group GROUP (1..63 of [A-Za-z0-9._-]) of the block-mode channel NAME, creating the group
 * if needed. dir: the channel directory (NULL: $IPCKIT_SHM_DIR or /dev/shm). *out is a new
 * handle owned by the caller: close it with ipckit_group_consumer_close. */
IPCKIT_C_API ipckit_status ipckit_group_consumer_open(const char* name,
                                                      const char* group,
                                                      const char* dir,
                                                      ipckit_group_consumer* out,
                                                      ipckit_error* err);
/* Leaves the group (a message kept back by IPCKIT_EMSGSIZE goes back to it) and closes. */
IPCKIT_C_API ipckit_status ipckit_group_consumer_close(ipckit_group_consumer consumer,
                                                       ipckit_error* err);
/* Copies the next message of the group into buf[0..capacity) and acknowledges it; *size gets
 * its size, *redelivered 1 when another consumer died holding it (either may be NULL). deadline:
 * 0 tries once (IPCKIT_EAGAIN), else IPCKIT_ETIMEDOUT when it passes. IPCKIT_EMSGSIZE: the
 * message is larger than capacity (*size is its size); it is kept, not acknowledged, and the
 * next receive returns it first. */
IPCKIT_C_API ipckit_status ipckit_group_consumer_receive(ipckit_group_consumer consumer,
                                                         void* buf,
                                                         size_t capacity,
                                                         int64_t deadline,
                                                         size_t* size,
                                                         int* redelivered,
                                                         ipckit_error* err);

#ifdef __cplusplus
} /* extern "C" */
#endif

/* NOLINTEND(modernize-use-using, cppcoreguidelines-macro-usage, readability-identifier-naming,
 * modernize-deprecated-headers) */

#endif /* IPCKIT_IPCKIT_H */
