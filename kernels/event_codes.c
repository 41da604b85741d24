/*
 * kernels/event_codes.c — kind and channel of an event in one byte (kernels/event_codes.h).
 */
#include "kernels/event_codes.h"

#include "kernels/tables.h"

void sgs_event_codes_pack(const sgs_exec_t *exec, uint8_t *kind, const uint8_t *channel, size_t n)
{
    if (!channel)
        return;
    const int n_threads = sgs_exec_threads_for(exec, n);
    const long len = (long)n;
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (long i = 0; i < len; i++) {
        uint8_t c = channel[i] < SGS_CHANNEL_COUNT ? channel[i] : 0;
        kind[i] = (uint8_t)((kind[i] & 0x0F) | c << 4);
    }
}

void sgs_event_codes_split(const sgs_exec_t *exec, uint8_t *code, uint8_t *channel, size_t n)
{
    const int n_threads = sgs_exec_threads_for(exec, n);
    const long len = (long)n;
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (long i = 0; i < len; i++) {
        if (channel)
            channel[i] = (uint8_t)(code[i] >> 4);
        code[i] &= 0x0F;
    }
}

/* ---- Serial reference twins ------------------------------------------------------------- */

void sgs_event_codes_pack_ref(uint8_t *kind, const uint8_t *channel, size_t n)
{
    for (size_t i = 0; channel && i < n; i++)
        kind[i] =
            (uint8_t)((kind[i] & 0x0F) | (channel[i] < SGS_CHANNEL_COUNT ? channel[i] : 0) << 4);
}

void sgs_event_codes_split_ref(uint8_t *code, uint8_t *channel, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (channel)
            channel[i] = (uint8_t)(code[i] >> 4);
        code[i] &= 0x0F;
    }
}
