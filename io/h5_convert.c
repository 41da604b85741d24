/*
 * io/h5_convert.c — file elements to memory elements as H5Dread converts them. See
 * h5_convert.h.
 */
#include "io/h5_convert.h"

#include <stdint.h>
#include <string.h>

/* ---- The plan -------------------------------------------------------------------------- */

/* 1 when `type` is `candidate` (H5Tequal compares size, order, sign, precision, offset and
 * padding). */
static int same_type(hid_t type, hid_t candidate)
{
    htri_t eq = H5Tequal(type, candidate);
    if (eq < 0)
        H5Eclear2(H5E_DEFAULT);
    return eq > 0;
}

static int plan_integer(hid_t file_type, sgs_h5_type_t mem, sgs_h5_conv_t *c)
{
    static const struct {
        hid_t *le, *be; /* the H5T_STD_* globals are ids known only once the library is open */
        size_t size;
        int is_signed;
    } standard[] = {
        {&H5T_STD_I8LE_g, &H5T_STD_I8BE_g, 1, 1},   {&H5T_STD_U8LE_g, &H5T_STD_U8BE_g, 1, 0},
        {&H5T_STD_I16LE_g, &H5T_STD_I16BE_g, 2, 1}, {&H5T_STD_U16LE_g, &H5T_STD_U16BE_g, 2, 0},
        {&H5T_STD_I32LE_g, &H5T_STD_I32BE_g, 4, 1}, {&H5T_STD_U32LE_g, &H5T_STD_U32BE_g, 4, 0},
        {&H5T_STD_I64LE_g, &H5T_STD_I64BE_g, 8, 1}, {&H5T_STD_U64LE_g, &H5T_STD_U64BE_g, 8, 0},
    };
    H5open(); /* the globals above are set by the library's initialization */
    int host_le = H5Tget_order(H5T_NATIVE_INT) == H5T_ORDER_LE;
    for (size_t i = 0; i < sizeof standard / sizeof standard[0]; i++) {
        int le = same_type(file_type, *standard[i].le);
        if (!le && !same_type(file_type, *standard[i].be))
            continue;
        c->kind = SGS_H5_CONV_INT;
        c->src_size = standard[i].size;
        c->src_signed = standard[i].is_signed;
        c->src_swapped = le != host_le && standard[i].size > 1;
        c->dst = mem;
        if (same_type(file_type, sgs_h5_mem_type(mem)))
            c->kind = SGS_H5_CONV_COPY;
        return 1;
    }
    return 0;
}

static int plan_float(hid_t file_type, sgs_h5_conv_t *c)
{
    H5open();
    int host_le = H5Tget_order(H5T_NATIVE_DOUBLE) == H5T_ORDER_LE;
    c->dst = SGS_H5_F64;
    c->src_signed = 1;
    if (same_type(file_type, H5T_NATIVE_DOUBLE)) {
        c->kind = SGS_H5_CONV_COPY;
        c->src_size = 8;
        return 1;
    }
    if (same_type(file_type, host_le ? H5T_IEEE_F64BE : H5T_IEEE_F64LE)) {
        c->kind = SGS_H5_CONV_F64_SWAP;
        c->src_size = 8;
        c->src_swapped = 1;
        return 1;
    }
    if (same_type(file_type, H5T_NATIVE_FLOAT)) {
        c->kind = SGS_H5_CONV_F32;
        c->src_size = 4;
        return 1;
    }
    if (same_type(file_type, host_le ? H5T_IEEE_F32BE : H5T_IEEE_F32LE)) {
        c->kind = SGS_H5_CONV_F32_SWAP;
        c->src_size = 4;
        c->src_swapped = 1;
        return 1;
    }
    return 0;
}

int sgs_h5_conv_plan(hid_t file_type, sgs_h5_type_t mem, sgs_h5_conv_t *c)
{
    memset(c, 0, sizeof *c);
    switch (H5Tget_class(file_type)) {
    case H5T_INTEGER:
        return mem != SGS_H5_F64 && plan_integer(file_type, mem, c);
    case H5T_FLOAT:
        return mem == SGS_H5_F64 && plan_float(file_type, c);
    default:
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
}

/* ---- Converting ------------------------------------------------------------------------- */

/* The element at p as an unsigned 64-bit pattern of its `size` bytes, swapped when asked. */
static inline uint64_t load_bits(const unsigned char *p, size_t size, int swapped)
{
    switch (size) {
    case 1:
        return *p;
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return swapped ? __builtin_bswap16(v) : v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return swapped ? __builtin_bswap32(v) : v;
    }
    default: {
        uint64_t v;
        memcpy(&v, p, 8);
        return swapped ? __builtin_bswap64(v) : v;
    }
    }
}

/* The smallest and largest value of an integer memory type. */
static void limits(sgs_h5_type_t dst, int64_t *lo, int64_t *hi)
{
    switch (dst) {
    case SGS_H5_I32:
        *lo = INT32_MIN, *hi = INT32_MAX;
        return;
    case SGS_H5_U8:
        *lo = 0, *hi = UINT8_MAX;
        return;
    case SGS_H5_I8:
        *lo = INT8_MIN, *hi = INT8_MAX;
        return;
    default:
        *lo = INT64_MIN, *hi = INT64_MAX;
        return;
    }
}

/* Integers: each value read at its width and sign, checked against the destination's range,
 * stored at the destination's width. */
static size_t convert_int(const sgs_h5_conv_t *c, const unsigned char *src, size_t n, void *dst)
{
    int64_t lo, hi;
    limits(c->dst, &lo, &hi);
    const size_t size = c->src_size;
    const int swapped = c->src_swapped, sign_bit = (int)(8 * size - 1);
    for (size_t j = 0; j < n; j++) {
        uint64_t bits = load_bits(src + j * size, size, swapped);
        int64_t v;
        if (c->src_signed && size < 8 && (bits >> sign_bit) & 1u)
            v = (int64_t)(bits | (~UINT64_C(0) << (8 * size))); /* sign-extended */
        else if (!c->src_signed && size == 8 && bits > (uint64_t)INT64_MAX)
            return j; /* above every destination's range */
        else
            v = (int64_t)bits;
        if (v < lo || v > hi)
            return j;
        switch (c->dst) {
        case SGS_H5_I32:
            ((int32_t *)dst)[j] = (int32_t)v;
            break;
        case SGS_H5_U8:
            ((uint8_t *)dst)[j] = (uint8_t)v;
            break;
        case SGS_H5_I8:
            ((int8_t *)dst)[j] = (int8_t)v;
            break;
        default:
            ((int64_t *)dst)[j] = v;
            break;
        }
    }
    return n;
}

size_t sgs_h5_convert(const sgs_h5_conv_t *c, const void *src, size_t n, void *dst)
{
    const unsigned char *s = src;
    double *d = dst;
    switch (c->kind) {
    case SGS_H5_CONV_COPY:
        memcpy(dst, src, n * sgs_h5_type_size(c->dst));
        return n;
    case SGS_H5_CONV_INT:
        return convert_int(c, s, n, dst);
    case SGS_H5_CONV_F64_SWAP:
        for (size_t j = 0; j < n; j++) {
            uint64_t bits = load_bits(s + 8 * j, 8, 1);
            memcpy(&d[j], &bits, 8);
        }
        return n;
    case SGS_H5_CONV_F32:
        for (size_t j = 0; j < n; j++) {
            float f;
            memcpy(&f, s + 4 * j, 4);
            d[j] = (double)f;
        }
        return n;
    case SGS_H5_CONV_F32_SWAP:
        for (size_t j = 0; j < n; j++) {
            uint32_t bits = (uint32_t)load_bits(s + 4 * j, 4, 1);
            float f;
            memcpy(&f, &bits, 4);
            if (f != f) { /* NaN: the sign, then every exponent and mantissa bit set */
                uint64_t nan = (uint64_t)(bits >> 31) << 63 | UINT64_C(0x7fffffffffffffff);
                memcpy(&d[j], &nan, 8);
            } else {
                d[j] = (double)f;
            }
        }
        return n;
    }
    return 0;
}
