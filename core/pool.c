/* Thread pool. Workers sleep on one condition variable; the caller publishes a job by
 * bumping a generation counter, every worker enters the job exactly once, and the caller
 * waits until all have left it. A job is either a parallel for (indices handed out by an
 * atomic counter) or an ordered map (a ring of `window` result slots; the caller emits slot
 * i only after slots 0..i-1, so output order never depends on scheduling). */
#include "core/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct job {
    int kind; /* 0 for, 1 map */
    size_t n;
    void *ctx;
    /* for */
    mvot_pool_fn fn;
    atomic_size_t next_for;
    /* map (fields below are guarded by the pool mutex) */
    mvot_pool_work_fn work;
    size_t window;
    size_t next;    /* next index to start */
    size_t emitted; /* items emitted so far */
    int stop;       /* set on first failure */
    size_t fail_index;
    struct mvot_error fail_err;
    enum mvot_status fail_st;
    void **slot_result;
    unsigned char *slot_ready; /* 0 pending, 1 ok, 2 failed */
};

struct worker_arg {
    struct mvot_pool *pool;
    int id;
};

struct mvot_pool {
    int nthreads;
    int started;
    pthread_t *threads;
    struct worker_arg *args;
    pthread_mutex_t mu;
    pthread_cond_t cv_work; /* workers wait for a job or for room in the ring */
    pthread_cond_t cv_done; /* the caller waits for results or for workers to leave */
    struct job *job;
    unsigned long generation;
    int finished; /* workers that have left the current job */
    int shutdown;
};

int mvot_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

static void run_for(struct job *j, int worker)
{
    for (;;) {
        size_t i = atomic_fetch_add(&j->next_for, 1);
        if (i >= j->n)
            return;
        j->fn(j->ctx, i, worker);
    }
}

/* Called and returns with p->mu held. */
static void run_map(struct mvot_pool *p, struct job *j, int worker)
{
    for (;;) {
        while (!j->stop && j->next < j->n && j->next >= j->emitted + j->window)
            pthread_cond_wait(&p->cv_work, &p->mu);
        if (j->stop || j->next >= j->n)
            return;
        size_t i = j->next++;
        pthread_mutex_unlock(&p->mu);
        void *result = NULL;
        struct mvot_error e;
        mvot_error_clear(&e);
        enum mvot_status st = j->work(j->ctx, i, worker, &result, &e);
        pthread_mutex_lock(&p->mu);
        if (st != MVOT_OK) {
            if (!j->stop || i < j->fail_index) {
                j->fail_index = i;
                j->fail_st = st;
                j->fail_err = e;
            }
            j->stop = 1;
            pthread_cond_broadcast(&p->cv_work);
        }
        j->slot_result[i % j->window] = result;
        j->slot_ready[i % j->window] = st == MVOT_OK ? 1 : 2;
        pthread_cond_broadcast(&p->cv_done);
    }
}

static void *worker_main(void *arg)
{
    struct worker_arg *wa = arg;
    struct mvot_pool *p = wa->pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->shutdown && p->generation == seen)
            pthread_cond_wait(&p->cv_work, &p->mu);
        if (p->shutdown)
            break;
        seen = p->generation;
        struct job *j = p->job;
        if (j->kind == 0) {
            pthread_mutex_unlock(&p->mu);
            run_for(j, wa->id);
            pthread_mutex_lock(&p->mu);
        } else {
            run_map(p, j, wa->id);
        }
        p->finished++;
        pthread_cond_broadcast(&p->cv_done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct mvot_pool *mvot_pool_create(int nthreads)
{
    if (nthreads <= 0)
        nthreads = mvot_cpu_count();
    struct mvot_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->nthreads = 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    if (nthreads > 1) {
        p->threads = calloc((size_t)nthreads, sizeof *p->threads);
        p->args = calloc((size_t)nthreads, sizeof *p->args);
        if (!p->threads || !p->args) {
            mvot_pool_free(p);
            return NULL;
        }
        for (int i = 0; i < nthreads; i++) {
            p->args[i].pool = p;
            p->args[i].id = i;
            if (pthread_create(&p->threads[i], NULL, worker_main, &p->args[i]) != 0) {
                mvot_pool_free(p);
                return NULL;
            }
            p->started = i + 1;
        }
        p->nthreads = nthreads;
    }
    return p;
}

void mvot_pool_free(struct mvot_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->shutdown = 1;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    free(p->threads);
    free(p->args);
    free(p);
}

int mvot_pool_threads(const struct mvot_pool *p)
{
    return p ? p->nthreads : 1;
}

/* Publishes j; called with p->mu held. */
static void publish(struct mvot_pool *p, struct job *j)
{
    p->job = j;
    p->finished = 0;
    p->generation++;
    pthread_cond_broadcast(&p->cv_work);
}

/* Waits, with p->mu held, until every worker has left the job. */
static void wait_all_left(struct mvot_pool *p)
{
    while (p->finished < p->started)
        pthread_cond_wait(&p->cv_done, &p->mu);
    p->job = NULL;
}

void mvot_pool_for(struct mvot_pool *p, size_t n, mvot_pool_fn fn, void *ctx)
{
    if (!p || p->nthreads <= 1 || n <= 1) {
        for (size_t i = 0; i < n; i++)
            fn(ctx, i, 0);
        return;
    }
    struct job j;
    memset(&j, 0, sizeof j);
    j.kind = 0;
    j.n = n;
    j.ctx = ctx;
    j.fn = fn;
    atomic_init(&j.next_for, 0);
    pthread_mutex_lock(&p->mu);
    publish(p, &j);
    wait_all_left(p);
    pthread_mutex_unlock(&p->mu);
}

static enum mvot_status map_inline(size_t n, mvot_pool_work_fn work, mvot_pool_emit_fn emit,
                                   void *ctx, struct mvot_error *err)
{
    for (size_t i = 0; i < n; i++) {
        void *r = NULL;
        enum mvot_status st = work(ctx, i, 0, &r, err);
        if (st == MVOT_OK)
            st = emit(ctx, i, r, err);
        if (st != MVOT_OK)
            return st;
    }
    return MVOT_OK;
}

enum mvot_status mvot_pool_map_ordered(struct mvot_pool *p, size_t n, size_t window,
                                       mvot_pool_work_fn work, mvot_pool_emit_fn emit,
                                       mvot_pool_discard_fn discard, void *ctx,
                                       struct mvot_error *err)
{
    if (!p || p->nthreads <= 1)
        return map_inline(n, work, emit, ctx, err);
    if (window == 0)
        window = 4 * (size_t)p->nthreads;
    struct job j;
    memset(&j, 0, sizeof j);
    j.kind = 1;
    j.n = n;
    j.ctx = ctx;
    j.work = work;
    j.window = window;
    j.slot_result = calloc(window, sizeof *j.slot_result);
    j.slot_ready = calloc(window, 1);
    if (!j.slot_result || !j.slot_ready) {
        free(j.slot_result);
        free(j.slot_ready);
        return mvot_error_set(err, MVOT_ERR_NOMEM, NULL, "thread pool: out of memory");
    }
    enum mvot_status st = MVOT_OK;
    pthread_mutex_lock(&p->mu);
    publish(p, &j);
    while (j.emitted < n) {
        size_t s = j.emitted % window;
        while (!j.slot_ready[s] && !(j.stop && j.next <= j.emitted))
            pthread_cond_wait(&p->cv_done, &p->mu);
        if (j.slot_ready[s] != 1)
            break; /* failed item, or stopped before it started */
        void *r = j.slot_result[s];
        j.slot_ready[s] = 0;
        j.slot_result[s] = NULL;
        size_t i = j.emitted;
        pthread_mutex_unlock(&p->mu);
        st = emit(ctx, i, r, err);
        pthread_mutex_lock(&p->mu);
        if (st != MVOT_OK) {
            j.stop = 1;
            pthread_cond_broadcast(&p->cv_work);
            break;
        }
        j.emitted++;
        pthread_cond_broadcast(&p->cv_work);
    }
    if (st == MVOT_OK && j.emitted < n) {
        j.stop = 1;
        pthread_cond_broadcast(&p->cv_work);
    }
    wait_all_left(p);
    pthread_mutex_unlock(&p->mu);
    if (st == MVOT_OK && j.emitted < n) {
        st = j.fail_st;
        if (err)
            *err = j.fail_err;
    }
    for (size_t s = 0; s < window; s++)
        if (j.slot_ready[s] && j.slot_result[s] && discard)
            discard(ctx, j.slot_result[s]);
    free(j.slot_result);
    free(j.slot_ready);
    return st;
}
