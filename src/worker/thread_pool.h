/*
 * thread_pool.h - the `thread` worker class: app callbacks run on `threads` threads.
 * One pool per worker process.
 */
#ifndef ASGID_THREAD_POOL_H
#define ASGID_THREAD_POOL_H

#include "asgi/request.h"
#include "settings/settings.h"

/* Starts settings->threads threads. Returns 0 or a negative libuv error. */
int thread_pool_start(const asgid_settings *settings);

/* Queues a job for the next free thread. Loop thread. */
void thread_pool_dispatch(asgi_context *ctx, asgi_job *job);

/* Lets running jobs finish, then joins the threads; queued jobs are dropped. */
void thread_pool_stop(void);

#endif /* ASGID_THREAD_POOL_H */
