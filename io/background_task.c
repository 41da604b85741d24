/*
 * io/background_task.c — see background_task.h.
 */
#include "io/background_task.h"

static void *run(void *arg)
{
    sgs_background_task_t *t = arg;
    t->rc = t->fn(t->arg);
    return NULL;
}

void sgs_background_start(sgs_background_task_t *task, sgs_background_fn fn, void *arg)
{
    task->fn = fn;
    task->arg = arg;
    task->rc = 0;
    task->started = pthread_create(&task->thread, NULL, run, task) == 0;
    if (!task->started)
        task->rc = fn(arg);
}

int sgs_background_finish(sgs_background_task_t *task)
{
    if (task->started)
        pthread_join(task->thread, NULL);
    task->started = 0;
    return task->rc;
}
