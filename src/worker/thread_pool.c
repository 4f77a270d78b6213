/* thread_pool.c - the thread worker class. See thread_pool.h. */
#include "worker/thread_pool.h"

#include <stdlib.h>

static struct {
  uv_thread_t *threads;
  size_t count;
  uv_mutex_t lock;
  uv_cond_t ready;
  asgi_job *head, *tail;
  int stopping;
} pool;

static void run_jobs(void *arg) {
  (void)arg;
  for (;;) {
    uv_mutex_lock(&pool.lock);
    while (!pool.head && !pool.stopping) uv_cond_wait(&pool.ready, &pool.lock);
    if (pool.stopping) {
      uv_mutex_unlock(&pool.lock);
      return;
    }
    asgi_job *job = pool.head;
    pool.head = job->next;
    if (!pool.head) pool.tail = NULL;
    uv_mutex_unlock(&pool.lock);
    asgi_job_run(job);
    asgi_job_finished(job);
  }
}

int thread_pool_start(const asgid_settings *settings) {
  int rc = uv_mutex_init(&pool.lock);
  if (rc != 0) return rc;
  rc = uv_cond_init(&pool.ready);
  if (rc != 0) return rc;
  pool.threads = calloc((size_t)settings->threads, sizeof *pool.threads);
  if (!pool.threads) return UV_ENOMEM;
  for (long i = 0; i < settings->threads; i++) {
    rc = uv_thread_create(&pool.threads[pool.count], run_jobs, NULL);
    if (rc != 0) return rc;
    pool.count++;
  }
  return 0;
}

void thread_pool_dispatch(asgi_context *ctx, asgi_job *job) {
  (void)ctx;
  job->next = NULL;
  uv_mutex_lock(&pool.lock);
  if (pool.tail)
    pool.tail->next = job;
  else
    pool.head = job;
  pool.tail = job;
  uv_cond_signal(&pool.ready);
  uv_mutex_unlock(&pool.lock);
}

void thread_pool_stop(void) {
  uv_mutex_lock(&pool.lock);
  pool.stopping = 1;
  uv_cond_broadcast(&pool.ready);
  uv_mutex_unlock(&pool.lock);
  for (size_t i = 0; i < pool.count; i++) uv_thread_join(&pool.threads[i]);
  free(pool.threads);
  pool.threads = NULL;
  pool.count = 0;
}
