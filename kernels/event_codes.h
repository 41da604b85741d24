/*
 * kernels/event_codes.h — an event's kind and channel in one byte, so that the grouping
 * kernel (kernels/group.h), which carries one byte per row, keeps both when it sorts the
 * events by customer and day.
 *
 * code = kind | channel << 4: kind 1..8 (enum sgs_event_kind) in the low four bits, channel
 * 0..7 (enum sgs_channel) in the next three; a channel code outside 0..7 is stored as 0,
 * unknown, as the transactions' main channel ignores it. Both loops are parallel over rows;
 * each byte depends on its own row only, so the result does not depend on the thread count.
 */
#ifndef SGS_EVENT_CODES_H
#define SGS_EVENT_CODES_H

#include "kernels/core.h"

#include <stdint.h>

/* kind[i] = kind[i] | channel[i] << 4 for i < n (channel NULL: kind unchanged). */
void sgs_event_codes_pack(const sgs_exec_t *exec, uint8_t *kind, const uint8_t *channel, size_t n);

/* Undo sgs_event_codes_pack: channel[i] = code[i] >> 4 (when channel is not NULL), then
 * code[i] keeps its kind. */
void sgs_event_codes_split(const sgs_exec_t *exec, uint8_t *code, uint8_t *channel, size_t n);

/* Serial reference twins of sgs_event_codes_pack and sgs_event_codes_split: the same bytes. */
void sgs_event_codes_pack_ref(uint8_t *kind, const uint8_t *channel, size_t n);
void sgs_event_codes_split_ref(uint8_t *code, uint8_t *channel, size_t n);

#endif
